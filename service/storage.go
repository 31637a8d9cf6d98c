package service

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/listing"
	"github.com/bucketls/bucketls/service/internal/s3store"
)

// The listing contract and the S3 adapter live in packages of their own
// (internal/listing, internal/s3store), so the compiler holds the rule that
// handlers never see SDK types and that nothing in the S3 path reaches up
// into HTTP code. These aliases keep them under the names this package has
// always exported.
type (
	// Lister is [listing.Lister]: the seam between HTTP and storage.
	Lister = listing.Lister
	// ListRequest is [listing.Request]: what a listing asks of a Lister.
	ListRequest = listing.Request
	// Entry is [listing.Entry]: one name in a listing.
	Entry = listing.Entry
	// Position is [listing.Position]: where a paged listing stands.
	Position = listing.Position
	// S3Lister is [s3store.Lister]: the production Lister over S3.
	S3Lister = s3store.Lister
	// S3ListerOptions is [s3store.Options]: how an S3Lister caches and
	// which subtree it is confined to.
	S3ListerOptions = s3store.Options
)

// The domain errors of [listing]; statusFor maps each to one status.
var (
	// ErrNotFound is [listing.ErrNotFound] (404).
	ErrNotFound = listing.ErrNotFound
	// ErrBucketUnavailable is [listing.ErrBucketUnavailable] (503).
	ErrBucketUnavailable = listing.ErrBucketUnavailable
	// ErrThrottled is [listing.ErrThrottled] (503).
	ErrThrottled = listing.ErrThrottled
	// ErrTimeout is [listing.ErrTimeout] (504).
	ErrTimeout = listing.ErrTimeout
	// ErrBadCursor is [listing.ErrBadCursor] (400).
	ErrBadCursor = listing.ErrBadCursor
	// ErrUpstream is [listing.ErrUpstream] (502).
	ErrUpstream = listing.ErrUpstream
)

// NewS3Lister returns the production Lister over bucket (see [s3store.New]).
func NewS3Lister(client s3.ListObjectsV2APIClient, bucket string, opts S3ListerOptions) *S3Lister {
	return s3store.New(client, bucket, opts)
}

// The object contract of [listing], for --serve-objects.
type (
	// ObjectReader is [listing.ObjectReader]: the seam between the object
	// route and storage. The S3 lister is one.
	ObjectReader = listing.ObjectReader
	// ObjectRead is [listing.ObjectRead]: the part of an object a read
	// asks for.
	ObjectRead = listing.ObjectRead
	// Object is [listing.Object]: what storage says about one object.
	Object = listing.Object
)

// The domain errors of object reads.
var (
	// ErrRangeNotSatisfiable is [listing.ErrRangeNotSatisfiable]: a read
	// past the end (handleFile lets http.ServeContent answer it).
	ErrRangeNotSatisfiable = listing.ErrRangeNotSatisfiable
	// ErrObjectChanged is [listing.ErrObjectChanged] (503).
	ErrObjectChanged = listing.ErrObjectChanged
)
