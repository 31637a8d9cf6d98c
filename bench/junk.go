package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// junkFlood is -junk N: what a scanner asking for N distinct paths that
// do not exist leaves in a service with a long cache TTL (issue 20, point
// 13). It starts the service with --cache-ttl 1h and every other setting
// at its default, lists dir2 twice (so the cache holds it as a repeated
// listing), sends the N requests from 16 clients, then prints the
// process's RSS and peak RSS, the heap, and whether dir2 is still answered
// from the cache (no S3 call).
func junkFlood(r *rig, n int) error {
	svc, err := r.service("BUCKETLS_CACHE_TTL=1h")
	if err != nil {
		return err
	}
	dir2 := svc.base + "/list-bucket-content/dir2"
	for range 2 {
		if err := fetch(r.walker, dir2); err != nil {
			return err
		}
	}
	if err := svc.resetPeakRSS(); err != nil {
		return err
	}
	before, err := svc.rssKiB("VmRSS")
	if err != nil {
		return err
	}
	if err := askJunk(r.walker, svc.base, n); err != nil {
		return err
	}
	rss, err := svc.rssKiB("VmRSS")
	if err != nil {
		return err
	}
	peak, err := svc.rssKiB("VmHWM")
	if err != nil {
		return err
	}
	heap, err := heapAlloc(r.walker, svc.base)
	if err != nil {
		return err
	}
	cached, err := stillCached(r.walker, svc.base, dir2)
	if err != nil {
		return err
	}
	fmt.Printf("junk flood: %d distinct missing paths, --cache-ttl 1h, other settings default\n", n)
	fmt.Printf("  RSS before %.1f MiB, after %.1f MiB, peak %.1f MiB; heap in use %.1f MiB\n", float64(before)/1024, float64(rss)/1024, float64(peak)/1024, heap)
	fmt.Printf("  dir2 answered from the cache afterwards: %s\n", cached)
	return nil
}

// askJunk asks for n distinct missing paths from 16 connections and
// checks each is a 404.
func askJunk(c *http.Client, base string, n int) error {
	var next, bad atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				resp, err := c.Get(fmt.Sprintf("%s/list-bucket-content/junk-%07d", base, i))
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		return fmt.Errorf("%d of %d junk paths were not answered 404", bad.Load(), n)
	}
	return nil
}

// stillCached asks for url once more and says whether that took any S3
// call.
func stillCached(c *http.Client, base, url string) (string, error) {
	c0, err := readCounts(c, base)
	if err != nil {
		return "", err
	}
	if err := fetch(c, url); err != nil {
		return "", err
	}
	c1, err := readCounts(c, base)
	if err != nil {
		return "", err
	}
	if calls := c1.s3 - c0.s3; calls > 0 {
		return fmt.Sprintf("no (%.0f S3 calls)", calls), nil
	}
	return "yes", nil
}
