package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadiness drives /readyz through WatchBucket: unready while the
// bucket fails, ready by itself once it answers, and unready again when
// draining for shutdown. Only changes are logged.
func TestReadiness(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	var probes atomic.Int32
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		probes.Add(1)
		if !healthy.Load() {
			return fmt.Errorf("list: %w: AccessDenied", ErrBucketUnavailable)
		}
		return page([]string{"x"}, true)
	})
	var logs syncBuffer
	srv := NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), lister, nil, Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.WatchBucket(ctx)

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("three failed probes", func() bool { return probes.Load() >= 3 })
	if r := get(t, hs.URL, "/readyz"); r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "bucket check failing") {
		t.Errorf("GET /readyz while the bucket fails: %d %s", r.status, r.body)
	}
	if n := strings.Count(logs.String(), "bucket check failed"); n != 1 {
		t.Errorf("%d failure lines for %d failed probes, want 1 (log changes only)", n, probes.Load())
	}

	healthy.Store(true)
	waitFor("ready", func() bool { return get(t, hs.URL, "/readyz").status == 200 })
	// The probe marks the bucket answered before WatchBucket logs the
	// change, so /readyz can turn 200 a moment before the line is written.
	waitFor("the ready line", func() bool { return strings.Contains(logs.String(), "bucket answered; ready") })

	srv.Drain()
	if r := get(t, hs.URL, "/readyz"); r.status != 503 || !strings.Contains(r.body, "shutting down") {
		t.Errorf("GET /readyz after Drain: %d %s", r.status, r.body)
	}
	if r := get(t, hs.URL, "/list-bucket-content/x"); r.status != 200 {
		t.Errorf("GET after Drain: %d; in-flight and late requests must still be served", r.status)
	}
}

// TestMetricsAndReady checks /readyz follows the bucket and /metrics
// exposes the families operators need.
func TestMetricsAndReady(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	if r := get(t, srv.URL, "/readyz"); r.status != 503 {
		t.Errorf("GET /readyz before any S3 answer: status = %d, want 503", r.status)
	}
	get(t, srv.URL, "/list-bucket-content/dir2")
	get(t, srv.URL, "/list-bucket-content/nope")
	if r := get(t, srv.URL, "/readyz"); r.status != 200 || r.body != `{"status":"ready"}` {
		t.Errorf("GET /readyz after a listing: %d %s, want 200 ready", r.status, r.body)
	}
	r := get(t, srv.URL, "/metrics")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %q", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{
		`bucketls_http_requests_total{code="200",route="/list-bucket-content/{path...}"} 1`,
		`bucketls_http_requests_total{code="404",route="/list-bucket-content/{path...}"} 1`,
		`bucketls_http_request_duration_seconds_bucket{route="/list-bucket-content/{path...}",le="+Inf"} 2`,
		`bucketls_http_requests_in_flight 1`,        // this very request
		`bucketls_s3_requests_total{result="ok"} 3`, // dir2, and nope's directory and object checks
		`bucketls_s3_request_duration_seconds_count 3`,
		`bucketls_s3_cache_hits_total 0`,
		`bucketls_s3_coalesced_total 0`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
