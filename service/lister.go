package service

import (
	"context"
	"errors"
)

// Lister lists the immediate children of one "directory" of a bucket. It is
// the seam between the HTTP side and storage: production and --demo use the
// S3 lister from [NewS3Lister]; tests may plug in a Lister that fails on
// purpose.
type Lister interface {
	// List walks path and hands its entries to page in order, one batch at
	// a time, so a caller can stream a directory of any size without
	// holding it in memory. path is "" for the bucket root, otherwise a
	// validated slash-separated path without a leading slash; a trailing
	// slash ("dir2/") means the path must be a directory.
	//
	// For a directory, page is called one or more times and last is true
	// on the final call only (an empty directory gives one call with no
	// names). For a path that is an object and not a directory, page is
	// called once with its base name. When nothing exists at path, List
	// returns an error matching [ErrNotFound] and never calls page.
	//
	// When page returns an error, List stops and returns it (wrapped or
	// not). Storage failures are reported as errors matching
	// [ErrBucketUnavailable], [ErrThrottled], [ErrTimeout] or
	// [ErrUpstream]; cancellation of ctx as context.Canceled.
	List(ctx context.Context, path string, page func(names []string, last bool) error) error
}

// Domain errors a Lister returns; handlers map them to HTTP statuses in one
// place (statusFor) and never see storage SDK types.
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
	// ErrUpstream reports any other storage failure (5xx after retries,
	// connection refused, no credentials, a broken pagination sequence).
	ErrUpstream = errors.New("storage error")
)
