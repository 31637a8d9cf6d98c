package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"
)

// Accept headers as clients send them.
const (
	acceptChrome  = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	acceptFirefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// The index test tree: the reference tree, a directory that takes three
// HTML pages, one of names that break careless links and one of names
// that try XSS. The browser test serves it too.
const (
	bigDir    = "big"
	bigDirLen = 2*indexPageSize + 234
	awkDir    = "awkward"
	xssDir    = "xss"
	// awkPath is the nested key the issue names: every character in it
	// means something in a URL.
	awkPath = "a b+c%20d#e?f (g)/日本/😀"
)

// awkwardNames are keys below awkDir; xssNames below xssDir.
var (
	awkwardNames = []string{
		awkPath, "100% sure", "plus+minus", "hash#frag", "what?", "semi;colon,comma",
		"amp&eq=x", `quote"apos'`, `back\slash`, "tilde~at@", "ünïcödé ñ", "emoji 😀 file",
		"%2e%2e", "%2F", "dir with space/inner file", "obj-and-dir", "obj-and-dir/child",
		".hidden", "...", "trailing.", "colon:name",
	}
	xssNames = []string{
		"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "javascript:alert(1)",
		"\u202Egnp.exe", "<svg onload=alert(1)>", "'><iframe src=javascript:alert(1)>", "{{.Title}}",
	}
)

func indexKeys() []string {
	keys := ReferenceKeys()
	for _, n := range names("item", bigDirLen) {
		keys = append(keys, bigDir+"/"+n)
	}
	for _, n := range awkwardNames {
		keys = append(keys, awkDir+"/"+n)
	}
	for _, n := range xssNames {
		keys = append(keys, xssDir+"/"+n)
	}
	return keys
}

// indexServer is the service over gofakes3 holding indexKeys.
func indexServer(t testing.TB) string {
	t.Helper()
	f := startFakeS3(t, indexKeys(), nil)
	return testServer(t, fakeLister(f), Config{}).URL
}

func accept(v string) http.Header {
	if v == "" {
		return nil
	}
	return http.Header{"Accept": {v}}
}

// TestIndexNegotiation: browsers get HTML, every other client exactly the
// JSON of before, and ?format= forces either.
func TestIndexNegotiation(t *testing.T) {
	t.Parallel()
	srv := refServer(t).URL
	const dir2 = `{"content":["file1","file2"]}`
	tests := []struct {
		name     string
		accept   string
		query    string
		wantHTML bool
	}{
		{"no Accept", "", "", false},
		{"curl", "*/*", "", false},
		{"JSON", "application/json", "", false},
		{"application wildcard", "application/*", "", false},
		{"Chrome", acceptChrome, "", true},
		{"Firefox", acceptFirefox, "", true},
		{"HTML only", "text/html", "", true},
		{"HTML upper case", "TEXT/HTML", "", true},
		{"XHTML", "application/xhtml+xml", "", true},
		{"HTML ranked below JSON", "text/html;q=0.5, application/json", "", false},
		{"a tie keeps JSON", "application/json, text/html", "", false},
		{"HTML refused", "text/html;q=0, */*", "", false},
		{"text wildcard is not a browser", "text/*", "", false},
		{"JSON over a wildcard", "text/html;q=0.9, application/json, */*;q=0.1", "", false},
		{"HTML over a wildcard", "text/html, */*;q=0.9", "", true},
		{"format=json wins over a browser", acceptChrome, "?format=json", false},
		{"format=html wins over curl", "*/*", "?format=html", true},
		{"format=html without Accept", "", "?format=html", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := "/list-bucket-content/dir2" + tt.query
			r := do(t, nil, http.MethodGet, srv, path, accept(tt.accept))
			if r.status != 200 {
				t.Fatalf("GET %s: status = %d, want 200 (body %.200q)", path, r.status, r.body)
			}
			if !slices.Contains(r.header.Values("Vary"), "Accept") {
				t.Errorf("GET %s: Vary = %q, want Accept", path, r.header.Values("Vary"))
			}
			ct := r.header.Get("Content-Type")
			if !tt.wantHTML {
				if ct != "application/json" || r.body != dir2 {
					t.Errorf("GET %s (Accept %q): %s %q, want application/json %s", path, tt.accept, ct, r.body, dir2)
				}
				return
			}
			if ct != "text/html; charset=utf-8" || !strings.HasPrefix(strings.ToLower(r.body), "<!doctype html>") {
				t.Errorf("GET %s (Accept %q): %s %.100q, want an HTML page", path, tt.accept, ct, r.body)
			}
			if got := entryLinks(t, r.body); !slices.Equal(linkNames(got), []string{"file1", "file2"}) {
				t.Errorf("GET %s: page lists %q, want file1, file2", path, linkNames(got))
			}
		})
	}
}

// TestIndexJSONUnchanged: for a client that is not a browser, every answer
// is what it was before the index existed, whatever it sends as Accept.
func TestIndexJSONUnchanged(t *testing.T) {
	t.Parallel()
	srv := refServer(t).URL
	tests := []struct {
		path string
		want string
	}{
		{"/list-bucket-content", `{"content":["dir1","dir2","file1","file2"]}`},
		{"/list-bucket-content/dir1/", `{"content":[]}`},
		{"/list-bucket-content/dir2/file1", `{"content":["file1"]}`},
		{"/list-bucket-content/nope", `{"error":"not found: nope"}`},
		{"/list-bucket-content/a//b", `{"error":"invalid path: empty segment"}`},
		{"/list-bucket-content?limit=2", ""}, // "": as without Accept
		{"/list-bucket-content?details=true&prefix=dir1", `{"content":[{"name":"dir1","type":"directory"}]}`},
		{"/list-bucket-content?format=xml", `{"error":"format=\"xml\": use json or html"}`},
		{"/nope", `{"error":"no such route: /nope"}`},
	}
	for _, tt := range tests {
		if tt.want == "" {
			tt.want = get(t, srv, tt.path).body
		}
		for _, a := range []string{"", "*/*", "application/json"} {
			r := do(t, nil, http.MethodGet, srv, tt.path, accept(a))
			if r.body != tt.want || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("GET %s (Accept %q): %s %q, want %q", tt.path, a, r.header.Get("Content-Type"), r.body, tt.want)
			}
		}
	}
}

// TestIndexHeaders: the page is locked down, revalidates per variant and
// answers HEAD like GET.
func TestIndexHeaders(t *testing.T) {
	t.Parallel()
	srv := refServer(t).URL
	r := do(t, nil, http.MethodGet, srv, "/list-bucket-content/", accept(acceptChrome))
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-cache",
		"Content-Security-Policy": "default-src 'none'; style-src '" + cspHash(indexCSS) + "'; img-src data:; " +
			"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The CSP's hash must be the one stylesheet's, byte for byte.
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(r.body, -1)
	if len(m) != 1 {
		t.Fatalf("page has %d <style> elements, want 1", len(m))
	}
	sum := sha256.Sum256([]byte(m[0][1]))
	if h := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); !strings.Contains(r.header.Get("Content-Security-Policy"), h) {
		t.Errorf("CSP %q does not allow the page's stylesheet (%s)", r.header.Get("Content-Security-Policy"), h)
	}
	for _, bad := range []string{"<script", " style=", `href="http`, "src=", "url(", "@import"} {
		if strings.Contains(r.body, bad) {
			t.Errorf("page contains %q: no script, no style attributes, no external assets", bad)
		}
	}

	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("HTML page has no ETag")
	}
	js := get(t, srv, "/list-bucket-content/")
	if js.header.Get("ETag") == etag {
		t.Error("HTML and JSON share an ETag; each variant needs its own")
	}
	h := accept(acceptChrome)
	h.Set("If-None-Match", etag)
	if nm := do(t, nil, http.MethodGet, srv, "/list-bucket-content/", h); nm.status != 304 {
		t.Errorf("If-None-Match with the page's ETag: status = %d, want 304", nm.status)
	}
	h.Set("If-None-Match", js.header.Get("ETag"))
	if nm := do(t, nil, http.MethodGet, srv, "/list-bucket-content/", h); nm.status != 200 {
		t.Errorf("If-None-Match with the JSON's ETag on the HTML page: status = %d, want 200", nm.status)
	}
	// HEAD against an uncompressed GET: a compressed one has no length.
	identity := accept(acceptChrome)
	identity.Set("Accept-Encoding", "identity")
	r = do(t, nil, http.MethodGet, srv, "/list-bucket-content/", identity)
	head := do(t, nil, http.MethodHead, srv, "/list-bucket-content/", identity)
	if head.status != 200 || head.body != "" || head.header.Get("Content-Length") != r.header.Get("Content-Length") ||
		head.header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD: status %d, %d body bytes, Content-Length %q; want 200, none, %q, with CSP",
			head.status, len(head.body), head.header.Get("Content-Length"), r.header.Get("Content-Length"))
	}
}

// TestIndexErrorPages: a browser gets each error as a page with the status
// and the message of the JSON error; everyone else the JSON.
func TestIndexErrorPages(t *testing.T) {
	t.Parallel()
	ref := refServer(t).URL
	fault := func(err error) string {
		l := funcLister(func(context.Context, string, func([]string, bool) error) error { return err })
		return testServer(t, l, Config{}).URL
	}
	tests := []struct {
		name   string
		base   string
		path   string
		status int
	}{
		{"not found", ref, "/list-bucket-content/nope", 404},
		{"bad path", ref, "/list-bucket-content/a%00b", 400},
		{"bad path before the mux", ref, "/list-bucket-content/a//b", 400},
		{"bad query", ref, "/list-bucket-content?limit=0", 400},
		{"bad cursor", ref, "/list-bucket-content?limit=2&cursor=xyz", 400},
		{"message is escaped", ref, "/list-bucket-content/%3Cb%3Ebold", 404},
		{"unknown route", ref, "/nope/%3Cb%3E", 404},
		{"bucket unavailable", fault(ErrBucketUnavailable), "/list-bucket-content/", 502},
		{"throttled", fault(ErrThrottled), "/list-bucket-content/", 503},
		{"timeout", fault(ErrTimeout), "/list-bucket-content/", 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			js := do(t, nil, http.MethodGet, tt.base, tt.path, nil)
			msg := checkJSONError(t, js)
			page := do(t, nil, http.MethodGet, tt.base, tt.path, accept(acceptChrome))
			if js.status != tt.status || page.status != tt.status {
				t.Fatalf("GET %s: status = %d (JSON), %d (HTML), want %d", tt.path, js.status, page.status, tt.status)
			}
			if ct := page.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("GET %s from a browser: Content-Type = %q, want HTML", tt.path, ct)
			}
			if page.header.Get("Content-Security-Policy") != indexCSP || page.header.Get("Referrer-Policy") == "" {
				t.Errorf("GET %s: error page without the index's CSP and Referrer-Policy", tt.path)
			}
			if !slices.Contains(page.header.Values("Vary"), "Accept") || !slices.Contains(js.header.Values("Vary"), "Accept") {
				t.Errorf("GET %s: Vary = %q (HTML), %q (JSON), want Accept on both", tt.path, page.header.Values("Vary"), js.header.Values("Vary"))
			}
			if js.header.Get("Retry-After") != page.header.Get("Retry-After") {
				t.Errorf("GET %s: Retry-After %q (JSON) but %q (HTML)", tt.path, js.header.Get("Retry-After"), page.header.Get("Retry-After"))
			}
			want := fmt.Sprintf("<strong>%d %s</strong><br/>%s</p>", tt.status, http.StatusText(tt.status), html.EscapeString(msg))
			if !strings.Contains(page.body, want) {
				t.Errorf("GET %s: page does not carry the JSON message %q\n%s", tt.path, msg, page.body)
			}
			if strings.Contains(page.body, "<b>") {
				t.Errorf("GET %s: path reached the page unescaped", tt.path)
			}
			forced := do(t, nil, http.MethodGet, tt.base, tt.path+sep(tt.path)+"format=json", accept(acceptChrome))
			if forced.header.Get("Content-Type") != "application/json" {
				t.Errorf("GET %s with format=json from a browser: Content-Type = %q, want JSON", tt.path, forced.header.Get("Content-Type"))
			}
		})
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// link is an entry's link on a page: its href and its name as shown.
type link struct{ href, name string }

var entryLinkRE = regexp.MustCompile(`<tr><td><a href="([^"]*)"(?: class="d")?>([^<]*)</a>`)

// entryLinks reads the entry links off a page, unescaped.
func entryLinks(t testing.TB, page string) []link {
	t.Helper()
	var out []link
	for _, m := range entryLinkRE.FindAllStringSubmatch(page, -1) {
		out = append(out, link{href: html.UnescapeString(m[1]), name: html.UnescapeString(m[2])})
	}
	if n := strings.Count(page, `<tr><td>`); n != len(out) {
		t.Fatalf("page has %d name cells but %d readable links", n, len(out))
	}
	return out
}

func linkNames(links []link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = strings.TrimSuffix(l.name, "/")
	}
	return out
}

var nextLinkRE = regexp.MustCompile(`<a href="([^"]*)" rel="next">`)

// TestIndexLinks walks the awkward-name and XSS trees through the pages'
// own links: every entry links to a URL that lists exactly that entry (a
// file) or its children (a directory), and every key is reached.
func TestIndexLinks(t *testing.T) {
	t.Parallel()
	srv := indexServer(t)
	for _, top := range []struct {
		dir  string
		keys []string
	}{{awkDir, awkwardNames}, {xssDir, xssNames}} {
		want := slices.Clone(top.keys)
		slices.Sort(want)
		var got []string
		queue := []string{listHref(top.dir, true)}
		for len(queue) > 0 {
			href := queue[0]
			queue = queue[1:]
			page := do(t, nil, http.MethodGet, srv, href, accept(acceptChrome))
			if page.status != 200 {
				t.Fatalf("GET %s: status = %d, want 200 (%.200q)", href, page.status, page.body)
			}
			// The same URL as JSON names exactly what the page shows.
			js := get(t, srv, href)
			links := entryLinks(t, page.body)
			names := contentOf(t, js.body)
			for i := range names {
				names[i] = displayName(names[i])
			}
			if !slices.Equal(linkNames(links), names) {
				t.Errorf("GET %s: page shows %q, JSON lists %q", href, linkNames(links), names)
			}
			for _, l := range links {
				u, err := url.Parse(l.href)
				if err != nil || u.RawQuery != "" || u.Fragment != "" || !strings.HasPrefix(u.Path, listRoot+"/") {
					t.Errorf("link %q for %q: not a plain listing URL (%v)", l.href, l.name, err)
					continue
				}
				key := strings.TrimPrefix(u.Path, listRoot+"/")
				if strings.HasSuffix(l.name, "/") {
					queue = append(queue, l.href)
					continue
				}
				// A file's link lists that file, like ls FILE.
				if got := contentOf(t, get(t, srv, l.href).body); len(got) != 1 || displayName(got[0]) != l.name || !strings.HasSuffix(key, "/"+got[0]) {
					t.Errorf("GET %s (link of %q): lists %q, want just it", l.href, l.name, got)
				}
				got = append(got, strings.TrimPrefix(key, top.dir+"/"))
			}
		}
		// "obj-and-dir" is an object and a directory of one name: the
		// directory wins, so the object is not a file entry.
		want = slices.DeleteFunc(want, func(k string) bool { return k == "obj-and-dir" })
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("files reached by links under %s:\n got %q\nwant %q", top.dir, got, want)
		}
	}
}

// TestIndexPaging follows "next" through the big directory: pages of
// indexPageSize, every entry once, in order; the next link works for a
// JSON client too.
func TestIndexPaging(t *testing.T) {
	t.Parallel()
	srv := indexServer(t)
	var seen []string
	href := listHref(bigDir, true)
	for pages := 0; href != ""; pages++ {
		if pages > bigDirLen/indexPageSize+1 {
			t.Fatalf("more than %d pages", pages)
		}
		page := do(t, nil, http.MethodGet, srv, href, accept(acceptChrome))
		if page.status != 200 {
			t.Fatalf("GET %s: status = %d (%.200q)", href, page.status, page.body)
		}
		names := linkNames(entryLinks(t, page.body))
		if len(names) > indexPageSize {
			t.Errorf("GET %s: %d entries, want at most %d", href, len(names), indexPageSize)
		}
		if c := fmt.Sprintf(`<span class="count">%d entries on this page`, len(names)); !strings.Contains(page.body, c) {
			t.Errorf("GET %s: no %q", href, c)
		}
		seen = append(seen, names...)
		href = ""
		if m := nextLinkRE.FindStringSubmatch(page.body); m != nil {
			href = html.UnescapeString(m[1])
			if link := page.header.Get("Link"); link != "<"+href+`>; rel="next"` {
				t.Errorf("Link = %q, want the page's next link %q", link, href)
			}
			js := get(t, srv, href)
			if js.status != 200 || !strings.Contains(js.body, `"type":"file"`) {
				t.Errorf("GET %s as JSON: status %d %.100q, want a details page", href, js.status, js.body)
			}
		}
	}
	if want := names("item", bigDirLen); !slices.Equal(seen, want) {
		t.Errorf("paging saw %d entries (sorted and unique: %v), want %d", len(seen), sorted(seen), len(want))
	}
}

// TestIndexXSS: names that try script render as text.
func TestIndexXSS(t *testing.T) {
	t.Parallel()
	srv := indexServer(t)
	page := do(t, nil, http.MethodGet, srv, listHref(xssDir, true), accept(acceptChrome))
	for _, bad := range []string{"<script", "<img", "<svg", "<iframe", `href="javascript:`} {
		if strings.Contains(strings.ToLower(page.body), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// "onerror=alert(1)" appears as text, never inside a tag.
	if regexp.MustCompile(`<[^>]*\son(error|load)=`).MatchString(page.body) {
		t.Error("an event handler attribute reached the markup")
	}
	shown := linkNames(entryLinks(t, page.body))
	// In byte order of the real names; the right-to-left override shows as
	// an escape.
	want := []string{`"><img src=x onerror=alert(1)>`, "'><iframe src=javascript:alert(1)>", "<script>alert(1)<",
		"<svg onload=alert(1)>", "javascript:alert(1)", "{{.Title}}", `\u202egnp.exe`}
	if !slices.Equal(shown, want) {
		t.Errorf("page shows %q, want %q", shown, want)
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain": "plain", "\u202Egnp.exe": `\u202egnp.exe`, "a\u2066b\u2069": `a\u2066b\u2069`,
		"family 👨\u200d👩\u200d👧": "family 👨\u200d👩\u200d👧", "<b>": "<b>",
	} {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 B", 5: "5 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 * 1024: "10 KiB",
		5<<20 + 1<<19: "5.5 MiB", 3 << 30: "3.0 GiB", 1 << 62: "4.0 EiB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestEntryBase: the page knows when a path named an object.
func TestEntryBase(t *testing.T) {
	t.Parallel()
	file := []Entry{{Name: "f"}}
	for _, tt := range []struct {
		path    string
		entries []Entry
		want    string
	}{
		{"", file, ""},
		{"d/", file, "d/"},
		{"d/f", file, "d/"},
		{"f", file, ""},
		{"d", file, "d/"},
		{"d/f", []Entry{{Name: "f", Dir: true}}, "d/f/"},
		{"d/f", []Entry{{Name: "f"}, {Name: "g"}}, "d/f/"},
	} {
		if got := entryBase(tt.path, tt.entries, true); got != tt.want {
			t.Errorf("entryBase(%q, %v) = %q, want %q", tt.path, tt.entries, got, tt.want)
		}
	}
}

// TestIndexPageWeight prints what a full page weighs, plain and gzipped
// (the README quotes it), and holds it to a budget: a page is the only
// thing a browser loads, stylesheet included.
func TestIndexPageWeight(t *testing.T) {
	t.Parallel()
	entries := make([]Entry, indexPageSize)
	for i, n := range names("item", indexPageSize) {
		entries[i] = Entry{Name: n, Size: int64(i) * 1000, Modified: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	}
	opts := listOptions{details: true, limit: indexPageSize}
	for _, tt := range []struct {
		name    string
		path    string
		entries []Entry
		budget  int
	}{
		{"reference root", "", []Entry{{Name: "dir1", Dir: true}, {Name: "dir2", Dir: true}, {Name: "file1", Size: 5}, {Name: "file2", Size: 5}}, 7 << 10},
		{"500 files", "photos/2026/", entries, 100 << 10},
	} {
		page, err := renderIndex(tt.path, opts, tt.entries, "next-cursor", pageExtras{})
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(page)
		_ = zw.Close()
		empty, _ := renderIndex(tt.path, opts, nil, "next-cursor", pageExtras{})
		t.Logf("%s: %d bytes, %d gzipped; %d bytes without rows, %d a row", tt.name, len(page), z.Len(), len(empty), (len(page)-len(empty))/len(tt.entries))
		if len(page) > tt.budget {
			t.Errorf("%s: page is %d bytes, budget %d", tt.name, len(page), tt.budget)
		}
	}
}

// TestIndexPageTree parses pages whose names try to break out of their
// text, attribute or link, and checks the tree: every link stays under
// the listing root, no element or attribute came from a name, and each
// name is one text node, as written.
func TestIndexPageTree(t *testing.T) {
	t.Parallel()
	tricky := []string{`"><img src=x onerror=alert(1)>`, `'><iframe src=javascript:alert(1)>`, `javascript:alert(1)`, `</style><script>x</script>`, "a\rb", `{{.Title}}`, `&amp;`}
	var entries []Entry
	for _, n := range tricky {
		entries = append(entries, Entry{Name: n, Size: 5}, Entry{Name: n, Dir: true})
	}
	page, err := renderIndex(`x"><b>/`, listOptions{details: true, limit: 10, prefix: `<q>`}, entries, "c", pageExtras{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xhtml.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "link": true, "style": true, "body": true, "header": true,
		"p": true, "h1": true, "nav": true, "a": true, "span": true, "main": true, "div": true, "table": true, "thead": true, "tbody": true,
		"tr": true, "th": true, "td": true, "footer": true, "q": true, "form": true, "input": true, "label": true, "button": true}
	var names []string
	for n := range doc.Descendants() {
		if n.Type != xhtml.ElementNode {
			continue
		}
		if !allowed[n.Data] {
			t.Errorf("element <%s> on the page", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "src" {
				t.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			}
			if (a.Key == "href" && n.Data == "a" || a.Key == "action") && !strings.HasPrefix(a.Val, listRoot+"/") {
				t.Errorf("%s %q leaves %s/", a.Key, a.Val, listRoot)
			}
		}
		// The name cell is the row's first: a link, or a span for a name
		// the API cannot open ("a\rb").
		if n.Parent.Data == "td" && n.Parent.PrevSibling == nil && n.FirstChild != nil {
			names = append(names, n.FirstChild.Data)
		}
	}
	var want []string
	for _, n := range tricky {
		want = append(want, n, n+"/")
	}
	if !slices.Equal(names, want) {
		t.Errorf("names on the page %q, want %q", names, want)
	}
}

// dotKeys are keys with segments no request path may have: S3 lists them
// under the names ".", ".." and "a\tb" (issue 20, point 5).
var dotKeys = []string{"h/../x", "h/./y", "h/a\tb", "h/ok"}

// nameCell is the first cell of a row as a page has it: the name shown,
// its link and its title.
type nameCell struct{ name, href, title string }

// nameCells reads every row's name cell off a page.
func nameCells(t testing.TB, page string) []nameCell {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []nameCell
	for n := range doc.Descendants() {
		if n.Type != xhtml.ElementNode || n.Data != "td" || n.PrevSibling != nil || n.FirstChild == nil || n.FirstChild.Type != xhtml.ElementNode {
			continue
		}
		c := n.FirstChild
		cell := nameCell{name: c.FirstChild.Data}
		for _, a := range c.Attr {
			switch a.Key {
			case "href":
				cell.href = a.Val
			case "title":
				cell.title = a.Val
			}
		}
		if (c.Data == "a") != (cell.href != "") {
			t.Errorf("cell %+v: a <%s> with href %q", cell, c.Data, cell.href)
		}
		out = append(out, cell)
	}
	return out
}

// TestIndexUnreachableNames: names the API cannot open are shown without
// a link and with a title that says why; the JSON keeps them. A link
// "h/./" would open "h/" again, "h/../" the root, "a\tb" a 400.
func TestIndexUnreachableNames(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, dotKeys, nil)
	srv := testServer(t, fakeLister(f), Config{}).URL
	for _, tt := range []struct {
		target, json string
		want         []nameCell // title "" = must have none; "?" = must have one
	}{
		{"/list-bucket-content/h/", `{"content":["..",".","a\tb","ok"]}`, []nameCell{
			{"../", "", "?"}, {"./", "", "?"}, {"a\tb", "", "?"}, {"ok", "/list-bucket-content/h/ok", ""}}},
		{"/list-bucket-content/h/?recursive=true", `{"content":["../x","./y","a\tb","ok"]}`, []nameCell{
			{"../x", "", "?"}, {"./y", "", "?"}, {"a\tb", "", "?"}, {"ok", "/list-bucket-content/h/ok", ""}}},
	} {
		if r := get(t, srv, tt.target); r.body != tt.json {
			t.Errorf("GET %s as JSON: %d %s, want %s", tt.target, r.status, r.body, tt.json)
		}
		page := do(t, nil, http.MethodGet, srv, tt.target, accept(acceptChrome))
		got := nameCells(t, page.body)
		if len(got) != len(tt.want) {
			t.Fatalf("GET %s: name cells %+q, want %+q", tt.target, got, tt.want)
		}
		for i, w := range tt.want {
			g := got[i]
			if g.name != w.name || g.href != w.href || (w.title == "") != (g.title == "") {
				t.Errorf("GET %s: cell %d = %+q, want %+q", tt.target, i, g, w)
			}
			if w.title == "?" && !strings.Contains(g.title, "cannot open this name") {
				t.Errorf("GET %s: %q has title %q, want one that says why it has no link", tt.target, g.name, g.title)
			}
		}
	}
}
