package service

import (
	"net/http"

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
func compress() func(http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinSize), gzhttp.SuffixETag(compressedETagSuffix))
	if err != nil {
		panic(err) // fixed, valid options
	}
	return func(h http.Handler) http.Handler { return wrap(h) }
}
