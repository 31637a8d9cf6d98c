package main

import (
	"regexp"
	"slices"
	"time"

	"github.com/bucketls/bucketls/service"
	"github.com/johannesboyne/gofakes3"
)

// row is one load row of the table: a name (printed, and how checks,
// reruns and the summary read its runs) and how to set up what it loads.
type row struct {
	name  string
	setup setup
}

// setup prepares what a row loads: it starts (or reuses, through the rig)
// the backend and the service the row needs and says what to request.
type setup func(r *rig) (target, error)

// rows is every load row, in the order they run and print. A new row is
// one entry: its name and a setup, one of the helpers below or a func of
// its own (a row that needs other objects starts its own backend with
// rig.backend and its service with rig.serviceAt). A target that reads it
// names it in checks.
//
// Identical concurrent listings are coalesced into one S3 call, so the
// dir2 rows mostly measure answers shared between requests. The "1000
// dirs" rows spread the load over many small directories, so nearly every
// request makes its own S3 call: the service's full cost.
func rows() []row {
	return []row{
		{"backend  dir2 (1 page)", backendList("dir2")},
		{"service  dir2", serviceGet("/list-bucket-content/dir2")},
		{"service  dir2, --htpasswd (logged in)", loggedInGet("/list-bucket-content/dir2")},
		{"service  dir2, Accept-Encoding: gzip", withHeader("Accept-Encoding: gzip", serviceGet("/list-bucket-content/dir2"))},
		{"backend  1000 dirs like dir2, random", backendRandomDir},
		{"sdk      1000 dirs, stock ListObjectsV2", stockSDKLoop},
		{"service  1000 dirs like dir2, random", serviceRandomDir()},
		// The same without the memory target: Go's own GC pacing.
		{"service  1000 dirs, --memory-target 0", serviceRandomDir("BUCKETLS_MEMORY_TARGET=0")},
		{"service  1000 dirs, --cache-ttl " + stackCacheTTL.String(), serviceRandomDir("BUCKETLS_CACHE_TTL=" + stackCacheTTL.String())},
		{"service  dir2, --cache-ttl 1s", serviceGet("/list-bucket-content/dir2", "BUCKETLS_CACHE_TTL=1s")},
		// A hot directory behind a slow S3, as the deployed unit caches it,
		// with the stale window off (the default), then on (--cache-stale
		// equal to the TTL).
		{hotSlowStaleOff, hotDirSlowS3("BUCKETLS_CACHE_STALE=0")},
		{hotSlow, hotDirSlowS3("BUCKETLS_CACHE_STALE=" + stackCacheTTL.String())},
		{"backend  10k, first page only", backendList("ten-k")},
		{"backend  10k, all 10 pages (Go)", backendWalk("ten-k")},
		{"service  10k", serviceGet("/list-bucket-content/ten-k")},
		{"backend  300 sub-dirs (1 page)", backendList("subdirs")},
		{"service  300 sub-dirs", serviceGet("/list-bucket-content/subdirs")},
		{"service  1M entries, paged (limit=1000)", servicePaging},
		// Issue 22's views: a different 10,000-entry directory for each
		// request in flight, unsorted and sorted (views.go).
		{viewsPlain, viewsInTurn("")},
		{viewsSorted, viewsInTurn(sortedQuery)},
		// Issue 21's object route (files.go): a small object straight
		// from the backend and through the service, and 64 MiB downloads.
		{filesSmallBackend, backendObject(smallObject)},
		{filesSmall, fileGet(smallObject)},
		{filesMid, fileDownload(midObject)},
	}
}

// rerunGroups are rows whose checks compare them with rows measured
// minutes apart, and so under different loads on a shared machine: each
// group's rows run twice more at 64 connections, taking turns, and the
// checks take the medians of three.
func rerunGroups() [][]string {
	return [][]string{
		// CPU per uncached listing, the service against the stock SDK.
		{"sdk      1000 dirs, stock ListObjectsV2", "service  1000 dirs like dir2, random", "service  1000 dirs, --memory-target 0"},
		// dir2's rate with gzip accepted and with --htpasswd against plain.
		{"service  dir2", "service  dir2, Accept-Encoding: gzip", "service  dir2, --htpasswd (logged in)"},
		// The p99 of a hot directory behind a slow S3, stale window off and
		// on: a p99 on a shared machine moves with everyone else's load.
		{hotSlowStaleOff, hotSlow},
	}
}

// selectRows keeps the rows whose name matches only (-only).
func selectRows(rs []row, only *regexp.Regexp) []row {
	return slices.DeleteFunc(rs, func(rw row) bool { return !only.MatchString(rw.name) })
}

// backendList lists dir (one S3 page) straight from the benchmark backend.
func backendList(dir string) setup {
	return func(r *rig) (target, error) { return target{url: r.listURL(dir)}, nil }
}

// backendWalk fetches every page of dir straight from the benchmark
// backend, as one request of the Go load generator.
func backendWalk(dir string) setup {
	return func(r *rig) (target, error) {
		return target{walk: func() error {
			_, err := walkPages(r.walker, r.endpoint, benchBucket, dir+"/")
			return err
		}}, nil
	}
}

// backendRandomDir lists a random one of the manyDirs directories straight
// from the benchmark backend.
func backendRandomDir(r *rig) (target, error) {
	script, err := randomPathScript(r.tmp, "backend-many", "/"+benchBucket+"?list-type=2&delimiter=%%2F&prefix=many%%2Fd%04d%%2F", manyDirs)
	return target{url: r.listURL("many/d0000"), script: script}, err
}

// stockSDKLoop is the stock SDK's ListObjectsV2 on a random one of the
// manyDirs directories, in a process of its own: the CPU floor.
func stockSDKLoop(r *rig) (target, error) { return target{sdkLoop: r.endpoint}, nil }

// serviceGet GETs path from the service started with settings env
// (BUCKETLS_* variables; none: the defaults).
func serviceGet(path string, env ...string) setup {
	return func(r *rig) (target, error) {
		svc, err := r.service(env...)
		if err != nil {
			return target{}, err
		}
		return target{url: svc.base + path, svc: svc}, nil
	}
}

// serviceRandomDir lists a random one of the manyDirs directories from the
// service started with settings env.
func serviceRandomDir(env ...string) setup {
	get := serviceGet("/list-bucket-content/many/d0000", env...)
	return func(r *rig) (target, error) {
		tg, err := get(r)
		if err != nil {
			return tg, err
		}
		tg.script, err = randomPathScript(r.tmp, "service-many", "/list-bucket-content/many/d%04d", manyDirs)
		return tg, err
	}
}

// withHeader sends header ("Name: value") with every wrk request of s.
func withHeader(header string, s setup) setup {
	return func(r *rig) (target, error) {
		tg, err := s(r)
		tg.header = header
		return tg, err
	}
}

// loggedInGet GETs path as a logged-in user from a service behind
// --htpasswd.
func loggedInGet(path string) setup {
	return func(r *rig) (target, error) {
		svc, base, header, err := r.authService()
		if err != nil {
			return target{}, err
		}
		return target{url: base + path, header: header, svc: svc}, nil
	}
}

// servicePaging is 64 clients paging the 1,000,000-entry directory, each
// request one page (pager).
func servicePaging(r *rig) (target, error) {
	svc, err := r.service()
	if err != nil {
		return target{}, err
	}
	walk, err := pager(r.walker, svc.base, slices.Max(loadConns))
	return target{walk: walk, svc: svc}, err
}

// The slow-S3 rows: the hot directory behind an S3 that answers each
// listing slowS3Latency late (about a cross-region round trip and S3's own
// time), loaded on schedule at hotRate requests a second: a moderate load
// that leaves the machine idle enough for the latency to be the service's.
const (
	hotSlowStaleOff = "service  dir2, S3 50ms, ttl 2s, stale 0"
	hotSlow         = "service  dir2, S3 50ms, ttl 2s"
	slowS3Latency   = 50 * time.Millisecond
	hotRate         = 2000
)

// hotDirSlowS3 lists dir2 from the service with --cache-ttl stackCacheTTL
// (what the stack deploys) and settings env over the reference tree behind
// an S3 slowS3Latency late, at hotRate requests a second (rateLoad): with
// a closed loop a stall at expiry would delay too few requests to show.
func hotDirSlowS3(env ...string) setup {
	return func(r *rig) (target, error) {
		endpoint, err := r.backend("reference tree, S3 50ms", func() gofakes3.Backend {
			return withLatency(newSortedBackend(benchBucket, service.ReferenceKeys()), slowS3Latency)
		})
		if err != nil {
			return target{}, err
		}
		svc, err := r.serviceAt(endpoint, append([]string{"BUCKETLS_CACHE_TTL=" + stackCacheTTL.String()}, env...)...)
		if err != nil {
			return target{}, err
		}
		return target{url: svc.base + "/list-bucket-content/dir2", rate: hotRate, svc: svc}, nil
	}
}
