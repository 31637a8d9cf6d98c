package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketls/bucketls/service/internal/fakes3"
	"github.com/bucketls/bucketls/service/internal/htpasswd/htpasswdtest"
	"golang.org/x/net/http/httpguts"
)

// fileKeys are the objects the file tests serve, beside the reference
// tree: one of each kind the safety rules tell apart, and names that
// break careless links and headers.
var fileKeys = []struct{ key, ctype, body string }{
	{"media/pic.png", "image/png", "\x89PNG\r\n\x1a\nnot really"},
	{"media/page.html", "text/html; charset=utf-8", "<script>alert(1)</script>"},
	{"media/draw.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
	{"media/none", "", "no type at all"},
	{"media/doc.pdf", "application/pdf", "%PDF-1.1"},
	{"media/bad type", "text/html;;;", "a type that does not parse"},
	{"odd/a b#?%\"é.txt", "text/plain", "awkward name"},
	{"odd/dir1", "text/plain", "a file beside the directory odd/dir1/"},
	{"odd/dir1/x", "text/plain", "x"},
	{"empty", "text/plain", ""},
}

// filesS3 is the fake S3 of the file tests: the reference tree and
// fileKeys, through wrap (nil: as it is).
func filesS3(t testing.TB, wrap func(http.Handler) http.Handler) *fakes3.Server {
	t.Helper()
	f := startFakeS3(t, ReferenceKeys(), func(next http.Handler) http.Handler {
		if wrap != nil {
			next = wrap(next)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/media/none") {
				// gofakes3 sends no type for an object without one, and
				// net/http would sniff one; S3 always sends one, this
				// stands for a type S3 has but the service must not trust.
				w.Header()["Content-Type"] = nil
			}
			next.ServeHTTP(w, r)
		})
	})
	for _, k := range fileKeys {
		f.PutFile(t, k.key, k.ctype, k.body)
	}
	return f
}

// filesServer is the service with --serve-objects over f.
func filesServer(t testing.TB, f *fakes3.Server, cfg Config) *httptest.Server {
	t.Helper()
	cfg.ServeObjects = true
	return testServer(t, fakeLister(f), cfg)
}

// etagOfObject is the ETag S3 has for the object at path.
func etagOfObject(t testing.TB, base, path string) string {
	t.Helper()
	r := do(t, nil, http.MethodHead, base, path, nil)
	if r.status != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("HEAD %s: %d, ETag %q", path, r.status, r.header.Get("ETag"))
	}
	return r.header.Get("ETag")
}

// TestFilesOffByDefault: without --serve-objects the route does not exist
// and listings have no links to it.
func TestFilesOffByDefault(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	for _, p := range []string{"/files/file1", "/files", "/files/"} {
		r := get(t, srv.URL, p)
		if r.status != 404 || r.body != `{"error":"no such route: `+p+`"}` {
			t.Errorf("GET %s: %d %s, want the unknown route's 404", p, r.status, r.body)
		}
	}
	if r := get(t, srv.URL, "/list-bucket-content/dir2?details=true"); strings.Contains(r.body, "href") {
		t.Errorf("details listing without --serve-objects: %s", r.body)
	}
	if r := do(t, nil, http.MethodGet, srv.URL, "/list-bucket-content/", accept(acceptChrome)); strings.Contains(r.body, fileRoot) {
		t.Errorf("index without --serve-objects links to %s", fileRoot)
	}
}

// TestFiles: bytes and headers, ranges, preconditions, HEAD, paths and
// the safety headers, over the in-memory S3.
func TestFiles(t *testing.T) {
	t.Parallel()
	srv := filesServer(t, filesS3(t, nil), Config{}).URL
	etag := etagOfObject(t, srv, "/files/dir2/file1")
	const body = "content of dir2/file1\n" // 22 bytes
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
		body   string // "" with a 2xx: empty; error answers: the message
		want   map[string]string
	}{
		{"whole file", "GET", "/files/dir2/file1", nil, 200, body, map[string]string{
			"Content-Type": "text/plain; charset=utf-8", "Content-Length": "22", "Accept-Ranges": "bytes", "ETag": etag,
			"Content-Disposition": `inline; filename="file1"`, "Content-Security-Policy": objectCSP,
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}},
		{"HEAD", "HEAD", "/files/dir2/file1", nil, 200, "", map[string]string{"Content-Length": "22", "ETag": etag, "Accept-Ranges": "bytes"}},
		{"first byte", "GET", "/files/dir2/file1", hdr("Range", "bytes=0-0"), 206, "c", map[string]string{"Content-Range": "bytes 0-0/22", "Content-Length": "1"}},
		{"middle", "GET", "/files/dir2/file1", hdr("Range", "bytes=11-14"), 206, "dir2", map[string]string{"Content-Range": "bytes 11-14/22"}},
		{"suffix", "GET", "/files/dir2/file1", hdr("Range", "bytes=-6"), 206, "file1\n", map[string]string{"Content-Range": "bytes 16-21/22"}},
		{"open end", "GET", "/files/dir2/file1", hdr("Range", "bytes=16-"), 206, "file1\n", map[string]string{"Content-Range": "bytes 16-21/22"}},
		{"end past the end", "GET", "/files/dir2/file1", hdr("Range", "bytes=16-999"), 206, "file1\n", map[string]string{"Content-Range": "bytes 16-21/22"}},
		{"suffix longer than the file", "GET", "/files/dir2/file1", hdr("Range", "bytes=-100"), 206, body, map[string]string{"Content-Range": "bytes 0-21/22"}},
		{"past the end", "GET", "/files/dir2/file1", hdr("Range", "bytes=22-"), 416, "range not satisfiable: dir2/file1 has 22 bytes", map[string]string{"Content-Range": "bytes */22"}},
		{"HEAD with a range", "HEAD", "/files/dir2/file1", hdr("Range", "bytes=0-3"), 206, "", map[string]string{"Content-Range": "bytes 0-3/22", "Content-Length": "4"}},
		{"malformed range", "GET", "/files/dir2/file1", hdr("Range", "bytes=x-1"), 416, "range not satisfiable: dir2/file1 has 22 bytes", nil},
		{"other unit", "GET", "/files/dir2/file1", hdr("Range", "lines=1-2"), 416, "range not satisfiable: dir2/file1 has 22 bytes", nil},
		{"two ranges: the whole file", "GET", "/files/dir2/file1", hdr("Range", "bytes=0-0,2-3"), 200, body, map[string]string{"Content-Range": ""}},
		{"range of an empty file", "GET", "/files/empty", hdr("Range", "bytes=0-0"), 200, "", map[string]string{"Content-Length": "0"}},
		{"empty file", "GET", "/files/empty", nil, 200, "", map[string]string{"Content-Length": "0"}},
		{"If-None-Match", "GET", "/files/dir2/file1", hdr("If-None-Match", etag), 304, "", map[string]string{"ETag": etag}},
		{"If-None-Match *", "GET", "/files/dir2/file1", hdr("If-None-Match", "*"), 304, "", nil},
		{"If-None-Match, another", "GET", "/files/dir2/file1", hdr("If-None-Match", `"other"`), 200, body, nil},
		{"If-Modified-Since, later", "GET", "/files/dir2/file1", hdr("If-Modified-Since", future), 304, "", nil},
		{"If-Modified-Since, earlier", "GET", "/files/dir2/file1", hdr("If-Modified-Since", past), 200, body, nil},
		{"If-Match", "GET", "/files/dir2/file1", hdr("If-Match", etag), 200, body, nil},
		{"If-Match, another", "GET", "/files/dir2/file1", hdr("If-Match", `"other"`), 412, "precondition failed: If-Match or If-Unmodified-Since does not hold for dir2/file1", map[string]string{"ETag": ""}},
		{"If-Unmodified-Since, earlier", "GET", "/files/dir2/file1", hdr("If-Unmodified-Since", past), 412, "precondition failed: If-Match or If-Unmodified-Since does not hold for dir2/file1", nil},
		{"If-Range matches", "GET", "/files/dir2/file1", http.Header{"Range": {"bytes=0-6"}, "If-Range": {etag}}, 206, "content", nil},
		{"If-Range does not", "GET", "/files/dir2/file1", http.Header{"Range": {"bytes=0-6"}, "If-Range": {`"other"`}}, 200, body, nil},
		{"If-None-Match with a range", "GET", "/files/dir2/file1", http.Header{"Range": {"bytes=0-6"}, "If-None-Match": {`"other"`}}, 206, "content", nil},
		{"missing", "GET", "/files/nope", nil, 404, "not found: nope", nil},
		{"a directory's name", "GET", "/files/dir2", nil, 404, "not found: dir2", nil},
		{"a directory", "GET", "/files/dir1/", nil, 404, "not a file: dir1/ is a directory; its listing is /list-bucket-content/dir1/", nil},
		{"the root", "GET", "/files", nil, 404, "not a file: the root is a directory; its listing is /list-bucket-content/", nil},
		{"the root, slashed", "GET", "/files/", nil, 404, "not a file: the root is a directory; its listing is /list-bucket-content/", nil},
		{"a file beside a directory", "GET", "/files/odd/dir1", nil, 200, "a file beside the directory odd/dir1/", nil},
		{"dot-dot", "GET", "/files/a/../file1", nil, 400, `invalid path: "." or ".." segment`, nil},
		{"encoded dot-dot", "GET", "/files/%2e%2e/file1", nil, 400, `invalid path: "." or ".." segment`, nil},
		{"control character", "GET", "/files/a%00b", nil, 400, "invalid path: control character", nil},
		{"too long", "GET", "/files/" + strings.Repeat("a", 1025), nil, 400, "invalid path: longer than 1024 bytes", nil},
		{"a query", "GET", "/files/file1?download=1", nil, 400, `unknown query parameter "download"; /files/<path> takes none`, nil},
		{"POST", "POST", "/files/file1", nil, 405, "method POST not allowed; use GET, HEAD", nil},
		{"HTML", "GET", "/files/media/page.html", nil, 200, fileKeys[1].body, map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Content-Disposition": `attachment; filename="page.html"`, "Content-Security-Policy": objectCSP}},
		{"SVG", "GET", "/files/media/draw.svg", nil, 200, fileKeys[2].body, map[string]string{"Content-Disposition": `attachment; filename="draw.svg"`}},
		{"PNG", "GET", "/files/media/pic.png", nil, 200, fileKeys[0].body, map[string]string{"Content-Type": "image/png", "Content-Disposition": `inline; filename="pic.png"`}},
		{"PDF: Chromium's viewer is a plugin the sandbox blocks", "GET", "/files/media/doc.pdf", nil, 200, "%PDF-1.1", map[string]string{"Content-Disposition": `attachment; filename="doc.pdf"`}},
		{"no type", "GET", "/files/media/none", nil, 200, "no type at all", map[string]string{"Content-Type": "application/octet-stream"}},
		{"a type that does not parse", "GET", "/files/media/bad%20type", nil, 200, "a type that does not parse", map[string]string{
			"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename="bad type"`}},
		{"awkward name", "GET", "/files/odd/" + escapeSegment("a b#?%\"é.txt"), nil, 200, "awkward name", map[string]string{
			"Content-Disposition": `inline; filename="a b#?___.txt"; filename*=UTF-8''a%20b#%3F%25%22%C3%A9.txt`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, nil, tt.method, srv, tt.path, tt.header)
			if r.status != tt.status {
				t.Fatalf("%s %s: status = %d, want %d (%.200s)", tt.method, tt.path, r.status, tt.status, r.body)
			}
			switch {
			case tt.status >= 400 && tt.method != "HEAD":
				if msg := checkJSONError(t, r); msg != tt.body {
					t.Errorf("%s %s: error %q, want %q", tt.method, tt.path, msg, tt.body)
				}
				for _, h := range []string{"Content-Security-Policy", "Content-Disposition", "Accept-Ranges"} {
					if v := r.header.Get(h); v != "" {
						t.Errorf("%s %s: error answer has %s: %s", tt.method, tt.path, h, v)
					}
				}
			case r.body != tt.body:
				t.Errorf("%s %s: body %q, want %q", tt.method, tt.path, r.body, tt.body)
			}
			for k, v := range tt.want {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, got, v)
				}
			}
		})
	}
}

func hdr(k, v string) http.Header { return http.Header{k: {v}} }

// escapeSegment is url.PathEscape, as the index escapes a segment.
func escapeSegment(s string) string { return strings.TrimPrefix(listHref(s, false), listRoot+"/") }

// TestFileLinks: with --serve-objects, details listings give files an
// href and the index links files to their bytes; directories keep
// linking to their listings, and the links work.
func TestFileLinks(t *testing.T) {
	t.Parallel()
	srv := filesServer(t, filesS3(t, nil), Config{}).URL
	for _, tt := range []struct {
		path string
		want map[string]string // name: href ("" none)
	}{
		{"/list-bucket-content/dir2?details=true", map[string]string{"file1": "/files/dir2/file1", "file2": "/files/dir2/file2"}},
		{"/list-bucket-content/dir2/?details=true&limit=1", map[string]string{"file1": "/files/dir2/file1"}},
		{"/list-bucket-content/dir2/file1?details=true", map[string]string{"file1": "/files/dir2/file1"}},
		{"/list-bucket-content/odd?details=true", map[string]string{
			"a b#?%\"é.txt": "/files/odd/a%20b%23%3F%25%22%C3%A9.txt", "dir1": ""}},
		{"/list-bucket-content?details=true&recursive=true&prefix=dir", map[string]string{
			"dir1/": "", "dir2/file1": "/files/dir2/file1", "dir2/file2": "/files/dir2/file2"}},
		{"/list-bucket-content?details=true", map[string]string{"file1": "/files/file1", "dir1": "", "empty": "/files/empty"}},
	} {
		r := get(t, srv, tt.path)
		var v struct {
			Content []entryJSON `json:"content"`
		}
		if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 {
			t.Fatalf("GET %s: %d %s", tt.path, r.status, r.body)
		}
		seen := map[string]string{}
		for _, e := range v.Content {
			seen[e.Name] = e.Href
			if e.Type == "directory" && e.Href != "" {
				t.Errorf("GET %s: directory %q has href %q", tt.path, e.Name, e.Href)
			}
		}
		for name, href := range tt.want {
			got, ok := seen[name]
			if !ok || got != href {
				t.Errorf("GET %s: %q has href %q (listed: %v), want %q", tt.path, name, got, ok, href)
			}
			if href != "" {
				if f := get(t, srv, href); f.status != 200 {
					t.Errorf("GET %s (the href of %q): %d %s", href, name, f.status, f.body)
				}
			}
		}
	}
	page := do(t, nil, http.MethodGet, srv, "/list-bucket-content/dir2/", accept(acceptChrome)).body
	for _, want := range []string{`href="/files/dir2/file1"`, `href="/files/dir2/file2"`} {
		if !strings.Contains(page, want) {
			t.Errorf("index of dir2 lacks %s:\n%s", want, page)
		}
	}
	root := do(t, nil, http.MethodGet, srv, "/list-bucket-content/", accept(acceptChrome)).body
	for _, want := range []string{`href="/list-bucket-content/dir1/"`, `href="/files/file1"`} {
		if !strings.Contains(root, want) {
			t.Errorf("index of the root lacks %s", want)
		}
	}
}

// TestContentDisposition: the filename survives a parser for every kind
// of name, and the ASCII fallback never carries a byte that needs care.
func TestContentDisposition(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"plain.txt", "a b", `quo"te`, `back\slash`, "100%.txt", "ümlaut.pdf", "日本語", "emoji 🎉", "new\nline", "semi;colon", "tab\there", "x'y"} {
		v := contentDisposition("attachment", name)
		disp, params, err := mime.ParseMediaType(v)
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Errorf("contentDisposition(%q) = %s: parses as %q %q (%v)", name, v, disp, params, err)
		}
		fallback := v[strings.Index(v, `filename="`)+10:]
		fallback = fallback[:strings.IndexByte(fallback, '"')]
		for _, c := range []byte(fallback) {
			if c < 0x20 || c >= 0x7f || c == '\\' || c == '%' {
				t.Errorf("contentDisposition(%q) = %s: fallback has byte %#x", name, v, c)
			}
		}
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("contentDisposition(%q) = %q has a line break", name, v)
		}
	}
}

// rangeRecorder records the Range and If-Match of every object call S3
// gets, by method.
type rangeRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (rr *rangeRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("list-type") == "" {
			rr.mu.Lock()
			rr.calls = append(rr.calls, strings.TrimSpace(r.Method+" "+r.Header.Get("Range")+" "+r.Header.Get("If-Match")))
			rr.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (rr *rangeRecorder) take() []string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	c := rr.calls
	rr.calls = nil
	return c
}

// TestFileRangeReachesS3: the range a client asks for is the range S3
// is asked for, in one call when the request has no conditions; a HEAD is
// a HeadObject, and bytes after a HeadObject carry its ETag.
func TestFileRangeReachesS3(t *testing.T) {
	var rr rangeRecorder
	f := filesS3(t, rr.wrap)
	srv := filesServer(t, f, Config{}).URL
	etag := etagOfObject(t, srv, "/files/dir2/file1")
	rr.take()
	for _, tt := range []struct {
		method string
		header http.Header
		want   string // the S3 calls, comma-separated
	}{
		{"GET", nil, "GET"},
		{"GET", hdr("Range", "bytes=0-0"), "GET bytes=0-0"},
		{"GET", hdr("Range", "bytes=21-21"), "GET bytes=21-21"},
		{"GET", hdr("Range", "bytes=-1"), "GET bytes=-1"},
		{"GET", hdr("Range", "bytes=5-"), "GET bytes=5-"},
		{"GET", hdr("Range", "bytes=5-999"), "GET bytes=5-999"},
		{"GET", hdr("Range", "bytes=99-"), "GET bytes=99-, HEAD"}, // past the end: the size decides
		{"HEAD", nil, "HEAD"},
		{"HEAD", hdr("Range", "bytes=0-0"), "HEAD"},
		{"GET", hdr("If-None-Match", etag), "HEAD"},
		{"GET", http.Header{"If-None-Match": {`"x"`}, "Range": {"bytes=2-4"}}, "HEAD, GET bytes=2-4 " + etag},
		{"GET", hdr("If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"), "HEAD, GET bytes=0-21 " + etag},
		{"GET", hdr("Range", "bytes=2 -4"), "HEAD, GET bytes=2-4 " + etag}, // not read by the guess: ServeContent reads it
	} {
		r := do(t, nil, tt.method, srv, "/files/dir2/file1", tt.header)
		if got := strings.Join(rr.take(), ", "); got != tt.want {
			t.Errorf("%s with %v: S3 got %q, want %q (answer %d)", tt.method, tt.header, got, tt.want, r.status)
		}
	}
}

// TestFileAccess: the object route has the listings' access rules:
// --htpasswd, --root-prefix and CORS.
func TestFileAccess(t *testing.T) {
	t.Parallel()
	t.Run("root prefix", func(t *testing.T) {
		t.Parallel()
		f := startFakeS3(t, append(demoKeys("pub"), "pub/a/../secret"), nil)
		srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{RootPrefix: "pub"}), Config{ServeObjects: true}).URL
		for _, tt := range []struct {
			path   string
			status int
		}{
			{"/files/dir2/file1", 200},
			{"/files/secret", 404},
			{"/files/..%2Fsecret", 400},
			{"/files/%2E%2E/secret", 400},
			{"/files/%2e%2e%2fsecret", 400},
			{"/files/a/..%2Fsecret", 400},
			{"/files/..", 400},
			{"/files/-other/secret", 404},
		} {
			r := get(t, srv, tt.path)
			if r.status != tt.status || strings.Contains(r.body, "content of secret") {
				t.Errorf("GET %s under --root-prefix pub: %d %s, want %d", tt.path, r.status, r.body, tt.status)
			}
		}
		if r := get(t, srv, "/files/dir2/file1"); r.body != "content of pub/dir2/file1\n" {
			t.Errorf("GET /files/dir2/file1 under pub: %q", r.body)
		}
	})
	t.Run("htpasswd", func(t *testing.T) {
		t.Parallel()
		srv := authServer(t, discard, testUsers(t), Config{ServeObjects: true}).URL
		if r := get(t, srv, "/files/file1"); r.status != 401 || r.header.Get("WWW-Authenticate") == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET /files/file1 without credentials: %d %v", r.status, r.header)
		}
		// What only logged-in users may see stays out of shared caches.
		if r := do(t, nil, http.MethodGet, srv, "/files/file1", basic("alice", htpasswdtest.AlicePassword)); r.status != 200 || r.body != "content of file1\n" || r.header.Get("Cache-Control") != "private, no-cache" {
			t.Errorf("GET /files/file1 logged in: %d %q %v", r.status, r.body, r.header)
		}
	})
	t.Run("hide", func(t *testing.T) {
		t.Parallel()
		srv := filesServer(t, filesS3(t, nil), Config{Hide: []string{"*.html", "odd"}}).URL
		for _, p := range []string{"/files/media/page.html", "/files/odd/dir1", "/files/odd/dir1/x"} {
			if r := get(t, srv, p); r.status != 404 || !strings.HasPrefix(checkJSONError(t, r), "not found: ") {
				t.Errorf("GET %s with --hide: %d %s, want the 404 of a missing object", p, r.status, r.body)
			}
		}
		if r := get(t, srv, "/files/media/pic.png"); r.status != 200 {
			t.Errorf("GET a file --hide does not hide: %d", r.status)
		}
	})
	t.Run("CORS", func(t *testing.T) {
		t.Parallel()
		srv := filesServer(t, filesS3(t, nil), Config{CORSOrigins: []string{"https://app.example"}}).URL
		pre := do(t, nil, http.MethodOptions, srv, "/files/file1", http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"range, if-range, x-evil"}})
		if pre.status != 204 || pre.header.Get("Access-Control-Allow-Headers") != "Range, If-Range" {
			t.Errorf("preflight: %d, Allow-Headers %q", pre.status, pre.header.Get("Access-Control-Allow-Headers"))
		}
		r := do(t, nil, http.MethodGet, srv, "/files/file1", http.Header{"Origin": {"https://app.example"}, "Range": {"bytes=0-1"}})
		if r.status != 206 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Content-Range") {
			t.Errorf("cross-origin range: %d %v", r.status, r.header)
		}
		list := do(t, nil, http.MethodOptions, srv, "/list-bucket-content", http.Header{
			"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"range"}})
		if list.header.Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("listing preflight allows %q; ranges are the object route's", list.header.Get("Access-Control-Allow-Headers"))
		}
	})
}

// TestFileLogAndMetrics: the access line has the range asked for and the
// bytes sent; /metrics counts the bytes by route.
func TestFileLogAndMetrics(t *testing.T) {
	t.Parallel()
	f := filesS3(t, nil)
	srv, sink := loggedServer(t, fakeLister(f), Config{ServeObjects: true})
	r := do(t, nil, http.MethodGet, srv.URL, "/files/dir2/file1", hdr("Range", "bytes=-6"))
	if r.status != 206 {
		t.Fatalf("GET with a range: %d", r.status)
	}
	l := sink.wait(t, "request", 5*time.Second)
	if l["range"] != "bytes=-6" || l["bytes"] != float64(6) || l["route"] != "/files/{path...}" || l["s3_calls"] != float64(1) {
		t.Errorf("access line %v, want range bytes=-6, 6 bytes, route /files/{path...}, 1 S3 call", l)
	}
	get(t, srv.URL, "/files/file1")
	checkMetric(t, srv.URL, `bucketls_http_response_bytes_total{route="/files/{path...}"} 23`)
	checkMetric(t, srv.URL, `bucketls_s3_object_requests_total{operation="get",result="ok"} 2`)
}

// generated is a large object made on the fly: byte i depends only on i,
// so any range of it can be served, and hashed, without holding it.
type generated struct {
	size int64
	pos  int64
}

func (g *generated) Read(p []byte) (int, error) {
	if g.pos >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.size-g.pos))
	for i := range n {
		x := uint64(g.pos + int64(i))
		x ^= x >> 7
		p[i] = byte(x*0x9E3779B97F4A7C15>>56) ^ byte(x>>20)
	}
	g.pos += int64(n)
	return n, nil
}

func (g *generated) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += g.pos
	case io.SeekEnd:
		off += g.size
	}
	g.pos = off
	return off, nil
}

// serveGenerated answers S3's GetObject and HeadObject for key with a
// generated object of size bytes (http.ServeContent does ranges, as S3
// would); cut, when positive, breaks the connection after that many
// bytes of a GetObject body. Every other request goes to next.
func serveGenerated(key string, size, cut int64) func(http.Handler) http.Handler {
	modified := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/"+testBucket+"/"+key {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("ETag", `"generated-`+strconv.FormatInt(size, 10)+`"`)
			w.Header().Set("Content-Type", "application/octet-stream")
			var out http.ResponseWriter = w
			if cut > 0 && r.Method == http.MethodGet {
				out = &cutWriter{ResponseWriter: w, left: cut}
			}
			http.ServeContent(out, r, "", modified, &generated{size: size})
		})
	}
}

// cutWriter breaks the connection once left bytes are written.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) >= c.left {
		_, _ = c.ResponseWriter.Write(p[:c.left])
		_ = http.NewResponseController(c.ResponseWriter).Flush()
		panic(http.ErrAbortHandler)
	}
	c.left -= int64(len(p))
	return c.ResponseWriter.Write(p)
}

// TestFileLarge streams a 256 MiB object through the service and checks
// its SHA-256, and a range at its end.
func TestFileLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB through the service; not with -short")
	}
	t.Parallel()
	const size = 256 << 20
	f := startFakeS3(t, ReferenceKeys(), serveGenerated("big.bin", size, 0))
	srv := filesServer(t, f, Config{}).URL
	want := sha256.New()
	if _, err := io.Copy(want, &generated{size: size}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv + "/files/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	if err != nil || n != size || resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("GET big.bin: %d, Content-Length %d, %d bytes read, %v", resp.StatusCode, resp.ContentLength, n, err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("GET big.bin: SHA-256 %s, want %s", hex.EncodeToString(got.Sum(nil)), hex.EncodeToString(want.Sum(nil)))
	}
	last := do(t, nil, http.MethodGet, srv, "/files/big.bin", hdr("Range", "bytes=-3"))
	g := &generated{size: size}
	g.Seek(-3, io.SeekEnd)
	tail, _ := io.ReadAll(g)
	if last.status != 206 || last.body != string(tail) || last.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", size-3, size-1, size) {
		t.Errorf("last 3 bytes: %d %q %q, want %q", last.status, last.body, last.header.Get("Content-Range"), tail)
	}
}

// TestFileFailureMidBody: S3 breaks the connection in the middle of an
// object. The client must see a broken transfer (fewer bytes than
// Content-Length, an error), never a short body that looks whole; the log
// and the metrics say aborted.
func TestFileFailureMidBody(t *testing.T) {
	t.Parallel()
	const size, cut = 4 << 20, 1 << 20
	f := startFakeS3(t, ReferenceKeys(), serveGenerated("big.bin", size, cut))
	srv, sink := loggedServer(t, fakeLister(f), Config{ServeObjects: true})
	resp, err := http.Get(srv.URL + "/files/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != size || err == nil || n >= size {
		t.Errorf("GET big.bin broken at %d: %d, Content-Length %d, read %d bytes, err %v; want a transfer that fails", cut, resp.StatusCode, resp.ContentLength, n, err)
	}
	l := sink.wait(t, "request", 5*time.Second)
	if l["aborted"] != true || l["level"] != "ERROR" || l["status"] != float64(200) {
		t.Errorf("log line %v, want status 200, aborted, at level ERROR", l)
	}
	checkMetric(t, srv.URL, `bucketls_http_responses_aborted_total{reason="storage",route="/files/{path...}"} 1`)
}

// TestFileFailureBeforeHeaders: a storage failure before the first byte
// gets the usual status and JSON error.
func TestFileFailureBeforeHeaders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		code   string
		status int
		want   int
	}{
		{"throttled", "SlowDown", 503, 503},
		{"denied", "AccessDenied", 403, 502},
		{"S3 fails", "InternalError", 500, 502},
		{"changed under us", "PreconditionFailed", 412, 503},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			failing := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "" {
						w.Header().Set("Content-Type", "application/xml")
						w.WriteHeader(tt.status)
						fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>RequestId 4442587FB7D0A2F9</Message></Error>`, tt.code)
						return
					}
					next.ServeHTTP(w, r)
				})
			}
			srv := filesServer(t, filesS3(t, failing), Config{}).URL
			// A HEAD first, then a failing GET: the GetObject after the
			// HeadObject fails (If-Modified-Since makes the request
			// conditional), as does the first, single one.
			for _, h := range []http.Header{nil, hdr("If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT")} {
				r := do(t, nil, http.MethodGet, srv, "/files/file1", h)
				if r.status != tt.want {
					t.Errorf("GET file1 (%v) when S3 says %s: %d %s, want %d", h, tt.code, r.status, r.body, tt.want)
				}
				if msg := checkJSONError(t, r); strings.Contains(msg, "4442587FB7D0A2F9") || strings.Contains(msg, tt.code) {
					t.Errorf("error message leaks S3's answer: %q", msg)
				}
			}
		})
	}
}

// TestFileStalledClient: a client that stops reading a large object is
// cut off after the stall timeout, as for listings.
func TestFileStalledClient(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), serveGenerated("big.bin", 64<<20, 0))
	srv, sink := loggedServer(t, fakeLister(f), Config{ServeObjects: true, StallTimeout: 300 * time.Millisecond})
	resp, err := http.Get(srv.URL + "/files/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Read nothing.
	l := sink.wait(t, "request", 20*time.Second)
	if l["limit"] != limitStall || l["aborted"] != true || l["level"] != "INFO" {
		t.Errorf("log line %v, want limit %q, aborted, level INFO", l, limitStall)
	}
}

// FuzzFileRange holds the object route to http.ServeContent over the
// bytes themselves: for any Range and If-Range, the same status, range and
// bytes, whatever the guess that picks the first GetObject made of it.
// (A Range with more than one range is dropped on both sides: the route
// sends the whole object, by design.)
func FuzzFileRange(f *testing.F) {
	for _, seed := range [][2]string{
		{"bytes=0-0", ""}, {"bytes=-1", ""}, {"bytes=5-", ""}, {"bytes=21-", ""}, {"bytes=22-", ""},
		{"bytes=0-1000", ""}, {"bytes=-0", ""}, {"bytes=-22", ""}, {"bytes=-23", ""}, {"bytes=3-2", ""},
		{"bytes=2 -4", ""}, {"bytes= 2-4", ""}, {"bytes=02-04", ""}, {"bytes=+1-2", ""}, {"bytes=-", ""},
		{"bytes=0-0,5-5", ""}, {"bytes=0-1,", ""}, {"bytes=999999999999999999-", ""}, {"bytes=9999999999999999999-", ""},
		{"Bytes=0-1", ""}, {"bytes=1-1", "etag"}, {"bytes=1-1", `"other"`}, {"bytes=1-1", "Mon, 02 Jan 2006 15:04:05 GMT"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	fs := filesS3(f, nil)
	srv := filesServer(f, fs, Config{}).URL
	const body = "content of dir2/file1\n"
	etag := etagOfObject(f, srv, "/files/dir2/file1")
	modified, err := http.ParseTime(do(f, nil, http.MethodHead, srv, "/files/dir2/file1", nil).header.Get("Last-Modified"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rng, ifRange string) {
		if ifRange == "etag" {
			ifRange = etag
		}
		header := http.Header{}
		for k, v := range map[string]string{"Range": rng, "If-Range": ifRange} {
			if v == "" {
				continue
			}
			if !httpguts.ValidHeaderFieldValue(v) || strings.TrimSpace(v) != v {
				t.Skip("not a header value a client can send as it is")
			}
			header.Set(k, v)
		}
		got := do(t, nil, http.MethodGet, srv, "/files/dir2/file1", header)

		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header = header.Clone()
		if strings.Contains(req.Header.Get("Range"), ",") {
			req.Header.Del("Range")
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", etag)
		http.ServeContent(rec, req, "", modified, strings.NewReader(body))
		want := rec.Result()
		wantBody, _ := io.ReadAll(want.Body)
		if got.status != want.StatusCode || got.header.Get("Content-Range") != want.Header.Get("Content-Range") ||
			(got.status < 300 && got.body != string(wantBody)) {
			t.Errorf("Range %q, If-Range %q: %d %q %q; ServeContent: %d %q %q", rng, ifRange,
				got.status, got.header.Get("Content-Range"), got.body, want.StatusCode, want.Header.Get("Content-Range"), wantBody)
		}
	})
}

// TestNewServerNeedsObjectReader: --serve-objects over a Lister that
// cannot read objects is a programming error NewServer refuses at once.
func TestNewServerNeedsObjectReader(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "ObjectReader") {
			t.Errorf("NewServer with ServeObjects over a listing-only Lister: recovered %v, want a panic naming ObjectReader", r)
		}
	}()
	NewServer(discard, funcLister(nil), nil, Config{ServeObjects: true})
}
