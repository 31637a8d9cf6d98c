package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// millionPage1 is the first page of the 1,000,000-entry directory, in the
// largest pages the API gives.
const millionPage1 = "/list-bucket-content/million?limit=1000"

// fetchPage GETs url (base and the path of a page), reads the whole body
// and returns the path of the next page from the Link header ("" on the
// last page).
func fetchPage(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	link := resp.Header.Get("Link")
	if link == "" {
		return "", nil
	}
	next, ok := strings.CutPrefix(link, "<")
	if next, _, ok2 := strings.Cut(next, ">"); ok && ok2 {
		return next, nil
	}
	return "", fmt.Errorf("GET %s: Link header %q", url, link)
}

// pageURL follows a listing from first (base and path) to its page n and
// returns that page's path.
func pageURL(client *http.Client, first string, n int) (string, error) {
	base := first[:strings.Index(first, "/list-bucket-content")]
	u := first
	for i := 1; i < n; i++ {
		next, err := fetchPage(client, u)
		if err != nil {
			return "", err
		}
		if next == "" {
			return "", fmt.Errorf("%s has only %d pages, want %d", first, i, n)
		}
		u = base + next
	}
	return strings.TrimPrefix(u, base), nil
}

// pager is a walk for goLoad: each call fetches one page, so up to clients
// goroutines page through the listing at page1 side by side, each from
// where its last call left off, starting over at the end. They start on
// the first clients pages, one each, so that they do not walk in step
// (which would share every S3 call).
func pager(client *http.Client, base, page1 string, clients int) (func() error, error) {
	cursors := make(chan string, clients)
	u := page1
	for range clients {
		cursors <- u
		next, err := fetchPage(client, base+u)
		if err != nil {
			return nil, err
		}
		if u = next; u == "" {
			u = page1
		}
	}
	return func() error {
		u := <-cursors
		next, err := fetchPage(client, base+u)
		if next == "" || err != nil {
			next = page1
		}
		cursors <- next
		return err
	}, nil
}

// wireBytes GETs url with Accept-Encoding set to encoding (none if empty)
// through a client that does not decompress, and returns the bytes the
// body took on the wire.
func wireBytes(client *http.Client, url, encoding string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Encoding"); got != encoding {
		return n, fmt.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q", url, encoding, got)
	}
	return n, nil
}
