package service

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bucketls/bucketls/internal/hidden"
)

// errStopWalk ends a listing early on purpose: HEAD, 304 and the readiness
// probe need the first page only.
var errStopWalk = errors.New("stop walk")

// listLimits are the bounds a listing request runs under (see Config).
type listLimits struct {
	request time.Duration // whole request; 0: none
	stall   time.Duration // one write to the client
}

// handleList serves GET and HEAD /list-bucket-content[/{path...}]: a view
// (sort= or match=, view.go) through views, every other listing as the
// lister walks it, without what hide hides (a hidden path is a 404).
// fileLinks (--serve-objects) links files to their bytes: the index's
// rows, and an href in each file of a details listing; readmes (nil
// without it) puts a directory's README above its index.
func handleList(lister Lister, views *viewer, hide *hidden.Set, ready *readiness, limits listLimits, fileLinks bool, readmes *readmes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, opts, err := parseListRequest(r, hide)
		if err != nil {
			writeError(w, r, err)
			return
		}
		opts.fileLinks = fileLinks
		opts, html := negotiate(w, r, opts) // index.go: browsers get the HTML index
		req := opts.request(path)
		req.Hide = hide.Under(path)
		ctx := r.Context()
		if limits.request > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, limits.request, errRequestTimeout)
			defer cancel()
		}
		lw := newListWriter(w, r, opts, path, limits.stall)
		lw.html = html
		if html {
			lw.readmes = readmes
		}
		switch {
		case opts.isView() && opts.cursor == nil:
			err = views.serve(ctx, lister, req, opts, path, lw)
		case opts.isView():
			// A key-order cursor of a view: the directory was over the
			// cap when its first page was asked for.
			lw.overCap = views.cap
			err = listKeyOrder(ctx, lister, req, path, lw)
		default:
			err = listKeyOrder(ctx, lister, req, path, lw)
		}
		finishList(ctx, w, r, err, lw, ready)
	})
}

// parseListRequest is the listing's validated path and typed options; a
// hidden path is refused exactly as a path that names nothing.
func parseListRequest(r *http.Request, hide *hidden.Set) (string, listOptions, error) {
	path, err := parseListPath(r.PathValue("path"))
	if err != nil {
		return "", listOptions{}, err
	}
	opts, err := parseListOptions(r.URL.RawQuery, path)
	if err != nil {
		return "", listOptions{}, err
	}
	if hide.Hidden(path) {
		return "", listOptions{}, fmt.Errorf("list %q: hidden: %w", path, ErrNotFound)
	}
	return path, opts, nil
}

// finishList ends a listing by how its walk ended: done, an error still
// answered with its status, or, once part of the list is out, a broken
// transfer.
func finishList(ctx context.Context, w http.ResponseWriter, r *http.Request, err error, lw *listWriter, ready *readiness) {
	switch {
	case err == nil || errors.Is(err, errStopWalk):
		ready.answered()
		return
	case errors.Is(err, ErrNotFound):
		ready.answered() // storage did answer
	}
	if context.Cause(ctx) == errRequestTimeout {
		noteLimit(r, limitRequest)
	}
	if lw.committed {
		// Status and part of the list are out: the only honest thing
		// left is to break the transfer (recoverPanics lets
		// http.ErrAbortHandler through).
		noteError(r, err)
		markAborted(r)
		panic(http.ErrAbortHandler)
	}
	writeError(w, r, err)
}

// listKeyOrder answers a listing in S3's key order, as the lister walks it.
func listKeyOrder(ctx context.Context, lister Lister, req ListRequest, path string, lw *listWriter) error {
	next, err := lister.List(ctx, req, lw.emit)
	if err == nil && req.Limit > 0 {
		err = lw.whole(next, path)
	}
	return err
}

// errRequestTimeout is the cause of a request ended by --request-timeout.
var errRequestTimeout = errors.New("request timeout")

// commitThreshold is how much of a streamed listing is held before the
// status goes out. Until then a storage failure still gets its own status
// and JSON error instead of a cut connection; past it, memory stays flat.
const commitThreshold = 64 << 10

// listWriter writes a listing as the Lister hands it over: in one piece
// with an ETag when the first batch is also the last (or when the request
// pages with limit, which bounds the size), otherwise streamed batch by
// batch so memory stays flat however large the directory.
type listWriter struct {
	w       http.ResponseWriter
	r       *http.Request
	opts    listOptions
	path    string // the listed path, as parseListPath returned it
	stall   time.Duration
	buf     []byte  // body not sent yet
	entries []Entry // a limited page, collected whole
	opened  bool    // the streamed body has begun (in buf or on the wire)
	html    bool    // the HTML index (always paged, so always whole)
	wrote   bool    // at least one entry streamed (a comma is due before the next)
	overCap int     // a view's directory is over this cap: say so (view.go)

	readmes     *readmes // the index shows the directory's README (nil: never)
	readmeShown bool     // the page holds one: its CSP allows its images

	committed bool // status and headers are sent
}

func newListWriter(w http.ResponseWriter, r *http.Request, opts listOptions, path string, stall time.Duration) *listWriter {
	return &listWriter{w: w, r: r, opts: opts, path: path, stall: stall}
}

func (lw *listWriter) emit(entries []Entry, last bool) error {
	if lw.opts.limit > 0 {
		if lw.entries == nil {
			// The walk is done with a batch it hands out: keep it rather
			// than a copy (a page of 1,000 is 88 KiB).
			lw.entries = entries
		} else {
			lw.entries = append(lw.entries, entries...)
		}
		return nil
	}
	if !lw.opened && last {
		lw.entries = entries
		return lw.whole(nil, lw.path)
	}
	if !lw.opened {
		lw.setHeaders()
		if ifNoneMatch(lw.r, "") || lw.r.Method == http.MethodHead {
			// Same headers as GET, no need to walk on.
			return lw.sendStatus(http.StatusOK)
		}
		lw.opened = true
		lw.buf = append(lw.buf, `{"content":[`...)
	}
	if len(entries) > 0 {
		if lw.wrote {
			lw.buf = append(lw.buf, ',')
		}
		var err error
		// Streamed means more than one batch: a directory, which the
		// names are relative to.
		if lw.buf, err = appendEntries(lw.buf, entries, lw.opts, dirBase(lw.path)); err != nil {
			return err
		}
		lw.wrote = true
	}
	if last {
		lw.buf = append(lw.buf, ']')
		if lw.overCap > 0 {
			lw.buf = append(lw.buf, `,"overCap":`...)
			lw.buf = strconv.AppendInt(lw.buf, int64(lw.overCap), 10)
		}
		lw.buf = append(lw.buf, '}')
	}
	if last || lw.committed || len(lw.buf) >= commitThreshold {
		return lw.flush()
	}
	return nil
}

func (lw *listWriter) setHeaders() {
	h := lw.w.Header()
	h.Set("Content-Type", "application/json") // Cache-Control: cachePolicy, as the status goes out
	if lw.html {
		setIndexHeaders(h, lw.readmeShown)
	}
}

// sendStatus answers HEAD and If-None-Match: * for a streamed listing.
func (lw *listWriter) sendStatus(status int) error {
	if ifNoneMatch(lw.r, "") {
		status = http.StatusNotModified
	}
	lw.w.WriteHeader(status)
	return errStopWalk
}

// flush sends what is held, the status first if it has not gone yet. Each
// write gets its own deadline, renewed as the client makes progress, so a
// listing of any size completes for a client that keeps reading, and one
// that stops is cut off after the stall timeout (logged as such).
func (lw *listWriter) flush() error {
	if !lw.committed {
		lw.committed = true
		lw.w.WriteHeader(http.StatusOK)
	}
	rc := http.NewResponseController(lw.w)
	if lw.stall > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(lw.stall))
	}
	_, err := lw.w.Write(lw.buf)
	if err == nil {
		err = rc.Flush()
	}
	if cap(lw.buf) > 2*commitThreshold/3 {
		// The buffer that held the first 64 KiB is not needed at that
		// size again: a batch is a fraction of it. Letting it go keeps 64
		// streaming listings from holding 64 of them.
		lw.buf = nil
	} else {
		lw.buf = lw.buf[:0]
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			noteLimit(lw.r, limitStall)
		}
		return &clientWriteError{err}
	}
	return nil
}

// clientWriteError is a failed write to the client: the client's fault
// (gone or stalled), never storage's.
type clientWriteError struct{ err error }

func (e *clientWriteError) Error() string { return "write to client: " + e.err.Error() }
func (e *clientWriteError) Unwrap() error { return e.err }

// listBody is a names listing sent in one piece.
type listBody struct {
	Content []string `json:"content"`
	Next    string   `json:"next,omitempty"`
	OverCap int      `json:"overCap,omitempty"`
}

// detailBody is a details listing sent in one piece.
type detailBody struct {
	Content []entryJSON `json:"content"`
	Next    string      `json:"next,omitempty"`
	OverCap int         `json:"overCap,omitempty"`
}

// entryJSON is an entry with details=true.
type entryJSON struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Size         *int64 `json:"size,omitempty"`
	Modified     string `json:"modified,omitempty"`
	ETag         string `json:"etag,omitempty"`
	StorageClass string `json:"storageClass,omitempty"`
	// Href is where a file's bytes are (--serve-objects only).
	Href string `json:"href,omitempty"`
}

// toJSON is entries with details. With fileLinks each file gets the href
// of its bytes; base is the path the names are relative to.
func toJSON(entries []Entry, fileLinks bool, base string) []entryJSON {
	out := make([]entryJSON, len(entries))
	for i := range entries {
		e := &entries[i]
		j := &out[i]
		j.Name = e.Name
		if e.Dir {
			j.Type = "directory"
			continue
		}
		j.Type = "file"
		j.Size = &e.Size
		if !e.Modified.IsZero() {
			j.Modified = e.Modified.UTC().Format(time.RFC3339)
		}
		j.ETag, j.StorageClass = e.ETag, e.StorageClass
		if fileLinks {
			j.Href = fileLink(base + e.Name)
		}
	}
	return out
}

func entryNames(entries []Entry) []string {
	out := make([]string, len(entries))
	for i := range entries {
		out[i] = entries[i].Name
	}
	return out
}

// appendEntries appends the entries as the inside of a JSON array; base
// is the path their names are relative to.
func appendEntries(buf []byte, entries []Entry, opts listOptions, base string) ([]byte, error) {
	var b []byte
	var err error
	if opts.details {
		b, err = json.Marshal(toJSON(entries, opts.fileLinks, base))
	} else {
		b, err = json.Marshal(entryNames(entries))
	}
	if err != nil {
		return buf, err
	}
	return append(buf, b[1:len(b)-1]...), nil // drop the brackets: this batch joins a longer array
}

// whole sends a listing in one piece, with a strong ETag over the exact
// bytes so clients can revalidate with If-None-Match. Larger listings
// stream and never see their last byte before their first, so they get
// none. With limit the page is bounded, so it always goes whole, with the
// cursor of the next page in the body and in a Link header.
func (lw *listWriter) whole(next *Position, path string) error {
	var cursor string
	if next != nil {
		cursor = encodeCursor(next, lw.opts.binding(path))
	}
	body, err := lw.render(cursor, path)
	if err != nil {
		return err
	}
	return lw.send(body, cursor, path)
}

// render writes the held entries as the body of a whole answer.
func (lw *listWriter) render(cursor, path string) ([]byte, error) {
	entries := lw.entries
	switch {
	case lw.html:
		return renderIndex(path, lw.opts, entries, cursor, pageExtras{overCap: lw.overCap, readme: lw.readme(path, entries, cursor)})
	case lw.opts.details:
		base := entryBase(path, entries, lw.opts.cursor == nil && lw.opts.after == nil && cursor == "")
		return json.Marshal(detailBody{Content: toJSON(entries, lw.opts.fileLinks, base), Next: cursor, OverCap: lw.overCap})
	default:
		return json.Marshal(listBody{Content: entryNames(entries), Next: cursor, OverCap: lw.overCap})
	}
}

// readme is the README of the listed directory for the index's first
// page of it (readme.go), or nil: none, objects not served, a later page,
// or a path that names an object.
func (lw *listWriter) readme(path string, entries []Entry, cursor string) *readme {
	resumed := lw.opts.cursor != nil || lw.opts.after != nil
	if lw.readmes == nil || resumed {
		return nil
	}
	dir := dirBase(path)
	if entryBase(path, entries, cursor == "") != dir {
		return nil
	}
	// Over the cap match filtered nothing.
	filtered := lw.opts.prefix != "" || (lw.opts.match != "" && lw.overCap == 0)
	r := lw.readmes.section(lw.r.Context(), dir, entries, cursor == "" && !filtered)
	lw.readmeShown = r != nil
	return r
}

// send answers with body, its ETag and the Link to the page cursor starts.
func (lw *listWriter) send(body []byte, cursor, path string) error {
	etag := etagOf(body)
	lw.setHeaders()
	h := lw.w.Header()
	h.Set("ETag", etag)
	if cursor != "" {
		next := nextURL(lw.r, cursor)
		if lw.html {
			next = indexHref(path, lw.opts, cursor)
		}
		h.Set("Link", "<"+next+`>; rel="next"`)
	}
	if ifNoneMatch(lw.r, etag) {
		lw.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	lw.w.WriteHeader(http.StatusOK)
	if lw.r.Method == http.MethodHead {
		return nil
	}
	_, err := lw.w.Write(body)
	return err
}

// nextURL is the request's own URL with the cursor of the next page: the
// path as the client escaped it and every other parameter kept.
func nextURL(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	return r.URL.EscapedPath() + "?" + q.Encode()
}

// etagOf is a strong validator over the body bytes; FNV-64a is plenty to
// tell two listings of one path apart and costs nanoseconds.
func etagOf(body []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(body)
	var sum [8]byte
	return `"` + hex.EncodeToString(h.Sum(sum[:0])) + `"`
}

// ifNoneMatch reports whether the request's If-None-Match matches etag
// (weak comparison, as RFC 9110 asks for this header) or is "*" (the
// listing exists, which is the case whenever this is asked).
func ifNoneMatch(r *http.Request, etag string) bool {
	v := r.Header.Get("If-None-Match")
	if v == "" {
		return false
	}
	for tag := range strings.SplitSeq(v, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		// The compressor suffixes the ETag of a compressed body; the
		// listing it validates is the same.
		tag = strings.Replace(tag, compressedETagSuffix+`"`, `"`, 1)
		tag = strings.Replace(tag, zstdETagSuffix+`"`, `"`, 1)
		if etag != "" && strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
