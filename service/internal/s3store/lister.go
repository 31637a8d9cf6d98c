package s3store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/bucketls/bucketls/service/internal/listing"
	"github.com/prometheus/client_golang/prometheus"
)

// Options tunes an S3 lister. The zero value is valid.
type Options struct {
	// CacheTTL keeps successful ListObjectsV2 pages this long and serves
	// repeated listings from memory. Default: 0 (off): every listing asks
	// S3, identical concurrent calls are still coalesced.
	CacheTTL time.Duration
	// CacheStale is how long past CacheTTL a page is still answered while
	// one call refreshes it in the background, and while refreshes fail
	// (see pageCache). Empty pages are never answered stale. Default: 0
	// (a page past its TTL is gone; the next request waits for S3).
	CacheStale time.Duration
	// CacheBytes bounds the memory the cached pages take. Default: 32 MiB.
	CacheBytes int
	// RootPrefix confines the lister to the keys under RootPrefix+"/":
	// request paths are relative to it, names stay relative, and no call
	// the lister sends can name a key outside it (see Lister.list). It
	// must pass the --root-prefix check (no slash at either end, no empty
	// or dot segments). Default: "" (the whole bucket).
	RootPrefix string
	// CallTimeout bounds one ListObjectsV2 call, SDK retries included. The
	// call runs detached from the request that started it (others may be
	// waiting on it), so this is what stops it. Default: 10s.
	CallTimeout time.Duration
}

// Lister defaults. S3 answers a page in tens of milliseconds, and the SDK's
// three attempts with backoff fit well inside 10 s. 32 MiB of cache holds
// about 150 pages of 1,000 long keys, or thousands of small directories,
// and stays small next to what a streamed walk of any size needs (nothing).
const (
	defaultCallTimeout = 10 * time.Second
	defaultCacheBytes  = 32 << 20
)

// maxListPages is a last-resort bound on the ListObjectsV2 calls of one
// walk (100 million keys at 1,000 a page): token cycles and keys that go
// backwards are caught long before, this catches what they cannot.
const maxListPages = 100_000

// Lister is the production [Lister]: it walks a bucket with ListObjectsV2
// (delimiter "/"), one page of up to 1,000 keys at a time. It is safe for
// concurrent use and is a prometheus.Collector of its S3 call metrics.
type Lister struct {
	bucket      string
	root        string // RootPrefix + "/", or "" for the whole bucket
	api         *pageCache
	objects     objectAPI // nil: the client can only list
	callTimeout time.Duration
	m           *s3Metrics
}

// New returns a Lister over bucket. client is usually an
// *s3.Client; anything with ListObjectsV2 will do for listings. Listing
// needs only the s3:ListBucket permission: even the "is this path an
// object?" check is a ListObjectsV2 call, not a HeadObject. The Lister is
// also a [listing.ObjectReader] (HeadObject and GetObject, which need
// s3:GetObject) when client has those calls too, as *s3.Client does.
func New(client s3.ListObjectsV2APIClient, bucket string, opts Options) *Lister {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = defaultCallTimeout
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = defaultCacheBytes
	}
	m := newS3Metrics()
	return &Lister{
		bucket:      bucket,
		root:        rootKey(opts.RootPrefix),
		api:         newPageCache(client, opts.CacheTTL, opts.CacheStale, opts.CallTimeout, opts.CacheBytes, m),
		objects:     objectClient(client),
		callTimeout: opts.CallTimeout,
		m:           m,
	}
}

// Describe implements prometheus.Collector.
func (l *Lister) Describe(ch chan<- *prometheus.Desc) { l.m.describe(ch) }

// Collect implements prometheus.Collector.
func (l *Lister) Collect(ch chan<- prometheus.Metric) { l.m.collect(ch) }

// List implements [Lister].
func (l *Lister) List(ctx context.Context, req listing.Request, emit func([]listing.Entry, bool) error) (*listing.Position, error) {
	dirOnly := strings.HasSuffix(req.Path, "/")
	dir := strings.TrimSuffix(req.Path, "/")
	prefix := l.root
	if dir != "" {
		prefix = l.root + dir + "/"
	}
	w := &walk{l: l, req: req, prefix: prefix, top: dir == "", emit: emit}
	next, err := w.run(ctx)
	if err != nil || w.exists {
		return next, err
	}
	if (req.NamePrefix != "" || req.After != nil) && dir != "" {
		// Nothing matched the name prefix, or nothing follows the cursor:
		// that is an empty listing if the directory exists at all, and
		// only then. A cursor proves nothing: anyone can write one (its
		// binding is a checksum, not a secret), and one on a path that
		// names nothing must not make it exist. This costs a call only on
		// an empty page after a cursor, which a cursor S3 handed out
		// meets when the directory lost its last entries since, or when
		// the key that said "more follow" was a duplicate.
		found, err := l.anyKey(ctx, prefix)
		if err != nil {
			return nil, err
		}
		if found {
			return nil, emit([]listing.Entry{}, true)
		}
	}
	if dirOnly || dir == "" || req.After != nil {
		// A cursor continues a directory: an object has no second page.
		return nil, fmt.Errorf("list %q: %w", prefix, listing.ErrNotFound)
	}
	return nil, l.listObject(ctx, l.root+dir, req.NamePrefix, emit)
}

// walk is the state of one listing: where it is in S3's key order, what
// the dedupe has seen, and the first batch, held back until the next one
// shows whether it is the whole listing (then it goes out in one piece,
// with an ETag). Later batches go out as they come, so a walk holds one
// batch at a time, and an empty final batch ends the listing.
type walk struct {
	l      *Lister
	req    listing.Request
	prefix string // the listed directory's key prefix, root prefix included
	top    bool   // the listing root, which always exists
	emit   func([]listing.Entry, bool) error

	d         dedupe
	exists    bool
	lastKey   string // S3 key of the last item read, for the order check
	count     int    // entries handed out
	pending   []listing.Entry
	held      bool
	streaming bool // the first batch went out: hand each one out at once
}

func (w *walk) run(ctx context.Context) (*listing.Position, error) {
	in := w.firstInput()
	seen := map[string]bool{} // tokens since the walk last moved forward
	for pages := 1; ; pages++ {
		if pages > maxListPages {
			w.l.m.paginationErrors.WithLabelValues("too_many_pages").Inc()
			return nil, fmt.Errorf("list %q: %w: more than %d pages", w.prefix, listing.ErrUpstream, maxListPages)
		}
		p, err := w.l.list(ctx, in)
		if err != nil {
			return nil, w.l.fail(ctx, "list", w.prefix, err, w.req.After != nil)
		}
		if len(p.objects) > 0 || len(p.prefixes) > 0 {
			// Any key under prefix, the directory's own marker included,
			// makes the directory exist.
			w.exists = true
			clear(seen)
		}
		next, done, err := w.take(ctx, p)
		if err != nil || done {
			return next, err
		}
		if !p.truncated {
			return nil, w.finish()
		}
		if err := w.advance(in, p, seen); err != nil {
			return nil, err
		}
	}
}

// firstInput is the walk's first ListObjectsV2 call: the directory's
// prefix (and the name prefix), the delimiter unless recursive, where a
// cursor left off, and no more keys than a limited page needs.
func (w *walk) firstInput() *s3.ListObjectsV2Input {
	in := &s3.ListObjectsV2Input{
		Bucket: aws.String(w.l.bucket),
		// EncodingType stays unset: with "url" S3 would percent-encode
		// keys in the answer and every name would need decoding again.
	}
	if !w.req.Recursive {
		in.Delimiter = aws.String("/")
	}
	if p := w.prefix + w.req.NamePrefix; p != "" {
		in.Prefix = aws.String(p)
	}
	// The root always exists, even when empty. Any other directory
	// exists when a key is under it (see List for a page after a cursor).
	w.exists = w.top
	if a := w.req.After; a != nil {
		// StartAfter, not a stored continuation token, so a cursor is
		// plain data that works on any instance and after a restart. For
		// a common prefix S3 rolls the keys under it up into it again;
		// the dedupe's memory of the last name drops that repeat.
		in.StartAfter = aws.String(w.prefix + a.Key)
		w.lastKey = w.prefix + a.Key
		w.d.restore(a)
	}
	if w.req.Limit > 0 {
		// One more than asked, so a page that ends exactly at the limit
		// knows whether more follow without another call.
		in.MaxKeys = aws.Int32(int32(min(w.req.Limit+1, 1000)))
	}
	return in
}

// advance sets in up for the S3 page after p, refusing a continuation
// token that cannot make progress. A token seen before without progress in
// between is a cycle; a cycle through pages that do hold keys is caught by
// the order check instead, as the keys come round again.
func (w *walk) advance(in *s3.ListObjectsV2Input, p *s3Page, seen map[string]bool) error {
	if p.next == "" || seen[p.next] || p.next == aws.ToString(in.ContinuationToken) {
		w.l.m.paginationErrors.WithLabelValues("repeated_token").Inc()
		return fmt.Errorf("list %q: %w: S3 repeated continuation token %q", w.prefix, listing.ErrUpstream, p.next)
	}
	seen[p.next] = true
	in.ContinuationToken = aws.String(p.next)
	if w.req.Limit > 0 {
		// Only what the page still needs, and one more: a page that
		// ended at an S3 page boundary needs a single key to know
		// whether more follow, not another thousand.
		in.MaxKeys = aws.Int32(int32(min(w.req.Limit-w.count+1, 1000)))
	}
	return nil
}

// finish ends a walk that read the directory to its end: the held first
// batch goes out as the whole listing, or an empty batch marks the end of
// a streamed one. A directory that turned out not to exist emits nothing.
func (w *walk) finish() error {
	switch {
	case !w.exists:
		return nil
	case w.held:
		return w.emit(w.pending, true)
	default:
		return w.emit([]listing.Entry{}, true)
	}
}

// take turns one S3 page into entries and hands out the batch held back
// before it. done reports that the walk ended (at the limit) with next as
// the position to resume from.
func (w *walk) take(ctx context.Context, p *s3Page) (next *listing.Position, done bool, err error) {
	items := mergeItems(p)
	batch := make([]listing.Entry, 0, len(items))
	for i, it := range items {
		rel, keep, err := w.admit(it.key)
		if err != nil {
			return nil, true, err
		}
		if !keep {
			continue
		}
		if w.req.Limit > 0 && w.count == w.req.Limit {
			// One entry past the limit: more follow.
			return w.flushAt(batch)
		}
		e, ok, err := w.child(ctx, rel, it, items[i+1:], p.truncated)
		if err != nil {
			return nil, true, err
		}
		if !ok {
			continue
		}
		batch = append(batch, e)
		w.count++
		w.d.pos = rel
	}
	return w.handOut(batch, p.truncated)
}

// admit checks one key of a page against the walk: keys must not go
// backwards, and only keys below the listed prefix and not hidden are
// children. rel is the key relative to the prefix.
func (w *walk) admit(key string) (rel string, keep bool, err error) {
	if key < w.lastKey {
		w.l.m.paginationErrors.WithLabelValues("backwards").Inc()
		return "", false, fmt.Errorf("list %q: %w: key %q came after %q", w.prefix, listing.ErrUpstream, key, w.lastKey)
	}
	w.lastKey = key
	rel, ok := strings.CutPrefix(key, w.prefix)
	if !ok || rel == "" {
		// Outside the prefix: S3 never does this, and a broken endpoint
		// must not leak other keys. Equal to it: the directory's own
		// marker object (a zero-byte "dir/" made by consoles and sync
		// tools), which is the directory itself, not a child.
		return "", false, nil
	}
	if w.req.Hide != nil && w.req.Hide(rel) {
		// Before the limit's check: a hidden key past the limit is not
		// "more to follow".
		return "", false, nil
	}
	return rel, true, nil
}

// child makes the entry for rel, or reports a duplicate. With details an
// object that is also a directory becomes the directory, as in
// mountpoint-s3; rest and truncated are what the page holds after it.
func (w *walk) child(ctx context.Context, rel string, it item, rest []item, truncated bool) (listing.Entry, bool, error) {
	e, ok := w.entry(rel, it)
	if !ok || !w.req.Details || w.req.Recursive || e.Dir {
		return e, ok, nil
	}
	dir, err := w.isDir(ctx, rel, rest, truncated)
	if err != nil || !dir {
		return e, true, err
	}
	return listing.Entry{Name: e.Name, Dir: true}, true, nil
}

// handOut hands out the batch made from one S3 page: at once when the
// walk already streams, else held back until the next page shows whether
// it is the whole listing.
func (w *walk) handOut(batch []listing.Entry, truncated bool) (next *listing.Position, done bool, err error) {
	if len(batch) == 0 {
		// gofakes3 can end on an empty page after a full one that said
		// more follows; never hand out an empty non-final batch.
		return nil, false, nil
	}
	if w.req.Limit > 0 && w.count == w.req.Limit && truncated {
		// The limit is reached and S3 says more follows: that is the
		// page's end, without another call to look one key further.
		return w.flushAt(batch)
	}
	if err := w.release(); err != nil {
		return nil, true, err
	}
	if w.streaming {
		return nil, false, w.emit(batch, false)
	}
	w.pending, w.held = batch, true
	return nil, false, nil
}

// release hands out the held first batch: another one follows it.
func (w *walk) release() error {
	if !w.held {
		return nil
	}
	w.held, w.streaming = false, true
	batch := w.pending
	w.pending = nil
	return w.emit(batch, false)
}

// flushAt ends a limited walk: the held batch and this one go out as the
// last, and the position after them is the cursor for the next request.
func (w *walk) flushAt(batch []listing.Entry) (*listing.Position, bool, error) {
	if err := w.release(); err != nil {
		return nil, true, err
	}
	return w.d.position(), true, w.emit(batch, true)
}

// entry makes the listing.Entry for one item, or reports that it is a duplicate.
func (w *walk) entry(rel string, it item) (listing.Entry, bool) {
	if w.req.Recursive {
		// Every key below the path, as it is; a marker keeps its slash.
		e := listing.Entry{Name: rel, Dir: strings.HasSuffix(rel, "/")}
		if !e.Dir {
			it.obj.fill(&e)
		}
		return e, true
	}
	name, isDir, ok := w.d.add(rel, it.obj == nil)
	if !ok {
		return listing.Entry{}, false
	}
	e := listing.Entry{Name: name, Dir: isDir}
	if !isDir {
		it.obj.fill(&e)
	}
	return e, true
}

// isDir settles whether object rel also has a directory rel+"/" (then the
// directory wins). The rest of the page usually tells; when it ends before
// "rel/" could appear, one small ListObjectsV2 asks.
func (w *walk) isDir(ctx context.Context, rel string, rest []item, truncated bool) (bool, error) {
	for _, it := range rest {
		r := strings.TrimPrefix(it.key, w.prefix)
		if strings.HasPrefix(r, rel+"/") {
			return true, nil
		}
		if slashedLess(rel, r) {
			return false, nil
		}
	}
	if !truncated {
		return false, nil
	}
	return w.l.anyKey(ctx, w.prefix+rel+"/")
}

func (o *s3Object) fill(e *listing.Entry) {
	e.Size, e.Modified, e.ETag, e.StorageClass = o.size, o.modified, o.etag, o.class
}

// item is one key of a page in S3 order: an object, or a common prefix
// (obj nil).
type item struct {
	key string
	obj *s3Object
}

// mergeItems merges a page's objects and common prefixes in key order.
func mergeItems(p *s3Page) []item {
	items := make([]item, 0, len(p.objects)+len(p.prefixes))
	i, j := 0, 0
	for i < len(p.objects) || j < len(p.prefixes) {
		if j >= len(p.prefixes) || (i < len(p.objects) && p.objects[i].key <= p.prefixes[j]) {
			items = append(items, item{key: p.objects[i].key, obj: &p.objects[i]})
			i++
		} else {
			items = append(items, item{key: p.prefixes[j]})
			j++
		}
	}
	return items
}

// errOutsideRoot is a call the lister refused to send: it would have named
// keys outside the root prefix. Nothing valid can cause it; it is the last
// line of defence against a bug above.
var errOutsideRoot = errors.New("refused: outside the root prefix")

// list sends one ListObjectsV2 call through the page cache. It is the only
// way the lister reaches storage and so the one place the root prefix is
// enforced, below every path, cursor and option: a call whose Prefix or
// StartAfter does not start with the root is never sent, and keys outside
// the root in an answer (an S3-compatible endpoint that ignores Prefix)
// are dropped. The IAM condition on s3:prefix enforces the same again, in
// AWS.
func (l *Lister) list(ctx context.Context, in *s3.ListObjectsV2Input) (*s3Page, error) {
	if !strings.HasPrefix(aws.ToString(in.Prefix), l.root) ||
		(in.StartAfter != nil && !strings.HasPrefix(*in.StartAfter, l.root)) {
		return nil, fmt.Errorf("prefix %q, start after %q: %w", aws.ToString(in.Prefix), aws.ToString(in.StartAfter), errOutsideRoot)
	}
	p, err := l.api.list(ctx, in)
	if err != nil || l.root == "" {
		return p, err
	}
	return p.within(l.root), nil
}

// within returns the page without the keys that do not start with root:
// the page itself when all do (always, from S3), else a filtered copy, so
// a page shared through the cache is never changed.
func (p *s3Page) within(root string) *s3Page {
	inside := func(k string) bool { return strings.HasPrefix(k, root) }
	if !slices.ContainsFunc(p.objects, func(o s3Object) bool { return !inside(o.key) }) &&
		!slices.ContainsFunc(p.prefixes, func(k string) bool { return !inside(k) }) {
		return p
	}
	q := &s3Page{truncated: p.truncated, next: p.next}
	for _, o := range p.objects {
		if inside(o.key) {
			q.objects = append(q.objects, o)
		}
	}
	for _, k := range p.prefixes {
		if inside(k) {
			q.prefixes = append(q.prefixes, k)
		}
	}
	return q
}

// anyKey reports whether any key starts with prefix.
func (l *Lister) anyKey(ctx context.Context, prefix string) (bool, error) {
	p, err := l.list(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(l.bucket),
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return false, l.fail(ctx, "find", prefix, err, false)
	}
	return len(p.objects) > 0 || len(p.prefixes) > 0, nil
}

// listObject answers a path that is not a directory: if an object with
// exactly that key exists it is listed by its base name, like ls FILE. The
// shortest key starting with key is key itself, so a one-key listing with
// Prefix=key answers "does this object exist" using only s3:ListBucket.
func (l *Lister) listObject(ctx context.Context, key, namePrefix string, emit func([]listing.Entry, bool) error) error {
	p, err := l.list(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(l.bucket),
		Prefix:  aws.String(key),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return l.fail(ctx, "find", key, err, false)
	}
	name := key[strings.LastIndexByte(key, '/')+1:]
	if len(p.objects) == 0 || p.objects[0].key != key || !strings.HasPrefix(name, namePrefix) {
		return fmt.Errorf("find %q: %w", key, listing.ErrNotFound)
	}
	e := listing.Entry{Name: name}
	p.objects[0].fill(&e)
	return emit([]listing.Entry{e}, true)
}

// fail turns an SDK error into a domain error. The SDK error's text stays in
// the message for the log (handlers log it once, at the edge) but is not
// wrapped, so nothing above this layer can reach SDK types.
func (l *Lister) fail(ctx context.Context, op, prefix string, err error, resumed bool) error {
	kind := classify(err)
	if kind == context.Canceled && ctx.Err() == nil {
		// The detached S3 call was cancelled, not this request.
		kind = listing.ErrUpstream
	}
	if resumed && errors.Is(kind, listing.ErrBucketUnavailable) && isInvalidArgument(err) {
		// A start key from a cursor that S3 refuses is the client's
		// mistake, not an unavailable bucket.
		kind = listing.ErrBadCursor
	}
	return fmt.Errorf("%s %q: %w: %v", op, prefix, kind, err)
}

// isInvalidArgument reports S3's answer to a start key or token it cannot
// use.
func isInvalidArgument(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidArgument"
}

// classify maps an SDK error to a domain error. Order matters: a context
// error from our own deadline beats whatever the SDK wrapped around it.
func classify(err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return listing.ErrTimeout
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "AccountProblem",
			"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
			"TokenRefreshRequired", "AuthorizationHeaderMalformed", "PermanentRedirect",
			"InvalidBucketName", "InvalidBucketState":
			return listing.ErrBucketUnavailable
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
			"TooManyRequests", "TooManyRequestsException", "RequestThrottled",
			"ServiceUnavailable":
			return listing.ErrThrottled
		case "RequestTimeout", "RequestTimeoutException":
			return listing.ErrTimeout
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch code := respErr.HTTPStatusCode(); {
		case code == 301 || code == 307 || code == 400 || code == 401 || code == 403 || code == 404:
			// 301 without a code: the bucket lives in another region.
			return listing.ErrBucketUnavailable
		case code == 429 || code == 503:
			return listing.ErrThrottled
		case code == 504:
			return listing.ErrTimeout
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return listing.ErrTimeout
	}
	return listing.ErrUpstream
}

// dedupe turns S3 keys into names. It keeps what is needed to remove
// duplicates across the whole walk with memory that does not grow with the
// directory, and small enough to travel in a cursor.
//
// Duplicates come in three shapes: an object "a" and a prefix "a/" (S3 sorts
// "a" first, and "a!", "a-b"... may sit between them); gofakes3 returning a
// directory's zero-byte marker "a/" as an object next to the common prefix
// "a/"; and a common prefix repeated at the start of the next page (gofakes3
// does it, and S3 does it after StartAfter="a/"). The last two are adjacent
// in key order, so comparing with the last name emitted catches them. For
// the first, objects are remembered on a stack until the key order passes
// "name/": every key between "a" and "a/" starts with "a", so the open
// objects form a chain of prefixes and only the top of the stack can expire
// first.
type dedupe struct {
	last    string
	started bool
	open    []string // object names whose "name/" directory may still follow
	pos     string   // key (relative) of the last entry handed out
}

// restore continues a walk from a cursor's position.
func (d *dedupe) restore(p *listing.Position) {
	d.pos = p.Key
	d.last, d.started = strings.TrimSuffix(p.Key, "/"), true
	d.open = slices.Clone(p.Open)
}

// position is where the walk stands, for a cursor.
func (d *dedupe) position() *listing.Position {
	return &listing.Position{Key: d.pos, Open: slices.Clone(d.open)}
}

// add records one key (relative to the listed prefix) and reports the name
// to emit and whether it names a directory, or ok false for a duplicate.
func (d *dedupe) add(rel string, isPrefix bool) (name string, isDir, ok bool) {
	name, isDir = rel, isPrefix
	if strings.HasSuffix(rel, "/") {
		// A common prefix, or gofakes3's zero-byte "dir/" marker returned
		// as an object at the parent level: both name a directory.
		name, isDir = rel[:len(rel)-1], true
	}
	if name == "" {
		// A key like "dir//x" makes an empty-named directory that no valid
		// request path can reach; listing "" would only confuse clients.
		return "", false, false
	}
	for len(d.open) > 0 && slashedLess(d.open[len(d.open)-1], rel) {
		d.open = d.open[:len(d.open)-1]
	}
	if d.started && name == d.last {
		return "", false, false
	}
	if isDir && len(d.open) > 0 && d.open[len(d.open)-1] == name {
		return "", false, false
	}
	if !isDir {
		d.open = append(d.open, name)
	}
	d.last, d.started = name, true
	return name, isDir, true
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

// rootKey is the key prefix a validated root prefix stands for: "" for the
// whole bucket, otherwise the prefix and its separator.
func rootKey(rootPrefix string) string {
	if rootPrefix == "" {
		return ""
	}
	return rootPrefix + "/"
}
