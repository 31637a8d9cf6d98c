package s3store

import (
	"container/list"
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// s3Page is one ListObjectsV2 answer, reduced to what a listing reads. It
// is what the cache holds, so its size is what the cache budget counts.
type s3Page struct {
	objects   []s3Object
	prefixes  []string // common prefixes
	truncated bool
	next      string // continuation token
}

type s3Object struct {
	key      string
	size     int64
	modified time.Time
	etag     string
	class    string
}

// memSize estimates the bytes a cached page keeps alive: the structs, the
// strings' bytes and the bookkeeping of its cache slot. It is what the
// byte budget counts, so the budget is a bound on memory, not on keys.
func (p *s3Page) memSize(key string) int {
	n := int(unsafe.Sizeof(*p)+unsafe.Sizeof(cacheSlot{})) + len(key) + len(p.next) + cacheSlotOverhead
	n += len(p.objects) * int(unsafe.Sizeof(s3Object{}))
	for _, o := range p.objects {
		n += len(o.key) + len(o.etag) + len(o.class)
	}
	n += len(p.prefixes) * int(unsafe.Sizeof(""))
	for _, pr := range p.prefixes {
		n += len(pr)
	}
	return n
}

// cacheSlotOverhead is the map entry and list element behind each slot.
const cacheSlotOverhead = 128

func pageFromOutput(out *s3.ListObjectsV2Output) *s3Page {
	p := &s3Page{
		objects:   make([]s3Object, len(out.Contents)),
		prefixes:  make([]string, len(out.CommonPrefixes)),
		truncated: aws.ToBool(out.IsTruncated),
		next:      aws.ToString(out.NextContinuationToken),
	}
	for i, o := range out.Contents {
		p.objects[i] = s3Object{
			key:      aws.ToString(o.Key),
			size:     aws.ToInt64(o.Size),
			modified: aws.ToTime(o.LastModified).UTC(),
			etag:     aws.ToString(o.ETag),
			class:    string(o.StorageClass),
		}
	}
	for i, cp := range out.CommonPrefixes {
		p.prefixes[i] = aws.ToString(cp.Prefix)
	}
	return p
}

// emptyPageTTL caps how long an empty answer stays cached. Empty answers
// are never answered stale: a path that did not exist a second ago may
// exist now, and a flood of one-off paths must not hold the cache longer.
const emptyPageTTL = time.Second

// maxEmptyPages bounds the empty answers kept (see emptyPages): a second
// of them at 4,096 requests a second, about 1.5 MiB, whatever the byte
// budget.
const maxEmptyPages = 4096

// pageCache sits between a walk and S3. It coalesces identical concurrent
// ListObjectsV2 calls into one (always, whatever the TTL), and with a TTL
// it also serves repeated calls from memory. Working on pages rather than
// whole listings keeps streaming intact: N clients walking the same large
// directory at the same time share each page's S3 call without any of them
// holding more than a page.
//
// With a stale window, a page past its TTL is still answered for that long
// while one call refreshes it in the background (stale-while-revalidate,
// RFC 5861 for HTTP caches), so a popular directory never makes a request
// wait for S3 at expiry. A page is therefore at most TTL + window old, plus
// the time S3 takes to answer the refresh. A refresh that fails leaves the
// stale page in place until the window ends (stale-if-error): S3 throttling
// or a blip does not turn a cached listing into an error. The page then
// backs off (see refreshBackoff): requests meanwhile get the stale page and
// start no call, so an outage under a hot directory does not make the
// service call S3 as fast as requests arrive. Past the window requests
// wait for S3 and see its error, as without the window.
type pageCache struct {
	next    s3.ListObjectsV2APIClient
	ttl     time.Duration
	stale   time.Duration // the stale window; 0: a page past its TTL is gone
	timeout time.Duration
	backoff refreshBackoff
	m       *s3Metrics
	store   *slru
	empty   *emptyPages      // empty answers, outside store's budget
	now     func() time.Time // the cache's clock; tests move it by hand

	mu      sync.Mutex
	flights map[string]*flight // calls in progress, by pageKey
}

func newPageCache(next s3.ListObjectsV2APIClient, ttl, stale, timeout time.Duration, maxBytes int, m *s3Metrics) *pageCache {
	return &pageCache{next: next, ttl: ttl, stale: stale, timeout: timeout, backoff: newRefreshBackoff(ttl), m: m, store: newSLRU(maxBytes), empty: newEmptyPages(maxEmptyPages), now: time.Now, flights: map[string]*flight{}}
}

// Refresh backoff bounds. The SDK already retries within one call (three
// attempts, backing off between them); this spaces the calls themselves
// when whole calls fail, which the SDK cannot see: each stale answer would
// otherwise start the next refresh as soon as the last one failed.
//
// AWS's guidance, "Exponential Backoff And Jitter" (AWS Architecture
// Blog, https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)
// and "Timeouts, retries, and backoff with jitter" (Amazon Builders'
// Library), is capped exponential backoff with jitter; the S3 performance
// guide ("Timeouts and Retries for Latency-Sensitive Applications") asks
// for backoff when S3 answers 503 SlowDown. Our choices:
//   - Start at 100 ms: after one failed call (a blip) the page is
//     refreshed again within a tenth of a second, yet from the first
//     failure on it is no longer refreshed once per request.
//   - Cap at the TTL: at the cap an outage costs S3 no more calls per page
//     than a healthy hot page does (one per TTL). And at 5 s whatever the
//     TTL, the order of the S3 guide's own example (retry after 2 s, then
//     4 s), so a page stays stale at most 5 s after S3 recovers.
//   - "Equal jitter" (half the delay fixed, half random), not the blog's
//     "full jitter": the cache already makes one caller per page, so the
//     jitter is there only to keep the pages (and replicas) that failed
//     together in one outage from retrying in lockstep, and the fixed half
//     keeps a floor under every delay, which is what bounds the calls.
const (
	refreshBackoffBase = 100 * time.Millisecond
	refreshBackoffMax  = 5 * time.Second
)

// refreshBackoff is how long a page waits for its next refresh after
// refreshes in a row failed: a delay that doubles from base with each
// failure up to max, jittered.
type refreshBackoff struct {
	base, max time.Duration
}

func newRefreshBackoff(ttl time.Duration) refreshBackoff {
	return refreshBackoff{base: refreshBackoffBase, max: min(max(ttl, refreshBackoffBase), refreshBackoffMax)}
}

// delay is the wait after the failures-th failure in a row (from 1): a
// random time in [d/2, d), d = min(max, base·2^(failures-1)).
func (b refreshBackoff) delay(failures int) time.Duration {
	d := b.base
	for i := 1; i < failures && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + rand.N(d-d/2)
}

// list answers in from the cache, from an identical call in flight, or
// from S3. Callers must treat the page as read-only: it may be shared.
func (c *pageCache) list(ctx context.Context, in *s3.ListObjectsV2Input) (*s3Page, error) {
	key := pageKey(in)
	if c.ttl > 0 {
		if p, fresh, ok := c.store.get(key, c.now()); ok {
			c.m.cacheHits.Inc()
			if !fresh {
				c.m.staleHits.Inc()
				c.refresh(ctx, key, in)
			}
			return p, nil
		}
		if p, ok := c.empty.get(key, c.now()); ok {
			c.m.cacheHits.Inc()
			return p, nil
		}
	}
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		c.m.coalesced.Inc()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.done:
			return f.page, f.err
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	if d, ok := ctx.Deadline(); ok && time.Until(d) < c.timeout {
		// The request may not wait as long as the call may take: lead
		// from a goroutine of its own and give up waiting on time.
		go c.fly(ctx, key, in, f)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.done:
			return f.page, f.err
		}
	}
	// Lead on this goroutine. Its stack has already grown; a fresh one
	// per call would grow its stack through the SDK's deep middleware
	// chain on every call, about 7% of an uncached listing's CPU. A
	// client that hangs up meanwhile only keeps this goroutine until the
	// call ends (at most the call timeout).
	c.fly(ctx, key, in, f)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.page, f.err
}

// refresh starts the one background call that replaces a stale page,
// unless a call for the same page is already in flight or the page is
// backing off after a failed refresh. Requests that arrive meanwhile get
// the stale page; a request that finds the page past its window joins the
// call like any coalesced one.
func (c *pageCache) refresh(ctx context.Context, key string, in *s3.ListObjectsV2Input) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.flights[key]; ok {
		return
	}
	// Asked under c.mu: a failed refresh records its backoff before it
	// leaves flights, so a request sees either the call or its backoff.
	if c.store.backingOff(key, c.now()) {
		c.m.refreshesSkipped.Inc()
		return
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.m.refreshes.Inc()
	// A copy: the walk that asked goes on at once and sets the same input
	// up for its next page while this call still reads it.
	own := *in
	go c.fly(ctx, key, &own, f)
}

// flight is one S3 call in progress, which identical calls wait for.
type flight struct {
	done chan struct{} // closed when page and err are set
	page *s3Page
	err  error
}

// fly makes the S3 call of flight f, caches its answer and releases those
// waiting for it. The call is detached from the request that leads it: the
// others waiting must not fail because its client hung up; the timeout
// still ends it. A failed call leaves the page the cache holds, if any,
// and makes it back off before its next refresh.
func (c *pageCache) fly(ctx context.Context, key string, in *s3.ListObjectsV2Input, f *flight) {
	defer func() {
		if f.page == nil && f.err == nil {
			f.err = errors.New("S3 call panicked") // the panic goes on up
		}
		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(f.done)
	}()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	listing.CountCall(ctx)
	start := time.Now()
	out, err := c.next.ListObjectsV2(cctx, in)
	c.m.observe(time.Since(start), err)
	if err != nil {
		f.err = err
		if c.ttl > 0 {
			c.store.refreshFailed(key, c.now(), c.backoff)
		}
		return
	}
	p := pageFromOutput(out)
	if c.ttl > 0 {
		now := c.now()
		if len(p.objects) == 0 && len(p.prefixes) == 0 {
			// Empty answers (a path that does not exist, a prefix
			// nothing matches) are what a scanner's flood of one-off
			// paths produces: they are kept only briefly, never
			// answered stale, and apart from the budget, so that
			// dead ones neither push out the listings people repeat
			// nor hold memory after they expire (48,000 missing paths
			// left 89 MiB of RSS when they shared the budget).
			c.store.remove(key)
			c.empty.put(key, p, now, now.Add(min(c.ttl, emptyPageTTL)))
		} else {
			c.empty.remove(key)
			c.store.put(key, p, now.Add(c.ttl), now.Add(c.ttl+c.stale))
		}
	}
	f.page = p
}

// pageKey identifies a call by every input that changes its answer. Keys
// are valid UTF-8 without NUL (validated paths), so NUL separates fields.
func pageKey(in *s3.ListObjectsV2Input) string {
	var b strings.Builder
	b.Grow(len(aws.ToString(in.Prefix)) + len(aws.ToString(in.ContinuationToken)) + len(aws.ToString(in.StartAfter)) + 16)
	b.WriteString(aws.ToString(in.Prefix))
	b.WriteByte(0)
	b.WriteString(aws.ToString(in.Delimiter))
	b.WriteByte(0)
	b.WriteString(aws.ToString(in.ContinuationToken))
	b.WriteByte(0)
	b.WriteString(aws.ToString(in.StartAfter))
	b.WriteByte(0)
	if in.MaxKeys != nil {
		b.WriteString(strconv.Itoa(int(*in.MaxKeys)))
	}
	return b.String()
}

// slru is a segmented LRU bounded in bytes. A page enters the probation
// segment; a second hit promotes it to the protected segment, which holds
// most of the budget. A flood of one-off listings therefore only churns
// probation, and the listings people repeat stay cached.
type slru struct {
	mu        sync.Mutex
	max       int // bytes, both segments
	protMax   int // bytes the protected segment may hold
	items     map[string]*list.Element
	probation *list.List
	protected *list.List
	probBytes int
	protBytes int
}

type cacheSlot struct {
	key       string
	page      *s3Page
	staleAt   time.Time // past it the page is answered only while it is refreshed
	expires   time.Time // past it the page is gone: staleAt plus the stale window
	size      int
	protected bool
	// The refresh backoff lives with the page it holds back, so it is
	// bounded by the cache budget and goes when the page goes; a new
	// answer comes in a new slot, which resets it.
	failures int       // refreshes failed in a row
	retryAt  time.Time // no refresh before it
}

// protectedShare is the part of the budget kept for pages hit twice.
const protectedShare = 0.8

func newSLRU(maxBytes int) *slru {
	return &slru{
		max:       maxBytes,
		protMax:   int(float64(maxBytes) * protectedShare),
		items:     map[string]*list.Element{},
		probation: list.New(),
		protected: list.New(),
	}
}

// get returns the page cached under key, if it has not expired by now,
// and whether it is still fresh (not past its TTL).
func (s *slru) get(key string, now time.Time) (page *s3Page, fresh, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	if !ok {
		return nil, false, false
	}
	slot := e.Value.(*cacheSlot)
	if now.After(slot.expires) {
		s.drop(e)
		return nil, false, false
	}
	fresh = !now.After(slot.staleAt)
	if slot.protected {
		s.protected.MoveToFront(e)
		return slot.page, fresh, true
	}
	// Second hit: promote, and demote the protected segment's oldest
	// pages to probation while it is over its share.
	s.probation.Remove(e)
	s.probBytes -= slot.size
	slot.protected = true
	s.items[key] = s.protected.PushFront(slot)
	s.protBytes += slot.size
	for s.protBytes > s.protMax && s.protected.Len() > 1 {
		old := s.protected.Back()
		demoted := old.Value.(*cacheSlot)
		s.protected.Remove(old)
		s.protBytes -= demoted.size
		demoted.protected = false
		s.items[demoted.key] = s.probation.PushFront(demoted)
		s.probBytes += demoted.size
	}
	s.evict()
	return slot.page, fresh, true
}

// backingOff reports whether the page cached under key had a refresh fail
// too recently to start another by now.
func (s *slru) backingOff(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	return ok && now.Before(e.Value.(*cacheSlot).retryAt)
}

// refreshFailed makes the page cached under key, if any, wait b's delay
// for its next refresh, longer with each failure in a row.
func (s *slru) refreshFailed(key string, now time.Time, b refreshBackoff) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		slot := e.Value.(*cacheSlot)
		slot.failures++
		slot.retryAt = now.Add(b.delay(slot.failures))
	}
}

// put caches p under key: fresh until staleAt, gone after expires.
func (s *slru) put(key string, p *s3Page, staleAt, expires time.Time) {
	size := p.memSize(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if size > s.max-s.protMax {
		return // larger than probation could ever hold
	}
	if e, ok := s.items[key]; ok {
		s.drop(e)
	}
	s.items[key] = s.probation.PushFront(&cacheSlot{key: key, page: p, staleAt: staleAt, expires: expires, size: size})
	s.probBytes += size
	s.evict()
}

// evict drops the least recently used probation pages, then protected
// ones, until both segments fit the budget.
func (s *slru) evict() {
	for s.probBytes+s.protBytes > s.max {
		e := s.probation.Back()
		if e == nil {
			e = s.protected.Back()
		}
		s.drop(e)
	}
}

// remove drops the page cached under key, if any.
func (s *slru) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		s.drop(e)
	}
}

func (s *slru) drop(e *list.Element) {
	slot := e.Value.(*cacheSlot)
	delete(s.items, slot.key)
	if slot.protected {
		s.protected.Remove(e)
		s.protBytes -= slot.size
	} else {
		s.probation.Remove(e)
		s.probBytes -= slot.size
	}
}

// bytes is what the cache holds now, by its own accounting.
func (s *slru) bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probBytes + s.protBytes
}

// emptyPages keeps empty answers for their short TTL, first in first out
// and bounded in number, apart from the byte budget of the pages with
// entries. Every entry has the same TTL, so the oldest is the first to
// expire: expired entries go first, at no cost, and a flood that outruns
// the TTL pushes out only its own oldest entries.
type emptyPages struct {
	mu    sync.Mutex
	max   int
	items map[string]emptyPage
	order []emptyKey // oldest first; an entry put again is found by its expiry
	head  int        // order[:head] are gone
}

type emptyPage struct {
	page    *s3Page
	expires time.Time
}

type emptyKey struct {
	key     string
	expires time.Time
}

func newEmptyPages(max int) *emptyPages {
	return &emptyPages{max: max, items: map[string]emptyPage{}}
}

// get returns the empty answer cached under key, unless it expired by now.
func (e *emptyPages) get(key string, now time.Time) (*s3Page, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	it, ok := e.items[key]
	if !ok || now.After(it.expires) {
		return nil, false
	}
	return it.page, true
}

// put keeps p under key until expires, after dropping what expired by
// now and, while full, the oldest.
func (e *emptyPages) put(key string, p *s3Page, now, expires time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.head < len(e.order) && (len(e.items) >= e.max || e.order[e.head].expires.Before(now)) {
		old := e.order[e.head]
		e.order[e.head] = emptyKey{}
		e.head++
		if it, ok := e.items[old.key]; ok && it.expires.Equal(old.expires) {
			delete(e.items, old.key)
		}
	}
	if e.head > len(e.order)/2 {
		e.order = append(e.order[:0], e.order[e.head:]...)
		e.head = 0
	}
	e.items[key] = emptyPage{page: p, expires: expires}
	e.order = append(e.order, emptyKey{key: key, expires: expires})
}

// remove drops the empty answer under key, if any: the path has entries.
func (e *emptyPages) remove(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
