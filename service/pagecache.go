package service

import (
	"container/list"
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/singleflight"
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

// s3CallsKey carries a request's S3 call counter in its context. The
// lister owns it: whoever wants the count (the access log) hands a counter
// down with withS3CallCounter, and nothing in the S3 path reaches up into
// HTTP code for it.
type s3CallsKey struct{}

// withS3CallCounter returns ctx with n attached: every S3 call made for a
// request with that context adds one to n (a coalesced call counts for the
// request that led it).
func withS3CallCounter(ctx context.Context, n *atomic.Int32) context.Context {
	return context.WithValue(ctx, s3CallsKey{}, n)
}

func countS3Call(ctx context.Context) {
	if n, ok := ctx.Value(s3CallsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
}

// emptyPageTTL caps how long an empty answer stays cached.
const emptyPageTTL = time.Second

// pageCache sits between a walk and S3. It coalesces identical concurrent
// ListObjectsV2 calls into one (always, whatever the TTL), and with a TTL
// it also serves repeated calls from memory. Working on pages rather than
// whole listings keeps streaming intact: N clients walking the same large
// directory at the same time share each page's S3 call without any of them
// holding more than a page.
type pageCache struct {
	next    s3.ListObjectsV2APIClient
	ttl     time.Duration
	timeout time.Duration
	m       *s3Metrics
	group   singleflight.Group
	store   *slru
}

func newPageCache(next s3.ListObjectsV2APIClient, ttl, timeout time.Duration, maxBytes int, m *s3Metrics) *pageCache {
	return &pageCache{next: next, ttl: ttl, timeout: timeout, m: m, store: newSLRU(maxBytes)}
}

// list answers in from the cache, from an identical call in flight, or
// from S3. Callers must treat the page as read-only: it may be shared.
func (c *pageCache) list(ctx context.Context, in *s3.ListObjectsV2Input) (*s3Page, error) {
	key := pageKey(in)
	if c.ttl > 0 {
		if p, ok := c.store.get(key, time.Now()); ok {
			c.m.cacheHits.Inc()
			return p, nil
		}
	}
	leader := false
	ch := c.group.DoChan(key, func() (any, error) {
		leader = true
		// Detached from the request that happens to lead: the others
		// waiting on this call must not fail because its client hung up.
		// The timeout still ends it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		countS3Call(ctx)
		start := time.Now()
		out, err := c.next.ListObjectsV2(cctx, in)
		c.m.observe(time.Since(start), err)
		if err != nil {
			return nil, err
		}
		p := pageFromOutput(out)
		if c.ttl > 0 {
			ttl := c.ttl
			if len(p.objects) == 0 && len(p.prefixes) == 0 {
				// Empty answers (a path that does not exist, a prefix
				// nothing matches) are what a scanner's flood of one-off
				// paths produces: they are kept only briefly, and like
				// every new page only in the probation segment, so they
				// cannot push out the listings people repeat.
				ttl = min(ttl, emptyPageTTL)
			}
			c.store.put(key, p, time.Now().Add(ttl))
		}
		return p, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if !leader {
			c.m.coalesced.Inc()
		}
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*s3Page), nil
	}
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
	expires   time.Time
	size      int
	protected bool
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

func (s *slru) get(key string, now time.Time) (*s3Page, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	if !ok {
		return nil, false
	}
	slot := e.Value.(*cacheSlot)
	if now.After(slot.expires) {
		s.remove(e)
		return nil, false
	}
	if slot.protected {
		s.protected.MoveToFront(e)
		return slot.page, true
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
	return slot.page, true
}

func (s *slru) put(key string, p *s3Page, expires time.Time) {
	size := p.memSize(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if size > s.max-s.protMax {
		return // larger than probation could ever hold
	}
	if e, ok := s.items[key]; ok {
		s.remove(e)
	}
	s.items[key] = s.probation.PushFront(&cacheSlot{key: key, page: p, expires: expires, size: size})
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
		s.remove(e)
	}
}

func (s *slru) remove(e *list.Element) {
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
