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
	"github.com/bucketls/bucketls/service/internal/fakes3"
	"github.com/bucketls/bucketls/service/internal/listing"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// startCountingS3 serves the reference tree like startFakeS3 and counts
// its ListObjectsV2 calls in calls, holding each one for delay, so
// concurrent requests overlap for sure.
func startCountingS3(t *testing.T, delay time.Duration) (f *fakes3.Server, calls *atomic.Int32) {
	t.Helper()
	calls = new(atomic.Int32)
	f = startFakeS3(t, referenceKeys(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("list-type") == "2" {
				calls.Add(1)
				time.Sleep(delay)
			}
			next.ServeHTTP(w, r)
		})
	})
	return f, calls
}

// TestCoalescing checks that identical concurrent listings share S3 calls:
// one call for a one-page directory, one per page for a larger one.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	f, calls := startCountingS3(t, 300*time.Millisecond)
	f.Put(t, names("big/f", 2500)...)
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
	f, calls := startCountingS3(t, 0)
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
	f.Put(t, names("huge/f", total)...)
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
	f, calls := startCountingS3(t, 0)
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
		s.put(key, pages[i], time.Now().Add(time.Hour), time.Now().Add(time.Hour))
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

// gatedS3 answers ListObjectsV2 with the keys (or the error) it holds when
// a call is let go, and holds every call until the test lets it go, so a
// test knows which calls started and decides when each one ends.
type gatedS3 struct {
	started chan struct{} // a value per call, as it starts
	release chan struct{} // a call ends once it receives from here

	mu   sync.Mutex
	keys []string
	err  error
}

func newGatedS3(keys ...string) *gatedS3 {
	return &gatedS3{started: make(chan struct{}, 64), release: make(chan struct{}), keys: keys}
}

// answer sets what the calls let go from now on return.
func (g *gatedS3) answer(err error, keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys, g.err = keys, err
}

func (g *gatedS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return nil, g.err
	}
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	for _, k := range g.keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	return out, nil
}

// fakeClock is a cache's clock that moves only when the test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// staleRig is a page cache over a gatedS3 on a fake clock, and the one
// page all its calls ask for.
type staleRig struct {
	c     *pageCache
	s3    *gatedS3
	clock *fakeClock
	in    *s3.ListObjectsV2Input
}

func newStaleRig(ttl, stale time.Duration, keys ...string) *staleRig {
	g := newGatedS3(keys...)
	c := newPageCache(g, ttl, stale, 10*time.Second, 1<<20, newS3Metrics())
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.now = clock.now
	return &staleRig{c: c, s3: g, clock: clock, in: &s3.ListObjectsV2Input{Bucket: aws.String("b"), Prefix: aws.String("dir/"), Delimiter: aws.String("/")}}
}

// pageAnswer is what one list call returned: the page's keys or an error.
type pageAnswer struct {
	keys []string
	err  error
}

// start lists the rig's page on a goroutine of its own.
func (r *staleRig) start() <-chan pageAnswer {
	ch := make(chan pageAnswer, 1)
	go func() {
		p, err := r.c.list(context.Background(), r.in)
		var a pageAnswer
		a.err = err
		if p != nil {
			for _, o := range p.objects {
				a.keys = append(a.keys, o.key)
			}
		}
		ch <- a
	}()
	return ch
}

// answered is the answer of a list call that must come without any S3
// call being let go.
func answered(t *testing.T, ch <-chan pageAnswer) pageAnswer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("the list call is still waiting (for S3?) after 10s")
		return pageAnswer{}
	}
}

// callStarts waits for the next S3 call to start.
func (r *staleRig) callStarts(t *testing.T) {
	t.Helper()
	select {
	case <-r.s3.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no S3 call started within 10s")
	}
}

// letGo lets the S3 call in progress end and waits until the cache has
// taken its answer.
func (r *staleRig) letGo(t *testing.T) {
	t.Helper()
	r.c.mu.Lock()
	f := r.c.flights[pageKey(r.in)]
	r.c.mu.Unlock()
	r.s3.release <- struct{}{}
	if f != nil {
		<-f.done
	}
}

// serveCall waits for the next S3 call to start and lets it end.
func (r *staleRig) serveCall(t *testing.T) {
	t.Helper()
	r.callStarts(t)
	r.letGo(t)
}

// fill makes the first call, which caches the page.
func (r *staleRig) fill(t *testing.T) {
	t.Helper()
	ch := r.start()
	r.serveCall(t)
	if a := answered(t, ch); a.err != nil {
		t.Fatalf("first list: %v", a.err)
	}
}

// newStaleRigPastTTL is a rig whose page [dir/old] is cached and now 2.5 s
// old: past its 2 s TTL, within its 2 s stale window. S3 answers the next
// call with err and keys.
func newStaleRigPastTTL(t *testing.T, err error, keys ...string) *staleRig {
	t.Helper()
	r := newStaleRig(2*time.Second, 2*time.Second, "dir/old")
	r.fill(t)
	r.s3.answer(err, keys...)
	r.clock.add(2500 * time.Millisecond)
	return r
}

// checkRefreshed checks that a refresh replaced the page with [dir/new]:
// fresh again, it is answered without a call.
func (r *staleRig) checkRefreshed(t *testing.T) {
	t.Helper()
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/new]" {
		t.Errorf("after the refresh: %v, want [dir/new]", a.keys)
	}
}

// TestCacheStale checks when a cached page is answered without S3, when
// it is answered stale while one refresh runs, and when a request waits
// for S3 as it would without a stale window: past TTL + window, with the
// window off, and for an empty page past its short TTL.
func TestCacheStale(t *testing.T) {
	t.Parallel()
	const ttl, window = 2 * time.Second, 3 * time.Second
	tests := []struct {
		name      string
		stale     time.Duration
		first     []string // keys of the cached page
		after     time.Duration
		wantCalls int // S3 calls the request makes or starts
		wantKeys  string
		wantWait  bool // the request waited for S3
	}{
		{"fresh", window, []string{"dir/old"}, ttl, 0, "[dir/old]", false},
		{"just past the TTL", window, []string{"dir/old"}, ttl + time.Nanosecond, 1, "[dir/old]", false},
		{"end of the window", window, []string{"dir/old"}, ttl + window, 1, "[dir/old]", false},
		{"past the window", window, []string{"dir/old"}, ttl + window + time.Nanosecond, 1, "[dir/new]", true},
		{"window off", 0, []string{"dir/old"}, ttl + time.Nanosecond, 1, "[dir/new]", true},
		{"empty page past its TTL", window, nil, emptyPageTTL + time.Nanosecond, 1, "[dir/new]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newStaleRig(ttl, tt.stale, tt.first...)
			r.fill(t)
			r.s3.answer(nil, "dir/new")
			r.clock.add(tt.after)
			ch := r.start()
			var a pageAnswer
			if tt.wantWait {
				r.callStarts(t)
				select {
				case a = <-ch:
					t.Fatalf("answered %v before S3 did; want it to wait", a)
				default:
				}
				r.letGo(t)
				a = answered(t, ch)
			} else {
				a = answered(t, ch) // no S3 call has been let go
				if tt.wantCalls > 0 {
					r.serveCall(t)
				}
			}
			if fmt.Sprint(a.keys) != tt.wantKeys || a.err != nil {
				t.Errorf("list %s after caching: %v, %v; want %s", tt.after, a.keys, a.err, tt.wantKeys)
			}
			if got := len(r.s3.started); got != 0 {
				t.Errorf("%d more S3 calls started, want %d in all", got, tt.wantCalls)
			}
			if !tt.wantWait && tt.wantCalls > 0 {
				r.checkRefreshed(t)
			}
		})
	}
}

// TestCacheStaleOneRefresh checks that many requests for a page that has
// just gone stale all get the stale page at once, and start one S3 call
// between them.
func TestCacheStaleOneRefresh(t *testing.T) {
	t.Parallel()
	r := newStaleRigPastTTL(t, nil, "dir/new")
	const clients = 32
	chs := make([]<-chan pageAnswer, clients)
	for i := range chs {
		chs[i] = r.start()
	}
	for i, ch := range chs {
		if a := answered(t, ch); fmt.Sprint(a.keys) != "[dir/old]" {
			t.Fatalf("client %d: %v, %v; want the stale [dir/old] while S3 is held", i, a.keys, a.err)
		}
	}
	// Every answer is out, and the refresh counter moves when the call is
	// started, under the lock that makes it the only one.
	if got := counterValue(r.c.m.refreshes); got != 1 {
		t.Errorf("%d stale answers started %.0f refreshes, want 1", clients, got)
	}
	if got := counterValue(r.c.m.staleHits); got != clients {
		t.Errorf("stale hits %.0f, want %d", got, clients)
	}
	r.serveCall(t)
	if got := len(r.s3.started); got != 0 {
		t.Errorf("%d more S3 calls started, want one in all", got)
	}
	r.checkRefreshed(t)
}

// TestCacheStaleIfError checks that a failing refresh keeps the stale page
// answered, and that past the window the request waits for S3 and gets its
// error, as without the window, even while the page is backing off.
func TestCacheStaleIfError(t *testing.T) {
	t.Parallel()
	r := newStaleRigPastTTL(t, errors.New("S3 is down"))
	// A backoff that outlasts the window must not hold back a request
	// that finds the page gone.
	r.c.backoff = refreshBackoff{base: time.Hour, max: time.Hour}
	r.refreshFails(t)
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/old]" || a.err != nil {
		t.Fatalf("list within the window after a failed refresh: %v, %v; want the stale page", a.keys, a.err)
	}
	r.clock.add(1600 * time.Millisecond) // 4.1s: past TTL + window
	ch := r.start()
	r.serveCall(t)
	if a := answered(t, ch); a.err == nil || a.keys != nil {
		t.Errorf("list past the window, S3 failing: %v, %v; want S3's error", a.keys, a.err)
	}
}

// refreshFails lists the rig's stale page, which is answered at once, and
// fails the refresh that starts.
func (r *staleRig) refreshFails(t *testing.T) {
	t.Helper()
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/old]" || a.err != nil {
		t.Fatalf("list past the TTL: %v, %v; want the stale [dir/old] at once", a.keys, a.err)
	}
	r.serveCall(t)
}

// hammer lists the rig's page from n clients at once and checks every one
// gets the stale page.
func (r *staleRig) hammer(t *testing.T, n int) {
	t.Helper()
	chs := make([]<-chan pageAnswer, n)
	for i := range chs {
		chs[i] = r.start()
	}
	for i, ch := range chs {
		if a := answered(t, ch); fmt.Sprint(a.keys) != "[dir/old]" || a.err != nil {
			t.Fatalf("client %d: %v, %v; want the stale [dir/old]", i, a.keys, a.err)
		}
	}
}

// TestCacheRefreshBackoff checks a hot page through an S3 outage: after
// each failed refresh no request starts another until the backoff is over
// (they all get the stale page), the backoff doubles with each failure up
// to its cap, S3's return is picked up by the first refresh due, and a
// success starts the backoff over. The clock is the test's, and each step
// stops just short of the shortest delay the jitter can draw or at the
// longest, so the counts are exact.
func TestCacheRefreshBackoff(t *testing.T) {
	t.Parallel()
	r := newStaleRig(2*time.Second, time.Minute, "dir/old")
	r.fill(t)
	r.s3.answer(errors.New("SlowDown"))
	r.clock.add(2500 * time.Millisecond)
	b := r.c.backoff
	if b.base != 100*time.Millisecond || b.max != 2*time.Second {
		t.Fatalf("backoff with a 2s TTL: %v to %v, want 100ms to the TTL", b.base, b.max)
	}
	const clients, outage = 32, 8
	d := b.base // the delay doubles from the base to the cap: 0.1, 0.2, 0.4, 0.8, 1.6, 2, 2, 2 s
	for failures := 1; failures <= outage; failures, d = failures+1, min(2*d, b.max) {
		r.refreshFails(t)
		r.clock.add(d/2 - time.Nanosecond)
		r.hammer(t, clients)
		if got := counterValue(r.c.m.refreshes); got != float64(failures) {
			t.Fatalf("%d failures in a row, then %d stale answers %v after the last: %.0f refreshes, want %d (none while backing off)", failures, clients, d/2-time.Nanosecond, got, failures)
		}
		r.clock.add(d/2 + time.Nanosecond) // the longest delay this failure could draw is over
	}
	if got, want := counterValue(r.c.m.refreshesSkipped), float64(outage*clients); got != want {
		t.Errorf("refreshes skipped: %.0f, want %.0f", got, want)
	}
	if got := r.c.m.calls.WithLabelValues("error"); counterValue(got) != outage {
		t.Errorf("failed S3 calls: %.0f, want %d", counterValue(got), outage)
	}

	// S3 is back: the next request, at most the cap after the last
	// failure, refreshes the page.
	r.s3.answer(nil, "dir/new")
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/old]" {
		t.Fatalf("first list after the outage: %v, %v; want the stale page while it refreshes", a.keys, a.err)
	}
	r.serveCall(t)
	r.checkRefreshed(t)

	// A new outage backs off from the start again, not from the cap.
	r.s3.answer(errors.New("SlowDown"))
	r.clock.add(2*time.Second + time.Nanosecond)
	before := counterValue(r.c.m.refreshes)
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/new]" {
		t.Fatalf("list past the TTL again: %v, %v", a.keys, a.err)
	}
	r.serveCall(t)
	r.clock.add(b.base)
	if a := answered(t, r.start()); fmt.Sprint(a.keys) != "[dir/new]" {
		t.Fatalf("list after one failure: %v, %v", a.keys, a.err)
	}
	if got := counterValue(r.c.m.refreshes) - before; got != 2 {
		t.Errorf("after a success, a failure and %v: %.0f refreshes, want 2 (the backoff starts over)", b.base, got)
	}
	r.serveCall(t)
	if got := len(r.s3.started); got != 0 {
		t.Errorf("%d S3 calls started that the test did not expect", got)
	}
}

// TestRefreshBackoffDelay checks the delays drawn: within [d/2, d) of the
// doubling delay d, and never past the cap however long the outage.
func TestRefreshBackoffDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ttl      time.Duration
		failures int
		want     time.Duration // d
	}{
		{time.Second, 1, 100 * time.Millisecond},
		{time.Second, 2, 200 * time.Millisecond},
		{time.Second, 4, 800 * time.Millisecond},
		{time.Second, 5, time.Second},
		{time.Second, 1_000_000, time.Second},
		{time.Hour, 7, 5 * time.Second},
		{time.Hour, 1 << 40, 5 * time.Second},
		{10 * time.Millisecond, 1, 100 * time.Millisecond},
		{10 * time.Millisecond, 3, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		b := newRefreshBackoff(tt.ttl)
		for range 1000 {
			if got := b.delay(tt.failures); got < tt.want/2 || got >= tt.want {
				t.Fatalf("TTL %v, %d failures: delay %v, want within [%v, %v)", tt.ttl, tt.failures, got, tt.want/2, tt.want)
			}
		}
	}
}

// TestCacheStaleLister checks the stale window through the lister and the
// SDK against a fake S3: a listing past its TTL comes from memory while S3
// is held, and the next one has what the refresh found.
func TestCacheStaleLister(t *testing.T) {
	t.Parallel()
	var hold atomic.Bool
	gate := make(chan struct{})
	f := startFakeS3(t, referenceKeys(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hold.Load() && r.URL.Query().Get("list-type") == "2" {
				<-gate
			}
			next.ServeHTTP(w, r)
		})
	})
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Second, CacheStale: time.Minute})
	clock := &fakeClock{t: time.Now()}
	lister.api.now = clock.now
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil {
		t.Fatalf("list dir2: %q, %v", got, err)
	}
	f.Put(t, "dir2/file3")
	clock.add(2 * time.Second)
	hold.Store(true)
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil {
		t.Fatalf("list dir2 past its TTL with S3 held: %q, %v; want the stale listing at once", got, err)
	}
	close(gate)
	waitFlights(lister.api)
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2 file3]" || err != nil {
		t.Errorf("list dir2 after the refresh: %q, %v; want the new file", got, err)
	}
}

// waitFlights waits until the S3 calls c has in flight have ended, so
// the refreshes a stale answer started have replaced their pages.
func waitFlights(c *pageCache) {
	c.mu.Lock()
	var flights []*flight
	for _, fl := range c.flights {
		flights = append(flights, fl)
	}
	c.mu.Unlock()
	for _, fl := range flights {
		<-fl.done
	}
}

// counterValue reads a counter as /metrics would show it.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err) // a plain counter always writes
	}
	return m.GetCounter().GetValue()
}

// TestCacheStaleMultiPage checks that a directory of several S3 pages,
// answered stale page by page, is refreshed page by page: each refresh
// asks for its own page, though the walk moves on to the next page while
// it runs.
func TestCacheStaleMultiPage(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	f.Put(t, names("big/f", 2500)...)
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Second, CacheStale: time.Minute})
	clock := &fakeClock{t: time.Now()}
	lister.api.now = clock.now
	want := fmt.Sprint(names("f", 2500))
	for i, when := range []string{"first", "stale, refreshing", "refreshed"} {
		got, err := ls(t, lister, "big")
		if fmt.Sprint(got) != want || err != nil {
			t.Fatalf("list big (%s): %d names, %v; want the 2500", when, len(got), err)
		}
		if i == 0 {
			clock.add(2 * time.Second)
		}
		waitFlights(lister.api)
	}
	if got := counterValue(lister.m.refreshes); got != 3 {
		t.Errorf("%v refreshes, want 3 (one per S3 page)", got)
	}
}

// TestEmptyPagesApart: empty answers (the 404s of a scanner's one-off
// paths) are kept for their second apart from the byte budget, at most
// maxEmptyPages of them, oldest (and so expired) first: they never hold
// the budget of the listings people repeat (issue 20, point 13: 48,000
// missing paths with --cache-ttl 1h left 89 MiB of RSS; go run ./bench
// -junk 48000 prints the figure).
func TestEmptyPagesApart(t *testing.T) {
	t.Parallel()
	f, calls := startCountingS3(t, 0)
	lister := New(testS3Client(f.URL()), testBucket, Options{CacheTTL: time.Hour})
	clock := time.Now()
	lister.api.now = func() time.Time { return clock }
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil {
		t.Fatalf("list dir2: %q, %v", got, err)
	}
	held := lister.api.store.bytes()
	const flood = 3 * maxEmptyPages
	for i := range flood {
		if _, err := ls(t, lister, fmt.Sprintf("nope%05d", i)); !errors.Is(err, listing.ErrNotFound) {
			t.Fatalf("nope%05d: %v, want not found", i, err)
		}
		if i%1000 == 999 {
			clock = clock.Add(100 * time.Millisecond)
		}
	}
	if got := lister.api.store.bytes(); got != held {
		t.Errorf("after %d missing paths the budget holds %d bytes, want dir2's %d alone", flood, got, held)
	}
	e := lister.api.empty
	if n := len(e.items); n > maxEmptyPages || len(e.order)-e.head > 2*maxEmptyPages {
		t.Errorf("%d empty answers kept (queue %d), want at most %d", n, len(e.order)-e.head, maxEmptyPages)
	}
	// The latest ones are still answered from memory, within their second.
	before := calls.Load()
	if _, err := ls(t, lister, fmt.Sprintf("nope%05d", flood-1)); !errors.Is(err, listing.ErrNotFound) || calls.Load() != before {
		t.Errorf("a missing path asked again at once: %v, %d S3 calls, want not found from the cache", err, calls.Load()-before)
	}
	// A second later they are gone, and the next put drops them first.
	clock = clock.Add(emptyPageTTL + time.Millisecond)
	_, _ = ls(t, lister, "nope-last")
	if n := len(e.items); n != 2 { // nope-last as a directory and as an object
		t.Errorf("after the TTL %d empty answers kept, want the 2 of the latest path", n)
	}
	before = calls.Load()
	if got, err := ls(t, lister, "dir2"); fmt.Sprint(got) != "[file1 file2]" || err != nil || calls.Load() != before {
		t.Errorf("dir2 after the flood: %q, %v, %d S3 calls; want it from the cache", got, err, calls.Load()-before)
	}
	// A path that gets entries replaces its empty answer.
	f.Put(t, "nope-last/x")
	clock = clock.Add(emptyPageTTL + time.Millisecond)
	if got, err := ls(t, lister, "nope-last"); fmt.Sprint(got) != "[x]" || err != nil {
		t.Errorf("nope-last once it has an entry: %q, %v", got, err)
	}
}
