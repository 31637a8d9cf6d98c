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
	srv := NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), lister, Config{})
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

// TestAccessLog checks the one JSON access line per request and its
// levels: info for client errors, error for server errors, with the cause.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		if path == "bad" {
			return fmt.Errorf("list %q: %w: NoSuchBucket: RequestID 123", path, ErrBucketUnavailable)
		}
		return page([]string{"a"}, true)
	})
	var logs syncBuffer
	hs := httptest.NewServer(NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), lister, Config{}))
	get(t, hs.URL, "/list-bucket-content/ok")
	get(t, hs.URL, "/list-bucket-content/bad")
	get(t, hs.URL, "/list-bucket-content/..")
	hs.Close()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 requests:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{
		`"level":"INFO","msg":"request","method":"GET","path":"/list-bucket-content/ok","route":"/list-bucket-content/{path...}","status":200,"bytes":17,`,
		`"level":"ERROR","msg":"request","method":"GET","path":"/list-bucket-content/bad","route":"/list-bucket-content/{path...}","status":502,`,
		`"level":"INFO","msg":"request","method":"GET","path":"/list-bucket-content/..","route":"other","status":400,`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s\nwant it to contain %s", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], `"err":"list \"bad\": bucket unavailable: NoSuchBucket: RequestID 123"`) {
		t.Errorf("the 502 line lacks the full cause: %s", lines[1])
	}
	for _, l := range lines {
		if !strings.Contains(l, `"duration_ms":`) || !strings.Contains(l, `"s3_calls":0`) {
			t.Errorf("line lacks duration_ms or s3_calls: %s", l)
		}
	}
}
