package service

import (
	"net/http"
	"strings"
	"testing"
)

// TestReference checks every rule of the API table and the path validation
// through real HTTP against gofakes3 holding the reference tree.
func TestReference(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	long := strings.Repeat("a", maxPathLen)
	tests := []struct {
		name       string
		method     string // "" = GET
		path       string // sent exactly as written
		wantStatus int
		wantBody   string // "" = do not check
	}{
		{"root", "", "/list-bucket-content", 200, `{"content":["dir1","dir2","file1","file2"]}`},
		{"root with slash", "", "/list-bucket-content/", 200, `{"content":["dir1","dir2","file1","file2"]}`},
		{"empty directory", "", "/list-bucket-content/dir1", 200, `{"content":[]}`},
		{"empty directory with slash", "", "/list-bucket-content/dir1/", 200, `{"content":[]}`},
		{"directory", "", "/list-bucket-content/dir2", 200, `{"content":["file1","file2"]}`},
		{"directory with slash", "", "/list-bucket-content/dir2/", 200, `{"content":["file1","file2"]}`},
		{"object is listed like ls FILE", "", "/list-bucket-content/dir2/file1", 200, `{"content":["file1"]}`},
		{"object at the root", "", "/list-bucket-content/file2", 200, `{"content":["file2"]}`},
		{"missing path", "", "/list-bucket-content/nope", 404, `{"error":"not found: nope"}`},
		{"missing nested path", "", "/list-bucket-content/dir2/nope", 404, `{"error":"not found: dir2/nope"}`},
		{"object with slash is not a directory", "", "/list-bucket-content/dir2/file1/", 404, ""},
		{"prefix of a name is not a directory", "", "/list-bucket-content/dir", 404, ""},
		{"prefix of an object is not an object", "", "/list-bucket-content/file", 404, ""},
		{"case matters", "", "/list-bucket-content/DIR2", 404, ""},

		{"dot-dot is rejected", "", "/list-bucket-content/a/../b", 400, ""},
		{"dot-dot alone", "", "/list-bucket-content/..", 400, ""},
		{"dot segment", "", "/list-bucket-content/./dir2", 400, ""},
		{"trailing dot", "", "/list-bucket-content/dir2/.", 400, ""},
		{"encoded dot-dot", "", "/list-bucket-content/%2e%2e", 400, ""},
		{"encoded dot-dot upper case", "", "/list-bucket-content/dir2/%2E%2E/x", 400, ""},
		{"empty segment", "", "/list-bucket-content/a//b", 400, `{"error":"invalid path: empty segment"}`},
		{"double slash after route", "", "/list-bucket-content//", 400, ""},
		{"leading double slash", "", "//list-bucket-content", 400, ""},
		{"encoded slashes make an empty segment", "", "/list-bucket-content/a%2F%2Fb", 400, ""},
		{"NUL", "", "/list-bucket-content/a%00b", 400, `{"error":"invalid path: control character"}`},
		{"escape control", "", "/list-bucket-content/%1b[31m", 400, ""},
		{"DEL", "", "/list-bucket-content/%7f", 400, ""},
		{"C1 control", "", "/list-bucket-content/%c2%85", 400, ""},
		{"newline", "", "/list-bucket-content/a%0Ab", 400, ""},
		{"invalid UTF-8", "", "/list-bucket-content/%ff", 400, `{"error":"invalid path: not valid UTF-8"}`},
		{"truncated UTF-8", "", "/list-bucket-content/%e2%82", 400, ""},
		{"1024 bytes is fine", "", "/list-bucket-content/" + long, 404, ""},
		{"1025 bytes is too long", "", "/list-bucket-content/" + long + "a", 400, `{"error":"invalid path: longer than 1024 bytes"}`},
		{"bad path on another route", "", "/healthz/../metrics", 400, ""},

		{"POST listing", "POST", "/list-bucket-content/dir2", 405, ""},
		{"PUT root", "PUT", "/list-bucket-content", 405, ""},
		{"DELETE root slash", "DELETE", "/list-bucket-content/", 405, ""},
		{"PATCH", "PATCH", "/list-bucket-content/dir2/file1", 405, ""},
		{"OPTIONS", "OPTIONS", "/list-bucket-content/dir2", 405, ""},
		{"POST healthz", "POST", "/healthz", 405, ""},
		{"unknown route", "", "/nope", 404, `{"error":"no such route: /nope"}`},
		{"site root", "", "/", 404, ""},
		{"route prefix lookalike", "", "/list-bucket-contents", 404, ""},
		{"healthz with slash", "", "/healthz/", 404, ""},
		{"healthz", "", "/healthz", 200, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			r := do(t, nil, method, srv.URL, tt.path, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d (body %.200q)", method, tt.path, r.status, tt.wantStatus, r.body)
			}
			if tt.wantBody != "" && r.body != tt.wantBody {
				t.Errorf("%s %s: body = %s, want %s", method, tt.path, r.body, tt.wantBody)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type = %q, want application/json", method, tt.path, ct)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", method, tt.path, got)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("%s %s: redirected to %q", method, tt.path, r.header.Get("Location"))
			}
			switch {
			case tt.wantStatus == 200 && strings.HasPrefix(tt.path, "/list-bucket-content"):
				listing(t, r.body)
			case tt.wantStatus >= 400:
				checkJSONError(t, r)
			}
			if tt.wantStatus == 405 {
				if got := r.header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("%s %s: Allow = %q, want %q", method, tt.path, got, "GET, HEAD")
				}
			}
		})
	}
}

// TestHead checks that HEAD answers like GET, headers included, without a
// body.
func TestHead(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	for _, path := range []string{"/list-bucket-content", "/list-bucket-content/dir1", "/list-bucket-content/dir2/file1", "/list-bucket-content/nope", "/list-bucket-content/..", "/healthz"} {
		g := do(t, nil, http.MethodGet, srv.URL, path, nil)
		h := do(t, nil, http.MethodHead, srv.URL, path, nil)
		if h.status != g.status {
			t.Errorf("HEAD %s: status = %d, want %d (as GET)", path, h.status, g.status)
		}
		if h.body != "" {
			t.Errorf("HEAD %s: body = %q, want none", path, h.body)
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Etag"} {
			if h.header.Get(k) != g.header.Get(k) {
				t.Errorf("HEAD %s: %s = %q, GET has %q", path, k, h.header.Get(k), g.header.Get(k))
			}
		}
	}
}

// TestETag checks conditional GETs on a listing that fits in one page.
func TestETag(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	first := get(t, srv.URL, "/list-bucket-content/dir2")
	etag := first.header.Get("ETag")
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Fatalf("GET dir2: ETag = %q, want a quoted strong validator", etag)
	}
	if other := get(t, srv.URL, "/list-bucket-content").header.Get("ETag"); other == etag {
		t.Errorf("root and dir2 share ETag %s", etag)
	}
	tests := []struct {
		name        string
		method      string
		ifNoneMatch string
		wantStatus  int
	}{
		{"same tag", "GET", etag, 304},
		{"weak form of the tag", "GET", "W/" + etag, 304},
		{"tag in a list", "GET", `"nope", ` + etag, 304},
		{"star", "GET", "*", 304},
		{"other tag", "GET", `"0000000000000000"`, 200},
		{"HEAD with same tag", "HEAD", etag, 304},
	}
	for _, tt := range tests {
		r := do(t, nil, tt.method, srv.URL, "/list-bucket-content/dir2", http.Header{"If-None-Match": {tt.ifNoneMatch}})
		if r.status != tt.wantStatus {
			t.Errorf("%s: %s dir2 with If-None-Match %s: status = %d, want %d", tt.name, tt.method, tt.ifNoneMatch, r.status, tt.wantStatus)
		}
		if r.status == 304 && (r.body != "" || r.header.Get("ETag") != etag) {
			t.Errorf("%s: 304 with body %q and ETag %q, want no body and %s", tt.name, r.body, r.header.Get("ETag"), etag)
		}
		if r.status == 200 && tt.method == "GET" && r.body != first.body {
			t.Errorf("%s: body = %s, want %s", tt.name, r.body, first.body)
		}
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
