package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
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
// goroutines page through the 1,000,000-entry listing side by side, each
// URL from where its last call left off, starting over at the end. The
// clients start spread over the whole directory, evenly, so that none
// catches up with another and they do not walk in step (which would share
// S3 calls and hide what 64 distinct pages cost); started on neighbouring
// pages, fetching one page hands out the URL another client already holds.
func pager(client *http.Client, base string, clients int) (func() error, error) {
	if err := checkPageCursor(client, base); err != nil {
		return nil, err
	}
	cursors := make(chan string, clients)
	pages := millionEntries / millionLimit
	for i := range clients {
		cursors <- millionPage(1 + i*(pages/clients))
	}
	return func() error {
		u := <-cursors
		next, err := fetchPage(client, base+u)
		if next == "" || err != nil {
			next = millionPage1
		}
		cursors <- next
		return err
	}, nil
}

// The 1,000,000-entry directory and the page size its rows use.
const (
	millionEntries = 1_000_000
	millionLimit   = 1000
)

// millionName is entry i of the 1,000,000-entry directory (benchKeys).
func millionName(i int) string { return fmt.Sprintf("entry-%07d", i) }

// millionPage is the path of page n (from 1) of the 1,000,000-entry
// directory, as the Link header of page n-1 gives it, without walking the
// pages before it. The cursor is built the way service/cursor.go's
// encodeCursor writes the position after a file: base64url of version 1,
// the FNV-64a hash of the listing's binding (listOptions.binding: path,
// name prefix, recursive, details and limit, joined with NUL bytes), the
// key, and the file itself as the one open name. checkPageCursor holds it
// to the service's own cursor, so a change of format stops the benchmark
// instead of measuring 400s.
func millionPage(n int) string {
	if n == 1 {
		return millionPage1
	}
	name := millionName((n-1)*millionLimit - 1)
	h := fnv.New64a()
	h.Write([]byte(strings.Join([]string{"million", "", "false", "false", strconv.Itoa(millionLimit)}, "\x00")))
	b := binary.BigEndian.AppendUint64([]byte{1}, h.Sum64())
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	return fmt.Sprintf("/list-bucket-content/million?cursor=%s&limit=%d", base64.RawURLEncoding.EncodeToString(b), millionLimit)
}

// checkPageCursor makes sure millionPage builds the cursors the service
// hands out: page 1's next must be millionPage(2).
func checkPageCursor(client *http.Client, base string) error {
	next, err := fetchPage(client, base+millionPage1)
	if err != nil {
		return err
	}
	if want := millionPage(2); next != want {
		return fmt.Errorf("page 1 of the 1,000,000-entry directory links to %q, but the benchmark builds %q: update millionPage to service/cursor.go", next, want)
	}
	return nil
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
