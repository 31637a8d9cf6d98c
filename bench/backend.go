package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bucketls/bucketls/service"
	"github.com/johannesboyne/gofakes3"
)

// sortedBackend is a read-only gofakes3 backend over one sorted key list
// that seeks to the listed prefix with a binary search and skips each
// common prefix's keys the same way. gofakes3's own in-memory backend scans
// the whole bucket on every listing, which would make the backend, not the
// service, the thing measured; S3 itself seeks.
type sortedBackend struct {
	bucket  string
	keys    []string // sorted, unique
	created time.Time
	size    func(key string) int64 // nil: every object is empty
}

var _ gofakes3.Backend = (*sortedBackend)(nil)

func newSortedBackend(bucket string, keys []string) *sortedBackend {
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	return &sortedBackend{bucket: bucket, keys: keys, created: time.Now()}
}

// ListBucket implements gofakes3.Backend with S3's rules for prefix,
// delimiter "/", marker and max-keys.
func (b *sortedBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if name != b.bucket {
		return nil, gofakes3.BucketNotFound(name)
	}
	var p, delim string
	if prefix != nil {
		p, delim = prefix.Prefix, prefix.Delimiter
	}
	if delim != "" && delim != "/" {
		return nil, gofakes3.ErrNotImplemented
	}
	i := sort.SearchStrings(b.keys, p)
	if page.Marker != "" {
		if j := sort.Search(len(b.keys), func(k int) bool { return b.keys[k] > page.Marker }); j > i {
			i = j
		}
	}
	maxKeys := page.MaxKeys
	if maxKeys <= 0 {
		maxKeys = gofakes3.DefaultMaxBucketKeys
	}
	out := gofakes3.NewObjectList()
	var n int64
	for i < len(b.keys) && strings.HasPrefix(b.keys[i], p) {
		key, last := b.keys[i], b.keys[i]
		if cut := strings.IndexByte(key[len(p):], '/'); delim != "" && cut >= 0 {
			cp := key[:len(p)+cut+1]
			// Everything under cp sorts before cp with its final '/'
			// turned into '0', the next byte value.
			end := cp[:len(cp)-1] + "0"
			i = sort.SearchStrings(b.keys, end)
			last = b.keys[i-1]
			out.AddPrefix(cp)
		} else {
			var size int64
			if b.size != nil {
				size = b.size(key)
			}
			out.Add(&gofakes3.Content{
				Key:          key,
				LastModified: gofakes3.NewContentTime(b.created),
				ETag:         `"d41d8cd98f00b204e9800998ecf8427e"`,
				Size:         size,
			})
			i++
		}
		n++
		if n >= maxKeys {
			out.NextMarker = last
			out.IsTruncated = i < len(b.keys) && strings.HasPrefix(b.keys[i], p)
			break
		}
	}
	return out, nil
}

// BucketExists implements gofakes3.Backend.
func (b *sortedBackend) BucketExists(name string) (bool, error) { return name == b.bucket, nil }

// ListBuckets implements gofakes3.Backend.
func (b *sortedBackend) ListBuckets() ([]gofakes3.BucketInfo, error) {
	return []gofakes3.BucketInfo{{Name: b.bucket, CreationDate: gofakes3.NewContentTime(b.created)}}, nil
}

// The rest of gofakes3.Backend: the benchmark only lists.

func (b *sortedBackend) CreateBucket(string) error      { return gofakes3.ErrNotImplemented }
func (b *sortedBackend) DeleteBucket(string) error      { return gofakes3.ErrNotImplemented }
func (b *sortedBackend) ForceDeleteBucket(string) error { return gofakes3.ErrNotImplemented }
func (b *sortedBackend) GetObject(string, string, *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return nil, gofakes3.ErrNotImplemented
}
func (b *sortedBackend) HeadObject(string, string) (*gofakes3.Object, error) {
	return nil, gofakes3.ErrNotImplemented
}
func (b *sortedBackend) DeleteObject(string, string) (gofakes3.ObjectDeleteResult, error) {
	return gofakes3.ObjectDeleteResult{}, gofakes3.ErrNotImplemented
}
func (b *sortedBackend) PutObject(string, string, map[string]string, io.Reader, int64, *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	return gofakes3.PutObjectResult{}, gofakes3.ErrNotImplemented
}
func (b *sortedBackend) DeleteMulti(string, ...string) (gofakes3.MultiDeleteResult, error) {
	return gofakes3.MultiDeleteResult{}, gofakes3.ErrNotImplemented
}
func (b *sortedBackend) CopyObject(string, string, string, string, map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObjectResult{}, gofakes3.ErrNotImplemented
}

// delayedBackend answers every listing of its Backend delay later, like
// an S3 across a network: the rows that show what a slow S3 costs a
// client (or what the cache saves it) and -backend-only -s3-latency.
type delayedBackend struct {
	gofakes3.Backend
	delay time.Duration
}

// ListBucket implements gofakes3.Backend, delay late.
func (b delayedBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	time.Sleep(b.delay)
	return b.Backend.ListBucket(name, prefix, page)
}

// withLatency is b answering listings delay late; b itself when delay is 0.
func withLatency(b gofakes3.Backend, delay time.Duration) gofakes3.Backend {
	if delay <= 0 {
		return b
	}
	return delayedBackend{Backend: b, delay: delay}
}

// manyDirs is how many small directories like dir2 the benchmark bucket
// holds side by side, so a load of distinct listings (that cannot be
// coalesced) is possible.
const manyDirs = 1000

// benchKeys is the benchmark bucket: the reference tree, a 10,000-entry
// directory, a directory of 300 sub-directories with three keys each, a
// 100,000-entry directory for the streaming-memory check, a
// 1,000,000-entry one for paging, and manyDirs copies of dir2 under many/.
func benchKeys() []string {
	keys := service.ReferenceKeys()
	for i := range 10_000 {
		keys = append(keys, fmt.Sprintf("ten-k/file%05d", i))
	}
	for i := range 300 {
		for _, k := range []string{"", "a", "b"} {
			keys = append(keys, fmt.Sprintf("subdirs/d%03d/%s", i, k))
		}
	}
	for i := range 100_000 {
		keys = append(keys, fmt.Sprintf("hundred-k/object-%06d.json", i))
	}
	for i := range millionEntries {
		keys = append(keys, "million/"+millionName(i))
	}
	for i := range manyDirs {
		keys = append(keys, fmt.Sprintf("many/d%04d/file1", i), fmt.Sprintf("many/d%04d/file2", i))
	}
	return keys
}
