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
	start := time.Now()
	return timeRequests(conns, start, func() (time.Time, bool) { return time.Now(), ctx.Err() == nil }, do)
}

// timeRequests runs conns workers that each take a start time from next,
// until it reports false, and run do: a request that fails is counted, one
// that succeeds is timed from its start. The two loads differ only in where
// a start comes from: now (goLoad) or when the request fell due (rateLoad).
func timeRequests(conns int, start time.Time, next func() (time.Time, bool), do func() error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var errs int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			var bad int64
			for t, ok := next(); ok; t, ok = next() {
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
	return latencies(lat, errs, time.Since(start))
}

// latencies is the result of a Go load run: the requests that succeeded
// (timed) and failed, over elapsed.
func latencies(lat []time.Duration, errs int64, elapsed time.Duration) result {
	slices.Sort(lat)
	r := result{requests: int64(len(lat)), non2xx: errs, rps: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)*50/100]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

// rateLoad is an open-loop load: GETs of url fall due at a fixed rate for
// d, conns connections send them, and each is timed from when it fell due,
// not from when a connection was free to send it. A closed loop (wrk,
// goLoad) sends nothing while all its connections wait, so a stall that
// holds every request for 50 ms delays only conns requests in its count,
// a fraction too small for a p99 to show; clients keep arriving during a
// stall, and here every request due meanwhile counts the wait it had
// (what wrk2 calls correcting coordinated omission).
func rateLoad(ctx context.Context, client *http.Client, url string, rate float64, conns int, d time.Duration) result {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	due := make(chan time.Time, n)
	start := time.Now()
	go func() {
		defer close(due)
		for i := range n {
			t := start.Add(time.Duration(i) * interval)
			if wait := time.Until(t); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			due <- t // behind schedule: the backlog goes at once, each timed from its own due time
		}
	}()
	next := func() (time.Time, bool) {
		t, ok := <-due
		return t, ok
	}
	return timeRequests(conns, start, next, func() error { return fetch(client, url) })
}
