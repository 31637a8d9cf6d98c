package main

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fullFigures is what a full run of the tables yields: a run of every row
// at every connection count, three runs of every rerun row, and probes.
func fullFigures() *figures {
	r := result{rps: 1000, p50: time.Millisecond, p99: 2 * time.Millisecond, peakKiB: 30 << 10, s3PerReq: 1, cpuPerReq: 100 * time.Microsecond}
	f := &figures{runs: results{}, reruns: map[string][]result{}}
	for _, rw := range rows() {
		for _, conns := range loadConns {
			f.runs[runKey{rw.name, conns}] = r
		}
	}
	for _, group := range rerunGroups() {
		for _, name := range group {
			f.reruns[name] = []result{r, r, r}
		}
	}
	d := []time.Duration{time.Millisecond}
	f.probes = probes{binaryBytes: 10 << 20, healthy: d, ready: d,
		tenK: tenKTimes{d[0], d[0], d[0]}, api: apiTimes{d[0], d[0], d[0], d[0], d[0], d[0], 100, 10},
		views: viewTimes{d[0], d[0], d[0], d[0], d[0]},
		files: fileTimes{1, 1, 1, 1, 1, 1, d[0], d[0], d[0], d[0]}}
	return f
}

// TestTablesAgree: every row a check, a rerun group or the summary reads
// is a row of the table, under one name.
func TestTablesAgree(t *testing.T) {
	names := map[string]bool{}
	for _, rw := range rows() {
		if names[rw.name] {
			t.Errorf("two rows named %q: their runs would share one key", rw.name)
		}
		names[rw.name] = true
	}
	for _, group := range rerunGroups() {
		for _, name := range group {
			if !names[name] {
				t.Errorf("rerunGroups names %q, which is no row", name)
			}
		}
	}
	for _, c := range checks() {
		for _, name := range c.got.rows {
			if !names[name] {
				t.Errorf("check %q reads row %q, which is no row", c.what, name)
			}
		}
	}
	f := fullFigures()
	lines, err := verdicts(checks(), f)
	if err != nil {
		t.Errorf("checks over a full run: %v", err)
	}
	if len(lines) != len(checks()) {
		t.Errorf("%d verdicts for %d checks", len(lines), len(checks()))
	}
	if _, err := summary(f); err != nil {
		t.Errorf("summary over a full run: %v", err)
	}
}

// TestMissingRowFailsItsChecks: a check whose row did not run (renamed,
// skipped, or not in a rerun group) is an error, not a verdict on zeros.
func TestMissingRowFailsItsChecks(t *testing.T) {
	for _, c := range checks() {
		for _, name := range c.got.rows {
			f := fullFigures()
			for _, conns := range loadConns {
				delete(f.runs, runKey{name, conns})
			}
			delete(f.reruns, name)
			lines, err := verdicts([]check{c}, f)
			if err == nil || !strings.Contains(err.Error(), c.what) {
				t.Errorf("check %q without row %q: verdicts %q, error %v; want an error naming the check", c.what, name, lines, err)
			}
		}
	}
	f := fullFigures()
	f.runs, f.reruns = results{}, map[string][]result{}
	if lines, err := summary(f); err == nil {
		t.Errorf("summary with no runs: %q and no error", lines)
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		bound bound
		limit float64
		got   float64
		want  string
	}{
		{atMost, 2, 2, "MET"},
		{atMost, 2, 2.01, "MISSED"},
		{atMost, 0, 0, "MET"},
		{atLeast, 0.3, 0.3, "MET"},
		{atLeast, 0.3, 0.29, "MISSED"},
		{atLeast, 1, math.NaN(), "MISSED"}, // NaN: a ratio of two missing figures
	}
	for _, tc := range tests {
		c := check{what: "w", bound: tc.bound, limit: tc.limit, unit: factor}
		if got := c.verdict(tc.got); !strings.HasSuffix(got, "  "+tc.want) {
			t.Errorf("bound %d, limit %v, got %v: %q, want %s", tc.bound, tc.limit, tc.got, got, tc.want)
		}
	}
	c := check{what: "no cache, dir2 @64: rate >= 30% of direct backend", bound: atLeast, limit: 0.3, unit: percent}
	if got, want := c.verdict(0.6), "  no cache, dir2 @64: rate >= 30% of direct backend    60%  MET"; got != want {
		t.Errorf("verdict line\n%q, want\n%q", got, want)
	}
}

func TestSelectRows(t *testing.T) {
	var got []string
	for _, rw := range selectRows(rows(), regexp.MustCompile("dir2")) {
		got = append(got, rw.name)
	}
	want := []string{
		"backend  dir2 (1 page)", "service  dir2", "service  dir2, --htpasswd (logged in)", "service  dir2, Accept-Encoding: gzip",
		"backend  1000 dirs like dir2, random", "service  1000 dirs like dir2, random", "service  dir2, --cache-ttl 1s",
		hotSlowStaleOff, hotSlow,
	}
	if !slices.Equal(got, want) {
		t.Errorf("-only dir2 selects %q, want %q", got, want)
	}
	if n := len(selectRows(rows(), regexp.MustCompile(""))); n != len(rows()) {
		t.Errorf("no -only selects %d of %d rows", n, len(rows()))
	}
}
