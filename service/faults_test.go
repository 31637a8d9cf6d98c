package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFaultyLister injects every failure a Lister can report and checks the
// status, the JSON body, that no internals leak, and that the server keeps
// serving afterwards.
func TestFaultyLister(t *testing.T) {
	t.Parallel()
	secret := "RequestID: 4442587FB7D0A2F9, arn:aws:iam::123456789012:role/x"
	tests := []struct {
		name       string
		err        error // returned by List; nil with hang
		hang       bool
		wantStatus int
		wantRetry  bool
	}{
		{"not found", fmt.Errorf("list %q: %w", "x/", ErrNotFound), false, 404, false},
		{"bucket missing", fmt.Errorf("list: %w: NoSuchBucket %s", ErrBucketUnavailable, secret), false, 502, false},
		{"throttled after retries", fmt.Errorf("list: %w: SlowDown %s", ErrThrottled, secret), false, 503, true},
		{"storage timeout", fmt.Errorf("list: %w: %s", ErrTimeout, secret), false, 504, false},
		{"other storage error", fmt.Errorf("list: %w: InternalError %s", ErrUpstream, secret), false, 502, false},
		{"unknown error", errors.New("boom " + secret), false, 502, false},
		{"hangs past the deadline", nil, true, 504, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
				if path == "ok" {
					return page([]string{"fine"}, true)
				}
				calls.Add(1)
				if tt.hang {
					<-ctx.Done() // a backend that never answers but honours ctx
					return ctx.Err()
				}
				return tt.err
			})
			srv := testServer(t, lister, Config{RequestTimeout: 50 * time.Millisecond})
			r := get(t, srv.URL, "/list-bucket-content/x")
			if r.status != tt.wantStatus {
				t.Fatalf("GET x: status = %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			msg := checkJSONError(t, r)
			if strings.Contains(r.body, "RequestID") || strings.Contains(r.body, "arn:") || strings.Contains(r.body, "boom") {
				t.Errorf("GET x: body %s leaks the cause", r.body)
			}
			if msg == "" {
				t.Errorf("GET x: empty error message")
			}
			if got := r.header.Get("Retry-After"); (got != "") != tt.wantRetry {
				t.Errorf("GET x: Retry-After = %q, want present = %v", got, tt.wantRetry)
			}
			if calls.Load() != 1 {
				t.Errorf("lister called %d times, want 1", calls.Load())
			}
			// The process is alive and still serves.
			if r := get(t, srv.URL, "/list-bucket-content/ok"); r.body != `{"content":["fine"]}` {
				t.Errorf("after the fault: GET ok = %d %s", r.status, r.body)
			}
			if r := get(t, srv.URL, "/healthz"); r.status != 200 {
				t.Errorf("after the fault: GET /healthz = %d", r.status)
			}
		})
	}
}

// TestPanicIsContained checks a panicking Lister costs one 500 JSON answer,
// not the process.
func TestPanicIsContained(t *testing.T) {
	t.Parallel()
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		if path == "boom" {
			panic("lister bug")
		}
		return page([]string{"fine"}, true)
	})
	srv := testServer(t, lister, Config{})
	r := get(t, srv.URL, "/list-bucket-content/boom")
	if r.status != 500 || r.body != `{"error":"internal error"}` {
		t.Errorf("GET boom: %d %s, want 500 internal error", r.status, r.body)
	}
	page := do(t, nil, http.MethodGet, srv.URL, "/list-bucket-content/boom", http.Header{"Accept": {"text/html"}})
	if page.status != 500 || page.header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(page.body, "<strong>500 Internal Server Error</strong><br/>internal error</p>") {
		t.Errorf("GET boom from a browser: %d %s %.300s, want the 500 page", page.status, page.header.Get("Content-Type"), page.body)
	}
	if r := get(t, srv.URL, "/list-bucket-content/ok"); r.status != 200 {
		t.Errorf("after a panic: GET ok = %d", r.status)
	}
}

// midStreamLister sends a batch that says more follows, large enough that
// the status and body start going out (past commitThreshold), then fails.
var midStreamLister = funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
	if err := page(names("n", 10_000), false); err != nil {
		return err
	}
	return fmt.Errorf("list: %w: connection reset", ErrUpstream)
})

// TestMidStreamFailure checks that a storage failure after the body has
// started breaks the transfer, over HTTP/1.1 and HTTP/2, instead of ending
// a valid-looking partial list.
func TestMidStreamFailure(t *testing.T) {
	t.Parallel()
	t.Run("HTTP/1.1", func(t *testing.T) {
		t.Parallel()
		srv := testServer(t, midStreamLister, Config{})
		checkBroken(t, http.DefaultClient, srv.URL)
	})
	t.Run("HTTP/2", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewUnstartedServer(NewServer(discard, midStreamLister, nil, Config{}))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		client := srv.Client()
		checkBroken(t, client, srv.URL)
		resp, err := client.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
	})
}

func checkBroken(t *testing.T, client *http.Client, base string) {
	t.Helper()
	resp, err := client.Get(base + "/list-bucket-content/big")
	if err != nil {
		return // broken before the headers: also a broken transfer
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("GET big: read %d bytes without error; want a broken transfer", len(body))
	}
	if json.Valid(body) {
		t.Errorf("GET big: partial body is valid JSON")
	}
	if !bytes.HasPrefix(body, []byte(`{"content":["n00000"`)) && len(body) > 0 {
		t.Errorf("GET big: body starts %.40q", body)
	}
	// The server is still up.
	r, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("after a broken transfer: %v", err)
	}
	r.Body.Close()
}

// TestClientGoneMidStream checks that a client hanging up ends the walk.
func TestClientGoneMidStream(t *testing.T) {
	t.Parallel()
	stopped := make(chan error, 1)
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		for {
			if err := page(names("n", 1000), false); err != nil {
				stopped <- err
				return err
			}
			if ctx.Err() != nil {
				stopped <- ctx.Err()
				return ctx.Err()
			}
		}
	})
	srv := testServer(t, lister, Config{})
	resp, err := http.Get(srv.URL + "/list-bucket-content/endless")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("listing goes on after the client left")
	}
}

// s3Fault is a fake S3 endpoint that answers ListObjectsV2 with an error
// document, hangs, or drops the connection, counting attempts.
func s3Fault(t *testing.T, status int, code string, hang bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		if hang {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("x-amz-request-id", "4442587FB7D0A2F9")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>secret detail</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`, code)
	}))
	t.Cleanup(srv.Close)
	return srv, &attempts
}

// TestS3Faults runs the real S3 lister and SDK against endpoints that fail
// the way S3 does, and checks the mapping and the SDK's retries.
func TestS3Faults(t *testing.T) {
	t.Parallel()
	refused := "http://" + freeAddr(t)

	tests := []struct {
		name         string
		status       int
		code         string
		hang         bool
		endpoint     string // instead of a fault server
		wantStatus   int
		wantAttempts int32 // 0 = do not check
	}{
		{"no such bucket", 404, "NoSuchBucket", false, "", 502, 1},
		{"access denied", 403, "AccessDenied", false, "", 502, 1},
		{"wrong region", 301, "PermanentRedirect", false, "", 502, 1},
		{"slow down after retries", 503, "SlowDown", false, "", 503, 3},
		{"throttling 429", 429, "TooManyRequests", false, "", 503, 0},
		{"internal error after retries", 500, "InternalError", false, "", 502, 3},
		{"hanging S3", 0, "", true, "", 504, 0},
		{"connection refused", 0, "", false, refused, 502, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint := tt.endpoint
			var attempts *atomic.Int32
			if endpoint == "" {
				var srv *httptest.Server
				srv, attempts = s3Fault(t, tt.status, tt.code, tt.hang)
				endpoint = srv.URL
			}
			// Only the hanging S3 is meant to run into a timeout; the others
			// get bounds a loaded machine cannot reach, so their retries
			// always finish (a 300 ms bound once turned SlowDown's three
			// attempts into a 504 under CI load).
			callTimeout, requestTimeout := 10*time.Second, time.Duration(0)
			if tt.hang {
				callTimeout, requestTimeout = time.Second, 300*time.Millisecond
			}
			lister := NewS3Lister(testS3Client(endpoint), testBucket, S3ListerOptions{CallTimeout: callTimeout})
			srv := testServer(t, lister, Config{RequestTimeout: requestTimeout})
			r := get(t, srv.URL, "/list-bucket-content/dir2")
			if r.status != tt.wantStatus {
				t.Fatalf("GET dir2: status = %d, want %d (%s)", r.status, tt.wantStatus, r.body)
			}
			checkJSONError(t, r)
			for _, leak := range []string{"4442587FB7D0A2F9", "secret detail", tt.code, "127.0.0.1"} {
				if leak != "" && strings.Contains(r.body, leak) {
					t.Errorf("GET dir2: body %s leaks %q", r.body, leak)
				}
			}
			if tt.wantAttempts != 0 && attempts.Load() != tt.wantAttempts {
				t.Errorf("S3 saw %d attempts, want %d", attempts.Load(), tt.wantAttempts)
			}
			if (tt.wantStatus == 503) != (r.header.Get("Retry-After") != "") {
				t.Errorf("Retry-After = %q on %d", r.header.Get("Retry-After"), r.status)
			}
			if r := get(t, srv.URL, "/healthz"); r.status != 200 {
				t.Errorf("after the fault: /healthz = %d", r.status)
			}
		})
	}
}

// TestWrongBucket checks a bucket that does not exist gives 502 JSON on a
// real S3 implementation (gofakes3) and an unready /readyz, not a crash.
func TestWrongBucket(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	srv := NewServer(discard, NewS3Lister(testS3Client(f.URL()), "no-such-bucket", S3ListerOptions{}), nil, Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	r := get(t, hs.URL, "/list-bucket-content")
	if r.status != 502 || r.body != `{"error":"bucket unavailable: it does not exist or access is denied"}` {
		t.Errorf("GET root on a missing bucket: %d %s", r.status, r.body)
	}
	if err := srv.CheckBucket(context.Background()); !errors.Is(err, ErrBucketUnavailable) {
		t.Errorf("CheckBucket = %v, want ErrBucketUnavailable", err)
	}
	if r := get(t, hs.URL, "/readyz"); r.status != 503 {
		t.Errorf("GET /readyz on a missing bucket: %d, want 503", r.status)
	}
}

// TestStaleThroughOutage checks a hot directory through an S3 outage with
// --cache-stale: every answer is the stale listing with 200, S3 sees no
// more calls than the refresh backoff allows (not one per request: S3's
// SlowDown asks for fewer), /metrics counts the refreshes held back, and
// the listing is fresh again soon after S3 returns.
func TestStaleThroughOutage(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	var attempts atomic.Int32 // ListObjectsV2 attempts S3 failed
	f := startFakeS3(t, ReferenceKeys(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() && r.URL.Query().Get("list-type") == "2" {
				attempts.Add(1)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	const ttl = 2 * time.Second
	lister := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{CacheTTL: ttl, CacheStale: time.Hour})
	srv := testServer(t, lister, Config{})
	const path = "/list-bucket-content/dir2"
	cached := time.Now()
	first := get(t, srv.URL, path)
	if first.status != 200 {
		t.Fatalf("GET %s: status = %d, want 200", path, first.status)
	}
	f.Put(t, "dir2/file3")
	time.Sleep(time.Until(cached.Add(ttl + 100*time.Millisecond)))

	down.Store(true)
	const clients, outage = 8, 3 * time.Second
	start := time.Now()
	var wg sync.WaitGroup
	var answers atomic.Int32
	for range clients {
		wg.Go(func() {
			for time.Since(start) < outage {
				status, body, err := getBody(srv.URL + path)
				if err != nil || status != 200 || body != first.body {
					t.Errorf("GET %s in the outage: %d %s (%v); want 200 and the stale %s", path, status, body, err, first.body)
					return
				}
				answers.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// The SDK makes up to three attempts per call; the backoff lets the
	// calls come no faster than its shortest delays allow.
	t.Logf("%d answers in %v of outage, %d S3 attempts", answers.Load(), elapsed, attempts.Load())
	if got, most := attempts.Load(), 3*refreshesAllowed(elapsed, ttl); got > most || got == 0 {
		t.Errorf("%d answers in %v of outage: S3 saw %d attempts, want 1 to %d", answers.Load(), elapsed, got, most)
	}
	skipped := metricValue(t, srv.URL, "bucketls_s3_cache_refreshes_skipped_total")
	if skipped == 0 {
		t.Errorf("bucketls_s3_cache_refreshes_skipped_total = 0 after %d stale answers in an outage", answers.Load())
	}

	down.Store(false)
	// The next refresh is due at most a TTL after the last failure; 10 s
	// leaves a loaded machine room.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := get(t, srv.URL, path)
		if r.status == 200 && strings.Contains(r.body, "file3") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s 10s after S3 returned: %d %s, want the new file", path, r.status, r.body)
		}
	}
}

// refreshesAllowed is the most refresh calls a page can start in d of an
// outage: the first at once, then each after at least half of a delay that
// doubles from 100 ms up to the TTL (s3store's refreshBackoff).
func refreshesAllowed(d, ttl time.Duration) int32 {
	n, delay, at := int32(1), 100*time.Millisecond, time.Duration(0)
	for {
		at += min(delay, ttl) / 2
		if at > d {
			return n
		}
		n++
		delay *= 2
	}
}

// getBody is a GET for goroutines, which must not stop the test.
func getBody(url string) (status int, body string, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// metricValue is the value of the unlabelled sample name on /metrics.
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	for line := range strings.Lines(get(t, base, "/metrics").body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
