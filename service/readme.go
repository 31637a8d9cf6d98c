package service

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"io"
	"net/url"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A directory's README is shown above its table in the index, as Apache's
// ReadmeName, nginx fancyindex and h5ai do, when objects are served
// (--serve-objects: the README's own link, its images and its relative
// links need the object route). The bytes are the bucket's, so nothing of
// them is trusted:
//
//   - Markdown goes through goldmark with raw HTML off (it writes an HTML
//     comment in its place), then through bluemonday's policy for user
//     content, which keeps only harmless elements and attributes and
//     http, https and mailto links; what is left is parsed into
//     x/net/html nodes (the parser refuses nesting deeper than 512, which
//     a hostile file of nested lists reaches: such a README is shown as
//     text) and joins the page's tree, which html.Render writes.
//   - Relative links and images are resolved against the directory and
//     rebuilt with listHref and fileHref: a directory's to its listing, a
//     file's to its bytes; a link that leaves the served root, names a
//     path the API refuses or a hidden one loses its href. Images from
//     elsewhere are dropped (the page loads nothing from other hosts).
//   - README.txt and README are shown as text, in a <pre>.
//   - At most maxReadme bytes are read; a longer file shows its first
//     maxReadme bytes, cut at a line, and says so.
//
// Rendered READMEs are kept by key and ETag, so a directory page costs
// one GET of its README once per change of it, and none after.

// readmeNames are the files shown, in order of preference.
var readmeNames = []string{"README.md", "README.txt", "README"}

// maxReadme is the most of a README read and shown.
const maxReadme = 64 << 10

// readmeCacheBytes bounds the rendered READMEs kept.
const readmeCacheBytes = 4 << 20

// readmes finds, reads and renders directories' READMEs.
type readmes struct {
	objects ObjectReader
	lister  Lister
	hide    *hidden.Set
	cache   *readmeCache
}

func newReadmes(objects ObjectReader, lister Lister, hide *hidden.Set) *readmes {
	return &readmes{objects: objects, lister: lister, hide: hide, cache: newReadmeCache(readmeCacheBytes)}
}

// readme is what the page shows of one README.
type readme struct {
	Name, Href string
	Markdown   []byte // sanitised HTML of a Markdown README; parsed into the page
	Text       string // a text README, or a Markdown one that could not be shown as HTML
	Truncated  bool   // longer than maxReadme: only its start is shown
	Failed     bool   // storage failed to give it: only its link is shown
}

// section returns the README of the directory dir ("" or ending in "/")
// for its index page, or nil when it has none. entries are the page's;
// whole says they are every name of the directory, so a README not among
// them does not exist and no S3 call is needed to know.
func (rm *readmes) section(ctx context.Context, dir string, entries []Entry, whole bool) *readme {
	e, found := pickReadme(entries)
	if !found && !whole {
		var err error
		if e, found, err = rm.lookup(ctx, dir); err != nil {
			return nil // the listing itself was fine: show it without
		}
	}
	if !found {
		return nil
	}
	key := dir + e.Name
	r := &readme{Name: e.Name, Href: fileHref(key)}
	if hit, ok := rm.cache.get(key + "\x00" + e.ETag); ok {
		return hit
	}
	if e.Size == 0 {
		return nil // nothing to show
	}
	obj, body, err := rm.objects.ReadObject(ctx, ObjectRead{Path: key, Length: maxReadme})
	if errors.Is(err, ErrRangeNotSatisfiable) {
		return nil // empty: nothing to show
	}
	if err != nil {
		r.Failed = true
		return r
	}
	src, err := io.ReadAll(io.LimitReader(body, maxReadme))
	body.Close()
	if err != nil {
		r.Failed = true
		return r
	}
	if obj.Size > int64(len(src)) {
		r.Truncated = true
		if i := bytes.LastIndexByte(src, '\n'); i > 0 {
			src = src[:i+1]
		}
	}
	src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
	if e.Name == "README.md" {
		r.Markdown, err = renderMarkdown(src, dir, rm.hide)
	}
	if e.Name != "README.md" || err != nil {
		r.Text = string(src)
	}
	rm.cache.put(key+"\x00"+obj.ETag, r)
	return r
}

// pickReadme is the README among entries, by readmeNames' preference.
func pickReadme(entries []Entry) (Entry, bool) {
	best, found := Entry{}, -1
	for _, e := range entries {
		if e.Dir {
			continue
		}
		for i, n := range readmeNames {
			if e.Name == n && (found < 0 || i < found) {
				best, found = e, i
			}
		}
	}
	return best, found >= 0
}

// lookup finds the README of dir when the page does not hold every name:
// one listing of the names starting with README, through the page cache,
// hidden names left out as everywhere.
func (rm *readmes) lookup(ctx context.Context, dir string) (Entry, bool, error) {
	var all []Entry
	req := ListRequest{Path: dir, NamePrefix: "README", Limit: 20, Hide: rm.hide.Under(dir)}
	_, err := rm.lister.List(ctx, req, func(batch []Entry, _ bool) error {
		all = append(all, batch...)
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return Entry{}, false, nil
	}
	e, found := pickReadme(all)
	return e, found, err
}

// readmeRenderer is the Markdown converter and bluemonday's policy for
// user content (formatting, lists, tables, code, images, and links of safe
// schemes only), built on the first README rendered: a service that never
// shows one (no --serve-objects) does not build them (240 KB of the
// allocations at start: GODEBUG=inittrace=1 bucketls --version).
var readmeRenderer = sync.OnceValues(func() (goldmark.Markdown, *bluemonday.Policy) {
	return goldmark.New(goldmark.WithExtensions(extension.GFM)), bluemonday.UGCPolicy()
})

// renderMarkdown turns a README's Markdown into sanitised HTML whose links
// and images point where the page may go (see readmeURL), and checks that
// it parses into a tree the page can hold.
func renderMarkdown(src []byte, dir string, hide *hidden.Set) ([]byte, error) {
	var out bytes.Buffer
	markdown, policy := readmeRenderer()
	if err := markdown.Convert(src, &out); err != nil {
		return nil, err
	}
	clean := policy.SanitizeReader(&out)
	nodes, err := html.ParseFragment(clean, &html.Node{Type: html.ElementNode, DataAtom: atom.Div, Data: "div"})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, n := range nodes {
		rewriteLinks(n, dir, hide)
		if err := html.Render(&b, n); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// rewriteLinks resolves every link and image below n (see readmeURL); an
// image that cannot load from here becomes its alt text.
func rewriteLinks(n *html.Node, dir string, hide *hidden.Set) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		rewriteLinks(c, dir, hide)
		c = next
	}
	if n.Type != html.ElementNode {
		return
	}
	switch n.DataAtom {
	case atom.A:
		for i := 0; i < len(n.Attr); i++ {
			if n.Attr[i].Key != "href" {
				continue
			}
			if u, ok := readmeURL(n.Attr[i].Val, dir, false, hide); ok {
				n.Attr[i].Val = u
			} else {
				n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
				i--
			}
		}
	case atom.Img:
		src, alt := "", ""
		for _, a := range n.Attr {
			switch a.Key {
			case "src":
				src = a.Val
			case "alt":
				alt = a.Val
			}
		}
		if u, ok := readmeURL(src, dir, true, hide); ok {
			setAttr(n, "src", u)
			return
		}
		if n.Parent != nil {
			n.Parent.InsertBefore(text(alt), n)
			n.Parent.RemoveChild(n)
		}
	}
}

func setAttr(n *html.Node, key, val string) {
	for i := range n.Attr {
		if n.Attr[i].Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// readmeURL is where a link (or, with img, an image) of the README of dir
// goes, or false when it goes nowhere the page may link: a path relative
// to the directory (or, with a leading slash, to the served root) becomes
// the listing of a directory (a trailing slash) or the bytes of a file; an
// absolute link stays (the sanitiser let only http, https and mailto
// through); an image must be a file of the bucket.
func readmeURL(ref, dir string, img bool, hide *hidden.Set) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || ref == "" {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		return ref, !img
	}
	if u.Path == "" {
		// "#section" stays on the page; "?x" would be a listing option.
		return ref, !img && u.RawQuery == "" && u.Fragment != ""
	}
	base := dir
	if strings.HasPrefix(u.Path, "/") {
		base = ""
	}
	if escapesRoot(base, u.Path) {
		return "", false
	}
	target := strings.TrimPrefix(path.Join("/"+base, u.Path), "/")
	isDir := strings.HasSuffix(u.Path, "/") || target == ""
	if target != "" && (checkSegments(target) != nil || len(target) > maxPathLen || !utf8.ValidString(target) || hide.Hidden(target)) {
		return "", false
	}
	if isDir {
		if img {
			return "", false
		}
		return listHref(target, true), true
	}
	href := fileHref(target)
	if u.Fragment != "" && !img {
		href += "#" + url.PathEscape(u.Fragment)
	}
	return href, true
}

// escapesRoot reports whether rel, resolved against dir, climbs above the
// served root.
func escapesRoot(dir, rel string) bool {
	depth := strings.Count(strings.TrimSuffix(dir, "/"), "/")
	if dir != "" {
		depth++
	}
	for seg := range strings.SplitSeq(rel, "/") {
		switch seg {
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		case "", ".":
		default:
			depth++
		}
	}
	return false
}

// readmeNodes are the README's part of the page.
func readmeNodes(r *readme) *html.Node {
	sec := el(atom.Section, attrs("class", "readme", "aria-label", r.Name))
	sec.AppendChild(el(atom.P, attrs("class", "readme-name"), el(atom.A, attrs("href", r.Href), text(r.Name))))
	switch {
	case r.Failed:
		sec.AppendChild(el(atom.P, attrs("class", "note"), text(r.Name+" could not be read from storage just now; its link above may work.")))
		return sec
	case r.Markdown != nil:
		body := el(atom.Div, attrs("class", "md"))
		nodes, err := html.ParseFragment(bytes.NewReader(r.Markdown), body)
		if err == nil {
			for _, n := range nodes {
				body.AppendChild(n)
			}
			sec.AppendChild(body)
			break
		}
		sec.AppendChild(el(atom.Pre, nil, text(r.Text)))
	default:
		sec.AppendChild(el(atom.Pre, nil, text(r.Text)))
	}
	if r.Truncated {
		sec.AppendChild(el(atom.P, attrs("class", "note"), text("Only the first 64 KiB of "+r.Name+" are shown; the link above has all of it.")))
	}
	return sec
}

// readmeCache keeps rendered READMEs by key and ETag, least recently used
// out first, within a byte budget.
type readmeCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	order *list.List // of *readmeSlot, most recent first
	items map[string]*list.Element
}

type readmeSlot struct {
	key  string
	r    *readme
	size int
}

func newReadmeCache(maxBytes int) *readmeCache {
	return &readmeCache{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *readmeCache) get(key string) (*readme, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*readmeSlot).r, true
}

func (c *readmeCache) put(key string, r *readme) {
	size := len(key) + len(r.Markdown) + len(r.Text) + len(r.Name) + len(r.Href) + 256
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok || size > c.max {
		return
	}
	c.items[key] = c.order.PushFront(&readmeSlot{key: key, r: r, size: size})
	c.bytes += size
	for c.bytes > c.max {
		old := c.order.Back()
		s := old.Value.(*readmeSlot)
		c.order.Remove(old)
		delete(c.items, s.key)
		c.bytes -= s.size
	}
}
