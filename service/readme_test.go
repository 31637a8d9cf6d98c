package service

import (
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bucketls/bucketls/service/internal/fakes3"
)

// hostileReadme tries every way into the page a README has: raw HTML,
// script, handlers, javascript: and data: links, images from elsewhere,
// links out of the served root.
const hostileReadme = "# Title\n\n" +
	"See [the guide](docs/guide.md#install), [sub](sub/), [up](../secret), [top](/r/a.txt), [ext](https://example.com/x), [here](#title).\n\n" +
	"![logo](img/logo.png) ![tracker](https://evil.example/x.png) ![parent](../../up.png)\n\n" +
	"<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n" +
	"[js](javascript:alert(1)) [data](data:text/html,<script>alert(1)</script>) [vb](vbscript:x)\n\n" +
	"<a href=\"javascript:alert(1)\" onclick=\"alert(1)\">raw</a> <style>body{display:none}</style>\n\n" +
	"| a | b |\n|---|---|\n| `code` | **bold** |\n"

// readmeS3 holds directory r with a README.md and files it links to.
func readmeS3(t testing.TB, wrap func(http.Handler) http.Handler) *fakes3.Server {
	t.Helper()
	f := startFakeS3(t, []string{"r/a.txt", "r/docs/guide.md", "r/img/logo.png", "r/sub/x", "secret", "plain/a"}, wrap)
	f.PutFile(t, "r/README.md", "text/markdown", hostileReadme)
	return f
}

func readmeServer(t testing.TB, f *fakes3.Server, cfg Config) string {
	t.Helper()
	return testServer(t, fakeLister(f), cfg).URL
}

// TestReadme: with objects served, the index shows a directory's README
// above the table, rendered from Markdown, with nothing of it able to run
// or load from elsewhere, and links rebuilt to the service's URLs.
func TestReadme(t *testing.T) {
	t.Parallel()
	srv := readmeServer(t, readmeS3(t, nil), Config{ServeObjects: true})
	r := do(t, nil, "GET", srv, "/list-bucket-content/r/", accept(acceptChrome))
	if r.status != 200 {
		t.Fatalf("GET r/: %d %s", r.status, r.body)
	}
	if csp := r.header.Get("Content-Security-Policy"); csp != readmeCSP || !strings.Contains(csp, "img-src data: 'self';") {
		t.Errorf("CSP with a README: %q", csp)
	}
	i, j := strings.Index(r.body, `<section class="readme"`), strings.Index(r.body, "<table")
	if i < 0 || j < i {
		t.Fatalf("no README section above the table: %s", r.body)
	}
	sec := r.body[i:strings.Index(r.body, "</section>")]
	for _, want := range []string{
		`<p class="readme-name"><a href="/files/r/README.md">README.md</a></p>`,
		`<h1>Title</h1>`,
		`<a href="/files/r/docs/guide.md#install" rel="nofollow">the guide</a>`,
		`<a href="/list-bucket-content/r/sub/" rel="nofollow">sub</a>`,
		`<a href="/files/secret" rel="nofollow">up</a>`, // r/../secret is in the root
		` tracker parent</p>`, // images from elsewhere, and from above the root: their alt text
		`<a href="/files/r/a.txt" rel="nofollow">top</a>`,
		`<a href="https://example.com/x" rel="nofollow">ext</a>`,
		`<a href="#title" rel="nofollow">here</a>`,
		`<img src="/files/r/img/logo.png" alt="logo"/>`,
		`<td><code>code</code></td>`,
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("README section lacks %s:\n%s", want, sec)
		}
	}
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:", "vbscript:", "data:text", "evil.example", "<iframe", "<style", "up.png"} {
		if strings.Contains(strings.ToLower(sec), bad) {
			t.Errorf("README section holds %q:\n%s", bad, sec)
		}
	}
	// The JSON and later pages have no README.
	if r := get(t, srv, "/list-bucket-content/r/"); strings.Contains(r.body, "README.md\"") && strings.Contains(r.body, "Title") {
		t.Errorf("JSON listing carries the README: %s", r.body)
	}
}

// TestReadmeOff: without --serve-objects the index has no README and its
// CSP is the usual one.
func TestReadmeOff(t *testing.T) {
	t.Parallel()
	srv := readmeServer(t, readmeS3(t, nil), Config{})
	r := do(t, nil, "GET", srv, "/list-bucket-content/r/", accept(acceptChrome))
	if strings.Contains(r.body, `class="readme"`) || r.header.Get("Content-Security-Policy") != indexCSP {
		t.Errorf("without objects served: README shown or CSP %q", r.header.Get("Content-Security-Policy"))
	}
}

// TestReadmeChoice: README.md before README.txt before README, text shown
// as text, hidden ones never, and an empty one not at all.
func TestReadmeChoice(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"x"}, nil)
	f.PutFile(t, "both/README.md", "text/markdown", "*md*")
	f.PutFile(t, "both/README.txt", "text/plain", "txt")
	f.PutFile(t, "txt/README.txt", "text/plain", "<b>not bold</b>\n*not md*")
	f.PutFile(t, "bare/README", "", "bare readme")
	f.PutFile(t, "empty/README.md", "", "")
	f.PutFile(t, "lower/readme.md", "", "lower")
	for _, tt := range []struct {
		cfg  Config
		dir  string
		want string // "" = no README
	}{
		{Config{ServeObjects: true}, "both", "<em>md</em>"},
		{Config{ServeObjects: true, Hide: []string{"*.md"}}, "both", "<pre>txt</pre>"},
		{Config{ServeObjects: true}, "txt", "<pre>&lt;b&gt;not bold&lt;/b&gt;\n*not md*</pre>"},
		{Config{ServeObjects: true}, "bare", "<pre>bare readme</pre>"},
		{Config{ServeObjects: true}, "empty", ""},
		{Config{ServeObjects: true}, "lower", ""},
	} {
		srv := readmeServer(t, f, tt.cfg)
		r := do(t, nil, "GET", srv, "/list-bucket-content/"+tt.dir+"/", accept(acceptChrome))
		got := regexp.MustCompile(`(?s)<section class="readme".*?</section>`).FindString(r.body)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s (hide %q): README section %q, want one with %q", tt.dir, tt.cfg.Hide, got, tt.want)
		}
	}
}

// TestReadmeLookup: on a first page that does not hold every name, the
// README is found with one listing of the names starting README; later
// pages show none; and a README is read from storage once per ETag.
func TestReadmeLookup(t *testing.T) {
	t.Parallel()
	var gets atomic.Int32
	f := startFakeS3(t, []string{"p/A", "p/B", "p/C"}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/README.md") {
				gets.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	f.PutFile(t, "p/README.md", "text/markdown", "# paged")
	srv := readmeServer(t, f, Config{ServeObjects: true})
	for range 3 {
		r := do(t, nil, "GET", srv, "/list-bucket-content/p/?limit=2", accept(acceptChrome))
		if !strings.Contains(r.body, "<h1>paged</h1>") {
			t.Fatalf("first page of 2 (README.md on a later page): no README:\n%s", r.body)
		}
	}
	if n := gets.Load(); n != 1 {
		t.Errorf("README read %d times for 3 pages, want once", n)
	}
	next := regexp.MustCompile(`href="([^"]*cursor=[^"]*)" rel="next"`).FindStringSubmatch(do(t, nil, "GET", srv, "/list-bucket-content/p/?limit=2", accept(acceptChrome)).body)
	if next == nil {
		t.Fatal("no next page")
	}
	if r := do(t, nil, "GET", srv, strings.ReplaceAll(next[1], "&amp;", "&"), accept(acceptChrome)); r.status != 200 || strings.Contains(r.body, `<section class="readme"`) {
		t.Errorf("second page: %d, README shown: %v", r.status, strings.Contains(r.body, `<section class="readme"`))
	}
	// A changed README is read again.
	f.PutFile(t, "p/README.md", "text/markdown", "# changed")
	if r := do(t, nil, "GET", srv, "/list-bucket-content/p/", accept(acceptChrome)); !strings.Contains(r.body, "<h1>changed</h1>") {
		t.Errorf("after a change: %s", r.body)
	}
}

// TestReadmeHuge: a README over 64 KiB shows its start and says so; one
// nested too deep for the page's parser is shown as text.
func TestReadmeHuge(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"x"}, nil)
	f.PutFile(t, "big/README.md", "text/markdown", strings.Repeat("line of text\n", 10_000))
	f.PutFile(t, "deep/README.md", "text/markdown", strings.Repeat("> ", 5000)+"deep\n")
	f.PutFile(t, "lists/README.md", "text/markdown", nestedList(2000))
	srv := readmeServer(t, f, Config{ServeObjects: true})
	r := do(t, nil, "GET", srv, "/list-bucket-content/big/", accept(acceptChrome))
	if !strings.Contains(r.body, "Only the first 64 KiB of README.md are shown") || len(r.body) > 200<<10 {
		t.Errorf("big README: %d bytes, note missing", len(r.body))
	}
	for _, dir := range []string{"deep", "lists"} {
		r := do(t, nil, "GET", srv, "/list-bucket-content/"+dir+"/", accept(acceptChrome))
		if r.status != 200 || !strings.Contains(r.body, `<section class="readme"`) || strings.Count(r.body, "<blockquote>")+strings.Count(r.body, "<ul>") > 600 {
			t.Errorf("%s README: %d, %d bytes", dir, r.status, len(r.body))
		}
	}
}

// nestedList is n levels of Markdown list, each indented under the last.
func nestedList(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "- item\n")
	}
	return b.String()
}

// TestReadmeURL resolves a README's links against its directory.
func TestReadmeURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ref, dir string
		img      bool
		want     string // "" = dropped
	}{
		{"a.md", "d/", false, "/files/d/a.md"},
		{"a.md", "", false, "/files/a.md"},
		{"sub/", "d/", false, "/list-bucket-content/d/sub/"},
		{"../", "d/", false, "/list-bucket-content/"},
		{"..", "d/", false, "/list-bucket-content/"},
		{"../..", "d/", false, ""},
		{"../x", "", false, ""},
		{"/x/y", "d/e/", false, "/files/x/y"},
		{"./a%20b.md", "d/", false, "/files/d/a%20b.md"},
		{"a b#frag ment", "d/", false, "/files/d/a%20b#frag%20ment"},
		{"?limit=1", "d/", false, ""},
		{"#top", "d/", false, "#top"},
		{"#top", "d/", true, ""},
		{"https://x.example/", "d/", false, "https://x.example/"},
		{"https://x.example/i.png", "d/", true, ""},
		{"i.png", "d/", true, "/files/d/i.png"},
		{"dir/", "d/", true, ""},
		{"a%00b", "d/", false, ""},
		{".env", "d/", false, ""}, // hidden
	} {
		hide, _ := hiddenFor(".*")
		got, ok := readmeURL(tt.ref, tt.dir, tt.img, hide)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("readmeURL(%q, %q, img %v) = %q, want %q", tt.ref, tt.dir, tt.img, got, tt.want)
		}
	}
}
