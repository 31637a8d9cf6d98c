package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bucketls/bucketls/internal/hidden"
)

// fileRoot is where --serve-objects serves objects' bytes: GET
// /files/<key> answers the object at <key> (under --root-prefix), with
// the path rules of the listings.
const fileRoot = "/files"

// objectCSP is on every answer that carries an object: the bucket's bytes
// must never run in the index's origin, where a script could read the
// index, its cookies and, with --htpasswd, act as the logged-in user.
// sandbox gives the document an opaque origin and no scripts, forms,
// popups or plugins; default-src 'none' loads nothing else, except what a
// browser's own viewer of an image, audio or video object loads from the
// object's URL.
const objectCSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"

// passiveTypes are the media types a browser may show in its own tab
// (Content-Disposition: inline): none of them can run a script or pull in
// other content. Everything else, HTML, SVG, XML, JavaScript, CSS and every
// type not named here, is sent as an attachment, which browsers save
// instead of showing; nosniff keeps them from guessing a type that would
// show. PDF is saved too: Chromium's PDF viewer counts as a plugin, which
// the sandbox blocks ("This page has been blocked by Chrome",
// crbug.com/413851), and a download opens in a viewer of its own.
var passiveTypes = map[string]bool{
	"text/plain": true, "text/csv": true, "application/json": true,
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true, "image/bmp": true,
	"image/x-icon": true, "image/vnd.microsoft.icon": true,
	"audio/mpeg": true, "audio/ogg": true, "audio/wav": true, "audio/webm": true, "audio/flac": true, "audio/aac": true, "audio/mp4": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true,
	"application/octet-stream": true, "application/zip": true, "application/gzip": true, "application/x-tar": true,
	"application/x-7z-compressed": true, "application/x-xz": true, "application/x-bzip2": true, "application/zstd": true,
}

// fileHref is the URL of the bytes of the object at path (relative to the
// served root), each segment escaped as listHref does.
func fileHref(path string) string {
	return fileRoot + strings.TrimPrefix(listHref(path, false), listRoot)
}

// handleFile serves GET and HEAD /files/{path...}: the object's bytes
// through http.ServeContent, which does the HTTP semantics (Range,
// If-Range, If-None-Match, If-Modified-Since, If-Match,
// If-Unmodified-Since, HEAD) over an objectReader that turns its seeks and
// reads into ranged GetObject calls.
//
// A path --hide hides is the 404 of a missing object, as for listings.
func handleFile(objects ObjectReader, hide *hidden.Set, ready *readiness, stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, err := parseFilePath(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if path == "" || strings.HasSuffix(path, "/") {
			// A directory (or its zero-byte marker): never served as an
			// object, so a marker's empty body cannot pass for a file.
			where := "the root"
			if path != "" {
				where = printable(path)
			}
			writeErrorMessage(w, r, http.StatusNotFound, "not a file: "+where+" is a directory; its listing is "+listHref(path, true))
			return
		}
		if hide.Hidden(path) {
			writeError(w, r, fmt.Errorf("get %q: hidden: %w", path, ErrNotFound))
			return
		}
		r = withoutMultiRange(r)
		rd, err := openObject(r, objects, path)
		if err == nil || errors.Is(err, ErrNotFound) {
			ready.answered()
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer rd.close()
		setObjectHeaders(w.Header(), path, rd.obj)
		ow := &objectWriter{ResponseWriter: w, r: r, stall: stall}
		http.ServeContent(ow, r, "", rd.obj.Modified, rd)
		switch {
		case ow.refused != 0:
			clearObjectHeaders(w.Header(), ow.refused == http.StatusRequestedRangeNotSatisfiable)
			writeErrorMessage(w, r, ow.refused, refusal(ow.refused, path, rd.obj.Size))
		case rd.err != nil && !ow.sent:
			// Nothing is out yet: the usual error answer.
			clearObjectHeaders(w.Header(), false)
			writeError(w, r, rd.err)
		case rd.err != nil || ow.err != nil:
			// Status and part of the body are out: break the transfer, so
			// the client sees fewer bytes than Content-Length and never
			// takes a part for the whole file.
			noteError(r, errors.Join(rd.err, ow.err))
			markAborted(r)
			panic(http.ErrAbortHandler)
		default:
			ow.commit() // HEAD, 304 and an empty object send no body
		}
	})
}

// parseFilePath validates the object path as listing paths are validated;
// the route takes no query parameters.
func parseFilePath(r *http.Request) (string, error) {
	path, err := parseListPath(r.PathValue("path"))
	if err != nil {
		return "", err
	}
	if r.URL.RawQuery != "" {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return "", queryErrorf("invalid query string: %s", printable(err.Error()))
		}
		name := ""
		if len(q) > 0 {
			name = slices.Sorted(maps.Keys(q))[0]
		}
		return "", queryErrorf("unknown query parameter %q; %s/<path> takes none", printable(name), fileRoot)
	}
	return path, nil
}

// refusal is the message of an answer http.ServeContent refused.
func refusal(status int, path string, size int64) string {
	switch status {
	case http.StatusRequestedRangeNotSatisfiable:
		return fmt.Sprintf("range not satisfiable: %s has %d bytes", printable(path), size)
	case http.StatusPreconditionFailed:
		return "precondition failed: If-Match or If-Unmodified-Since does not hold for " + printable(path)
	}
	return "internal error"
}

// withoutMultiRange drops a Range header that asks for more than one
// range: the whole object is sent instead (RFC 9110 lets a server ignore
// Range), as S3 does. Serving each range would make one request cost as
// many GetObject calls as the header has ranges.
func withoutMultiRange(r *http.Request) *http.Request {
	if !strings.Contains(r.Header.Get("Range"), ",") {
		return r
	}
	r = r.Clone(r.Context())
	r.Header.Del("Range")
	return r
}

// conditionalHeaders are the request headers that can make an answer a
// 304, a 412 or a whole object instead of a range.
var conditionalHeaders = []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"}

// openObject asks storage for the object. A GET with no conditions gets
// the bytes it will most likely send in the same call (one round trip to
// S3, as a direct GetObject costs); HEAD, a conditional GET and a Range
// this does not read ask for the metadata first (HeadObject), and the
// bytes, if any are sent, follow in a ranged GetObject of just them.
func openObject(r *http.Request, objects ObjectReader, path string) (*objectReader, error) {
	rd := &objectReader{ctx: r.Context(), objects: objects, path: path}
	guess, ok := rangeGuess(r)
	if ok {
		guess.Path = path
		obj, body, err := objects.ReadObject(rd.ctx, guess)
		if err == nil {
			rd.obj, rd.body, rd.bodyPos, rd.bodyEnd = obj, body, obj.Offset, obj.Offset+obj.Length
			return rd, nil
		}
		if !errors.Is(err, ErrRangeNotSatisfiable) {
			return nil, err
		}
		// Past the end, or an empty object: ServeContent decides between
		// 416 and 200 from the size.
	}
	obj, err := objects.StatObject(rd.ctx, path)
	rd.obj = obj
	return rd, err
}

// rangeGuess is the part of the object a GET will be answered with,
// when the request says so plainly: no conditions, and no Range or one
// in the forms bytes=first-last, bytes=first- or bytes=-suffix. It only
// saves a call: whatever http.ServeContent decides is what is sent, and
// a guess it does not use costs a second GetObject, never a wrong byte
// (FuzzFileRange holds the answers to those of ServeContent over the
// bytes themselves).
func rangeGuess(r *http.Request) (ObjectRead, bool) {
	if r.Method != http.MethodGet {
		return ObjectRead{}, false
	}
	for _, h := range conditionalHeaders {
		if _, ok := r.Header[h]; ok {
			return ObjectRead{}, false
		}
	}
	v := r.Header.Values("Range")
	switch len(v) {
	case 0:
		return ObjectRead{}, true
	case 1:
	default:
		return ObjectRead{}, false
	}
	spec, ok := strings.CutPrefix(v[0], "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 {
		return ObjectRead{}, false
	}
	if first == "" {
		n, ok := digits(last)
		return ObjectRead{Suffix: n}, ok && n > 0
	}
	start, ok := digits(first)
	if !ok {
		return ObjectRead{}, false
	}
	if last == "" {
		return ObjectRead{Offset: start}, true
	}
	end, ok := digits(last)
	if !ok || end < start {
		return ObjectRead{}, false
	}
	return ObjectRead{Offset: start, Length: end - start + 1}, true
}

// digits reads a decimal of 1 to 18 ASCII digits (no sign, no space).
func digits(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// setObjectHeaders sets what every answer with the object carries: its
// type, validators and encoding as S3 has them, and the headers that keep
// its bytes from running in the index's origin.
func setObjectHeaders(h http.Header, path string, obj Object) {
	ctype, passive := objectType(obj.ContentType)
	h.Set("Content-Type", ctype)
	if obj.ETag != "" {
		h.Set("ETag", obj.ETag)
	}
	if obj.ContentEncoding != "" {
		// As stored (a pre-compressed object): the client decodes it.
		// ServeContent leaves Content-Length out of such an answer
		// unless it is a range; the stored size is the length sent.
		h.Set("Content-Encoding", obj.ContentEncoding)
		h.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	}
	h.Set("Content-Security-Policy", objectCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "attachment"
	if passive {
		disposition = "inline"
	}
	h.Set("Content-Disposition", contentDisposition(disposition, path[strings.LastIndexByte(path, '/')+1:]))
}

// objectHeaders are the headers setObjectHeaders and http.ServeContent
// set, which an error answer must not carry.
var objectHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Content-Security-Policy",
	"ETag", "Last-Modified", "Accept-Ranges", "Cache-Control"}

// clearObjectHeaders makes way for an error answer; a 416 keeps the
// Content-Range that tells the object's size.
func clearObjectHeaders(h http.Header, keepRange bool) {
	for _, k := range objectHeaders {
		h.Del(k)
	}
	if !keepRange {
		h.Del("Content-Range")
	}
}

// objectType is the Content-Type an object is sent with and whether it
// is passive (shown inline). An object without a type is
// application/octet-stream, which browsers save; one whose type does not
// parse is that too, and an attachment, since a browser may read more
// into it than mime does.
func objectType(stored string) (string, bool) {
	if stored == "" {
		return "application/octet-stream", true
	}
	media, _, err := mime.ParseMediaType(stored)
	if err != nil {
		return "application/octet-stream", false
	}
	return stored, passiveTypes[media]
}

// contentDisposition is the header for a file named name (RFC 6266): an
// ASCII filename for every client, and the exact name in RFC 5987's
// filename* when the two differ (non-ASCII, quotes, backslashes, control
// characters, percent signs, which some clients would decode).
func contentDisposition(disposition, name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
			continue
		}
		ascii.WriteRune(r)
	}
	v := disposition + `; filename="` + ascii.String() + `"`
	if ascii.String() == name {
		return v
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			ext.WriteByte(c)
			continue
		}
		ext.WriteByte('%')
		ext.WriteByte(hex[c>>4])
		ext.WriteByte(hex[c&15])
	}
	return v + "; filename*=UTF-8''" + ext.String()
}

// isAttrChar reports RFC 5987's attr-char: what filename* may hold
// unescaped.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// objectReader is the object as the io.ReadSeeker http.ServeContent
// reads: a seek only moves the position, and a read from a position the
// open GetObject body is not at opens one there, for the bytes the
// coming copy will take (objectWriter.ReadFrom says how many) or to the
// end. Every GetObject after the first carries the ETag the headers
// announced, so a changed object fails the read instead of mixing two.
type objectReader struct {
	ctx     context.Context
	objects ObjectReader
	path    string
	obj     Object
	pos     int64
	body    io.ReadCloser // holds [bodyPos, bodyEnd)
	bodyPos int64
	bodyEnd int64
	want    int64 // bytes the copy under way will read; 0: unknown
	err     error // the storage failure that ended reading
}

// Seek implements io.Seeker.
func (o *objectReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.obj.Size
	}
	if offset < 0 {
		return o.pos, errors.New("seek before the start of the object")
	}
	o.pos = offset
	return offset, nil
}

// Read implements io.Reader.
func (o *objectReader) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	if o.pos >= o.obj.Size {
		return 0, io.EOF
	}
	if o.body == nil || o.bodyPos != o.pos || o.bodyPos >= o.bodyEnd {
		if err := o.open(); err != nil {
			o.err = err
			return 0, err
		}
	}
	if left := o.bodyEnd - o.bodyPos; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.bodyPos += int64(n)
	if err == io.EOF && o.bodyPos == o.bodyEnd {
		err = nil // the end of this body, not of the object: the next read decides
	}
	if err != nil {
		o.err = err
	}
	return n, err
}

// open replaces the body with one that starts at the position.
func (o *objectReader) open() error {
	o.closeBody()
	req := ObjectRead{Path: o.path, Offset: o.pos, IfMatch: o.obj.ETag}
	if o.want > 0 {
		req.Length = min(o.want, o.obj.Size-o.pos)
	}
	obj, body, err := o.objects.ReadObject(o.ctx, req)
	if err != nil {
		return err
	}
	if obj.Offset != o.pos || obj.Size != o.obj.Size || obj.Length <= 0 {
		body.Close()
		return fmt.Errorf("get %q from %d: storage answered bytes %d+%d of %d, want %d bytes: %w", o.path, o.pos, obj.Offset, obj.Length, obj.Size, o.obj.Size, ErrObjectChanged)
	}
	o.body, o.bodyPos, o.bodyEnd = body, obj.Offset, obj.Offset+obj.Length
	return nil
}

func (o *objectReader) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}

func (o *objectReader) close() { o.closeBody() }

// copyBufferSize is the one buffer an object's bytes pass through on
// their way from S3 to the client: large enough that a write is a
// fraction of a syscall's cost, small enough that 64 downloads hold 4 MiB.
const copyBufferSize = 64 << 10

// copyBuffers are shared by every download: memory is one buffer per
// download in progress, whatever the objects' sizes.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// objectWriter is the http.ResponseWriter http.ServeContent writes to. It
// holds the status until the first byte is read from S3, so a GetObject
// that fails at once still gets its own status and error body; it takes
// the refusals ServeContent would answer in plain text (416, 412) for
// handleFile to answer like every error; and it copies through a pooled
// buffer with a write deadline renewed on every write (the stall
// timeout, as for listings).
type objectWriter struct {
	http.ResponseWriter
	r       *http.Request
	stall   time.Duration
	status  int   // what ServeContent chose; held until sent
	sent    bool  // the status is out
	refused int   // a status >= 400 ServeContent chose
	err     error // the write to the client that failed
}

// WriteHeader implements http.ResponseWriter.
func (w *objectWriter) WriteHeader(code int) {
	switch {
	case code >= 400:
		w.refused = code
	case w.status == 0:
		w.status = code
	}
}

// Write implements http.ResponseWriter.
func (w *objectWriter) Write(p []byte) (int, error) {
	if w.refused != 0 {
		return len(p), nil // ServeContent's plain-text error: replaced
	}
	w.commit()
	if w.stall > 0 {
		_ = http.NewResponseController(w.ResponseWriter).SetWriteDeadline(time.Now().Add(w.stall))
	}
	n, err := w.ResponseWriter.Write(p)
	if err != nil && w.err == nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			noteLimit(w.r, limitStall)
		}
		w.err = &clientWriteError{err}
	}
	return n, err
}

// ReadFrom implements io.ReaderFrom, which io.CopyN in ServeContent uses:
// the copy goes through a pooled buffer, and the objectReader learns how
// many bytes it is for, so its GetObject asks S3 for exactly those.
func (w *objectWriter) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok {
		if o, ok := lr.R.(*objectReader); ok {
			o.want = lr.N
		}
	}
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		switch {
		case rerr == io.EOF:
			return total, nil
		case rerr != nil:
			return total, rerr
		}
	}
}

// commit sends the status ServeContent chose, once.
func (w *objectWriter) commit() {
	if w.sent {
		return
	}
	w.sent = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(w.status)
}
