package service

import (
	"maps"
	"net/http"
	"strconv"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinSize is the smallest body worth compressing: below about a
// kilobyte the gzip header and CPU cost more than they save, so the
// reference answers (tens of bytes) go out as they always did.
const compressMinSize = 1024

// The suffixes that mark the ETag of a compressed body: a strong ETag
// names one exact byte sequence, and the compressed one is another. The
// compressor is given the gzip one and writes the zstd one for zstd bodies
// in its place.
const (
	compressedETagSuffix = "-gzip"
	zstdETagSuffix       = "-zstd"
)

// compress gzips (or zstd-encodes, when the client prefers it) responses
// of at least compressMinSize bytes for clients that accept it, streamed,
// with Vary: Accept-Encoding. A listing cut off mid-stream stays broken: the
// response writer drops the trailer the compressor would write on the way
// out (see responseWriter.Write).
//
// HEAD gets the headers GET would (headAsGet): the compressor leaves HEAD
// alone (an old nginx bug), which sent the plain ETag and no
// Content-Encoding, another representation than GET's.
func compress() func(http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinSize), gzhttp.SuffixETag(compressedETagSuffix))
	if err != nil {
		panic(err) // fixed, valid options
	}
	return func(h http.Handler) http.Handler {
		get := wrap(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				get.ServeHTTP(w, r)
				return
			}
			// Where the compressor puts it for GET: before the handler's
			// own Vary fields.
			w.Header().Add("Vary", "Accept-Encoding")
			hw := &headWriter{ResponseWriter: w, r: r, wrap: wrap}
			h.ServeHTTP(hw, r)
			hw.commit(http.StatusOK) // net/http's status when nothing was written
		})
	}
}

// headWriter holds a HEAD answer's status back until its headers are
// final, then asks the compressor what GET's would be (see commit).
type headWriter struct {
	http.ResponseWriter
	r    *http.Request
	wrap func(http.Handler) http.HandlerFunc
	done bool
}

func (w *headWriter) WriteHeader(code int) {
	if code < 200 {
		w.ResponseWriter.WriteHeader(code) // informational; the final status follows
		return
	}
	w.commit(code)
}

// Write commits the status (a HEAD body goes nowhere) and drops p.
func (w *headWriter) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commit sends status code with the headers GET would have sent. It runs
// the compressor itself, for GET, on a stand-in answer: these headers and
// as much of a body as decides the compressor (the Content-Length's worth
// up to compressMinSize; compressMinSize when the length is unknown, as
// for a streamed listing, whose first S3 page alone is over a kilobyte).
// So HEAD follows every rule of the compressor (encoding choice, minimum
// size, content types, ETag suffix) without a copy of them, for the cost
// of encoding a kilobyte. Content-Length goes where GET's is unknown
// until encoded; RFC 9110 lets HEAD leave it out.
func (w *headWriter) commit(code int) {
	if w.done {
		return
	}
	w.done = true
	n := 0
	if code != http.StatusNoContent && code != http.StatusNotModified {
		n = compressMinSize
		if cl, err := strconv.Atoi(w.Header().Get("Content-Length")); err == nil {
			n = min(cl, compressMinSize)
		}
	}
	probe := &probeWriter{header: w.Header().Clone()}
	get := *w.r
	get.Method = http.MethodGet
	w.wrap(http.HandlerFunc(func(pw http.ResponseWriter, _ *http.Request) {
		pw.WriteHeader(code)
		_, _ = pw.Write(make([]byte, n))
	})).ServeHTTP(probe, &get)
	h := w.Header()
	clear(h)
	maps.Copy(h, probe.header)
	if v := h["Vary"]; len(v) > 0 && v[len(v)-1] == "Accept-Encoding" {
		h["Vary"] = v[:len(v)-1] // the compressor's second go at it
	}
	if h.Get("Content-Encoding") != "" {
		h.Del("Content-Length")
	}
	w.ResponseWriter.WriteHeader(code)
}

// probeWriter takes the compressor's stand-in answer: headers only.
type probeWriter struct{ header http.Header }

func (p *probeWriter) Header() http.Header         { return p.header }
func (p *probeWriter) WriteHeader(int)             {}
func (p *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
