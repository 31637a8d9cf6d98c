package service

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A view is a listing with sort= or match=. S3 hands out keys in key
// order only, so a view reads the whole directory (through the same walk,
// page cache and coalescing as any listing), keeps the names match
// allows, sorts them and pages through the result with cursors bound to
// the view. A directory with more entries than the cap (--view-cap) is
// never read whole: its answer is the plain listing in key order, every
// page of it marked overCap. Sorting only the entries read so far would
// give a wrong order that looks right.
//
// Directories come first in every sort and both orders, as nginx
// fancyindex (fancyindex_directories_first, on by default), Caddy's browse
// (its default sort, namedirfirst) and Apache's FoldersFirst do: S3's
// directories are common prefixes with no size and no date, so there is
// no place for them among files sorted by either. Names compare without
// case first (Caddy's rule; "README" next to "readme"), then byte by byte,
// so the order is total and a cursor can say where a page ended.

// sortKey is what a view sorts by.
type sortKey int

const (
	sortNone     sortKey = iota // key order (a view by match alone)
	sortName                    // name, without case first
	sortSize                    // size, then name
	sortModified                // last modified, then name
)

// sortNames are the values of sort=, by sortKey.
var sortNames = []string{"", "name", "size", "modified"}

// viewsPerCore is how many views are built at once per core. Building
// one is CPU work (decoding its S3 pages, sorting) and holds the whole
// directory, so more at once would only add memory, not speed.
const viewsPerCore = 2

// isView reports whether the options ask for a view.
func (o listOptions) isView() bool { return o.sort != sortNone || o.match != "" }

// viewer builds views: the cap and the slots that bound how many are
// built at once.
type viewer struct {
	cap   int
	slots chan struct{}
}

func newViewer(limit int) *viewer {
	return &viewer{cap: limit, slots: make(chan struct{}, viewsPerCore*runtime.GOMAXPROCS(0))}
}

// errOverCap stops a view's walk at the first entry past the cap.
var errOverCap = errors.New("directory over the view cap")

// serve answers a view request: the view's page, or, for a directory over
// the cap, the plain listing in key order marked overCap.
// req is the key-order listing's request: its limit and hidden names.
func (v *viewer) serve(ctx context.Context, lister Lister, req ListRequest, opts listOptions, path string, lw *listWriter) error {
	select {
	case v.slots <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	held := true
	release := func() {
		if held {
			held = false
			<-v.slots
		}
	}
	defer release()
	whole := req
	whole.Limit, whole.After = 0, nil
	entries, err := v.read(ctx, lister, whole, opts.match)
	if errors.Is(err, errOverCap) {
		release()
		lw.overCap = v.cap
		opts.after = nil // a view cursor from before the directory grew: start again
		lw.opts = opts
		return listKeyOrder(ctx, lister, req, path, lw)
	}
	if err != nil {
		return err
	}
	sortView(entries, opts)
	page, next := viewPage(entries, opts)
	var cursor string
	if next != nil {
		cursor = encodeViewCursor(next, opts.binding(path))
	}
	lw.entries = page
	body, err := lw.render(cursor, path)
	// The body is all that is left of the view; a slow client must not
	// keep a slot while it takes it.
	release()
	if err != nil {
		return err
	}
	return lw.send(body, cursor, path)
}

// read walks the directory whole (req without limit or cursor) and keeps
// the entries match allows, or stops with errOverCap at the first entry
// past the cap. It asks S3 for exactly the pages the plain listing asks
// for, so the two share the page cache and coalesced calls.
func (v *viewer) read(ctx context.Context, lister Lister, req ListRequest, match string) ([]Entry, error) {
	needle := foldString(match)
	var kept []Entry
	n := 0
	_, err := lister.List(ctx, req, func(batch []Entry, last bool) error {
		n += len(batch)
		if n > v.cap {
			return errOverCap
		}
		if needle == "" && kept == nil && last {
			kept = batch // the whole directory in one batch: no copy
			return nil
		}
		for _, e := range batch {
			if needle == "" || containsFold(e.Name, needle) {
				kept = append(kept, e)
			}
		}
		return nil
	})
	if kept == nil {
		kept = []Entry{}
	}
	return kept, err
}

// sortView puts a view's entries in its order. sort.Sort compares the
// entries in place; slices.SortFunc would copy two entries into every
// comparison, which cost twice the sort itself on 10,000 entries.
func sortView(entries []Entry, opts listOptions) {
	sort.Sort(viewOrder{entries, opts.comparer()})
}

// viewOrder sorts entries by cmp.
type viewOrder struct {
	e   []Entry
	cmp func(a, b *Entry) int
}

func (v viewOrder) Len() int           { return len(v.e) }
func (v viewOrder) Less(i, j int) bool { return v.cmp(&v.e[i], &v.e[j]) < 0 }
func (v viewOrder) Swap(i, j int)      { v.e[i], v.e[j] = v.e[j], v.e[i] }

// viewPage is the page of a sorted view the options ask for: the entries
// after the cursor's position, at most limit of them (all without
// limit), and the position of its last entry when more follow.
func viewPage(entries []Entry, opts listOptions) ([]Entry, *viewPos) {
	start := 0
	if a := opts.after; a != nil {
		at, cmp := a.entry(), opts.comparer()
		start = sort.Search(len(entries), func(i int) bool { return cmp(&entries[i], &at) > 0 })
	}
	end := len(entries)
	if opts.limit > 0 && start+opts.limit < end {
		end = start + opts.limit
	}
	page := entries[start:end]
	if end == len(entries) || len(page) == 0 {
		return page, nil
	}
	return page, positionOf(&page[len(page)-1], opts.sort)
}

// comparer orders two entries of a view: directories first, then by the
// sort key, names breaking ties, all reversed by order=desc but for
// directories coming first. A view by match alone keeps S3's key order.
func (o listOptions) comparer() func(a, b *Entry) int {
	by, desc := o.sort, o.desc
	if by == sortNone {
		return func(a, b *Entry) int { return strings.Compare(listedKey(a), listedKey(b)) }
	}
	return func(a, b *Entry) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		c := 0
		switch by {
		case sortSize:
			c = cmp.Compare(a.Size, b.Size)
		case sortModified:
			c = a.Modified.Compare(b.Modified)
		}
		if c == 0 {
			c = compareFold(a.Name, b.Name)
		}
		if c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		if desc {
			return -c
		}
		return c
	}
}

// listedKey is an entry's key relative to the listed directory, as S3
// orders it: a directory's with its slash.
func listedKey(e *Entry) string {
	if e.Dir && !strings.HasSuffix(e.Name, "/") {
		return e.Name + "/"
	}
	return e.Name
}

// viewPos is where a page of a view ended: what the view's order reads of
// its last entry. Pages go on after it in that order, so an entry added
// or removed meanwhile moves nothing else, and no server state is kept.
type viewPos struct {
	dir   bool
	value int64 // size, or modification time in Unix nanoseconds
	name  string
}

func positionOf(e *Entry, by sortKey) *viewPos {
	p := &viewPos{dir: e.Dir, name: e.Name}
	switch by {
	case sortSize:
		p.value = e.Size
	case sortModified:
		if !e.Modified.IsZero() {
			p.value = e.Modified.UnixNano()
		}
	}
	return p
}

// entry is the position as an entry the view's comparison can read.
func (p *viewPos) entry() Entry {
	e := Entry{Name: p.name, Dir: p.dir, Size: p.value}
	if p.value != 0 {
		e.Modified = time.Unix(0, p.value).UTC()
	}
	return e
}

// foldRune maps r to one rune that stands for every case of it: the lower
// case of its upper case, so 'K', 'k' and the Kelvin sign, or 'S', 's'
// and the long s, fold alike.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// foldString is s with every rune folded; s itself when nothing changes.
func foldString(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return foldRune(r) != r }) {
		return s
	}
	return strings.Map(foldRune, s)
}

// containsFold reports whether name holds needle (already folded) when
// case is ignored.
func containsFold(name, needle string) bool {
	if strings.Contains(name, needle) {
		return true
	}
	return strings.Contains(foldString(name), needle)
}

// compareFold compares two names rune by rune with case folded, without
// building folded copies: a sort makes thousands of comparisons.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := rune(a[0]), 1
		if ra >= utf8.RuneSelf {
			ra, na = utf8.DecodeRuneInString(a)
		}
		rb, nb := rune(b[0]), 1
		if rb >= utf8.RuneSelf {
			rb, nb = utf8.DecodeRuneInString(b)
		}
		if ra != rb {
			if c := cmp.Compare(foldRune(ra), foldRune(rb)); c != 0 {
				return c
			}
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}
