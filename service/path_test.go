package service

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParsePath checks that whatever parseListPath accepts is safe to send
// to S3 (valid UTF-8, no control characters, no dot or empty segments, at
// most 1,024 bytes), that it never changes an accepted path, and that the
// request-path check before the mux agrees with it. Seeds are in
// testdata/fuzz/FuzzParsePath; run more with
// go test ./service -run '^$' -fuzz FuzzParsePath -fuzztime 30s.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"", "dir2", "dir2/", "a/b/c", "a//b", "..", "a/./b", "%2e", "\x00", "\xff", "日本/語", strings.Repeat("x", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := parseListPath(p)
		if err != nil {
			if !isBadPath(err) {
				t.Fatalf("parseListPath(%q) error %v is not a path error", p, err)
			}
			if got != "" {
				t.Fatalf("parseListPath(%q) returned %q with an error", p, got)
			}
			return
		}
		if got != p {
			t.Fatalf("parseListPath(%q) = %q: accepted paths must pass unchanged", p, got)
		}
		if len(p) > maxPathLen || !utf8.ValidString(p) || strings.IndexFunc(p, unicode.IsControl) >= 0 {
			t.Fatalf("parseListPath accepted %q", p)
		}
		for i, seg := range strings.Split(p, "/") {
			last := i == strings.Count(p, "/")
			if seg == "." || seg == ".." || (seg == "" && !last) {
				t.Fatalf("parseListPath accepted %q with segment %q", p, seg)
			}
		}
		if err := checkRequestPath("/list-bucket-content/" + p); err != nil {
			t.Fatalf("parseListPath accepts %q but the request check says %v", p, err)
		}
	})
}

// FuzzHandlerPath sends arbitrary decoded paths to the whole handler (as
// net/http would after decoding) and checks the invariants every answer
// keeps: no redirect, a JSON body with the JSON content type, and only the
// statuses the API defines.
func FuzzHandlerPath(f *testing.F) {
	for _, s := range []string{"/list-bucket-content", "/list-bucket-content/dir2", "/list-bucket-content/a/../b", "//", "/./", "/list-bucket-content/\x00", "/healthz", "/nope", "", "*"} {
		f.Add(s)
	}
	lister := funcLister(func(_ context.Context, path string, page func([]string, bool) error) error {
		if strings.HasPrefix(path, "dir2") {
			return page([]string{"file1", "file2"}, true)
		}
		return ErrNotFound
	})
	h := NewServer(discard, lister, nil, Config{})
	f.Fuzz(func(t *testing.T, p string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		req.URL.RawPath = ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if p == "/metrics" {
			return // Prometheus text, the one non-JSON route
		}
		switch rec.Code {
		case 200, 400, 404:
		default:
			t.Fatalf("GET %q: status %d", p, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("GET %q: Content-Type %q", p, ct)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("GET %q: body %q is not JSON", p, rec.Body.String())
		}
	})
}
