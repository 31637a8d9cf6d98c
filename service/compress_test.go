package service

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawGet sends GET with headers exactly as given and returns the body as
// it came over the wire (no transparent decompression).
func rawGet(t *testing.T, url string, header map[string]string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("broken gzip: %v", err)
	}
	return out
}

// TestCompression checks gzip for clients that accept it: big listings
// (streamed and whole) come compressed and decompress to exactly the plain
// bytes, small ones go out as before, and revalidation still works.
func TestCompression(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	for _, n := range names("f", 10_000) {
		f.put(t, "big/"+n)
	}
	for _, n := range names("g", 500) {
		f.put(t, "mid/"+n)
	}
	srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{}), Config{})
	gz := map[string]string{"Accept-Encoding": "gzip"}
	for _, target := range []string{"/list-bucket-content/big", "/list-bucket-content/mid", "/list-bucket-content/big?details=true", "/list-bucket-content/big?limit=1000"} {
		_, plain, err := rawGet(t, srv.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, body, err := rawGet(t, srv.URL+target, gz)
		if err != nil {
			t.Fatalf("GET %s with gzip: %v", target, err)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("GET %s with gzip: Content-Encoding %q", target, resp.Header.Get("Content-Encoding"))
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("GET %s: Vary %q lacks Accept-Encoding", target, resp.Header.Values("Vary"))
		}
		if got := gunzip(t, body); !bytes.Equal(got, plain) {
			t.Errorf("GET %s: gunzipped %d bytes differ from the plain %d", target, len(got), len(plain))
		}
		if len(body) >= len(plain)/2 {
			t.Errorf("GET %s: %d bytes compressed from %d", target, len(body), len(plain))
		}
		if etag := resp.Header.Get("ETag"); etag != "" {
			r, _, _ := rawGet(t, srv.URL+target, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
			if r.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match %s: %d, want 304", target, etag, r.StatusCode)
			}
		}
	}
	resp, body, err := rawGet(t, srv.URL+"/list-bucket-content/dir2", gz)
	if err != nil || resp.Header.Get("Content-Encoding") != "" || string(body) != `{"content":["file1","file2"]}` {
		t.Errorf("GET dir2 with gzip: %q %s %v, want the small body uncompressed", resp.Header.Get("Content-Encoding"), body, err)
	}
}

// TestCompressedMidStreamFailure checks a listing that fails after its
// first bytes is a broken transfer for a gzip client too: the body must not
// end in a valid gzip trailer.
func TestCompressedMidStreamFailure(t *testing.T) {
	t.Parallel()
	srv := testServer(t, midStreamLister, Config{})
	resp, body, err := rawGet(t, srv.URL+"/list-bucket-content/big", map[string]string{"Accept-Encoding": "gzip"})
	if err == nil {
		t.Fatalf("GET big with gzip: read %d bytes without error; want a broken transfer", len(body))
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, zerr := gzip.NewReader(bytes.NewReader(body))
	if zerr == nil {
		if _, zerr = io.ReadAll(zr); zerr == nil {
			t.Errorf("the cut-off body is a complete gzip stream")
		}
	}
}

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
