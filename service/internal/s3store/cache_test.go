package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// countingS3 wraps a fake S3 handler to count ListObjectsV2 calls and
// optionally hold each one, so concurrent requests overlap for sure.
func countingS3(delay time.Duration, calls *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("list-type") == "2" {
				calls.Add(1)
				time.Sleep(delay)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestCoalescing checks that identical concurrent listings share S3 calls:
// one call for a one-page directory, one per page for a larger one.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := startFakeS3(t, referenceKeys(), countingS3(300*time.Millisecond, &calls))
	for _, n := range names("f", 2500) {
		f.Put(t, "big/"+n)
	}
	lister := New(testS3Client(f.URL()), testBucket, Options{})

	for _, tt := range []struct {
		path      string
		wantCalls int32
		wantLen   int
	}{
		{"dir2", 1, 2},
		{"big", 3, 2500},
	} {
		calls.Store(0)
		const clients = 8
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				if got, err := ls(t, lister, tt.path); err != nil || len(got) != tt.wantLen {
					t.Errorf("list %s: %d names (%v), want %d", tt.path, len(got), err, tt.wantLen)
				}
			})
		}
		wg.Wait()
		if got := calls.Load(); got != tt.wantCalls {
			t.Errorf("%d concurrent listings of %s: %d S3 calls, want %d", clients, tt.path, got, tt.wantCalls)
		}
	}
	// Without a cache, a later identical listing asks S3 again.
	calls.Store(0)
	_, _ = ls(t, lister, "dir2")
	if got := calls.Load(); got != 1 {
		t.Errorf("sequential list dir2 without cache: %d S3 calls, want 1", got)
	}
}

// TestCacheTTL checks --cache-ttl: repeated listings within the TTL are
// served from memory, and S3 is asked again once it expires.
func TestCacheTTL(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := startFakeS3(t, referenceKeys(), countingS3(0, &calls))
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Second})
	start := time.Now()
	var cached time.Time // by then the page is cached, so it expires by cached+TTL
	for i := range 5 {
		if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil {
			t.Fatalf("list dir2: %q, %v", got, err)
		}
		if i == 0 {
			cached = time.Now()
		}
		if _, err := ls(t, lister, "nope"); !errors.Is(err, listing.ErrNotFound) {
			t.Fatalf("list nope: %v, want not found", err)
		}
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Fatalf("10 listings took %s, longer than the 1s TTL: the machine is too slow for this test", took)
	}
	if got := calls.Load(); got != 3 { // dir2; nope as directory and as object
		t.Errorf("10 listings within the TTL: %d S3 calls, want 3", got)
	}
	f.Put(t, "dir2/file3")
	time.Sleep(time.Until(cached.Add(1100 * time.Millisecond)))
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2 file3]" || err != nil {
		t.Errorf("list dir2 after the TTL: %q, %v; want the new file", got, err)
	}
	if got := calls.Load(); got != 4 {
		t.Errorf("after the TTL: %d S3 calls, want 4", got)
	}
}

// TestCacheBudget checks the cache stops growing at its byte budget, and
// that its own accounting is an honest estimate of the heap it keeps.
func TestCacheBudget(t *testing.T) {
	t.Parallel()
	const total = 23_000
	f := startFakeS3(t, nil, nil)
	for _, n := range names("f", total) {
		f.Put(t, "huge/"+n)
	}
	const budget = 1 << 20
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Minute, CacheBytes: budget})
	n := 0
	err := listNames(context.Background(), lister, "huge", func(names []string, last bool) error {
		n += len(names)
		return nil
	})
	if err != nil || n != total {
		t.Fatalf("List huge: %d names, %v", n, err)
	}
	if got := lister.api.store.bytes(); got > budget || got == 0 {
		t.Errorf("cache holds %d bytes, want some and at most %d", got, budget)
	}
}

// TestCacheFlood floods the cache with one-off paths, as a scanner would,
// and checks the listing people repeat stays cached and the cache stays
// within its budget.
func TestCacheFlood(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := startFakeS3(t, referenceKeys(), countingS3(0, &calls))
	const flood = 400
	for i := range flood {
		f.Put(t, fmt.Sprintf("small%04d/file", i))
	}
	// Small enough that the flood holds several times the budget, so it
	// must churn; large enough for the hot page and a few others.
	const budget = 48 << 10
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Hour, CacheBytes: budget})
	hot := func() {
		t.Helper()
		if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil {
			t.Fatalf("list dir2: %q, %v", got, err)
		}
	}
	hot()
	hot() // the second hit promotes it
	for i := range flood {
		// One-off 404s (never cached) and one-off real directories
		// (cached once each, more than the budget holds), between hot hits.
		_, _ = ls(t, lister, fmt.Sprintf("nope%04d%s", i, strings.Repeat("x", 900)))
		_, _ = ls(t, lister, fmt.Sprintf("small%04d", i))
		if i%100 == 0 {
			hot()
		}
	}
	before := calls.Load()
	hot()
	if got := calls.Load() - before; got != 0 {
		t.Errorf("list dir2 after the flood made %d S3 calls, want 0 (still cached)", got)
	}
	if got := lister.api.store.bytes(); got > budget || got < budget/2 {
		t.Errorf("cache holds %d bytes, want the flood to fill the %d-byte budget without passing it", got, budget)
	}
}

// TestCacheSizeEstimate checks memSize against what the heap really keeps
// for cached pages, so the byte budget is a true bound on memory.
func TestCacheSizeEstimate(t *testing.T) {
	pages := make([]*s3Page, 200)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	s := newSLRU(1 << 30)
	est := 0
	for i := range pages {
		out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(true), NextContinuationToken: aws.String(strings.Repeat("t", 60))}
		for j := range 500 {
			out.Contents = append(out.Contents, types.Object{
				Key: aws.String(fmt.Sprintf("some/dir/name-%05d-%05d.txt", i, j)), Size: aws.Int64(10),
				ETag: aws.String(`"0123456789abcdef0123456789abcdef"`), StorageClass: types.ObjectStorageClassStandard,
				LastModified: aws.Time(time.Now()),
			})
		}
		pages[i] = pageFromOutput(out)
		key := fmt.Sprintf("some/dir/\x00/\x00%d\x00\x00", i)
		s.put(key, pages[i], time.Now().Add(time.Hour))
		est += pages[i].memSize(key)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	real := int(ms.HeapAlloc - before)
	if ratio := float64(real) / float64(est); ratio > 1.25 || ratio < 0.5 {
		t.Errorf("heap grew %d bytes for pages estimated at %d (ratio %.2f); the estimate must be within 25%% over and 2x under", real, est, ratio)
	}
	runtime.KeepAlive(s)
}
