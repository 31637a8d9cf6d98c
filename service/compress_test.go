package service

import (
	"bytes"
	"compress/gzip"
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
	f.Put(t, names("big/f", 10_000)...)
	f.Put(t, names("mid/g", 500)...)
	srv := testServer(t, fakeLister(f), Config{})
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

// TestHeadAsGet: HEAD answers with the headers GET would send, under
// compression too: the ETag of the encoded body, Content-Encoding, no
// Content-Length where GET has none (issue 20, point 9: HEAD sent the
// plain ETag and no encoding, so a cache or a client comparing the two
// saw two representations).
func TestHeadAsGet(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	f.Put(t, names("big/f", 1500)...)
	f.Put(t, names("mid/g", 300)...)
	srv := testServer(t, fakeLister(f), Config{CORSOrigins: []string{"https://app.example"}})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	compared := []string{"Content-Encoding", "Content-Length", "Content-Type", "Etag", "Vary", "Cache-Control", "Link",
		"Accept-Ranges", "Access-Control-Allow-Origin", "Content-Security-Policy", "X-Content-Type-Options", "Www-Authenticate"}
	encodings := []string{"", "gzip", "zstd", "gzip, deflate, br, zstd", "gzip;q=1, zstd;q=0.5", "identity", "gzip;q=0"}
	targets := []struct {
		path   string
		header http.Header
	}{
		{"/list-bucket-content/dir2", nil},                                   // small: never compressed
		{"/list-bucket-content/mid", nil},                                    // one S3 page, whole, over 1 KiB
		{"/list-bucket-content/mid?details=true&limit=100", nil},             // a page with a Link
		{"/list-bucket-content/big", nil},                                    // streamed
		{"/list-bucket-content/mid", http.Header{"Accept": {acceptChrome}}},  // the HTML index
		{"/list-bucket-content/nope", http.Header{"Accept": {acceptChrome}}}, // an error page over 1 KiB
		{"/list-bucket-content/nope", nil},
		{"/list-bucket-content/mid", http.Header{"If-None-Match": {"*"}}},
		{"/list-bucket-content/mid", http.Header{"Origin": {"https://app.example"}}},
		{"/openapi.json", nil},
	}
	for _, tt := range targets {
		for _, enc := range encodings {
			h := tt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			if enc != "" {
				h.Set("Accept-Encoding", enc)
			}
			get := do(t, client, http.MethodGet, srv.URL, tt.path, h)
			head := do(t, client, http.MethodHead, srv.URL, tt.path, h)
			if head.status != get.status || head.body != "" {
				t.Errorf("HEAD %s (Accept-Encoding %q): %d with %d body bytes, GET %d", tt.path, enc, head.status, len(head.body), get.status)
			}
			for _, k := range compared {
				if k == "Content-Length" && head.header.Get(k) == "" && get.header.Get("Content-Encoding") != "" {
					// RFC 9110 lets HEAD leave it out; the length of
					// the encoded body is known only by encoding it.
					continue
				}
				if g, hd := get.header.Values(k), head.header.Values(k); strings.Join(g, "\n") != strings.Join(hd, "\n") {
					t.Errorf("HEAD %s (Accept-Encoding %q, %v): %s = %q, GET has %q", tt.path, enc, tt.header, k, hd, g)
				}
			}
		}
	}
}
