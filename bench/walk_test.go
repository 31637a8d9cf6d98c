package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRateLoadCountsStalls: a server that holds every request for 100 ms
// once in a second-long run delays the ~100 requests due in that time, so
// the open loop's p99 shows the stall; a closed loop over the same server
// counts only its connections' few requests, and its p99 does not.
func TestRateLoadCountsStalls(t *testing.T) {
	start := time.Now()
	stallFrom, stallTo := start.Add(300*time.Millisecond), start.Add(400*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if now := time.Now(); now.After(stallFrom) && now.Before(stallTo) {
			time.Sleep(time.Until(stallTo))
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	res := rateLoad(context.Background(), client, srv.URL, 1000, 4, time.Second)
	if res.requests < 900 || res.non2xx != 0 {
		t.Fatalf("rateLoad at 1000/s for 1s: %d requests, %d failed", res.requests, res.non2xx)
	}
	if res.p99 < 50*time.Millisecond {
		t.Errorf("p99 %s with a 100 ms stall in a 1 s run at 1000 requests/s, want at least 50 ms (about 10%% of requests wait)", res.p99)
	}
}

// TestWaits: the requests that waited for S3 are the calls made on their
// behalf and the requests that joined one, not the background refreshes.
func TestWaits(t *testing.T) {
	before := counts{http: 100, s3: 10, refreshes: 4, coalesced: 7}
	after := counts{http: 300, s3: 15, refreshes: 8, coalesced: 10}
	if got := after.waits(before); got != 1+3 {
		t.Errorf("waits = %v, want 4 (5 calls, 4 of them refreshes, 3 joined)", got)
	}
}
