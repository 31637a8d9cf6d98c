package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// walkPages fetches every page of a listing straight from the backend, as
// cheaply as an S3 client can: read each body, pull out the continuation
// token, go on. It returns the number of pages.
func walkPages(client *http.Client, base, bucket, prefix string) (int, error) {
	token := ""
	for pages := 1; ; pages++ {
		q := url.Values{"list-type": {"2"}, "delimiter": {"/"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := client.Get(base + "/" + bucket + "?" + q.Encode())
		if err != nil {
			return pages, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return pages, err
		}
		if resp.StatusCode != 200 {
			return pages, fmt.Errorf("status %d", resp.StatusCode)
		}
		token = between(body, "<NextContinuationToken>", "</NextContinuationToken>")
		if !bytes.Contains(body, []byte("<IsTruncated>true</IsTruncated>")) || token == "" {
			return pages, nil
		}
	}
}

func between(b []byte, open, close string) string {
	i := bytes.Index(b, []byte(open))
	if i < 0 {
		return ""
	}
	b = b[i+len(open):]
	j := bytes.Index(b, []byte(close))
	if j < 0 {
		return ""
	}
	return string(b[:j])
}

// goLoad is a closed-loop load generator for work wrk cannot express (a
// multi-page walk per "request"): conns goroutines repeat do for d.
func goLoad(ctx context.Context, conns int, d time.Duration, do func() error) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var errs int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			var bad int64
			for ctx.Err() == nil {
				t := time.Now()
				if err := do(); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := result{requests: int64(len(lat)), non2xx: errs, rps: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}
