package service

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/singleflight"
)

// cacheMaxKeys bounds what the page cache holds, counted in keys and common
// prefixes (a slimmed key costs roughly 200 bytes, so about 4 MiB). Past it,
// new pages are not cached: a cache must not turn into the memory growth
// that streaming avoids.
const cacheMaxKeys = 20_000

// pageCache sits between the paginator and S3. It coalesces identical
// concurrent ListObjectsV2 calls into one (always, whatever the TTL), and
// with a TTL it also serves repeated calls from memory. Working on pages
// rather than whole listings keeps streaming intact: N clients walking the
// same large directory at the same time share each page's S3 call without
// any of them holding more than a page.
type pageCache struct {
	next    s3.ListObjectsV2APIClient
	ttl     time.Duration
	timeout time.Duration
	m       *s3Metrics
	group   singleflight.Group

	mu      sync.Mutex
	entries map[string]cachedPage
	keys    int // keys and prefixes held in entries
}

type cachedPage struct {
	out     *s3.ListObjectsV2Output
	expires time.Time
}

func newPageCache(next s3.ListObjectsV2APIClient, ttl, timeout time.Duration, m *s3Metrics) *pageCache {
	return &pageCache{next: next, ttl: ttl, timeout: timeout, m: m, entries: map[string]cachedPage{}}
}

// ListObjectsV2 implements s3.ListObjectsV2APIClient. Callers must treat
// the returned output as read-only: it may be shared with other requests.
func (c *pageCache) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	key := pageKey(in)
	if c.ttl > 0 {
		if out, ok := c.get(key); ok {
			c.m.cacheHits.Inc()
			return out, nil
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
		out, err := c.next.ListObjectsV2(cctx, in, optFns...)
		c.m.observe(time.Since(start), err)
		if err == nil && c.ttl > 0 {
			c.put(key, out)
		}
		return out, err
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
		return res.Val.(*s3.ListObjectsV2Output), nil
	}
}

// pageKey identifies a call by every input that changes its answer. Keys
// are valid UTF-8 without NUL (validated paths), so NUL separates fields.
func pageKey(in *s3.ListObjectsV2Input) string {
	var b strings.Builder
	b.Grow(len(aws.ToString(in.Prefix)) + len(aws.ToString(in.ContinuationToken)) + 16)
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

func (c *pageCache) get(key string) (*s3.ListObjectsV2Output, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	if time.Now().After(e.expires) {
		c.remove(key, e)
		return nil, false
	}
	return e.out, true
}

func (c *pageCache) put(key string, out *s3.ListObjectsV2Output) {
	slim := slimPage(out)
	n := len(slim.Contents) + len(slim.CommonPrefixes) + 1
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[key]; ok {
		c.remove(key, old)
	}
	if c.keys+n > cacheMaxKeys {
		now := time.Now()
		for k, e := range c.entries {
			if now.After(e.expires) {
				c.remove(k, e)
			}
		}
		if c.keys+n > cacheMaxKeys {
			return
		}
	}
	c.entries[key] = cachedPage{out: slim, expires: time.Now().Add(c.ttl)}
	c.keys += n
}

func (c *pageCache) remove(key string, e cachedPage) {
	delete(c.entries, key)
	c.keys -= len(e.out.Contents) + len(e.out.CommonPrefixes) + 1
}

// slimPage keeps only what the lister reads, so a cached page costs a key
// string and a size per object rather than the SDK's full metadata.
func slimPage(out *s3.ListObjectsV2Output) *s3.ListObjectsV2Output {
	objs := make([]types.Object, len(out.Contents))
	for i, o := range out.Contents {
		objs[i] = types.Object{Key: o.Key, Size: o.Size}
	}
	return &s3.ListObjectsV2Output{
		Contents:              objs,
		CommonPrefixes:        out.CommonPrefixes,
		IsTruncated:           out.IsTruncated,
		KeyCount:              out.KeyCount,
		NextContinuationToken: out.NextContinuationToken,
	}
}
