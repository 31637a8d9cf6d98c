package service

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	f := startFakeS3(t, ReferenceKeys(), countingS3(300*time.Millisecond, &calls))
	for _, n := range names("f", 2500) {
		f.put(t, "big/"+n)
	}
	lister := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{})
	srv := testServer(t, lister, Config{})

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
				r := get(t, srv.URL, "/list-bucket-content/"+tt.path)
				if got := listing(t, r.body); len(got) != tt.wantLen {
					t.Errorf("GET %s: %d names, want %d", tt.path, len(got), tt.wantLen)
				}
			})
		}
		wg.Wait()
		if got := calls.Load(); got != tt.wantCalls {
			t.Errorf("%d concurrent GET %s: %d S3 calls, want %d", clients, tt.path, got, tt.wantCalls)
		}
	}
	// Without a cache, a later identical listing asks S3 again.
	calls.Store(0)
	get(t, srv.URL, "/list-bucket-content/dir2")
	if got := calls.Load(); got != 1 {
		t.Errorf("sequential GET dir2 without cache: %d S3 calls, want 1", got)
	}
}

// TestCacheTTL checks --cache-ttl: repeated listings within the TTL are
// served from memory, and S3 is asked again once it expires.
func TestCacheTTL(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := startFakeS3(t, ReferenceKeys(), countingS3(0, &calls))
	lister := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{CacheTTL: time.Second})
	srv := testServer(t, lister, Config{})
	start := time.Now()
	for range 5 {
		if r := get(t, srv.URL, "/list-bucket-content/dir2"); r.body != `{"content":["file1","file2"]}` {
			t.Fatalf("GET dir2: %s", r.body)
		}
		if r := get(t, srv.URL, "/list-bucket-content/nope"); r.status != 404 {
			t.Fatalf("GET nope: %d", r.status)
		}
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Fatalf("10 GETs took %s, longer than the 1s TTL: the machine is too slow for this test", took)
	}
	if got := calls.Load(); got != 3 { // dir2; nope as directory and as object
		t.Errorf("10 GETs within the TTL: %d S3 calls, want 3", got)
	}
	f.put(t, "dir2/file3")
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	if r := get(t, srv.URL, "/list-bucket-content/dir2"); r.body != `{"content":["file1","file2","file3"]}` {
		t.Errorf("GET dir2 after the TTL: %s, want the new file", r.body)
	}
	if got := calls.Load(); got != 4 {
		t.Errorf("after the TTL: %d S3 calls, want 4", got)
	}
}

// TestCacheBudget checks the cache stops growing at cacheMaxKeys.
func TestCacheBudget(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	for _, n := range names("f", cacheMaxKeys+3000) {
		f.put(t, "huge/"+n)
	}
	lister := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{CacheTTL: time.Minute})
	n := 0
	err := lister.List(context.Background(), "huge", func(names []string, last bool) error {
		n += len(names)
		return nil
	})
	if err != nil || n != cacheMaxKeys+3000 {
		t.Fatalf("List huge: %d names, %v", n, err)
	}
	lister.api.mu.Lock()
	keys, entries := lister.api.keys, len(lister.api.entries)
	lister.api.mu.Unlock()
	if keys > cacheMaxKeys || entries == 0 {
		t.Errorf("cache holds %d keys in %d pages, want at most %d and some", keys, entries, cacheMaxKeys)
	}
}
