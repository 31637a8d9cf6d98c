package listing

import (
	"context"
	"errors"
	"io"
	"time"
)

// ObjectReader reads the bytes of one object (--serve-objects). It is the
// seam between the HTTP side's object route and storage, as [Lister] is
// for listings; the S3 lister is both.
type ObjectReader interface {
	// StatObject returns what storage says about the object at path (a
	// validated path relative to the served root, as [Request.Path], not
	// ending in "/"), without its bytes. It fails with [ErrNotFound] when
	// no object has that key, and with the storage errors of [Lister].
	StatObject(ctx context.Context, path string) (Object, error)
	// ReadObject returns the bytes req asks for and what storage says
	// about the object. The body holds exactly Object.Length bytes, from
	// Object.Offset: a range past the end is cut at the end, as S3 does.
	// Besides the errors of StatObject it fails with [ErrRangeNotSatisfiable]
	// when no byte of the object is in the range (an empty object has
	// none), and with [ErrObjectChanged] when req.IfMatch is set and the
	// object's ETag is another. Reading the body may fail with any of
	// them too; closing it releases the storage call.
	ReadObject(ctx context.Context, req ObjectRead) (Object, io.ReadCloser, error)
}

// ObjectRead is the part of an object a read asks for: the whole object,
// Length bytes from Offset, or (with Suffix) its last Suffix bytes.
type ObjectRead struct {
	Path string
	// Offset is the first byte; Length how many (0: to the end).
	Offset, Length int64
	// Suffix, when positive, asks for the last Suffix bytes instead.
	Suffix int64
	// IfMatch makes the read fail with ErrObjectChanged unless the object
	// still has this ETag: a read that continues an answer whose headers
	// described the object must get the same object's bytes.
	IfMatch string
}

// Object is what storage says about one object: the headers an answer
// with its bytes carries.
type Object struct {
	// Size is the whole object's, whatever part a read returned.
	Size            int64
	Modified        time.Time
	ETag            string
	ContentType     string // "" when storage has none
	ContentEncoding string // as stored (gzip on a pre-compressed object)
	// Offset and Length are the bytes a ReadObject body holds.
	Offset, Length int64
}

// Domain errors of object reads, beside those of [Lister].
var (
	// ErrRangeNotSatisfiable reports a read whose range has no byte of
	// the object.
	ErrRangeNotSatisfiable = errors.New("range not satisfiable")
	// ErrObjectChanged reports that the object is no longer the one a
	// read asked for with IfMatch.
	ErrObjectChanged = errors.New("object changed")
)
