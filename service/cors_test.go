package service

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCORS checks --cors-origins: allowed origins get the headers and a
// preflight, others get none, and without the setting nothing changes.
func TestCORS(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	lister := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{})
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
