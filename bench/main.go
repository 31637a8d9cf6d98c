// Command bench measures bucketls against the S3 backend it calls, in one
// run on one machine, and prints the figures the README quotes:
//
//	go run ./bench              # about 2 minutes; wrk from Debian's wrk package
//	go run ./bench -d 10s       # longer runs, steadier numbers
//
// It builds the service as deployed (with the stack's own build definition,
// package stack/gobuild), serves an in-memory S3 (gofakes3 over a backend
// that seeks to the prefix like S3 does, rather than gofakes3's own full
// scan), and loads both the backend directly and the service in front of it
// with wrk at 8 and 64 connections: requests/s, p50/p99 latency, non-2xx
// responses, and for the service its peak RSS, S3 calls and process CPU per
// listing, for the reference dir2, 1,000 distinct small directories, a
// 10,000-entry directory and one of 300 sub-directories. A stock-SDK
// ListObjectsV2 loop over the same 1,000 directories, in a process of its
// own, is the CPU floor the service is held against. The listing API:
// dir2 with gzip accepted, 64 clients paging a 1,000,000-entry directory,
// page 500 against page 1, details=true and gzip on 10,000 entries. Then:
// --cache-ttl, the time to list 10,000 entries against fetching their pages
// directly, the heap and RSS a 100,000-entry listing adds, binary size and
// time to ready. Each target of the issues is printed with its measured
// ratio.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
)

const benchBucket = "bench"

// stackCacheTTL is the deployed unit's cache TTL, the stack's default
// cacheTtl (TestStackCacheTTL keeps the two equal): the "1000 dirs,
// --cache-ttl" rows show what it does to S3 calls.
const stackCacheTTL = 2 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// target is one thing loaded at 8 and at 64 connections.
type target struct {
	name    string
	url     string       // for wrk
	script  string       // wrk Lua script, if any
	header  string       // a request header for wrk ("Name: value"), if any
	walk    func() error // for the Go load generator instead of wrk
	sdkLoop bool         // the stock-SDK ListObjectsV2 loop, in a process of its own
	svc     *svcProc     // whose RSS, S3 calls and CPU to report; nil for the others
}

// loadConns are the connection counts every target is loaded with.
var loadConns = []int{8, 64}

func run() error {
	dur := flag.Duration("d", 5*time.Second, "duration of each load run")
	wrk := flag.String("wrk", "/usr/bin/wrk", "wrk binary (Debian package wrk)")
	backendOnly := flag.String("backend-only", "", "only serve the benchmark bucket (named "+benchBucket+") at this address until interrupted, for experiments by hand")
	loopEndpoint := flag.String("sdk-loop", "", "internal: run the stock-SDK loop against this endpoint for -d with -conns goroutines and print its figures as JSON")
	loopConns := flag.Int("conns", 64, "internal: goroutines of -sdk-loop")
	only := flag.String("only", "", "load only the targets whose name matches this regular expression and print their rows, without the rest (for profiling by hand; the README's figures come from a full run)")
	flag.Parse()
	switch {
	case *backendOnly != "":
		return serveBackend(*backendOnly)
	case *loopEndpoint != "":
		return sdkLoop(*loopEndpoint, *loopConns, *dur)
	}
	onlyRE, err := regexp.Compile(*only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	if _, err := os.Stat(*wrk); err != nil {
		return fmt.Errorf("%v: install wrk (apt-get install wrk) or pass -wrk", err)
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "bucketls-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	printMachine()
	bin, err := buildService(tmp)
	if err != nil {
		return err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	endpoint, stopBackend, err := startBackend()
	if err != nil {
		return err
	}
	defer stopBackend()
	healthy, ready, err := timeToReady(bin, endpoint)
	if err != nil {
		return err
	}

	plain, err := startService(bin, endpoint, false)
	if err != nil {
		return err
	}
	defer plain.stop()
	cached, err := startService(bin, endpoint, false, "BUCKETLS_CACHE_TTL=1s")
	if err != nil {
		return err
	}
	defer cached.stop()
	stackTTL, err := startService(bin, endpoint, false, "BUCKETLS_CACHE_TTL="+stackCacheTTL.String())
	if err != nil {
		return err
	}
	defer stackTTL.stop()
	goPacing, err := startService(bin, endpoint, false, "BUCKETLS_MEMORY_TARGET=0")
	if err != nil {
		return err
	}
	defer goPacing.stop()
	authed, authBase, authHeader, err := startAuthService(tmp, bin, endpoint)
	if err != nil {
		return err
	}
	defer authed.stop()

	// Plain bodies, as wrk asks: Go would otherwise ask for gzip itself.
	walker := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}}
	listURL := func(prefix string) string {
		return endpoint + "/" + benchBucket + "?list-type=2&delimiter=%2F&prefix=" + prefix + "%2F"
	}
	// Identical concurrent listings are coalesced into one S3 call, so the
	// dir2 rows mostly measure answers shared between requests. The "1000
	// dirs" rows spread the load over many small directories, so nearly
	// every request makes its own S3 call: the service's full cost.
	backendMany, err := randomPathScript(tmp, "backend-many", "/"+benchBucket+"?list-type=2&delimiter=%%2F&prefix=many%%2Fd%04d%%2F", manyDirs)
	if err != nil {
		return err
	}
	serviceMany, err := randomPathScript(tmp, "service-many", "/list-bucket-content/many/d%04d", manyDirs)
	if err != nil {
		return err
	}
	pageWalk, err := pager(walker, plain.base, slices.Max(loadConns))
	if err != nil {
		return err
	}
	var (
		backendDir2  = target{name: "backend  dir2 (1 page)", url: listURL("dir2")}
		serviceDir2  = target{name: "service  dir2", url: plain.base + "/list-bucket-content/dir2", svc: plain}
		authDir2     = target{name: "service  dir2, --htpasswd (logged in)", url: authBase + "/list-bucket-content/dir2", header: authHeader, svc: authed}
		backendMany1 = target{name: "backend  1000 dirs like dir2, random", url: listURL("many/d0000"), script: backendMany}
		stockMany    = target{name: "sdk      1000 dirs, stock ListObjectsV2", sdkLoop: true}
		serviceMany1 = target{name: "service  1000 dirs like dir2, random", url: plain.base + "/list-bucket-content/many/d0000", script: serviceMany, svc: plain}
		stackMany    = target{name: "service  1000 dirs, --cache-ttl " + stackCacheTTL.String(), url: stackTTL.base + "/list-bucket-content/many/d0000", script: serviceMany, svc: stackTTL}
		// The same without the memory target: Go's own GC pacing.
		goPacingMany = target{name: "service  1000 dirs, --memory-target 0", url: goPacing.base + "/list-bucket-content/many/d0000", script: serviceMany, svc: goPacing}
		cachedDir2   = target{name: "service  dir2, --cache-ttl 1s", url: cached.base + "/list-bucket-content/dir2", svc: cached}
		gzipDir2     = target{name: "service  dir2, Accept-Encoding: gzip", url: plain.base + "/list-bucket-content/dir2", header: "Accept-Encoding: gzip", svc: plain}
		paging       = target{name: "service  1M entries, paged (limit=1000)", walk: pageWalk, svc: plain}
	)
	targets := []target{
		backendDir2, serviceDir2, authDir2, gzipDir2, backendMany1, stockMany, serviceMany1, goPacingMany, stackMany, cachedDir2,
		{name: "backend  10k, first page only", url: listURL("ten-k")},
		{name: "backend  10k, all 10 pages (Go)", walk: func() error {
			_, err := walkPages(walker, endpoint, benchBucket, "ten-k/")
			return err
		}},
		{name: "service  10k", url: plain.base + "/list-bucket-content/ten-k", svc: plain},
		{name: "backend  300 sub-dirs (1 page)", url: listURL("subdirs")},
		{name: "service  300 sub-dirs", url: plain.base + "/list-bucket-content/subdirs", svc: plain},
		paging,
	}
	if *only != "" {
		targets = slices.DeleteFunc(targets, func(tg target) bool { return !onlyRE.MatchString(tg.name) })
	}
	if err := checkTargets(targets); err != nil {
		return err
	}

	fmt.Printf("\n%-38s %5s %10s %9s %9s %8s %9s %7s %8s\n", "target", "conns", "req/s", "p50", "p99", "non-2xx", "peak RSS", "S3/req", "CPU/req")
	res := results{}
	for _, tg := range targets {
		for _, conns := range loadConns {
			r, err := measure(ctx, tg, conns, *dur, *wrk, endpoint, walker)
			if err != nil {
				return fmt.Errorf("%s @%d: %w", tg.name, conns, err)
			}
			res[runKey{tg.name, conns}] = r
			printRow(tg, conns, r)
		}
	}

	if *only != "" {
		return nil
	}

	// Comparisons whose rows ran minutes apart, and so under different
	// loads on a shared machine: two more rounds alternate the rows of
	// each, and the checks take the medians of three. CPU per uncached
	// listing, the service against the stock SDK; dir2's rate with gzip
	// accepted and with --htpasswd against plain.
	again := func(pair ...target) (map[string][]result, error) {
		return alternate(res, pair, 2, func(tg target) (result, error) {
			return measure(ctx, tg, 64, *dur, *wrk, endpoint, walker)
		})
	}
	cpuRuns, err := again(stockMany, serviceMany1, goPacingMany)
	if err != nil {
		return err
	}
	dir2Runs, err := again(serviceDir2, gzipDir2, authDir2)
	if err != nil {
		return err
	}
	svcCPU, sdkCPU, goPacingCPU := cpuPerReq(cpuRuns[serviceMany1.name]), cpuPerReq(cpuRuns[stockMany.name]), cpuPerReq(cpuRuns[goPacingMany.name])
	plainRate, gzipRate, authRate := medianRate(dir2Runs[serviceDir2.name]), medianRate(dir2Runs[gzipDir2.name]), medianRate(dir2Runs[authDir2.name])

	// Listing time for 10,000 entries, one request at a time. The three
	// ways take turns, so a change in load on the machine hits them alike.
	sdk := sdkClient(endpoint)
	times, err := medians(31,
		func() error { return fetch(walker, plain.base+"/list-bucket-content/ten-k") },
		func() error { return sdkWalk(ctx, sdk, "ten-k/", 10_000) },
		func() error { _, err := walkPages(walker, endpoint, benchBucket, "ten-k/"); return err },
	)
	if err != nil {
		return err
	}
	viaService, viaSDK, direct := times[0], times[1], times[2]

	// The listing API (issue 11), one request at a time, taking turns.
	page500, err := pageURL(walker, plain.base+millionPage1, 500)
	if err != nil {
		return err
	}
	compressed := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var gzipBytes, plainBytes int64
	apiTimes, err := medians(31,
		func() error { return fetch(walker, plain.base+millionPage1) },
		func() error { return fetch(walker, plain.base+page500) },
		func() error { return fetch(walker, plain.base+"/list-bucket-content/ten-k") },
		func() error { return fetch(walker, plain.base+"/list-bucket-content/ten-k?details=true") },
		func() (err error) {
			plainBytes, err = wireBytes(compressed, plain.base+"/list-bucket-content/ten-k", "")
			return err
		},
		func() (err error) {
			gzipBytes, err = wireBytes(compressed, plain.base+"/list-bucket-content/ten-k", "gzip")
			return err
		},
	)
	if err != nil {
		return err
	}
	firstPage, lastPage, names10k, details10k, plain10k, gzip10k := apiTimes[0], apiTimes[1], apiTimes[2], apiTimes[3], apiTimes[4], apiTimes[5]

	// Heap and RSS added by a 100,000-entry listing, in a fresh process.
	heapRise, rssRise, err := streamMemory(bin, endpoint, walker)
	if err != nil {
		return err
	}

	fmt.Printf("\nbinary: %.1f MiB stripped linux/%s, built as the stack ships it\n", float64(fi.Size())/(1<<20), runtime.GOARCH)
	fmt.Printf("start to /healthz 200: median %s; to /readyz 200 (first S3 answer): median %s (of %d starts)\n", ms(medianOf(healthy)), ms(medianOf(ready)), len(ready))
	fmt.Printf("10,000 entries, one listing at a time (median of 31): service %s; its 10 pages from the backend directly: %s with the AWS SDK paginator, %s as raw bytes (no XML parsing)\n", ms(viaService), ms(viaSDK), ms(direct))
	fmt.Printf("100,000-entry listing in a fresh process (--memory-target 0: the GC paces by live data): peak heap +%.1f MiB (gctrace), peak RSS +%.1f MiB\n", heapRise, rssRise)
	fmt.Printf("1,000,000 entries, limit=1000 (median of 31): page 1 %s, page 500 %s\n", ms(firstPage), ms(lastPage))
	fmt.Printf("10,000 entries (median of 31): names %s, details=true %s; on the wire %d bytes in %s plain, %d bytes in %s with gzip\n", ms(names10k), ms(details10k), plainBytes, ms(plain10k), gzipBytes, ms(gzip10k))
	fmt.Printf("dir2 @64, req/s (median of 3 alternating runs): plain %.0f %s, gzip accepted (too small to compress) %.0f %s, --htpasswd %.0f %s\n",
		plainRate, rateList(dir2Runs[serviceDir2.name]), gzipRate, rateList(dir2Runs[gzipDir2.name]), authRate, rateList(dir2Runs[authDir2.name]))

	get := func(tg target) result {
		r, e := res.get(tg, 64)
		err = errors.Join(err, e)
		return r
	}
	b64, s64, c64, p64 := get(backendDir2), get(serviceDir2), get(cachedDir2), get(paging)
	bm64, sm64, st64 := get(backendMany1), get(serviceMany1), get(stackMany)
	peak, e := res.maxPeakKiB(64)
	if err = errors.Join(err, e); err != nil {
		return err
	}
	svcCPUMedian, sdkCPUMedian := medianOf(svcCPU), medianOf(sdkCPU)
	fmt.Printf("uncached listing @64, CPU per request (median of 3 alternating runs): service %s %s, stock SDK ListObjectsV2 alone %s %s (%.2fx), service with --memory-target 0 %s %s; S3 calls per listing: %.2f with no cache, %.2f with --cache-ttl %s\n",
		us(svcCPUMedian), usList(svcCPU), us(sdkCPUMedian), usList(sdkCPU), float64(svcCPUMedian)/float64(sdkCPUMedian), us(medianOf(goPacingCPU)), usList(goPacingCPU), sm64.s3PerReq, st64.s3PerReq, stackCacheTTL)

	fmt.Println("\ntargets (issues 3, 11 and 14):")
	check("no cache, dir2 @64: rate >= 30% of direct backend", s64.rps/b64.rps, ">=", 0.30, "%.0f%%", 100)
	check("no cache, dir2 @64: p99 <= 2x backend p99", float64(s64.p99)/float64(b64.p99), "<=", 2, "%.2fx", 1)
	check("no cache, dir2 @64: zero errors", float64(s64.non2xx+s64.errors), "<=", 0, "%.0f", 1)
	check("  same, 1000 distinct dirs @64 (no coalescing)", sm64.rps/bm64.rps, ">=", 0.30, "%.0f%%", 100)
	check("  same, 1000 distinct dirs @64: p99 <= 2x backend", float64(sm64.p99)/float64(bm64.p99), "<=", 2, "%.2fx", 1)
	check("  same, 1000 distinct dirs @64: zero errors", float64(sm64.non2xx+sm64.errors), "<=", 0, "%.0f", 1)
	check("  same: CPU per listing <= 0.9x stock SDK call", float64(svcCPUMedian)/float64(sdkCPUMedian), "<=", 0.9, "%.2fx", 1)
	check("--htpasswd, dir2 @64: rate >= 90% of no auth", authRate/plainRate, ">=", 0.90, "%.0f%%", 100)
	check("--cache-ttl 1s, dir2 @64: rate >= direct backend", c64.rps/b64.rps, ">=", 1, "%.2fx", 1)
	check("10k entries: listing <= 1.5x fetching its pages (SDK)", float64(viaService)/float64(viaSDK), "<=", 1.5, "%.2fx", 1)
	check("10k entries: listing <= 1.5x fetching its pages (raw)", float64(viaService)/float64(direct), "<=", 1.5, "%.2fx", 1)
	check("peak RSS under 64 connections <= 40 MiB", float64(peak)/1024, "<=", 40, "%.1f MiB", 1)
	check("  64 clients paging 1M entries: peak RSS <= 40 MiB", float64(p64.peakKiB)/1024, "<=", 40, "%.1f MiB", 1)
	check("page 500 of 1M entries (limit=1000) <= 1.5x page 1", float64(lastPage)/float64(firstPage), "<=", 1.5, "%.2fx", 1)
	check("details=true on 10k entries <= 1.3x names", float64(details10k)/float64(names10k), "<=", 1.3, "%.2fx", 1)
	check("dir2 @64 with gzip accepted >= 90% of without", gzipRate/plainRate, ">=", 0.9, "%.0f%%", 100)
	check("100k listing raises peak heap <= 16 MiB", heapRise, "<=", 16, "%.1f MiB", 1)
	check("stripped binary <= 20 MiB", float64(fi.Size())/(1<<20), "<=", 20, "%.1f MiB", 1)
	check("ready (/readyz 200) within 100 ms of start", float64(medianOf(ready))/float64(time.Millisecond), "<=", 100, "%.1f ms", 1)
	return nil
}

// measure loads tg with conns connections for d, after a short warm-up
// that fills connection pools and caches, and adds the service's peak RSS,
// S3 calls and CPU per listing served during the run.
func measure(ctx context.Context, tg target, conns int, d time.Duration, wrk, endpoint string, client *http.Client) (result, error) {
	if tg.sdkLoop {
		return runSDKLoop(ctx, endpoint, conns, d)
	}
	if tg.walk == nil {
		if _, err := runWrk(ctx, wrk, tg.url, tg.script, tg.header, conns, time.Second); err != nil {
			return result{}, err
		}
	}
	var before counts
	var cpuBefore time.Duration
	if tg.svc != nil {
		var err error
		if err = tg.svc.resetPeakRSS(); err != nil {
			return result{}, err
		}
		if before, err = readCounts(client, tg.svc.base); err != nil {
			return result{}, err
		}
		if cpuBefore, err = pidCPU(tg.svc.cmd.Process.Pid); err != nil {
			return result{}, err
		}
	}
	var r result
	if tg.walk != nil {
		r = goLoad(ctx, conns, d, tg.walk)
	} else {
		var err error
		if r, err = runWrk(ctx, wrk, tg.url, tg.script, tg.header, conns, d); err != nil {
			return result{}, err
		}
	}
	if tg.svc == nil {
		return r, nil
	}
	cpuAfter, err := pidCPU(tg.svc.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	if r.peakKiB, err = tg.svc.rssKiB("VmHWM"); err != nil {
		return result{}, err
	}
	after, err := readCounts(client, tg.svc.base)
	if err != nil {
		return result{}, err
	}
	served := after.http - before.http
	if served < 1 {
		return result{}, errors.New("the service served no listing")
	}
	r.s3PerReq = (after.s3 - before.s3) / served
	r.cpuPerReq = time.Duration(float64(cpuAfter-cpuBefore) / served)
	return r, nil
}

func printRow(tg target, conns int, r result) {
	peak, perReq, cpu := "-", "-", "-"
	if tg.svc != nil {
		peak = fmt.Sprintf("%.1f MiB", float64(r.peakKiB)/1024)
		perReq = fmt.Sprintf("%.2f", r.s3PerReq)
	}
	if r.cpuPerReq > 0 {
		cpu = us(r.cpuPerReq)
	}
	fmt.Printf("%-38s %5d %10.0f %9s %9s %8d %9s %7s %8s\n", tg.name, conns, r.rps, ms(r.p50), ms(r.p99), r.non2xx+r.errors, peak, perReq, cpu)
}

// startBackend serves the benchmark bucket on a loopback port in this
// process and returns its URL and how to stop it.
func startBackend() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           gofakes3.New(newSortedBackend(benchBucket, benchKeys())).Server(),
		ReadHeaderTimeout: 5 * time.Second,
		// wrk drops its connections mid-response when a run ends, and
		// gofakes3 then logs a superfluous WriteHeader per connection.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// timeToReady starts fresh processes, polling every millisecond, and
// returns how long each took to answer /healthz and /readyz.
func timeToReady(bin, endpoint string) (healthy, ready []time.Duration, err error) {
	for range 7 {
		addr, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		cmd := exec.Command(bin)
		cmd.Env = serviceEnv(endpoint, addr)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		h, r, err := waitUp("http://"+addr, start, 10*time.Second)
		(&svcProc{cmd: cmd}).stop()
		if err != nil {
			return nil, nil, err
		}
		healthy, ready = append(healthy, h), append(ready, r)
	}
	return healthy, ready, nil
}

// serveBackend serves the benchmark bucket at addr until SIGINT/SIGTERM.
func serveBackend(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              addr,
		Handler:           gofakes3.New(newSortedBackend(benchBucket, benchKeys())).Server(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Printf("serving bucket %q at http://%s\n", benchBucket, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkTargets makes sure every target answers 200 before loading it, so a
// misconfiguration cannot hide behind a fast stream of errors.
func checkTargets(targets []target) error {
	for _, tg := range targets {
		if tg.sdkLoop {
			continue // its first call fails the loop
		}
		if tg.walk != nil {
			if err := tg.walk(); err != nil {
				return fmt.Errorf("%s: %v", tg.name, err)
			}
			continue
		}
		if err := fetch(http.DefaultClient, tg.url); err != nil {
			return fmt.Errorf("%s: %v", tg.name, err)
		}
	}
	return nil
}

// fetch GETs url and reads the whole body; anything but 200 is an error.
func fetch(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// streamMemory lists the 100,000-entry directory once in a fresh service
// and reports how much the peak Go heap (largest heap at a GC start, from
// GODEBUG=gctrace=1) and the peak RSS rose above their level after a warm
// small listing. The service runs with --memory-target 0: under a target
// the heap grows to the target whatever the listing holds, and this row
// is about what it holds, so the collector paces by live data here.
func streamMemory(bin, endpoint string, client *http.Client) (heapMiB, rssMiB float64, err error) {
	svc, err := startService(bin, endpoint, true, "BUCKETLS_MEMORY_TARGET=0")
	if err != nil {
		return 0, 0, err
	}
	defer svc.stop()
	for range 20 {
		if err := fetch(client, svc.base+"/list-bucket-content/dir2"); err != nil {
			return 0, 0, err
		}
	}
	// Baseline: the heap in use (live and not yet collected) when warm.
	baseHeap, err := heapAlloc(client, svc.base)
	if err != nil {
		return 0, 0, err
	}
	if err := svc.resetPeakRSS(); err != nil {
		return 0, 0, err
	}
	baseRSS, err := svc.rssKiB("VmRSS")
	if err != nil {
		return 0, 0, err
	}
	before := svc.gcCount()
	if err := fetch(client, svc.base+"/list-bucket-content/hundred-k"); err != nil {
		return 0, 0, err
	}
	after, err := heapAlloc(client, svc.base)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(200 * time.Millisecond) // let the last gctrace lines arrive
	peakRSS, err := svc.rssKiB("VmHWM")
	if err != nil {
		return 0, 0, err
	}
	atGC, gcs := svc.gcPeakSince(before)
	if gcs == 0 {
		return 0, 0, errors.New("no GC ran during the 100k listing; cannot read its peak heap")
	}
	// gctrace reports MB (10^6 bytes); /metrics gave MiB.
	peakHeap := max(atGC*1e6/(1<<20), after)
	return peakHeap - baseHeap, float64(peakRSS-baseRSS) / 1024, nil
}

// medians runs each f in turn, n rounds, and returns each one's median
// duration.
func medians(n int, fs ...func() error) ([]time.Duration, error) {
	ds := make([][]time.Duration, len(fs))
	for range n {
		for i, f := range fs {
			t := time.Now()
			if err := f(); err != nil {
				return nil, err
			}
			ds[i] = append(ds[i], time.Since(t))
		}
	}
	out := make([]time.Duration, len(fs))
	for i := range ds {
		out[i] = medianOf(ds[i])
	}
	return out, nil
}

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }

// usList is durations in µs, as "(a, b, c)".
func usList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func check(what string, got float64, op string, limit float64, format string, scale float64) {
	ok := got >= limit
	if op == "<=" {
		ok = got <= limit
	}
	verdict := "MET"
	if !ok {
		verdict = "MISSED"
	}
	fmt.Printf("  %-52s "+format+"  %s\n", what, got*scale, verdict)
}

// printMachine says what the figures were measured on.
func printMachine() {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Printf("machine: %d CPUs (%s), %s, %s; load average before: %s\n", runtime.NumCPU(), model, runtime.GOOS+"/"+runtime.GOARCH, runtime.Version(), load)
}
