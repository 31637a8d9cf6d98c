package main

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// figures is everything a full run measured, for the summary and the
// checks.
type figures struct {
	runs   results             // every load run, by row and connections
	reruns map[string][]result // by row name: its run at 64 connections and its reruns
	probes probes
}

// again is every run at 64 connections of a row in rerunGroups.
func (f *figures) again(row string) ([]result, error) {
	runs, ok := f.reruns[row]
	if !ok {
		return nil, fmt.Errorf("no reruns of %q: add it to rerunGroups", row)
	}
	return runs, nil
}

// check is one target of the issues: a figure held to a limit.
type check struct {
	what  string
	got   measure
	bound bound
	limit float64
	unit  unit
}

// bound says which side of its limit a figure must stay on.
type bound int

const (
	atLeast bound = iota
	atMost
)

func (b bound) holds(got, limit float64) bool {
	if b == atMost {
		return got <= limit
	}
	return got >= limit
}

// unit is how a figure is printed: format applied to the figure times
// scale.
type unit struct {
	format string
	scale  float64
}

var (
	percent = unit{"%.0f%%", 100} // a ratio, as a percentage
	share   = unit{"%.2f%%", 100} // a small ratio, as a percentage
	factor  = unit{"%.2fx", 1}    // a ratio
	count   = unit{"%.0f", 1}
	mib     = unit{"%.1f MiB", 1}
	millis  = unit{"%.1f ms", 1}
)

// checks is every target of the issues, in the order printed. A new target
// is one entry: what it says, the figure (built from the measures below,
// which name the rows they read), its bound and limit, and its unit.
func checks() []check {
	const (
		dir2, backendDir2 = "service  dir2", "backend  dir2 (1 page)"
		many, backendMany = "service  1000 dirs like dir2, random", "backend  1000 dirs like dir2, random"
	)
	return []check{
		{"no cache, dir2 @64: rate >= 30% of direct backend", ratio(rate(dir2), rate(backendDir2)), atLeast, 0.30, percent},
		{"no cache, dir2 @64: p99 <= 2x backend p99", ratio(p99(dir2), p99(backendDir2)), atMost, 2, factor},
		{"no cache, dir2 @64: zero errors", failures(dir2), atMost, 0, count},
		{"  same, 1000 distinct dirs @64 (no coalescing)", ratio(rate(many), rate(backendMany)), atLeast, 0.30, percent},
		{"  same, 1000 distinct dirs @64: p99 <= 2x backend", ratio(p99(many), p99(backendMany)), atMost, 2, factor},
		{"  same, 1000 distinct dirs @64: zero errors", failures(many), atMost, 0, count},
		{"  same: CPU per listing <= 0.9x stock SDK call", ratio(medianCPU(many), medianCPU("sdk      1000 dirs, stock ListObjectsV2")), atMost, 0.9, factor},
		{"--htpasswd, dir2 @64: rate >= 90% of no auth", ratio(medianRate("service  dir2, --htpasswd (logged in)"), medianRate(dir2)), atLeast, 0.90, percent},
		{"--cache-ttl 1s, dir2 @64: rate >= direct backend", ratio(rate("service  dir2, --cache-ttl 1s"), rate(backendDir2)), atLeast, 1, factor},
		{"S3 50 ms, ttl 2s, hot dir2 @64: p99 < S3's 50 ms", medianP99ms(hotSlow), atMost, slowS3Latency.Seconds() * 1000, millis},
		{"  same: listings that waited for S3 <= 0.1%", waited(hotSlow), atMost, 0.001, share},
		{"10k entries: listing <= 1.5x fetching its pages (SDK)", probe(func(p probes) float64 { return float64(p.tenK.service) / float64(p.tenK.sdk) }), atMost, 1.5, factor},
		{"10k entries: listing <= 1.5x fetching its pages (raw)", probe(func(p probes) float64 { return float64(p.tenK.service) / float64(p.tenK.direct) }), atMost, 1.5, factor},
		{"peak RSS under 64 connections <= 40 MiB", highestPeakMiB(viewsPlain, viewsSorted, filesMid), atMost, 40, mib},
		{"  64 clients paging 1M entries: peak RSS <= 40 MiB", peakMiB("service  1M entries, paged (limit=1000)"), atMost, 40, mib},
		{"page 500 of 1M entries (limit=1000) <= 1.5x page 1", probe(func(p probes) float64 { return float64(p.api.lastPage) / float64(p.api.firstPage) }), atMost, 1.5, factor},
		{"details=true on 10k entries <= 1.3x names", probe(func(p probes) float64 { return float64(p.api.details) / float64(p.api.names) }), atMost, 1.3, factor},
		{"dir2 @64 with gzip accepted >= 90% of without", ratio(medianRate("service  dir2, Accept-Encoding: gzip"), medianRate(dir2)), atLeast, 0.9, percent},
		{"sorted view of 10k entries <= 1.5x its unsorted listing", probe(func(p probes) float64 { return float64(p.views.sorted) / float64(p.views.plain) }), atMost, 1.5, factor},
		{"  64 clients, sorted views of 64 10k dirs: peak RSS <= 64 MiB", peakMiB(viewsSorted), atMost, 64, mib},
		{"256 MiB at S3's 5 Gbit/s flow: /files >= 90% of SDK GetObject", probe(func(p probes) float64 { return p.files.flowRate / p.files.flowRateSDK }), atLeast, 0.9, percent},
		{"  unpaced: /files >= 90% of a bare relay's rate", probe(func(p probes) float64 { return p.files.relayRatio }), atLeast, 0.9, percent},
		{"  64 clients downloading 64 MiB each: peak RSS <= 48 MiB", peakMiB(filesMid), atMost, 48, mib},
		{"  1 KiB object: first byte <= SDK's + 1 ms (p50)", probe(func(p probes) float64 { return float64(p.files.ttfb-p.files.ttfbSDK) / float64(time.Millisecond) }), atMost, 1, millis},
		{"  last byte of 256 MiB by range <= 1.5x a 1-byte object", probe(func(p probes) float64 { return float64(p.files.lastByte) / float64(p.files.oneByte) }), atMost, 1.5, factor},
		{"100k listing raises peak heap <= 16 MiB", probe(func(p probes) float64 { return p.heapRise }), atMost, 16, mib},
		{"stripped binary <= 20 MiB", probe(func(p probes) float64 { return float64(p.binaryBytes) / (1 << 20) }), atMost, 20, mib},
		{"ready (/readyz 200) within 100 ms of start", probe(func(p probes) float64 { return float64(medianOf(p.ready)) / float64(time.Millisecond) }), atMost, 100, millis},
	}
}

// verdicts reads every check's figure and words its verdict. A figure that
// is missing is an error, and then no verdict is given.
func verdicts(cs []check, f *figures) ([]string, error) {
	lines := make([]string, 0, len(cs))
	var errs error
	for _, c := range cs {
		got, err := c.got.get(f)
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("%s: %w", c.what, err))
			continue
		}
		lines = append(lines, c.verdict(got))
	}
	if errs != nil {
		return nil, errs
	}
	return lines, nil
}

func (c check) verdict(got float64) string {
	v := "MET"
	if !c.bound.holds(got, c.limit) {
		v = "MISSED"
	}
	return fmt.Sprintf("  %-52s "+c.unit.format+"  %s", c.what, got*c.unit.scale, v)
}

// measure is how a check reads its figure. rows are the load rows get
// reads, so a test can hold every check to the row table.
type measure struct {
	rows []string
	get  func(f *figures) (float64, error)
}

// at64 is a figure of row's run at 64 connections.
func at64(row string, field func(result) float64) measure {
	return measure{rows: []string{row}, get: func(f *figures) (float64, error) {
		r, err := f.runs.get(row, 64)
		return field(r), err
	}}
}

func rate(row string) measure { return at64(row, func(r result) float64 { return r.rps }) }

// medianP99ms is the median p99 of a rerun row's runs, in ms.
func medianP99ms(row string) measure {
	return rerun(row, func(rs []result) float64 { return float64(medianP99(rs)) / float64(time.Millisecond) })
}

func waited(row string) measure { return at64(row, func(r result) float64 { return r.waitedShare }) }

func p99(row string) measure { return at64(row, func(r result) float64 { return float64(r.p99) }) }

// failures are non-2xx answers and socket errors.
func failures(row string) measure {
	return at64(row, func(r result) float64 { return float64(r.non2xx + r.errors) })
}

func peakMiB(row string) measure {
	return at64(row, func(r result) float64 { return float64(r.peakKiB) / 1024 })
}

// rerun is a figure of all of a rerun row's runs.
func rerun(row string, of func([]result) float64) measure {
	return measure{rows: []string{row}, get: func(f *figures) (float64, error) {
		runs, err := f.again(row)
		if err != nil {
			return 0, err
		}
		return of(runs), nil
	}}
}

func medianRate(row string) measure { return rerun(row, medianRPS) }

func medianCPU(row string) measure {
	return rerun(row, func(rs []result) float64 { return float64(medianOf(cpuPerReq(rs))) })
}

// highestPeakMiB is the highest peak RSS of any service row at 64
// connections but the rows named in except, which have memory targets of
// their own.
func highestPeakMiB(except ...string) measure {
	return measure{get: func(f *figures) (float64, error) {
		kib, err := f.runs.maxPeakKiB(64, except...)
		return float64(kib) / 1024, err
	}}
}

// probe is a figure of the probes, which a full run always has.
func probe(of func(p probes) float64) measure {
	return measure{get: func(f *figures) (float64, error) { return of(f.probes), nil }}
}

// ratio is a over b.
func ratio(a, b measure) measure {
	return measure{rows: append(append([]string(nil), a.rows...), b.rows...), get: func(f *figures) (float64, error) {
		x, errA := a.get(f)
		y, errB := b.get(f)
		return x / y, errors.Join(errA, errB)
	}}
}

// summary is the lines printed between the rows and the checks: the probes
// and the rerun rows' figures.
func summary(f *figures) ([]string, error) {
	var errs error
	again := func(row string) []result {
		runs, err := f.again(row)
		errs = errors.Join(errs, err)
		return runs
	}
	run64 := func(row string) result {
		r, err := f.runs.get(row, 64)
		errs = errors.Join(errs, err)
		return r
	}
	plain, gzip, auth := again("service  dir2"), again("service  dir2, Accept-Encoding: gzip"), again("service  dir2, --htpasswd (logged in)")
	svcRuns, sdkRuns, goPacingRuns := again("service  1000 dirs like dir2, random"), again("sdk      1000 dirs, stock ListObjectsV2"), again("service  1000 dirs, --memory-target 0")
	many, stackTTL := run64("service  1000 dirs like dir2, random"), run64("service  1000 dirs, --cache-ttl "+stackCacheTTL.String())
	staleOff, stale := run64(hotSlowStaleOff), run64(hotSlow)
	staleOffRuns, staleRuns := again(hotSlowStaleOff), again(hotSlow)
	viewPlain, viewSorted := run64(viewsPlain), run64(viewsSorted)
	mid := run64(filesMid)
	if errs != nil {
		return nil, errs
	}
	svcCPU, sdkCPU, goPacingCPU := cpuPerReq(svcRuns), cpuPerReq(sdkRuns), cpuPerReq(goPacingRuns)
	svcMedian, sdkMedian := medianOf(svcCPU), medianOf(sdkCPU)
	p, a := f.probes, f.probes.api
	return []string{
		fmt.Sprintf("binary: %.1f MiB stripped linux/%s, built as the stack ships it", float64(p.binaryBytes)/(1<<20), runtime.GOARCH),
		fmt.Sprintf("start to /healthz 200: median %s; to /readyz 200 (first S3 answer): median %s (of %d starts)", ms(medianOf(p.healthy)), ms(medianOf(p.ready)), len(p.ready)),
		fmt.Sprintf("10,000 entries, one listing at a time (median of 31): service %s; its 10 pages from the backend directly: %s with the AWS SDK paginator, %s as raw bytes (no XML parsing)", ms(p.tenK.service), ms(p.tenK.sdk), ms(p.tenK.direct)),
		fmt.Sprintf("100,000-entry listing in a fresh process (--memory-target 0: the GC paces by live data): peak heap +%.1f MiB (gctrace), peak RSS +%.1f MiB", p.heapRise, p.rssRise),
		fmt.Sprintf("1,000,000 entries, limit=1000 (median of 31): page 1 %s, page 500 %s", ms(a.firstPage), ms(a.lastPage)),
		fmt.Sprintf("10,000 entries (median of 31): names %s, details=true %s; on the wire %d bytes in %s plain, %d bytes in %s with gzip", ms(a.names), ms(a.details), a.plainBytes, ms(a.plain), a.gzipBytes, ms(a.gzip)),
		fmt.Sprintf("dir2 @64, req/s (median of 3 alternating runs): plain %.0f %s, gzip accepted (too small to compress) %.0f %s, --htpasswd %.0f %s",
			medianRPS(plain), rateList(plain), medianRPS(gzip), rateList(gzip), medianRPS(auth), rateList(auth)),
		fmt.Sprintf("uncached listing @64, CPU per request (median of 3 alternating runs): service %s %s, stock SDK ListObjectsV2 alone %s %s (%.2fx), service with --memory-target 0 %s %s; S3 calls per listing: %.2f with no cache, %.2f with --cache-ttl %s",
			us(svcMedian), usList(svcCPU), us(sdkMedian), usList(sdkCPU), float64(svcMedian)/float64(sdkMedian), us(medianOf(goPacingCPU)), usList(goPacingCPU), many.s3PerReq, stackTTL.s3PerReq, stackCacheTTL),
		fmt.Sprintf("hot dir2, S3 answering in %s, --cache-ttl %s, %d listings/s on schedule @64, p99 (median of 3 alternating runs): %s %s with --cache-stale 0, %s %s with --cache-stale %s; listings that waited for S3: %.2f%% and %.2f%%",
			slowS3Latency, stackCacheTTL, hotRate, ms(medianP99(staleOffRuns)), p99List(staleOffRuns), ms(medianP99(staleRuns)), p99List(staleRuns), stackCacheTTL, 100*staleOff.waitedShare, 100*stale.waitedShare),
		viewsLine(p.views, viewPlain, viewSorted),
		readmeLine(p.readme),
		filesLine(p.files, mid),
	}, nil
}

// viewsLine is issue 22's figures: one view at a time, then 64 clients.
func viewsLine(v viewTimes, plain, sorted result) string {
	return fmt.Sprintf("views of 10,000 entries, one at a time (median of 31): unsorted %s, %s %s (%.2fx), %s %s; page cache warm: unsorted %s, sorted %s (%.2fx). "+
		"64 clients, each a different directory: CPU per listing %s unsorted, %s sorted; peak RSS %.1f MiB unsorted, %.1f MiB sorted",
		ms(v.plain), sortedQuery, ms(v.sorted), float64(v.sorted)/float64(v.plain), matchQuery, ms(v.match),
		ms(v.plainCached), ms(v.sortedCached), float64(v.sortedCached)/float64(v.plainCached),
		us(plain.cpuPerReq), us(sorted.cpuPerReq), float64(plain.peakKiB)/1024, float64(sorted.peakKiB)/1024)
}
