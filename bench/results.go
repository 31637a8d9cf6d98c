package main

import (
	"fmt"
	"time"
)

// result is one load run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	non2xx   int64
	errors   int64 // socket errors (connect, read, write, timeout)
	requests int64

	// Service rows only (zero for the others): peak RSS, S3 calls and
	// process CPU per listing served during the run.
	peakKiB   int64
	s3PerReq  float64
	cpuPerReq time.Duration
}

// runKey names one load run: a target at a number of connections.
type runKey struct {
	target string
	conns  int
}

// results holds every load run by its key. Reading one that never ran is
// an error, so a renamed or skipped target cannot pass a check as zeros.
type results map[runKey]result

func (rs results) get(tg target, conns int) (result, error) {
	r, ok := rs[runKey{tg.name, conns}]
	if !ok {
		return result{}, fmt.Errorf("no result for %q at %d connections", tg.name, conns)
	}
	return r, nil
}

// maxPeakKiB is the highest peak RSS of any service run at conns.
func (rs results) maxPeakKiB(conns int) (int64, error) {
	var top int64
	found := false
	for k, r := range rs {
		if k.conns == conns && r.peakKiB > 0 {
			top, found = max(top, r.peakKiB), true
		}
	}
	if !found {
		return 0, fmt.Errorf("no service run at %d connections", conns)
	}
	return top, nil
}
