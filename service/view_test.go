package service

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"
)

// viewKeys is a directory whose key order, name order, size order and
// case all differ: sizes come from gofakes3's bodies ("content of KEY\n").
var viewKeys = []string{"v/B.txt", "v/Zed/y", "v/a.txt", "v/c-long-name.txt", "v/sub/x", "v/sub/deeper/z"}

func viewServer(t testing.TB, cfg Config) string {
	t.Helper()
	f := startFakeS3(t, viewKeys, nil)
	return testServer(t, fakeLister(f), cfg).URL
}

// TestViewSort: sort and order over a real walk, directories first in
// both orders, names compared without case first.
func TestViewSort(t *testing.T) {
	t.Parallel()
	srv := viewServer(t, Config{})
	for _, tt := range []struct{ query, want string }{
		{"", `{"content":["B.txt","Zed","a.txt","c-long-name.txt","sub"]}`},
		{"?sort=name", `{"content":["sub","Zed","a.txt","B.txt","c-long-name.txt"]}`},
		{"?sort=name&order=asc", `{"content":["sub","Zed","a.txt","B.txt","c-long-name.txt"]}`},
		{"?sort=name&order=desc", `{"content":["Zed","sub","c-long-name.txt","B.txt","a.txt"]}`},
		{"?sort=size", `{"content":["sub","Zed","a.txt","B.txt","c-long-name.txt"]}`},
		{"?sort=size&order=desc", `{"content":["Zed","sub","c-long-name.txt","B.txt","a.txt"]}`},
		{"?sort=name&prefix=s", `{"content":["sub"]}`},
		{"?sort=name&recursive=true", `{"content":["a.txt","B.txt","c-long-name.txt","sub/deeper/z","sub/x","Zed/y"]}`},
		{"?sort=size&details=true&limit=1", ""}, // checked against the spec by conformingTo
	} {
		r := get(t, srv, "/list-bucket-content/v"+tt.query)
		if r.status != 200 || (tt.want != "" && r.body != tt.want) {
			t.Errorf("GET v%s: %d %s, want 200 %s", tt.query, r.status, r.body, tt.want)
		}
	}
	if r := get(t, srv, "/list-bucket-content/nope?sort=name"); r.status != 404 {
		t.Errorf("sorted view of a missing directory: status %d, want 404 (%s)", r.status, r.body)
	}
	if r := get(t, srv, "/list-bucket-content/v/a.txt?sort=size"); r.status != 200 || r.body != `{"content":["a.txt"]}` {
		t.Errorf("sorted view of an object: %d %s", r.status, r.body)
	}
}

// TestViewMatch: match is a case-insensitive substring of names, in key
// order unless sorted, recursive only when asked.
func TestViewMatch(t *testing.T) {
	t.Parallel()
	srv := viewServer(t, Config{})
	for _, tt := range []struct{ query, want string }{
		{"?match=TXT", `{"content":["B.txt","a.txt","c-long-name.txt"]}`},
		{"?match=b", `{"content":["B.txt","sub"]}`},
		{"?match=b&sort=name&order=desc", `{"content":["sub","B.txt"]}`},
		{"?match=x", `{"content":["B.txt","a.txt","c-long-name.txt"]}`},
		{"?match=x&recursive=true", `{"content":["B.txt","a.txt","c-long-name.txt","sub/x"]}`},
		{"?match=/d&recursive=true", `{"content":["sub/deeper/z"]}`},
		{"?match=nothing", `{"content":[]}`},
		{"?match=", `{"content":["B.txt","Zed","a.txt","c-long-name.txt","sub"]}`},
		{"?match=a&prefix=c", `{"content":["c-long-name.txt"]}`},
	} {
		r := get(t, srv, "/list-bucket-content/v"+tt.query)
		if r.status != 200 || r.body != tt.want {
			t.Errorf("GET v%s: %d %s, want 200 %s", tt.query, r.status, r.body, tt.want)
		}
	}
}

// TestViewQueryErrors: every bad value of the view's parameters is a 400
// naming it.
func TestViewQueryErrors(t *testing.T) {
	t.Parallel()
	srv := viewServer(t, Config{})
	for _, tt := range []struct{ query, wantErr string }{
		{"?sort=date", `sort="date": use name, size or modified`},
		{"?sort=", `sort="": use name, size or modified`},
		{"?sort=Name", `sort="Name"`},
		{"?order=desc", "order needs sort"},
		{"?sort=name&order=down", `order="down": use asc or desc`},
		{"?sort=name&sort=size", `"sort" given 2 times`},
		{"?match=a%00", "match: control character"},
		{"?match=%ff", "match: not valid UTF-8"},
		{"?match=" + strings.Repeat("m", 1025), "match is longer than 1024"},
	} {
		r := get(t, srv, "/list-bucket-content/v"+tt.query)
		if r.status != 400 {
			t.Errorf("GET v%s: status %d, want 400 (%s)", tt.query, r.status, r.body)
			continue
		}
		if msg := checkJSONError(t, r); !strings.Contains(msg, tt.wantErr) {
			t.Errorf("GET v%s: error %q, want it to contain %q", tt.query, msg, tt.wantErr)
		}
	}
}

// viewAnswer is a listing page with its cursor and overCap.
type viewAnswer struct {
	Content []string `json:"content"`
	Next    string   `json:"next"`
	OverCap int      `json:"overCap"`
}

// pageAll follows next from query to the end and returns every page.
func pageAll(t *testing.T, srv, path, query string) []viewAnswer {
	t.Helper()
	var pages []viewAnswer
	cursor := ""
	for range 100 {
		target := path + "?" + query
		if cursor != "" {
			target += "&cursor=" + url.QueryEscape(cursor)
		}
		r := get(t, srv, target)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", target, r.status, r.body)
		}
		var p viewAnswer
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		if cursor = p.Next; cursor == "" {
			return pages
		}
	}
	t.Fatalf("%s?%s: more than 100 pages", path, query)
	return nil
}

func allNames(pages []viewAnswer) []string {
	var out []string
	for _, p := range pages {
		out = append(out, p.Content...)
	}
	return out
}

// TestViewPaging: a sorted view pages in its own order with cursors bound
// to it: every entry once, and a cursor of one view is refused by another
// view and by the plain listing.
func TestViewPaging(t *testing.T) {
	t.Parallel()
	srv := viewServer(t, Config{})
	for _, q := range []string{"sort=name&order=desc", "sort=size", "match=t", "sort=modified&recursive=true"} {
		whole := get(t, srv, "/list-bucket-content/v?"+q)
		want := contentOf(t, whole.body)
		for _, limit := range []string{"1", "2", "4"} {
			got := allNames(pageAll(t, srv, "/list-bucket-content/v", q+"&limit="+limit))
			if !slices.Equal(got, want) {
				t.Errorf("%s, limit=%s: pages hold %q, want %q", q, limit, got, want)
			}
		}
	}
	first := pageAll(t, srv, "/list-bucket-content/v", "sort=name&limit=2")[0]
	for _, q := range []string{"sort=size&limit=2", "sort=name&order=desc&limit=2", "limit=2", "sort=name&limit=3", "sort=name&match=a&limit=2"} {
		r := get(t, srv, "/list-bucket-content/v?"+q+"&cursor="+url.QueryEscape(first.Next))
		if r.status != 400 || !strings.Contains(checkJSONError(t, r), "cursor is invalid") {
			t.Errorf("cursor of sort=name used with %s: %d %s, want 400", q, r.status, r.body)
		}
	}
}

// TestViewPagingStable: a page goes on after the entry the last one ended
// with, in the view's order, so an entry added before it moves nothing.
func TestViewPagingStable(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"s/b", "s/d", "s/f", "s/h"}, nil)
	srv := testServer(t, fakeLister(f), Config{}).URL
	p1 := pageAll(t, srv, "/list-bucket-content/s", "sort=name&limit=2")[0]
	f.Put(t, "s/a", "s/e")
	r := get(t, srv, "/list-bucket-content/s?sort=name&limit=2&cursor="+url.QueryEscape(p1.Next))
	if want := `{"content":["e","f"],"next":`; !strings.HasPrefix(r.body, want) {
		t.Errorf("page 2 after adding a and e: %s, want %s...", r.body, want)
	}
}

// entriesLister serves one directory of fixed entries in batches, for
// views of shapes gofakes3 cannot make (times, sizes, many entries); it
// counts its walks.
type entriesLister struct {
	entries []Entry
	batch   int
	walks   atomic.Int32
}

func (l *entriesLister) List(ctx context.Context, req ListRequest, emit func([]Entry, bool) error) (*Position, error) {
	l.walks.Add(1)
	var kept []Entry
	for _, e := range l.entries {
		if strings.HasPrefix(e.Name, req.NamePrefix) {
			kept = append(kept, e)
		}
	}
	start := 0
	if req.After != nil {
		start = slices.IndexFunc(kept, func(e Entry) bool { return e.Name > req.After.Key })
		if start < 0 {
			start = len(kept)
		}
	}
	kept = kept[start:]
	if req.Limit > 0 && len(kept) > req.Limit {
		if err := emit(slices.Clone(kept[:req.Limit]), true); err != nil {
			return nil, err
		}
		return &Position{Key: kept[req.Limit-1].Name}, nil
	}
	for len(kept) > l.batch {
		if err := emit(slices.Clone(kept[:l.batch]), false); err != nil {
			return nil, err
		}
		kept = kept[l.batch:]
	}
	return nil, emit(slices.Clone(kept), true)
}

// TestViewModified: sort=modified by time, names breaking ties,
// directories first.
func TestViewModified(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	l := &entriesLister{batch: 2, entries: []Entry{
		{Name: "a", Modified: day(3)}, {Name: "b", Modified: day(1)}, {Name: "c", Dir: true},
		{Name: "d", Modified: day(2)}, {Name: "e", Modified: day(1)},
	}}
	srv := testServer(t, l, Config{}).URL
	for _, tt := range []struct{ query, want string }{
		{"sort=modified", `{"content":["c","b","e","d","a"]}`},
		{"sort=modified&order=desc", `{"content":["c","a","d","e","b"]}`},
	} {
		if r := get(t, srv, "/list-bucket-content/m?"+tt.query); r.body != tt.want {
			t.Errorf("GET m?%s: %s, want %s", tt.query, r.body, tt.want)
		}
		got := allNames(pageAll(t, srv, "/list-bucket-content/m", tt.query+"&limit=2"))
		if want := contentOf(t, tt.want); !slices.Equal(got, want) {
			t.Errorf("m?%s in pages of 2: %q, want %q", tt.query, got, want)
		}
	}
}

// TestViewOverCap: a directory over the cap is never sorted or filtered
// in part: it is the plain listing in key order, marked overCap on every
// page; at the cap it is a view.
func TestViewOverCap(t *testing.T) {
	t.Parallel()
	var entries []Entry
	for i, n := range names("n", 7) {
		entries = append(entries, Entry{Name: n, Size: int64(100 - i)})
	}
	over := testServer(t, &entriesLister{batch: 3, entries: entries}, Config{ViewCap: 6}).URL
	at := testServer(t, &entriesLister{batch: 3, entries: entries}, Config{ViewCap: 7}).URL
	keyOrder := `["n00000","n00001","n00002","n00003","n00004","n00005","n00006"]`
	for _, q := range []string{"sort=size", "match=n0000", "sort=name&order=desc&match=n"} {
		if r := get(t, over, "/list-bucket-content/d?"+q); r.body != `{"content":`+keyOrder+`,"overCap":6}` {
			t.Errorf("over the cap, %s: %s", q, r.body)
		}
		if r := get(t, over, "/list-bucket-content/d?details=true&"+q); !strings.HasSuffix(r.body, `],"overCap":6}`) {
			t.Errorf("over the cap, details, %s: %s", q, r.body)
		}
		pages := pageAll(t, over, "/list-bucket-content/d", q+"&limit=3")
		if got := allNames(pages); strings.Join(got, ",") != strings.Join(contentOf(t, `{"content":`+keyOrder+`}`), ",") {
			t.Errorf("over the cap, %s, paged: %q", q, got)
		}
		for i, p := range pages {
			if p.OverCap != 6 {
				t.Errorf("over the cap, %s: page %d has overCap %d, want 6", q, i+1, p.OverCap)
			}
		}
	}
	if r := get(t, at, "/list-bucket-content/d?sort=size"); r.body != `{"content":["n00006","n00005","n00004","n00003","n00002","n00001","n00000"]}` {
		t.Errorf("at the cap: %s", r.body)
	}
	// The streamed listing (no limit, more than one batch) ends with the
	// field too; the plain listing never has it.
	if r := get(t, over, "/list-bucket-content/d"); strings.Contains(r.body, "overCap") {
		t.Errorf("plain listing: %s", r.body)
	}
}

// TestViewOverCapGrown: a view cursor for a directory that has since
// grown over the cap starts the key-order listing again, marked overCap.
func TestViewOverCapGrown(t *testing.T) {
	t.Parallel()
	l := &entriesLister{batch: 10, entries: []Entry{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	srv := testServer(t, l, Config{ViewCap: 3}).URL
	p1 := pageAll(t, srv, "/list-bucket-content/d", "sort=name&limit=2")[0]
	l.entries = append(l.entries, Entry{Name: "d"})
	r := get(t, srv, "/list-bucket-content/d?sort=name&limit=2&cursor="+url.QueryEscape(p1.Next))
	var p viewAnswer
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || strings.Join(p.Content, ",") != "a,b" || p.OverCap != 3 || p.Next == "" {
		t.Errorf("after growing over the cap: %s", r.body)
	}
}

// TestViewsRepeat: sorting must not reorder a batch another reader
// shares; two views of one directory in a row read the same order.
func TestViewsRepeat(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, viewKeys, nil)
	srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{CacheTTL: time.Minute}), Config{}).URL
	for range 3 {
		for _, tt := range []struct{ query, want string }{
			{"?sort=name&order=desc", `{"content":["Zed","sub","c-long-name.txt","B.txt","a.txt"]}`},
			{"", `{"content":["B.txt","Zed","a.txt","c-long-name.txt","sub"]}`},
		} {
			if r := get(t, srv, "/list-bucket-content/v"+tt.query); r.body != tt.want {
				t.Errorf("GET v%s with the cache: %s, want %s", tt.query, r.body, tt.want)
			}
		}
	}
}

// TestFold: match and the name order ignore case by Unicode's simple
// folding, not just ASCII.
func TestFold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, needle string
		want         bool
	}{
		{"README.md", "readme", true},
		{"\u212Aelvin", "kel", true}, // KELVIN SIGN
		{"ſtraße", "STRASSE", false}, // simple folding: ß is not ss
		{"ſtraße", "STRAßE", true},   // long s folds with S
		{"ΣΊΣΥΦΟΣ", "σίσυφος", true},
		{"x", "y", false},
	} {
		if got := containsFold(tt.name, foldString(tt.needle)); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tt.name, tt.needle, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"a", "B", -1}, {"B", "a", 1}, {"abc", "ABC", 0}, {"ab", "abc", -1}, {"é", "É", 0}, {"z", "é", -1},
	} {
		if got := compareFold(tt.a, tt.b); got != tt.want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestIndexViews: the index's column headings link to sorted views and
// toggle the order of the one sorted now, the search form carries every
// other option, and a directory over the cap says so on the page.
func TestIndexViews(t *testing.T) {
	t.Parallel()
	srv := viewServer(t, Config{ViewCap: 5})
	heads := func(target string) (hrefs map[string]string, sorted map[string]string, body string) {
		t.Helper()
		r := do(t, nil, "GET", srv, target, accept(acceptChrome))
		if r.status != 200 {
			t.Fatalf("GET %s: %d", target, r.status)
		}
		doc, err := xhtml.Parse(strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		hrefs, sorted = map[string]string{}, map[string]string{}
		for n := range doc.Descendants() {
			if n.Type != xhtml.ElementNode || n.Data != "th" {
				continue
			}
			label := strings.TrimRight(textOf(n), " ▲▼")
			if a := n.FirstChild; a != nil && a.Data == "a" {
				hrefs[label] = attr(a, "href")
			}
			if s := attr(n, "aria-sort"); s != "" {
				sorted[label] = s
			}
		}
		return hrefs, sorted, r.body
	}
	hrefs, sorted, _ := heads("/list-bucket-content/v/")
	if len(sorted) != 0 || hrefs["Type"] != "" {
		t.Errorf("key order: sorted columns %v, Type links to %q", sorted, hrefs["Type"])
	}
	want := map[string]string{
		"Name":           "/list-bucket-content/v/?details=true&limit=500&sort=name",
		"Size":           "/list-bucket-content/v/?details=true&limit=500&sort=size",
		"Modified (UTC)": "/list-bucket-content/v/?details=true&limit=500&sort=modified",
	}
	for k, v := range want {
		if hrefs[k] != v {
			t.Errorf("heading %s links to %q, want %q", k, hrefs[k], v)
		}
	}
	hrefs, sorted, body := heads(want["Name"] + "&match=t")
	if sorted["Name"] != "ascending" || hrefs["Name"] != "/list-bucket-content/v/?details=true&limit=500&match=t&order=desc&sort=name" {
		t.Errorf("sorted by name: aria-sort %v, Name links to %q", sorted, hrefs["Name"])
	}
	if hrefs["Size"] != "/list-bucket-content/v/?details=true&limit=500&match=t&sort=size" {
		t.Errorf("sorted by name: Size links to %q", hrefs["Size"])
	}
	for _, s := range []string{
		`<form class="search" role="search" method="get" action="/list-bucket-content/v/">`,
		`<input type="hidden" name="details" value="true"/><input type="hidden" name="limit" value="500"/><input type="hidden" name="sort" value="name"/><input type="search" name="match" value="t"`,
		`names containing “<q>t</q>”`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("sorted, filtered page lacks %s", s)
		}
	}
	_, sorted, body = heads("/list-bucket-content/v/?sort=size&order=desc&recursive=true")
	if len(sorted) != 0 || !strings.Contains(body, "more than 5 entries") || !strings.Contains(body, `name="recursive" value="true" checked=""`) {
		t.Errorf("over the cap: aria-sort %v; page %s", sorted, body)
	}
}

func textOf(n *xhtml.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == xhtml.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestViewPageHrefs: the last page of a view, resumed with a view cursor,
// holding one file named like its directory, still links that file inside
// the directory (a key-order page's rule, entryBase, applies to views).
func TestViewPageHrefs(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"x/a", "x/x"}, nil)
	srv := testServer(t, fakeLister(f), Config{ServeObjects: true}).URL
	p1 := get(t, srv, "/list-bucket-content/x?sort=name&details=true&limit=1")
	var first struct{ Next string }
	if err := json.Unmarshal([]byte(p1.body), &first); err != nil || first.Next == "" {
		t.Fatalf("page 1: %s", p1.body)
	}
	p2 := get(t, srv, "/list-bucket-content/x?sort=name&details=true&limit=1&cursor="+url.QueryEscape(first.Next))
	if !strings.Contains(p2.body, `"href":"/files/x/x"`) {
		t.Errorf("page 2: %s, want the href /files/x/x", p2.body)
	}
}
