package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
)

// S3ListerOptions tunes an S3 lister. The zero value is valid.
type S3ListerOptions struct {
	// CacheTTL keeps successful ListObjectsV2 pages this long and serves
	// repeated listings from memory. Default: 0 (off): every listing asks
	// S3, identical concurrent calls are still coalesced.
	CacheTTL time.Duration
	// CallTimeout bounds one ListObjectsV2 call, SDK retries included. The
	// call runs detached from the request that started it (others may be
	// waiting on it), so this is what stops it. Default: 10s.
	CallTimeout time.Duration
}

// defaultCallTimeout is S3ListerOptions.CallTimeout's default: S3 answers a
// page in tens of milliseconds, and the SDK's three attempts with backoff
// fit well inside 10 s.
const defaultCallTimeout = 10 * time.Second

// S3Lister is the production [Lister]: it walks a bucket with the SDK's
// ListObjectsV2 paginator (delimiter "/"), one page of up to 1,000 keys at a
// time. It is safe for concurrent use and is a prometheus.Collector of its
// S3 call metrics.
type S3Lister struct {
	bucket string
	api    *pageCache
	m      *s3Metrics
}

// NewS3Lister returns a Lister over bucket. client is usually an
// *s3.Client; anything with ListObjectsV2 will do. The lister needs only the
// s3:ListBucket permission: even the "is this path an object?" check is a
// ListObjectsV2 call, not a HeadObject.
func NewS3Lister(client s3.ListObjectsV2APIClient, bucket string, opts S3ListerOptions) *S3Lister {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = defaultCallTimeout
	}
	m := newS3Metrics()
	return &S3Lister{
		bucket: bucket,
		api:    newPageCache(client, opts.CacheTTL, opts.CallTimeout, m),
		m:      m,
	}
}

// Describe implements prometheus.Collector.
func (l *S3Lister) Describe(ch chan<- *prometheus.Desc) { l.m.describe(ch) }

// Collect implements prometheus.Collector.
func (l *S3Lister) Collect(ch chan<- prometheus.Metric) { l.m.collect(ch) }

// List implements [Lister].
func (l *S3Lister) List(ctx context.Context, path string, page func(names []string, last bool) error) error {
	dirOnly := strings.HasSuffix(path, "/")
	dir := strings.TrimSuffix(path, "/")
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}

	in := &s3.ListObjectsV2Input{
		Bucket:    aws.String(l.bucket),
		Delimiter: aws.String("/"),
		// EncodingType stays unset: with "url" S3 would percent-encode
		// keys in the answer and every name would need decoding again.
	}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	pages := s3.NewListObjectsV2Paginator(l.api, in, func(o *s3.ListObjectsV2PaginatorOptions) {
		// A buggy or hostile endpoint that repeats its token would loop
		// forever; we turn the stop into an error below.
		o.StopOnDuplicateToken = true
	})

	var (
		d       dedupe
		exists  = prefix == "" // the root always exists, even when empty
		pending []string       // held back one page so "last" is known
		held    bool
		out     *s3.ListObjectsV2Output
	)
	for pages.HasMorePages() {
		var err error
		out, err = pages.NextPage(ctx)
		if err != nil {
			return l.fail(ctx, "list", prefix, err)
		}
		if aws.ToInt32(out.KeyCount) > 0 || len(out.Contents) > 0 || len(out.CommonPrefixes) > 0 {
			// Any key under prefix, the directory's own marker included,
			// makes the directory exist.
			exists = true
		}
		names := d.page(prefix, out.Contents, out.CommonPrefixes)
		if len(names) == 0 {
			// gofakes3 can end on an empty page after a full one that
			// said more follows; never hand out an empty non-final batch.
			continue
		}
		if held {
			if err := page(pending, false); err != nil {
				return err
			}
		}
		pending, held = names, true
	}
	if out != nil && aws.ToBool(out.IsTruncated) {
		// The paginator stopped although S3 said more follows: a repeated
		// continuation token. A silently truncated list would look valid.
		return fmt.Errorf("list %q: %w: S3 repeated continuation token %q", prefix, ErrUpstream, aws.ToString(out.NextContinuationToken))
	}
	if exists {
		if pending == nil {
			pending = []string{}
		}
		return page(pending, true)
	}
	if dirOnly {
		return fmt.Errorf("list %q: %w", prefix, ErrNotFound)
	}
	return l.listObject(ctx, dir, page)
}

// listObject answers a path that is not a directory: if an object with
// exactly that key exists it is listed by its base name, like ls FILE. The
// shortest key starting with dir is dir itself, so a one-key listing with
// Prefix=dir answers "does this object exist" using only s3:ListBucket.
func (l *S3Lister) listObject(ctx context.Context, key string, page func(names []string, last bool) error) error {
	out, err := l.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(l.bucket),
		Prefix:  aws.String(key),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return l.fail(ctx, "find", key, err)
	}
	if len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key {
		return fmt.Errorf("find %q: %w", key, ErrNotFound)
	}
	return page([]string{key[strings.LastIndexByte(key, '/')+1:]}, true)
}

// fail turns an SDK error into a domain error. The SDK error's text stays in
// the message for the log (handlers log it once, at the edge) but is not
// wrapped, so nothing above this layer can reach SDK types.
func (l *S3Lister) fail(ctx context.Context, op, prefix string, err error) error {
	kind := classify(err)
	if kind == context.Canceled && ctx.Err() == nil {
		// The detached S3 call was cancelled, not this request.
		kind = ErrUpstream
	}
	return fmt.Errorf("%s %q: %w: %v", op, prefix, kind, err)
}

// classify maps an SDK error to a domain error. Order matters: a context
// error from our own deadline beats whatever the SDK wrapped around it.
func classify(err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "AccountProblem",
			"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
			"TokenRefreshRequired", "AuthorizationHeaderMalformed", "PermanentRedirect",
			"InvalidBucketName", "InvalidBucketState":
			return ErrBucketUnavailable
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
			"TooManyRequests", "TooManyRequestsException", "RequestThrottled",
			"ServiceUnavailable":
			return ErrThrottled
		case "RequestTimeout", "RequestTimeoutException":
			return ErrTimeout
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch code := respErr.HTTPStatusCode(); {
		case code == 301 || code == 307 || code == 400 || code == 401 || code == 403 || code == 404:
			// 301 without a code: the bucket lives in another region.
			return ErrBucketUnavailable
		case code == 429 || code == 503:
			return ErrThrottled
		case code == 504:
			return ErrTimeout
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ErrTimeout
	}
	return ErrUpstream
}

// dedupe turns S3 pages into names. It keeps what is needed to remove
// duplicates across the whole walk with memory that does not grow with the
// directory.
//
// Duplicates come in three shapes: an object "a" and a prefix "a/" (S3 sorts
// "a" first, and "a!", "a-b"... may sit between them); gofakes3 returning a
// directory's zero-byte marker "a/" as an object next to the common prefix
// "a/"; and gofakes3 repeating a common prefix at the start of the next page.
// The last two are adjacent in key order, so comparing with the last name
// emitted catches them. For the first, objects are remembered on a stack
// until the key order passes "name/": every key between "a" and "a/" starts
// with "a", so the open objects form a chain of prefixes and only the top of
// the stack can expire first.
type dedupe struct {
	last    string
	started bool
	open    []string // object names whose "name/" directory may still follow
}

// page merges one page's objects and common prefixes in key order and
// returns the new names relative to prefix.
func (d *dedupe) page(prefix string, objs []types.Object, prefixes []types.CommonPrefix) []string {
	names := make([]string, 0, len(objs)+len(prefixes))
	i, j := 0, 0
	for i < len(objs) || j < len(prefixes) {
		var key string
		isPrefix := false
		if j >= len(prefixes) || (i < len(objs) && aws.ToString(objs[i].Key) <= aws.ToString(prefixes[j].Prefix)) {
			key = aws.ToString(objs[i].Key)
			i++
		} else {
			key, isPrefix = aws.ToString(prefixes[j].Prefix), true
			j++
		}
		rel, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue // S3 never does this; a broken endpoint must not leak other keys
		}
		if rel == "" {
			// The directory's own marker object (a zero-byte "dir/" made by
			// consoles and sync tools). It is the directory itself, not a
			// child: it has no name of its own to list.
			continue
		}
		if name, ok := d.add(rel, isPrefix); ok {
			names = append(names, name)
		}
	}
	return names
}

// add records one key (relative to the listed prefix) and reports the name
// to emit, if any.
func (d *dedupe) add(rel string, isPrefix bool) (string, bool) {
	name, isDir := rel, isPrefix
	if strings.HasSuffix(rel, "/") {
		// A common prefix, or gofakes3's zero-byte "dir/" marker returned
		// as an object at the parent level: both name a directory.
		name, isDir = rel[:len(rel)-1], true
	}
	if name == "" {
		// A key like "dir//x" makes an empty-named directory that no valid
		// request path can reach; listing "" would only confuse clients.
		return "", false
	}
	for len(d.open) > 0 && slashedLess(d.open[len(d.open)-1], rel) {
		d.open = d.open[:len(d.open)-1]
	}
	if d.started && name == d.last {
		return "", false
	}
	if isDir && len(d.open) > 0 && d.open[len(d.open)-1] == name {
		return "", false
	}
	if !isDir {
		d.open = append(d.open, name)
	}
	d.last, d.started = name, true
	return name, true
}

// slashedLess reports whether name+"/" sorts before key, without building
// the string: then the directory form of name can no longer appear.
func slashedLess(name, key string) bool {
	if len(key) <= len(name) || key[:len(name)] != name {
		return name < key
	}
	c := key[len(name)]
	return c > '/' || (c == '/' && len(key) > len(name)+1)
}
