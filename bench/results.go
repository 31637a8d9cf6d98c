package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// result is one load run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	non2xx   int64
	errors   int64 // socket errors (connect, read, write, timeout)
	requests int64

	// Service rows only (zero for the others): peak RSS, S3 calls,
	// process CPU and S3 waits per listing served during the run.
	peakKiB     int64
	s3PerReq    float64
	cpuPerReq   time.Duration
	waitedShare float64 // of the listings served, those that waited for an S3 call
}

// runKey names one load run: a target at a number of connections.
type runKey struct {
	target string
	conns  int
}

// results holds every load run by its key. Reading one that never ran is
// an error, so a renamed or skipped target cannot pass a check as zeros.
type results map[runKey]result

func (rs results) get(row string, conns int) (result, error) {
	r, ok := rs[runKey{row, conns}]
	if !ok {
		return result{}, fmt.Errorf("no result for %q at %d connections", row, conns)
	}
	return r, nil
}

// maxPeakKiB is the highest peak RSS of any service run at conns, but
// those of the rows named in except.
func (rs results) maxPeakKiB(conns int, except ...string) (int64, error) {
	var top int64
	found := false
	for k, r := range rs {
		if k.conns == conns && r.peakKiB > 0 && !slices.Contains(except, k.target) {
			top, found = max(top, r.peakKiB), true
		}
	}
	if !found {
		return 0, fmt.Errorf("no service run at %d connections", conns)
	}
	return top, nil
}

// alternate runs each target of pair rounds more times at 64 connections,
// taking turns, and returns every run of each (the one already in rs
// first) by target name. Rows measured minutes apart see different loads
// on a shared machine; turns spread a change in load over both.
func alternate(rs results, pair []target, rounds int, measure func(target) (result, error)) (map[string][]result, error) {
	runs := map[string][]result{}
	for _, tg := range pair {
		r, err := rs.get(tg.name, 64)
		if err != nil {
			return nil, err
		}
		runs[tg.name] = append(runs[tg.name], r)
	}
	for range rounds {
		for _, tg := range pair {
			r, err := measure(tg)
			if err != nil {
				return nil, fmt.Errorf("%s @64: %w", tg.name, err)
			}
			runs[tg.name] = append(runs[tg.name], r)
		}
	}
	return runs, nil
}

// cpuPerReq is each run's CPU per request.
func cpuPerReq(runs []result) []time.Duration {
	out := make([]time.Duration, len(runs))
	for i, r := range runs {
		out[i] = r.cpuPerReq
	}
	return out
}

// medianRPS is the median requests/s of runs.
func medianRPS(runs []result) float64 {
	rates := make([]float64, len(runs))
	for i, r := range runs {
		rates[i] = r.rps
	}
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// rateList is each run's requests/s, as "(a, b, c)".
func rateList(runs []result) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = fmt.Sprintf("%.0f", r.rps)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// medianP99 is the median p99 of runs.
func medianP99(runs []result) time.Duration {
	p99s := make([]time.Duration, len(runs))
	for i, r := range runs {
		p99s[i] = r.p99
	}
	return medianOf(p99s)
}

// p99List is each run's p99 in ms, as "(a, b, c)".
func p99List(runs []result) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = fmt.Sprintf("%.1f", float64(r.p99)/float64(time.Millisecond))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
