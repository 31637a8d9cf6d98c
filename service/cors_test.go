package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestCORS checks --cors-origins: allowed origins get the headers and a
// preflight, others get none, and without the setting nothing changes.
func TestCORS(t *testing.T) {
	t.Parallel()
	lister := refLister(t)
	named := testServer(t, lister, Config{CORSOrigins: []string{"https://app.example", "http://localhost:3000"}})
	anyOrigin := testServer(t, lister, Config{CORSOrigins: []string{"*"}})
	off := testServer(t, lister, Config{})
	preflight := func(origin string) http.Header {
		return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"authorization, x-evil"}}
	}
	tests := []struct {
		name        string
		base        string
		method      string
		header      http.Header
		wantStatus  int
		wantOrigin  string
		wantCreds   string
		wantHeaders string
	}{
		{"allowed origin", named.URL, "GET", http.Header{"Origin": {"https://app.example"}}, 200, "https://app.example", "true", ""},
		{"other allowed origin", named.URL, "GET", http.Header{"Origin": {"http://localhost:3000"}}, 200, "http://localhost:3000", "true", ""},
		{"origin not on the list", named.URL, "GET", http.Header{"Origin": {"https://evil.example"}}, 200, "", "", ""},
		{"no origin", named.URL, "GET", nil, 200, "", "", ""},
		{"any origin", anyOrigin.URL, "GET", http.Header{"Origin": {"https://whoever.example"}}, 200, "*", "", ""},
		{"preflight", named.URL, "OPTIONS", preflight("https://app.example"), 204, "https://app.example", "true", "Authorization"},
		{"preflight from another origin", named.URL, "OPTIONS", preflight("https://evil.example"), 405, "", "", ""},
		{"preflight for DELETE", named.URL, "OPTIONS", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"DELETE"}}, 405, "", "", ""},
		{"preflight with CORS off", off.URL, "OPTIONS", preflight("https://app.example"), 405, "", "", ""},
		{"CORS off", off.URL, "GET", http.Header{"Origin": {"https://app.example"}}, 200, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, nil, tt.method, tt.base, "/list-bucket-content/dir2", tt.header)
			if r.status != tt.wantStatus {
				t.Fatalf("%s dir2: status %d, want %d (%s)", tt.method, r.status, tt.wantStatus, r.body)
			}
			h := r.header
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != tt.wantCreds {
				t.Errorf("Access-Control-Allow-Credentials = %q, want %q", got, tt.wantCreds)
			}
			if got := h.Get("Access-Control-Allow-Headers"); got != tt.wantHeaders {
				t.Errorf("Access-Control-Allow-Headers = %q, want %q", got, tt.wantHeaders)
			}
			if tt.wantStatus == 204 && (h.Get("Access-Control-Allow-Methods") != "GET, HEAD" || h.Get("Access-Control-Max-Age") == "") {
				t.Errorf("preflight: methods %q, max-age %q", h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Max-Age"))
			}
			vary := fmt.Sprint(h.Values("Vary"))
			if tt.base != off.URL && !strings.Contains(vary, "Origin") {
				t.Errorf("Vary = %s, want Origin", vary)
			}
			if tt.base == off.URL && strings.Contains(vary, "Origin") {
				t.Errorf("Vary = %s with CORS off", vary)
			}
		})
	}
}

// TestCORSEveryAnswer: every answer of a CORS route carries the headers,
// errors included, so a page on an allowed origin can read why its call
// failed (issue 20, point 12): a bad path (refused before routing), a bad
// parameter, a 404, a 405, a 401 and a storage failure.
func TestCORSEveryAnswer(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example"
	lister := refLister(t)
	cfg := Config{CORSOrigins: []string{origin}}
	open := testServer(t, lister, cfg)
	broken := testServer(t, funcLister(func(context.Context, string, func([]string, bool) error) error { return ErrUpstream }), cfg)
	locked := httptest.NewServer(conformingTo(t, NewServer(discard, lister, testUsers(t), cfg)))
	t.Cleanup(locked.Close)
	for _, tt := range []struct {
		base, method, target string
		wantStatus           int
	}{
		{open.URL, "GET", "/list-bucket-content/dir2", 200},
		{open.URL, "HEAD", "/list-bucket-content/dir2", 200},
		{open.URL, "GET", "/list-bucket-content/a/%2e%2e/b", 400},
		{open.URL, "GET", "/list-bucket-content//x", 400},
		{open.URL, "GET", "/list-bucket-content/%EF%BF%BF", 400},
		{open.URL, "GET", "/list-bucket-content?limit=0", 400},
		{open.URL, "GET", "/list-bucket-content?bogus=1", 400},
		{open.URL, "GET", "/list-bucket-content/nope", 404},
		{open.URL, "POST", "/list-bucket-content/dir2", 405},
		{open.URL, "DELETE", "/list-bucket-content", 405},
		{open.URL, "PUT", "/openapi.json", 405},
		{locked.URL, "GET", "/list-bucket-content/dir2", 401},
		{broken.URL, "GET", "/list-bucket-content/dir2", 502},
	} {
		r := do(t, nil, tt.method, tt.base, tt.target, http.Header{"Origin": {origin}})
		if r.status != tt.wantStatus {
			t.Errorf("%s %s: status = %d, want %d (%s)", tt.method, tt.target, r.status, tt.wantStatus, r.body)
			continue
		}
		h := r.header
		if h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "true" ||
			h.Get("Access-Control-Expose-Headers") == "" || !slices.Contains(h.Values("Vary"), "Origin") {
			t.Errorf("%s %s (%d): CORS headers %q, want the allowed origin's", tt.method, tt.target, r.status, corsHeaders(h))
		}
	}
	// Routes without CORS stay without it; an origin not on the list
	// gets nothing on errors either.
	for _, tt := range []struct{ target, origin string }{
		{"/healthz", origin}, {"/nope", origin}, {"/list-bucket-content/a/%2e%2e/b", "https://evil.example"},
	} {
		r := do(t, nil, "GET", open.URL, tt.target, http.Header{"Origin": {tt.origin}})
		if got := corsHeaders(r.header); len(got) != 0 {
			t.Errorf("GET %s from %s: CORS headers %q, want none", tt.target, tt.origin, got)
		}
	}
}

// corsHeaders are the Access-Control-* headers of an answer.
func corsHeaders(h http.Header) []string {
	var out []string
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k+": "+strings.Join(v, ","))
		}
	}
	slices.Sort(out)
	return out
}

// TestCORSWildcard: "https://*.example.com" allows the origins whose host
// has one more label there, with the same scheme and port, and no other
// (issue 20, point 11: it used to be a literal that never matched). The
// first is written with capitals, its default port and a trailing slash,
// which browsers never send: the rule the stack shares (package
// corsorigin) writes it as they do.
func TestCORSWildcard(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig([]string{"--bucket", "bkt", "--cors-origins", "HTTPS://*.Example.com:443/,http://*.dev.example.org:3000,https://app.example.net"}, envFunc())
	if err != nil {
		t.Fatal(err)
	}
	srv := testServer(t, funcLister(func(_ context.Context, _ string, page func([]string, bool) error) error {
		return page([]string{"file1"}, true)
	}), cfg)
	for _, tt := range []struct {
		origin string
		allow  bool
	}{
		{"https://app.example.com", true},
		{"https://preview-42.example.com", true},
		{"http://a.dev.example.org:3000", true},
		{"https://app.example.net", true},
		{"https://example.com", false},      // no label for the "*"
		{"https://a.b.example.com", false},  // two labels
		{"https://evil-example.com", false}, // not a subdomain
		{"https://evilexample.com", false},  // not a subdomain
		{"https://app.example.com.evil.net", false},
		{"http://app.example.com", false},       // another scheme
		{"https://app.example.com:8443", false}, // another port
		{"http://a.dev.example.org", false},     // the port is part of it
		{"https://.example.com", false},         // an empty label
		{"https://*.example.com", false},        // the pattern itself
		{"https://A.example.com", false},        // browsers send lowercase
		{"https://x.example.com/", false},
		{"null", false},
	} {
		r := do(t, nil, "GET", srv.URL, "/list-bucket-content", http.Header{"Origin": {tt.origin}})
		got := r.header.Get("Access-Control-Allow-Origin")
		if tt.allow && (got != tt.origin || r.header.Get("Access-Control-Allow-Credentials") != "true") {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want it echoed with credentials", tt.origin, got)
		}
		if !tt.allow && got != "" {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want none", tt.origin, got)
		}
	}
	pre := do(t, nil, "OPTIONS", srv.URL, "/list-bucket-content", http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}})
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight from a wildcard origin: %d, Access-Control-Allow-Origin %q", pre.status, pre.header.Get("Access-Control-Allow-Origin"))
	}
}
