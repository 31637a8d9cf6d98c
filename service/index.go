package service

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The HTML index is the listing as a page for people: a browser that asks
// for text/html gets it, every other client keeps getting JSON. It is the
// same walk as the JSON listing (handleList and listWriter), always with
// details and always paged, so a directory of a million entries opens as
// fast as one of four and memory is bounded by one page.

// indexPageSize is how many entries one HTML page shows when the URL does
// not say (limit=N does): a short scroll, about 80 KB (8 KB gzipped;
// TestIndexPageWeight prints the figures).
const indexPageSize = 500

// listRoot is where listings live; every link on a page starts with it.
const listRoot = "/list-bucket-content"

var (
	//go:embed index.css
	indexCSS string

	// indexCSP allows the one inline stylesheet, by its hash, the inline
	// favicon, and nothing else: no script of any kind (the page has none,
	// so a key name that slipped past escaping could still not run), no
	// framing, no <base>, and forms only to this origin (the search box
	// is a plain GET form to the listing itself).
	indexCSP = "default-src 'none'; style-src '" + cspHash(indexCSS) + "'; img-src data:; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

	// readmeCSP is indexCSP on a page that shows a README: its images may
	// come from this origin too, where the object route serves them
	// (as images: no script runs in an <img>, SVG included).
	readmeCSP = strings.Replace(indexCSP, "img-src data:", "img-src data: 'self'", 1)
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// negotiate picks the representation of a listing and notes in Vary that
// Accept chose it. For the HTML index it returns the options the page
// lists with: details (the table shows type, size and date) and a page
// size. The cursor on the page is bound to exactly these options, and its
// "next" link carries them in its query (indexHref), so the next request
// parses the same binding.
func negotiate(w http.ResponseWriter, r *http.Request, opts listOptions) (listOptions, bool) {
	varyOn(w.Header(), "Accept")
	if !wantsHTML(r, opts.format) {
		return opts, false
	}
	opts.details = true
	if opts.limit == 0 {
		opts.limit = indexPageSize
	}
	return opts, true
}

// wantsHTML decides by ?format= when given, else by Accept.
func wantsHTML(r *http.Request, f format) bool {
	switch f {
	case formatHTML:
		return true
	case formatJSON:
		return false
	}
	return prefersHTML(strings.Join(r.Header.Values("Accept"), ","))
}

// prefersHTML reports whether an Accept header ranks HTML strictly above
// JSON. Browsers send text/html first and */* with a lower q; curl sends
// */*, which ranks both alike, and no Accept at all means the same. A tie
// keeps JSON, which is what every client got before the index existed.
func prefersHTML(accept string) bool {
	var html, jsonQ, jsonSpec float64 = 0, 0, -1
	for part := range strings.SplitSeq(accept, ",") {
		params := strings.Split(part, ";")
		media := strings.ToLower(strings.TrimSpace(params[0]))
		q := 1.0
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
		}
		switch media {
		case "text/html", "application/xhtml+xml":
			html = max(html, q)
		}
		// JSON's rank comes from the most specific range that covers it.
		var spec float64 = -1
		switch media {
		case "application/json":
			spec = 2
		case "application/*":
			spec = 1
		case "*/*":
			spec = 0
		}
		if spec > jsonSpec || (spec == jsonSpec && spec >= 0 && q > jsonQ) {
			jsonQ, jsonSpec = q, spec
		}
	}
	return html > 0 && html > jsonQ
}

// varyOn adds field to Vary unless it is there: other layers (compression,
// CORS) add their own fields to the same header.
func varyOn(h http.Header, field string) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return
			}
		}
	}
	h.Add("Vary", field)
}

// setIndexHeaders marks an answer as an HTML page and locks it down.
// withReadme allows the images of a README, which are the bucket's
// objects on this origin (readme.go).
func setIndexHeaders(h http.Header, withReadme bool) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	if withReadme {
		h.Set("Content-Security-Policy", readmeCSP)
	} else {
		h.Set("Content-Security-Policy", indexCSP)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // key names in URLs stay here
}

// listHref is the URL that lists path (slash-separated, relative to the
// bucket root), built by escaping each segment on its own: a name such as
// "a b+c%20d#e?f (g)" must come back from net/http's one decoding exactly
// as it is, and a "/" inside a path only ever separates segments. dir adds
// the trailing slash that says "list this as a directory".
func listHref(path string, dir bool) string {
	var b strings.Builder
	b.WriteString(listRoot)
	for seg := range strings.SplitSeq(path, "/") {
		if seg != "" {
			b.WriteByte('/')
			b.WriteString(url.PathEscape(seg))
		}
	}
	if dir {
		b.WriteByte('/')
	}
	return b.String()
}

// dirBase is the path the names in a listing of the directory path are
// relative to: "" for the root, else the path with one trailing slash.
func dirBase(path string) string {
	if path == "" {
		return ""
	}
	return strings.TrimSuffix(path, "/") + "/"
}

// fileLink is the href of the bytes of the object at path, or "" when the
// object route cannot serve it: a directory marker of a recursive listing
// ("dir1/"), or a key the request path rules refuse ("a/../b", a control
// character), which stays reachable through the listing only.
func fileLink(path string) string {
	if strings.HasSuffix(path, "/") || len(path) > maxPathLen || checkSegments(path) != nil {
		return ""
	}
	return fileHref(path)
}

// indexHref is the page of path's listing that cursor starts ("" for the
// first): the query carries every option the cursor is bound to.
func indexHref(path string, opts listOptions, cursor string) string {
	q := indexQuery(opts)
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return listHref(path, strings.HasSuffix(path, "/")) + "?" + q.Encode()
}

// indexQuery is the query of an index page with opts: every option a
// cursor is bound to, so a link and the search form keep them all.
func indexQuery(opts listOptions) url.Values {
	q := url.Values{}
	q.Set("details", "true")
	q.Set("limit", strconv.Itoa(opts.limit))
	if opts.prefix != "" {
		q.Set("prefix", opts.prefix)
	}
	if opts.recursive {
		q.Set("recursive", "true")
	}
	if opts.format == formatHTML {
		q.Set("format", "html")
	}
	if opts.sort != sortNone {
		q.Set("sort", sortNames[opts.sort])
		if opts.desc {
			q.Set("order", "desc")
		}
	}
	if opts.match != "" {
		q.Set("match", opts.match)
	}
	return q
}

// sortHref is the first page of path's listing sorted by key: ascending,
// or the other way round when it is sorted by key already, as Apache's
// column headers toggle.
func sortHref(path string, opts listOptions, key sortKey) string {
	opts.desc = opts.sort == key && !opts.desc
	opts.sort = key
	return indexHref(path, opts, "")
}

// indexPage is what a page shows (indexpage.go writes it).
type indexPage struct {
	Title  string
	Crumbs []crumb
	// DirSlash ends the heading in "/" when the page lists a directory.
	DirSlash bool
	Entries  []indexEntry
	Count    int
	Prefix   string
	Match    string
	Next     string // link to the next page, if more entries follow
	First    string // link to the first page, on a later page
	// Columns are the table's headings, linking to sorted views.
	Columns []column
	// Search is the filter form; OverCap the cap a directory is over.
	Search  search
	OverCap int
	Readme  *readme // the directory's README, shown above the table

	// Error pages only.
	Status     int
	StatusText string
	Message    string
}

// crumb is one part of the path in the page heading.
type crumb struct {
	Name    string
	Href    string
	Current bool
}

// indexEntry is one row of the table.
type indexEntry struct {
	Name     string
	Href     string
	NoLink   string // why the name has no link (Href is ""); see entryHref
	Dir      bool
	Bytes    int64
	Size     string
	Exact    bool // Size is rounded: Bytes goes in a tooltip
	Modified *modTime
}

// modTime is a modification time in UTC; a phone shows only the Day.
type modTime struct{ Day, Clock string }

// column is one heading of the table: a link to the listing sorted by
// it, and which way it is sorted now ("" when it is not).
type column struct {
	Name, Href, Sorted string
	by                 sortKey // sortNone: the column does not sort
}

// search is the filter form: a plain GET to the listing itself, carrying
// every other option of the page as hidden fields.
type search struct {
	Action    string
	Match     string
	Recursive bool
	Hidden    [][2]string // name, value
}

// pageExtras are what a page shows beside its entries: the cap a view's
// directory is over (0: it is not) and the directory's README (nil: none).
type pageExtras struct {
	overCap int
	readme  *readme
}

// renderIndex writes the page for one page of path's listing.
func renderIndex(path string, opts listOptions, entries []Entry, cursor string, extra pageExtras) ([]byte, error) {
	overCap := extra.overCap
	p := indexPage{
		Readme:  extra.readme,
		Title:   "/" + displayName(path),
		Crumbs:  crumbs(path),
		Count:   len(entries),
		Prefix:  displayName(opts.prefix),
		Match:   displayName(opts.match),
		Columns: columns(path, opts, overCap == 0),
		Search:  searchForm(path, opts),
		OverCap: overCap,
	}
	resumed := opts.cursor != nil || opts.after != nil
	if cursor != "" {
		p.Next = indexHref(path, opts, cursor)
	}
	if resumed {
		p.First = indexHref(path, opts, "")
	}
	base := entryBase(path, entries, !resumed && cursor == "")
	p.DirSlash = path != "" && base == strings.TrimSuffix(path, "/")+"/"
	p.Entries = make([]indexEntry, len(entries))
	for i, e := range entries {
		row := &p.Entries[i]
		row.Name, row.Dir = displayName(e.Name), e.Dir
		row.Href, row.NoLink = entryHref(base+e.Name, e.Dir)
		if href := fileLink(base + e.Name); opts.fileLinks && !e.Dir && href != "" {
			row.Href = href // its bytes (--serve-objects)
		}
		if e.Dir {
			row.Size = "—"
			continue
		}
		row.Bytes, row.Size, row.Exact = e.Size, humanSize(e.Size), e.Size >= 1024
		if !e.Modified.IsZero() {
			t := e.Modified.UTC()
			row.Modified = &modTime{Day: t.Format(time.DateOnly), Clock: t.Format("15:04")}
		}
	}
	return renderIndexPage(p)
}

// entryHref is the link of an entry at path, or why it has none. S3 keys
// may hold segments the API refuses as a path (".", "..", empty, a
// control character): "h/./y" is a key, "h/./" a common prefix named ".".
// A link to such a name would not list it: a browser resolves "h/./" to
// "h/" and "h/../" to the root, and the API answers the rest with a 400.
// The JSON lists these names as they are; the page shows them as text.
func entryHref(path string, dir bool) (href, noLink string) {
	target := path
	if dir {
		target += "/"
	}
	if err := checkSegments(target); err != nil || len(target) > maxPathLen {
		why := "longer than 1024 bytes"
		if err != nil {
			why = strings.TrimPrefix(err.Error(), "invalid path: ")
		}
		return "", "No link: the listing API cannot open this name (" + why + "); the JSON listing has it"
	}
	return listHref(path, dir), ""
}

// columns are the table's headings: name, size and date link to the
// listing sorted by them; type does not sort. sorted says the entries are
// in opts's order (not so over the cap), so its column is marked.
func columns(path string, opts listOptions, sorted bool) []column {
	out := []column{{Name: "Name", by: sortName}, {Name: "Type"}, {Name: "Size", by: sortSize}, {Name: "Modified (UTC)", by: sortModified}}
	for i := range out {
		c := &out[i]
		if c.by == sortNone {
			continue
		}
		c.Href = sortHref(path, opts, c.by)
		if sorted && opts.sort == c.by {
			c.Sorted = "ascending"
			if opts.desc {
				c.Sorted = "descending"
			}
		}
	}
	return out
}

// searchForm is the filter form of path's page: it submits match and the
// recursive box, and keeps every other option (a cursor starts again).
func searchForm(path string, opts listOptions) search {
	f := search{Action: listHref(path, strings.HasSuffix(path, "/")), Match: opts.match, Recursive: opts.recursive}
	q := indexQuery(opts)
	q.Del("match")
	q.Del("recursive")
	for _, k := range slices.Sorted(maps.Keys(q)) {
		f.Hidden = append(f.Hidden, [2]string{k, q.Get(k)})
	}
	return f
}

// entryBase is the path the entry names are relative to: the listed
// directory, or its parent when the path names an object (a Lister lists
// an object path as one entry, its base name, like ls FILE). Only a path
// written without a trailing slash can name an object; the index's own
// directory links always carry the slash, so following links never meets
// the one ambiguous shape (a directory "x" whose only entry is a file "x",
// opened as "x").
func entryBase(path string, entries []Entry, whole bool) string {
	if path == "" {
		return ""
	}
	if strings.HasSuffix(path, "/") {
		return path
	}
	parent, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		parent, name = path[:i+1], path[i+1:]
	}
	if whole && len(entries) == 1 && !entries[0].Dir && entries[0].Name == name {
		return parent
	}
	return path + "/"
}

// displayName is a name as the page shows it: with every bidirectional
// control character written as a \u escape. Escaping keeps markup out;
// this keeps a name from reordering itself on screen ("\u202egnp.exe"
// would show as "exe.png"). Other characters, emoji joiners included,
// show as they are.
func displayName(name string) string {
	if !strings.ContainsFunc(name, isBidiControl) {
		return name
	}
	var b strings.Builder
	for _, r := range name {
		if isBidiControl(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isBidiControl reports the characters Unicode lists as bidirectional
// controls (UAX #9): marks, embeddings, overrides and isolates.
func isBidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// crumbs splits path into heading parts, each linking to its listing.
func crumbs(path string) []crumb {
	out := []crumb{{Name: "/", Href: listHref("", true)}}
	parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
	if path == "" {
		parts = nil
	}
	for i, name := range parts {
		sub := strings.Join(parts[:i+1], "/")
		dir := i < len(parts)-1 || strings.HasSuffix(path, "/")
		out = append(out, crumb{Name: displayName(name), Href: listHref(sub, dir)})
	}
	out[len(out)-1].Current = true
	return out
}

// humanSize is a size in binary units with at most one decimal: "5 B",
// "1.5 KiB", "12 MiB". The exact byte count is in the cell's title.
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	unit := -1
	for v >= 1024 && unit < 5 {
		v /= 1024
		unit++
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	prec := 1
	if v >= 10 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + units[unit]
}

// errorPage is writeError's hook: a browser gets the error as an HTML page
// carrying the message the JSON error has, every other client the JSON
// (errorPage reports false and writes nothing). The query is read here
// directly because the error may be the query itself, so no parsed
// options exist; a format=json or format=html that reads cleanly still
// wins over Accept.
func errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) bool {
	varyOn(w.Header(), "Accept")
	f := formatAuto
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(q["format"]) == 1 {
		switch q["format"][0] {
		case "json":
			f = formatJSON
		case "html":
			f = formatHTML
		}
	}
	if !wantsHTML(r, f) {
		return false
	}
	text := http.StatusText(status)
	if text == "" {
		text = "Error"
	}
	p := indexPage{
		Title:      strconv.Itoa(status) + " " + text,
		Crumbs:     crumbs(""),
		Status:     status,
		StatusText: text,
		Message:    msg,
	}
	p.Crumbs[0].Current = false
	if status == http.StatusNotFound && r.PathValue("path") != "" {
		// A valid path that names nothing: its parents are a click away.
		p.Crumbs = crumbs(r.PathValue("path"))
	}
	page, err := renderErrorPage(p)
	if err != nil {
		panic(err) // a tree of our own into memory; cannot fail
	}
	h := w.Header()
	setIndexHeaders(h, false)
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(status)
	_, _ = w.Write(page)
	return true
}
