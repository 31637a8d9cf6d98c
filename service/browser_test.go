package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	pngenc "image/png"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Switches of the browser test. It runs wherever Chromium is installed;
// envBrowserRequired (set by .ci/run) turns a missing Chromium into a
// failure, and envScreenshots names a directory to keep the screenshots
// in (they are always taken, and thrown away otherwise).
const (
	envBrowserRequired = "BUCKETLS_BROWSER"
	envScreenshots     = "BUCKETLS_SCREENSHOTS"
)

// chromiumPath finds Debian's chromium (or another Chromium-based browser).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "browser test needs Chromium: apt-get update && apt-get install -y chromium (Debian), then go test -run TestBrowser ./service/"
	if os.Getenv(envBrowserRequired) == "1" {
		t.Fatalf("%s=1 but %s", envBrowserRequired, msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium tab and the JavaScript dialogs that
// opened in it (there must be none).
type browser struct {
	ctx context.Context
	t   *testing.T

	mu      sync.Mutex
	dialogs []string
	pages   int // documents loaded, each checked for the CSP
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 720),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc() // stops Chromium and waits for it
	})
	b := &browser{ctx: ctx, t: t}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Type.String()+": "+ev.Message)
			b.mu.Unlock()
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// Every document gets a watcher, put in by DevTools and so outside the
	// page's CSP: it records each CSP violation. A page that works as
	// designed has none (a wrong stylesheet hash would show up here, and so
	// would markup that slipped past escaping and tried to load or run).
	_, err = chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
	})
	if err != nil {
		t.Fatalf("install the CSP watcher: %v", err)
	}
	// A dialog blocks the page; dismiss it from outside the event loop so
	// the test can go on and report it.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// open loads url and checks the page as navigate does.
func (b *browser) open(url string) {
	b.t.Helper()
	b.navigate("open "+url, chromedp.Navigate(url))
}

// navigate runs a step that loads a page (a Navigate or a click on a
// link), waits for it and checks that it came with status 200 and the
// index's Content-Security-Policy.
func (b *browser) navigate(what string, step chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.load(what, step, 200)
}

func (b *browser) load(what string, step chromedp.Action[chromedp.Void], status int64) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, step)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != status {
		b.t.Fatalf("%s: %s answered %d, want %d", what, resp.URL, resp.Status, status)
	}
	// A page with a README may load its images from this origin.
	want := indexCSP
	if eval[bool](b, `document.querySelector("section.readme") !== null`) {
		want = readmeCSP
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); csp != want {
		b.t.Errorf("%s: %s has Content-Security-Policy %q, want %q", what, resp.URL, csp, want)
	}
	if v := eval[[]string](b, `window.__violations`); len(v) > 0 {
		b.t.Errorf("%s: CSP violations on %s: %q", what, resp.URL, v)
	}
	// The stylesheet applied (the CSP let it in): the table or the error
	// box has its border.
	if w := eval[string](b, `getComputedStyle(document.querySelector("table, .error")).borderTopStyle`); w != "solid" {
		b.t.Errorf("%s: %s shows unstyled", what, resp.URL)
	}
	b.pages++
}

// click follows the entry link whose text is name (a directory's with its
// trailing "/"). The link is found by its text in the page, not by a
// selector built from the name, which could not hold every name.
func (b *browser) click(name string) {
	b.t.Helper()
	q, _ := json.Marshal(name)
	// The row's index, not the link's: a name without a link (see
	// entryHref) is a row too.
	i := eval[int](b, `[...document.querySelectorAll("tbody tr")].findIndex(tr => tr.querySelector("td:first-child a")?.textContent === `+string(q)+`)`)
	if i < 0 {
		b.t.Fatalf("no entry %q on %s (entries %q)", name, b.location(), b.entries())
	}
	b.navigate("click "+name, chromedp.Click(chromedp.CSS(fmt.Sprintf("tbody tr:nth-child(%d) td:first-child a", i+1))))
}

// entries are the names the page lists, as shown.
func (b *browser) entries() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll("td:first-child a")].map(a => a.textContent)`)
}

func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

func (b *browser) expect(where string, want ...string) {
	b.t.Helper()
	if got := b.entries(); !slices.Equal(got, want) {
		b.t.Fatalf("%s: page lists %q, want %q", where, got, want)
	}
}

func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// screenshot takes the visible part of the page (all of a short one),
// light and dark, and
// keeps the PNGs when envScreenshots names a directory. phone takes it at
// a phone's width.
func (b *browser) screenshot(name string, phone bool) {
	b.t.Helper()
	if phone {
		_, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 390, Height: 760, DeviceScaleFactor: 2, Mobile: true,
		})
		if err != nil {
			b.t.Fatalf("phone size: %v", err)
		}
		defer func() { _, _ = chromedp.Call(b.ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}) }()
	}
	dir := os.Getenv(envScreenshots)
	for _, scheme := range []string{"light", "dark"} {
		b.do("color scheme "+scheme, colorScheme(scheme))
		shot := chromedp.CaptureScreenshot()
		if eval[bool](b, `document.body.scrollHeight < innerHeight`) {
			shot = chromedp.Screenshot(chromedp.CSS("body")) // a short page, without the empty rest
		}
		png, err := chromedp.Run(b.ctx, shot)
		if err != nil || len(png) == 0 {
			b.t.Fatalf("screenshot %s %s: %d bytes, %v", name, scheme, len(png), err)
		}
		if dir != "" {
			p := filepath.Join(dir, name+"-"+scheme+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				b.t.Fatal(err)
			}
			b.t.Logf("wrote %s (%d bytes)", p, len(png))
		}
	}
	b.do("light again", colorScheme("light"))
}

// TestBrowser drives headless Chromium through the index as a person
// would: the reference entries, a click into dir2 and back through the
// breadcrumb, "next" through a directory of three pages, a click through
// the awkward names, and the names that try XSS, with no dialog opening
// and no script running.
func TestBrowser(t *testing.T) {
	b := newBrowser(t) // first: it skips when Chromium is missing
	srv := indexServer(t)
	root := srv + listHref("", true)

	b.open(root)
	b.expect("root", awkDir+"/", bigDir+"/", "dir1/", "dir2/", "file1", "file2", xssDir+"/")
	if title, _ := chromedp.Run(b.ctx, chromedp.Title()); title != "/ · bucketls" {
		t.Errorf("root title = %q", title)
	}
	b.screenshot("root", false)

	b.click("dir2/")
	b.expect("dir2", "file1", "file2")
	if loc := b.location(); loc != "/list-bucket-content/dir2/" {
		t.Errorf("after clicking dir2: at %s", loc)
	}
	b.navigate("breadcrumb to the root", chromedp.Click(chromedp.CSS(`h1 nav a:first-child`)))
	if loc := b.location(); loc != "/list-bucket-content/" {
		t.Errorf("after the breadcrumb: at %s", loc)
	}

	// A paged directory, to its end through "next", every entry once.
	b.click(bigDir + "/")
	b.screenshot("big", false)
	b.screenshot("big-phone", true)
	var seen []string
	for pages := 1; ; pages++ {
		seen = append(seen, b.entries()...)
		if !eval[bool](b, `document.querySelector('a[rel="next"]') !== null`) {
			break
		}
		if pages > bigDirLen/indexPageSize+1 {
			t.Fatalf("more than %d pages", pages)
		}
		b.navigate("next page", chromedp.Click(chromedp.CSS(`a[rel="next"]`)))
	}
	if want := names("item", bigDirLen); !slices.Equal(seen, want) {
		t.Errorf("paging showed %d entries (in order, unique: %v), want %d", len(seen), sorted(seen), len(want))
	}

	// The awkward names, by clicking down to the key the issue names.
	b.open(root)
	b.click(awkDir + "/")
	b.screenshot("awkward-phone", true)
	got := b.entries()
	for _, n := range []string{"100% sure", "%2e%2e", "%2F", "hash#frag", "what?", "plus+minus", "obj-and-dir/", "dir with space/"} {
		if !slices.Contains(got, n) {
			t.Errorf("%s lists %q, missing %q", awkDir, got, n)
		}
	}
	parts := strings.Split(awkPath, "/")
	for _, p := range parts[:len(parts)-1] {
		b.click(p + "/")
	}
	b.expect(awkPath, parts[len(parts)-1])
	if want := listHref(awkDir+"/"+strings.Join(parts[:len(parts)-1], "/"), true); b.location() != want {
		t.Errorf("at %s, want %s", b.location(), want)
	}
	b.click(parts[len(parts)-1])
	b.expect(awkPath+" (the file)", parts[len(parts)-1])

	// Names that try XSS: shown as text, nothing runs.
	b.open(root)
	b.click(xssDir + "/")
	// "<script>alert(1)</script>" is a directory "<script>alert(1)<" holding
	// "script>"; listings are in byte order; the right-to-left override
	// shows as an escape, not as a name that reads "exe.png".
	const scriptDir = "<script>alert(1)</"
	b.expect(xssDir, `"><img src=x onerror=alert(1)>`, "'><iframe src=javascript:alert(1)>", scriptDir,
		"<svg onload=alert(1)>", "javascript:alert(1)", "{{.Title}}", `\u202egnp.exe`)
	dom := eval[struct{ Scripts, Injected, Handlers int }](b, `({
		Scripts: document.scripts.length,
		Injected: document.querySelectorAll("img, svg, iframe, object, embed").length,
		Handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
	})`)
	if dom.Scripts+dom.Injected+dom.Handlers != 0 {
		t.Errorf("XSS page has %d scripts, %d injected elements, %d event handlers; want none", dom.Scripts, dom.Injected, dom.Handlers)
	}
	b.screenshot("xss", false)
	b.click(scriptDir)
	b.expect("inside the script directory", "script>")
	b.click("script>")

	// A browser gets errors as pages, with the JSON error's message.
	b.load("missing path", chromedp.Navigate(srv+listHref("dir2/nope", false)), 404)
	if msg := eval[string](b, `document.querySelector(".error").innerText`); msg != "404 Not Found\nnot found: dir2/nope" {
		t.Errorf("404 page says %q", msg)
	}
	b.screenshot("error", false)
	b.navigate("up from the 404 page", chromedp.Click(chromedp.CSS(`h1 nav a:nth-child(2)`)))
	b.expect("dir2, from its 404 page", "file1", "file2")

	// Names the API cannot open (".", "..", a tab) are text with a title,
	// not links a browser would resolve to another directory.
	dots := startFakeS3(t, dotKeys, nil)
	dotSrv := testServer(t, NewS3Lister(testS3Client(dots.URL()), testBucket, S3ListerOptions{}), Config{}).URL
	b.open(dotSrv + listHref("h", true))
	b.expect("a directory with . and .. in it", "ok")
	plain := eval[[]string](b, `[...document.querySelectorAll("td:first-child span[title]")].map(s => s.textContent + " | " + s.title)`)
	if len(plain) != 3 || !strings.HasPrefix(plain[0], "../ | No link") || !strings.HasPrefix(plain[1], "./ | No link") || !strings.HasPrefix(plain[2], "a\tb | No link") {
		t.Errorf("names without a link: %q, want ../, ./ and a<tab>b, each with a title", plain)
	}
	b.click("ok")
	b.expect("ok, from the directory with dots", "ok")

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
	t.Logf("%d pages loaded, each with the CSP; no dialog opened", b.pages)
}

// heading clicks the table heading whose text starts with name.
func (b *browser) heading(name string) {
	b.t.Helper()
	q, _ := json.Marshal(name)
	i := eval[int](b, `[...document.querySelectorAll("thead th")].findIndex(th => th.textContent.startsWith(`+string(q)+`))`)
	if i < 0 {
		b.t.Fatalf("no heading %q on %s", name, b.location())
	}
	b.navigate("click heading "+name, chromedp.Click(chromedp.CSS(fmt.Sprintf("thead th:nth-child(%d) a", i+1))))
}

// sortedBy is the heading marked as sorted and which way, "" when none is.
func (b *browser) sortedBy() string {
	b.t.Helper()
	return eval[string](b, `[...document.querySelectorAll("thead th[aria-sort]")].map(th => th.textContent + " " + th.getAttribute("aria-sort")).join()`)
}

// filter types text into the search box, sets the subdirectories box and
// submits the form as a person would: a click on its button.
func (b *browser) filter(text string, recursive bool) {
	b.t.Helper()
	// Emptied from DevTools, as a select-all and delete would.
	if v := eval[string](b, `(document.querySelector("form.search input[name=match]").value = "")`); v != "" {
		b.t.Fatalf("clear the search box: %q left", v)
	}
	if text != "" {
		b.do("type "+text, chromedp.SendKeys(chromedp.CSS(`form.search input[name=match]`), text))
	}
	if eval[bool](b, `document.querySelector("form.search input[name=recursive]").checked`) != recursive {
		b.do("toggle subdirectories", chromedp.Click(chromedp.CSS(`form.search input[name=recursive]`)))
	}
	b.navigate("filter by "+text, chromedp.Click(chromedp.CSS(`form.search button`)))
}

// TestBrowserViews: a person sorts by clicking the headings and filters
// by typing in the search box, with no script on the page (issue 22).
func TestBrowserViews(t *testing.T) {
	b := newBrowser(t) // first: it skips when Chromium is missing
	srv := viewServer(t, Config{})
	b.open(srv + listHref("v", true))
	b.expect("v in key order", "B.txt", "Zed/", "a.txt", "c-long-name.txt", "sub/")
	if got := b.sortedBy(); got != "" {
		t.Errorf("key order: heading %q marked as sorted", got)
	}

	b.heading("Name")
	b.expect("v by name", "sub/", "Zed/", "a.txt", "B.txt", "c-long-name.txt")
	if got := b.sortedBy(); got != "Name ▲ ascending" {
		t.Errorf("sorted by name: marked %q", got)
	}
	b.heading("Name")
	b.expect("v by name, descending", "Zed/", "sub/", "c-long-name.txt", "B.txt", "a.txt")
	b.heading("Size")
	b.expect("v by size", "sub/", "Zed/", "a.txt", "B.txt", "c-long-name.txt")
	if got := b.sortedBy(); got != "Size ▲ ascending" {
		t.Errorf("sorted by size: marked %q", got)
	}

	// The search box keeps the sort, and ignores case.
	b.filter("TXT", false)
	b.expect("v by size, names containing TXT", "a.txt", "B.txt", "c-long-name.txt")
	if loc := b.location(); !strings.Contains(loc, "match=TXT") || !strings.Contains(loc, "sort=size") {
		t.Errorf("after filtering: at %s", loc)
	}
	if v := eval[string](b, `document.querySelector("form.search input[name=match]").value`); v != "TXT" {
		t.Errorf("the search box shows %q after the search, want TXT", v)
	}
	b.screenshot("views-sorted-filtered", false)
	b.filter("x", true)
	// Still by size: sub/x is as long as a.txt and B.txt and sorts after
	// them by name.
	b.expect("names containing x, in subdirectories too", "a.txt", "B.txt", "sub/x", "c-long-name.txt")
	b.filter("", false)
	b.expect("the filter cleared", "sub/", "Zed/", "a.txt", "B.txt", "c-long-name.txt")

	// A directory over the cap says so, and stays in key order.
	capped := viewServer(t, Config{ViewCap: 3})
	b.open(capped + listHref("v", true) + "?sort=name")
	b.expect("v over a cap of 3", "B.txt", "Zed/", "a.txt", "c-long-name.txt", "sub/")
	if note := eval[string](b, `document.querySelector(".note").textContent`); !strings.Contains(note, "more than 3 entries") {
		t.Errorf("over the cap, the note says %q", note)
	}
	if got := b.sortedBy(); got != "" {
		t.Errorf("over the cap, in key order, heading %q is marked as sorted", got)
	}
	b.screenshot("views-over-cap", false)

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
}

// onePixelPNG is a 1x1 PNG, for a README's image.
const onePixelPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"

// TestBrowserReadme: a directory's README shows above the table, its
// image loads from the object route, its relative link opens the linked
// directory, and a hostile one runs nothing and loads nothing from
// elsewhere (issue 22).
func TestBrowserReadme(t *testing.T) {
	b := newBrowser(t) // first: it skips when Chromium is missing
	f := readmeS3(t, nil)
	f.PutFile(t, "r/img/logo.png", "image/png", onePixelPNG)
	srv := readmeServer(t, f, Config{ServeObjects: true})

	b.open(srv + listHref("r", true))
	got := eval[struct {
		Heading  string
		Image    int
		Above    bool
		Scripts  int
		Handlers int
		Frames   int
		Hidden   bool
	}](b, `({
		Heading: document.querySelector("section.readme h1")?.textContent,
		Image: document.querySelector("section.readme img")?.naturalWidth ?? -1,
		Above: !!(document.querySelector("section.readme").compareDocumentPosition(document.querySelector("table")) & Node.DOCUMENT_POSITION_FOLLOWING),
		Scripts: document.scripts.length,
		Handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
		Frames: document.querySelectorAll("iframe, object, embed").length,
		Hidden: getComputedStyle(document.body).display === "none",
	})`)
	if got.Heading != "Title" || got.Image != 1 || !got.Above {
		t.Errorf("README: heading %q, image width %d (want 1: loaded), above the table %v", got.Heading, got.Image, got.Above)
	}
	if got.Scripts+got.Handlers+got.Frames != 0 || got.Hidden {
		t.Errorf("hostile README: %d scripts, %d handlers, %d frames, body hidden %v; want none", got.Scripts, got.Handlers, got.Frames, got.Hidden)
	}
	if links := eval[[]string](b, `[...document.querySelectorAll("section.readme a[href]")].map(a => a.getAttribute("href")).filter(h => !h.startsWith("/") && !h.startsWith("#") && !h.startsWith("https://example.com/"))`); len(links) > 0 {
		t.Errorf("README links elsewhere: %q", links)
	}
	b.screenshot("readme", false)
	b.navigate("README link to sub/", chromedp.Click(chromedp.CSS(`section.readme a[href$="/r/sub/"]`)))
	b.expect("sub, from the README", "x")

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
}

// TestBrowserFiles opens files from the index with --serve-objects, as a
// person would (issue 21): an image renders, a text file shows as text
// (markup in it too), and neither document can read the index's cookies,
// being sandboxed into an opaque origin; an HTML object with a script is
// saved, not shown, so its script never runs: no dialog, and nothing it
// would send reaches the service.
func TestBrowserFiles(t *testing.T) {
	b := newBrowser(t) // first: it skips when Chromium is missing
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	f := startFakeS3(t, nil, nil)
	f.PutFile(t, "media/pic.png", "image/png", png.String())
	f.PutFile(t, "media/notes.txt", "text/plain; charset=utf-8", "<script>alert('from the text')</script> plain words")
	f.PutFile(t, "media/page.html", "text/html", `<title>pwned</title><script>alert(document.cookie);new Image().src="/leak?"+encodeURIComponent(document.cookie);try{opener.document.title="pwned"}catch(e){}</script>`)
	f.PutFile(t, "media/draw.svg", "image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`)
	srv, sink := loggedServer(t, fakeLister(f), Config{ServeObjects: true})
	index := srv.URL + listHref("media", true)
	// A cookie of the index's origin, which no object may read.
	if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: "session", Value: "index-secret", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	downloads := eventChan(chromedp.Events(b.ctx, cdpbrowser.DownloadWillBegin))
	if _, err := chromedp.Call(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: t.TempDir(), EventsEnabled: new(true),
	}); err != nil {
		t.Fatal(err)
	}

	b.open(index)
	b.expect("media", "draw.svg", "notes.txt", "page.html", "pic.png")
	b.openFile("pic.png")
	if w := eval[int](b, `document.images.length === 1 ? document.images[0].naturalWidth : -1`); w != 3 {
		t.Errorf("pic.png: the image is %d pixels wide, want it shown, 3 wide", w)
	}
	b.sandboxed("pic.png")

	b.open(index)
	b.openFile("notes.txt")
	if text := eval[string](b, `document.body.innerText`); text != "<script>alert('from the text')</script> plain words" {
		t.Errorf("notes.txt shows %q", text)
	}
	if n := eval[int](b, `document.scripts.length`); n != 0 {
		t.Errorf("notes.txt: %d scripts in the document; its markup must stay text", n)
	}
	b.sandboxed("notes.txt")

	// Active types are saved, not shown: the tab stays on the index.
	for _, name := range []string{"page.html", "draw.svg"} {
		b.open(index)
		b.clickOnly(name)
		select {
		case <-b.ctx.Done():
			t.Fatalf("%s: no download began", name)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no download began within 10 s", name)
		case ev := <-downloads:
			if ev.SuggestedFilename != name {
				t.Errorf("clicking %s downloads %q", name, ev.SuggestedFilename)
			}
		}
		if loc, title := b.location(), eval[string](b, `document.title`); loc != "/list-bucket-content/media/" || strings.Contains(title, "pwned") {
			t.Errorf("after clicking %s: at %s, titled %q; want the index, untouched", name, loc, title)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything a script sent would be in by now
	for _, l := range sink.all() {
		if strings.Contains(l, `"path":"/leak`) {
			t.Errorf("an object's script reached the service: %s", l)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
}

// openFile clicks the link of the file name on an index page and checks
// that the object came with its safety headers and broke no CSP rule.
func (b *browser) openFile(name string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, b.linkOf(name))
	if err != nil {
		b.t.Fatalf("click %s: %v", name, err)
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); resp.Status != 200 || csp != objectCSP {
		b.t.Errorf("click %s: %s answered %d with Content-Security-Policy %q, want 200 with %q", name, resp.URL, resp.Status, csp, objectCSP)
	}
	if v := eval[[]string](b, `window.__violations`); len(v) > 0 {
		b.t.Errorf("click %s: CSP violations on %s: %q", name, resp.URL, v)
	}
}

// clickOnly clicks the link of name without waiting for a page.
func (b *browser) clickOnly(name string) {
	b.t.Helper()
	b.do("click "+name, b.linkOf(name))
}

// linkOf is a click on the link of name in the index's table.
func (b *browser) linkOf(name string) chromedp.Action[chromedp.Void] {
	b.t.Helper()
	q, _ := json.Marshal(name)
	i := eval[int](b, `[...document.querySelectorAll("tbody tr")].findIndex(tr => tr.querySelector("td:first-child a")?.textContent === `+string(q)+`)`)
	if i < 0 {
		b.t.Fatalf("no entry %q on %s (entries %q)", name, b.location(), b.entries())
	}
	return chromedp.Click(chromedp.CSS(fmt.Sprintf("tbody tr:nth-child(%d) td:first-child a", i+1)))
}

// sandboxed checks the document shown is in an opaque origin: it cannot
// read the cookies of the index's origin.
func (b *browser) sandboxed(name string) {
	b.t.Helper()
	got := eval[string](b, `(() => { let c; try { c = document.cookie } catch (e) { c = e.name } return origin + " " + c })()`)
	if got != "null SecurityError" {
		b.t.Errorf("%s: origin and document.cookie read %q, want an opaque origin (null) refused the cookies (SecurityError)", name, got)
	}
}

// eventChan passes events on through a channel, until their stream ends.
func eventChan[E any](events iter.Seq2[E, error]) <-chan E {
	ch := make(chan E, 16)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			ch <- ev
		}
	}()
	return ch
}
