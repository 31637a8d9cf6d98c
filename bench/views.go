package main

import (
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// The sorted and filtered views of issue 22 read a directory whole, up to
// the service's --view-cap (10,000 by default), so they are measured on
// directories of exactly that many entries: viewDirs of them, in a backend
// of their own, so 64 clients can each ask for a different one and no S3
// call is shared. The objects have sizes spread over 0-16 MiB, so sorting
// by size is real work, not a walk over ties.
const (
	viewDirs   = 64
	viewDirLen = 10_000
)

// Row names of the views, read by the checks and the summary.
const (
	viewsPlain  = "service  10k unsorted, 64 dirs in turn"
	viewsSorted = "service  10k sort=size desc, 64 dirs in turn"
)

// sortedQuery and matchQuery are the views the rows and the probes ask for.
const (
	sortedQuery = "?sort=size&order=desc"
	matchQuery  = "?match=7" // about a third of the names
)

// viewsBackend holds the view directories, views/d00 to views/d63.
func viewsBackend() gofakes3.Backend {
	keys := make([]string, 0, viewDirs*viewDirLen)
	for d := range viewDirs {
		for i := range viewDirLen {
			keys = append(keys, fmt.Sprintf("views/d%02d/file%05d.dat", d, i))
		}
	}
	b := newSortedBackend(benchBucket, keys)
	b.size = spreadSize
	return b
}

// spreadSize is a size from 0 to 16 MiB that only the key decides.
func spreadSize(key string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int64(h.Sum32() % (16 << 20))
}

// viewsService is the service over the views backend with settings env.
func (r *rig) viewsService(env ...string) (*svcProc, error) {
	endpoint, err := r.backend("views", viewsBackend)
	if err != nil {
		return nil, err
	}
	return r.serviceAt(endpoint, env...)
}

// viewDir is the listing URL of view directory d with query.
func viewDir(base string, d int, query string) string {
	return fmt.Sprintf("%s/list-bucket-content/views/d%02d%s", base, d%viewDirs, query)
}

// viewsInTurn loads the view directories with query, each request the
// next directory, so the requests in flight at once ask for different
// ones (64 clients, 64 directories).
func viewsInTurn(query string) setup {
	return func(r *rig) (target, error) {
		svc, err := r.viewsService()
		if err != nil {
			return target{}, err
		}
		var next atomic.Int64
		return target{svc: svc, walk: func() error {
			return fetch(r.walker, viewDir(svc.base, int(next.Add(1)), query))
		}}, nil
	}
}

// viewTimes are the views' figures, one request at a time, medians of 31:
// a 10,000-entry directory unsorted, sorted and filtered, with no cache
// (every S3 page fetched) and with the page cache warm.
type viewTimes struct {
	plain, sorted, match      time.Duration
	plainCached, sortedCached time.Duration
}

// timeViews times the views, taking turns.
func timeViews(r *rig) (viewTimes, error) {
	cold, err := r.viewsService()
	if err != nil {
		return viewTimes{}, err
	}
	warm, err := r.viewsService("BUCKETLS_CACHE_TTL=1m")
	if err != nil {
		return viewTimes{}, err
	}
	get := func(url string) func() error { return func() error { return fetch(r.walker, url) } }
	times, err := medians(31,
		get(viewDir(cold.base, 0, "")), get(viewDir(cold.base, 0, sortedQuery)), get(viewDir(cold.base, 0, matchQuery)),
		get(viewDir(warm.base, 0, "")), get(viewDir(warm.base, 0, sortedQuery)),
	)
	if err != nil {
		return viewTimes{}, err
	}
	return viewTimes{plain: times[0], sorted: times[1], match: times[2], plainCached: times[3], sortedCached: times[4]}, nil
}
