package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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
	hs := httptest.NewServer(NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), lister, nil, Config{}))
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

// TestRequestInfoOutsideTracking: a handler served without trackRequests
// (as a unit test serves it) still answers, its notes going to a
// throwaway value; inside the chain the same notes reach the access log.
func TestRequestInfoOutsideTracking(t *testing.T) {
	t.Parallel()
	noting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteUser(r, "alice")
		noteLimit(r, limitStall)
		writeError(w, r, ErrNotFound)
	})
	rec := httptest.NewRecorder()
	noting.ServeHTTP(rec, httptest.NewRequest("GET", "/list-bucket-content/x", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("bare handler: status %d, want 404", rec.Code)
	}
	var logs strings.Builder
	h := trackRequests(&inFlight{}, logRequests(slog.New(slog.NewJSONHandler(&logs, nil)), noting))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/list-bucket-content/x", nil))
	for _, want := range []string{`"user":"alice"`, `"limit":"client_stalled"`, `"err":"not found"`, `"status":404`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("access line %s lacks %s", logs.String(), want)
		}
	}
}
