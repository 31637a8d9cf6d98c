// Command bench measures bucketls against the S3 backend it calls, in one
// run on one machine, and prints the figures docs/benchmarks.md quotes:
//
//	go run ./bench              # about 2 minutes; wrk from Debian's wrk package
//	go run ./bench -d 10s       # longer runs, steadier numbers
//	go run ./bench -junk 48000  # only the RSS 48,000 missing paths leave behind the cache
//	go run ./bench -files       # only the object route's one-request figures (about 30 s)
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
// page 500 against page 1, details=true and gzip on 10,000 entries. The
// cache: --cache-ttl, and a hot directory behind an S3 that answers in 50 ms
// with the deployed 2 s TTL, loaded on schedule (an open loop, so a stall
// at expiry counts for every request it delays), with the stale window off
// and on. Then: the time to list 10,000 entries against fetching their pages
// directly, the heap and RSS a 100,000-entry listing adds, binary size and
// time to ready. Each target of the issues is printed with its measured
// ratio.
//
// Where things are: rows.go is the table of load rows (one entry per row,
// with the backend and service it loads), checks.go the table of targets
// (one entry per target, naming the rows it reads) and the summary lines,
// probes.go the figures measured one request at a time, rig.go what the rows
// are set up on and how a row is loaded.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
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

// options are the command's flags.
type options struct {
	dur         time.Duration // of each load run
	wrk         string
	backendOnly string        // serve the bucket here and do nothing else
	s3Latency   time.Duration // with backendOnly: how late each listing is answered
	sdkLoop     string        // internal: be the stock-SDK loop against this endpoint
	conns       int           // internal: the stock-SDK loop's goroutines
	only        string        // a regular expression over row names
	junk        int           // flood the cached service with this many missing paths and report its memory
	files       bool          // only the object route's one-request figures
	relay       string        // internal: be the bare relay in front of this endpoint
}

func parseFlags() options {
	var o options
	flag.DurationVar(&o.dur, "d", 5*time.Second, "duration of each load run")
	flag.StringVar(&o.wrk, "wrk", "/usr/bin/wrk", "wrk binary (Debian package wrk)")
	flag.StringVar(&o.backendOnly, "backend-only", "", "only serve the benchmark bucket (named "+benchBucket+") at this address until interrupted, for experiments by hand")
	flag.DurationVar(&o.s3Latency, "s3-latency", 0, "with -backend-only: answer every listing this much later, like an S3 across a network (e.g. 50ms)")
	flag.StringVar(&o.sdkLoop, "sdk-loop", "", "internal: run the stock-SDK loop against this endpoint for -d with -conns goroutines and print its figures as JSON")
	flag.IntVar(&o.conns, "conns", 64, "internal: goroutines of -sdk-loop")
	flag.StringVar(&o.only, "only", "", "load only the targets whose name matches this regular expression and print their rows, without the rest (for profiling by hand; the figures in docs/benchmarks.md come from a full run)")
	flag.IntVar(&o.junk, "junk", 0, "only send this many distinct missing paths to a service with --cache-ttl 1h and print its RSS and whether dir2 stays cached (e.g. 48000)")
	flag.BoolVar(&o.files, "files", false, "only time the object route of --serve-objects one request at a time (256 MiB through the service, a bare relay and the SDK; first byte; last byte by range) and print those figures")
	flag.StringVar(&o.relay, "relay", "", "internal: serve the bare relay in front of this endpoint, print its URL and serve until stdin ends")
	flag.Parse()
	return o
}

func run() error {
	o := parseFlags()
	switch {
	case o.backendOnly != "":
		return serveBackend(o.backendOnly, o.s3Latency)
	case o.sdkLoop != "":
		return sdkLoop(o.sdkLoop, o.conns, o.dur)
	case o.relay != "":
		return serveRelay(o.relay)
	case o.junk > 0:
		r, err := newRig(context.Background(), o)
		if err != nil {
			return err
		}
		defer r.close()
		return junkFlood(r, o.junk)
	case o.files:
		r, err := newRig(context.Background(), o)
		if err != nil {
			return err
		}
		defer r.close()
		ft, err := timeFiles(r)
		if err == nil {
			fmt.Println(fileTimesLine(ft))
		}
		return err
	}
	return benchmark(o)
}

// benchmark is a whole run: the load rows, then (unless -only) the rows
// run again in turns, the probes, the summary and the checks.
func benchmark(o options) error {
	only, err := regexp.Compile(o.only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	if _, err := os.Stat(o.wrk); err != nil {
		return fmt.Errorf("%v: install wrk (apt-get install wrk) or pass -wrk", err)
	}
	printMachine()
	r, err := newRig(context.Background(), o)
	if err != nil {
		return err
	}
	defer r.close()
	var f figures
	f.probes.binaryBytes = r.binSize
	// Before any service runs, so the starts have the machine to themselves.
	if f.probes.healthy, f.probes.ready, err = timeToReady(r.bin, r.endpoint); err != nil {
		return err
	}
	loaded, err := r.loadRows(selectRows(rows(), only))
	if err != nil || o.only != "" {
		return err
	}
	f.runs = loaded.runs
	if f.reruns, err = r.rerun(rerunGroups(), loaded); err != nil {
		return err
	}
	if err := measureProbes(r, &f.probes); err != nil {
		return err
	}
	return report(&f)
}

// report prints the summary lines and the checks, or, when any figure they
// read is missing, nothing and an error: a missing run never passes a check
// as zeros.
func report(f *figures) error {
	lines, err := summary(f)
	verdicts, errChecks := verdicts(checks(), f)
	if err := errors.Join(err, errChecks); err != nil {
		return err
	}
	fmt.Println()
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println("\ntargets (issues 3, 11, 14 and 23):")
	for _, l := range verdicts {
		fmt.Println(l)
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

// medians runs each f in turn, n rounds, and returns each one's median
// duration.
func medians(n int, fs ...func() error) ([]time.Duration, error) {
	timedFs := make([]func() (time.Duration, error), len(fs))
	for i, f := range fs {
		timedFs[i] = timed(f)
	}
	return mediansTimed(n, timedFs...)
}

// timed is f returning how long it took.
func timed(f func() error) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		t := time.Now()
		err := f()
		return time.Since(t), err
	}
}

// mediansTimed runs each f in turn, n rounds, and returns the median of
// the durations each one measured itself.
func mediansTimed(n int, fs ...func() (time.Duration, error)) ([]time.Duration, error) {
	ds := make([][]time.Duration, len(fs))
	for range n {
		for i, f := range fs {
			d, err := f()
			if err != nil {
				return nil, err
			}
			ds[i] = append(ds[i], d)
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
