// Package listing is the contract between bucketls's HTTP side and its
// storage: the [Lister] seam, the [Request] a listing makes, the [Entry]
// and [Position] it hands back, the domain errors storage failures become,
// and the per-request counter of storage calls. It imports nothing of
// either side, so handlers never see SDK types and the S3 adapter never
// sees net/http.
package listing

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Words, each with one meaning across bucketls: an S3 page is one
// ListObjectsV2 answer (up to 1,000 keys); a batch is what a Lister hands
// to emit at a time; a page of a listing is what one API request returns
// under limit and cursor; the index is the HTML document a browser gets.

// Lister lists one "directory" of a bucket. It is the seam between the
// HTTP side and storage: production and --demo use the S3 lister from
// s3store.New; tests may plug in a Lister that fails on purpose.
type Lister interface {
	// List walks req.Path and hands its entries to emit in order, one
	// batch at a time, so a caller can stream a directory of any size
	// without holding it in memory.
	//
	// For a directory, emit is called one or more times and last is true
	// on the final call only (an empty directory gives one call with no
	// entries). For a path that is an object and not a directory, emit is
	// called once with its entry. When nothing exists at the path, List
	// returns an error matching [ErrNotFound] and never calls emit.
	//
	// With req.Limit > 0, List stops after that many entries; when more
	// may follow it returns the position to resume from (req.After of the
	// next call), otherwise nil. With req.After, the path must still be a
	// directory: when nothing exists there (any more), List returns
	// [ErrNotFound] as without it; a cursor does not make a path exist.
	//
	// When emit returns an error, List stops and returns it (wrapped or
	// not). Storage failures are reported as errors matching
	// [ErrBucketUnavailable], [ErrThrottled], [ErrTimeout], [ErrBadCursor]
	// or [ErrUpstream]; cancellation of ctx as context.Canceled.
	List(ctx context.Context, req Request, emit func(batch []Entry, last bool) error) (next *Position, err error)
}

// Request is what a listing asks of a Lister: the typed form of the
// request path and query (the HTTP side's listOptions), nothing from
// net/http.
type Request struct {
	// Path is "" for the root, otherwise a validated slash-separated path
	// without a leading slash; a trailing slash ("dir2/") means the path
	// must be a directory.
	Path string
	// NamePrefix keeps only the entries whose name starts with it; it is
	// pushed down to storage, never filtered after the fact.
	NamePrefix string
	// Recursive lists every object below Path, names relative to it.
	Recursive bool
	// Details asks for exact entry types: an object "a" that has a
	// directory "a/" beside it is a directory, which can cost a lookahead
	// call when the two fall on different storage pages.
	Details bool
	// Limit is the most entries to list; 0 means all.
	Limit int
	// After resumes a listing after this position (from a cursor).
	After *Position
	// Hide, when set, reports the names (relative to Path, a directory's
	// with or without its slash) that are left out (--hide): never handed
	// to emit, never counted against Limit. A directory whose every entry
	// is hidden still exists, and lists empty.
	Hide func(name string) bool
}

// Entry is one name in a listing. Size, Modified, ETag and StorageClass
// are set for objects only.
type Entry struct {
	Name         string
	Dir          bool
	Size         int64
	Modified     time.Time
	ETag         string
	StorageClass string
}

// Position is where a paged listing stands: the storage key of the last
// entry handed out (relative to the listed directory, with a trailing "/"
// for a common prefix) and the objects whose "name/" directory may still
// follow and must not be listed twice (a chain: each is a prefix of the
// next). It is all the state a walk needs, so paging keeps no server state.
type Position struct {
	Key  string
	Open []string
}

// Domain errors a Lister returns; the HTTP side maps them to statuses in one
// place (service's statusFor) and never see storage SDK types.
var (
	// ErrNotFound reports that no object or directory exists at the path.
	ErrNotFound = errors.New("not found")
	// ErrBucketUnavailable reports that the bucket is missing, in another
	// region, or that access to it was denied.
	ErrBucketUnavailable = errors.New("bucket unavailable")
	// ErrThrottled reports that storage kept throttling the request after
	// the SDK's own retries.
	ErrThrottled = errors.New("throttled by storage")
	// ErrTimeout reports that storage did not answer within the deadline.
	ErrTimeout = errors.New("storage timeout")
	// ErrBadCursor reports a resume position storage refused.
	ErrBadCursor = errors.New("invalid cursor")
	// ErrUpstream reports any other storage failure (5xx after retries,
	// connection refused, no credentials, a broken pagination sequence).
	ErrUpstream = errors.New("storage error")
)

// callsKey carries a request's storage call counter in its context.
type callsKey struct{}

// WithCallCounter returns ctx with n attached: every storage call made for
// a request with that context adds one to n (a coalesced call counts for
// the request that led it). Whoever wants the count (the access log) hands
// a counter down; nothing in the storage path reaches up into HTTP code
// for it.
func WithCallCounter(ctx context.Context, n *atomic.Int32) context.Context {
	return context.WithValue(ctx, callsKey{}, n)
}

// CountCall adds one to the counter ctx carries, if any.
func CountCall(ctx context.Context) {
	if n, ok := ctx.Value(callsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
}
