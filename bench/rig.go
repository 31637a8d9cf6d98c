package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// rig is what the rows are set up on: the service binary, the backends and
// the services started so far. Each backend and each service setting is
// started once, when the first row asks for it, and every row asking for
// the same is loaded against that one process; close stops them all.
type rig struct {
	ctx      context.Context
	opts     options
	tmp      string
	bin      string
	binSize  int64
	endpoint string // the benchmark bucket (benchKeys)
	// walker is the Go client of the walks, checks and probes. It asks for
	// plain bodies, as wrk does: Go would otherwise ask for gzip itself.
	walker   *http.Client
	backends map[string]string   // endpoint by name
	services map[string]*svcProc // by endpoint and settings
	stops    []func()            // in the order started
}

// newRig builds the service binary and starts the benchmark backend.
func newRig(ctx context.Context, o options) (*rig, error) {
	tmp, err := os.MkdirTemp("", "bucketls-bench-")
	if err != nil {
		return nil, err
	}
	r := &rig{
		ctx: ctx, opts: o, tmp: tmp,
		walker:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}},
		backends: map[string]string{},
		services: map[string]*svcProc{},
		stops:    []func(){func() { os.RemoveAll(tmp) }},
	}
	if r.bin, err = buildService(tmp); err != nil {
		r.close()
		return nil, err
	}
	fi, err := os.Stat(r.bin)
	if err != nil {
		r.close()
		return nil, err
	}
	r.binSize = fi.Size()
	if r.endpoint, err = r.backend(benchBucket, benchBackend); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// close stops every service and backend, last started first, and removes
// the temporary directory.
func (r *rig) close() {
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
	r.stops = nil
}

// backend serves the backend made by newBackend on a loopback port, once
// per name, and returns its URL. A row that needs objects the benchmark
// bucket does not hold starts a backend of its own under its own name.
func (r *rig) backend(name string, newBackend func() gofakes3.Backend) (string, error) {
	if url, ok := r.backends[name]; ok {
		return url, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := backendServer(newBackend())
	go func() { _ = srv.Serve(ln) }()
	r.stops = append(r.stops, func() { _ = srv.Close() })
	r.backends[name] = "http://" + ln.Addr().String()
	return r.backends[name], nil
}

// benchBackend is the benchmark bucket.
func benchBackend() gofakes3.Backend { return newSortedBackend(benchBucket, benchKeys()) }

// backendServer serves b; every backend of the benchmark is served alike.
func backendServer(b gofakes3.Backend) *http.Server {
	return &http.Server{
		Handler:           gofakes3.New(b).Server(),
		ReadHeaderTimeout: 5 * time.Second,
		// wrk drops its connections mid-response when a run ends, and
		// gofakes3 then logs a superfluous WriteHeader per connection.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}

// service is the service on the benchmark bucket started with settings env
// (BUCKETLS_* variables; none: the defaults).
func (r *rig) service(env ...string) (*svcProc, error) {
	return r.serviceAt(r.endpoint, env...)
}

// serviceAt is the service on the backend at endpoint started with
// settings env, started on first use.
func (r *rig) serviceAt(endpoint string, env ...string) (*svcProc, error) {
	key := strings.Join(append([]string{endpoint}, env...), "\x00")
	if svc, ok := r.services[key]; ok {
		return svc, nil
	}
	svc, err := startService(r.bin, endpoint, false, env...)
	if err != nil {
		return nil, err
	}
	r.stops = append(r.stops, svc.stop)
	r.services[key] = svc
	return svc, nil
}

// listURL lists prefix (a directory, no trailing slash) straight from the
// benchmark backend: one S3 page.
func (r *rig) listURL(prefix string) string {
	return r.endpoint + "/" + benchBucket + "?list-type=2&delimiter=%2F&prefix=" + prefix + "%2F"
}

// serveBackend serves the benchmark bucket at addr, each listing latency
// late, until SIGINT/SIGTERM.
func serveBackend(addr string, latency time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := backendServer(withLatency(benchBackend(), latency))
	srv.Addr = addr
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Printf("serving bucket %q at http://%s\n", benchBucket, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// target is one row set up: what is loaded at 8 and at 64 connections.
type target struct {
	name    string
	url     string       // for wrk
	script  string       // wrk Lua script, if any
	header  string       // a request header for wrk ("Name: value"), if any
	walk    func() error // for the Go load generator instead of wrk
	rate    float64      // open loop instead of wrk: url requests due per second (rateLoad)
	sdkLoop string       // the stock-SDK ListObjectsV2 loop against this endpoint, in a process of its own
	svc     *svcProc     // whose RSS, S3 calls and CPU to report; nil for the others
}

// loadConns are the connection counts every target is loaded with.
var loadConns = []int{8, 64}

// loaded is what loadRows did: each row's target and its runs.
type loaded struct {
	targets map[string]target
	runs    results
}

// loadRows sets up each row, makes sure each answers, then loads each at
// every count of loadConns, printing a line per run.
func (r *rig) loadRows(rows []row) (loaded, error) {
	l := loaded{targets: map[string]target{}, runs: results{}}
	targets := make([]target, 0, len(rows))
	for _, rw := range rows {
		tg, err := rw.setup(r)
		if err != nil {
			return l, fmt.Errorf("%s: %w", rw.name, err)
		}
		tg.name = rw.name
		targets = append(targets, tg)
		l.targets[rw.name] = tg
	}
	if err := checkTargets(targets); err != nil {
		return l, err
	}
	fmt.Printf("\n%-38s %5s %10s %9s %9s %8s %9s %7s %8s\n", "target", "conns", "req/s", "p50", "p99", "non-2xx", "peak RSS", "S3/req", "CPU/req")
	for _, tg := range targets {
		for _, conns := range loadConns {
			res, err := r.measure(tg, conns)
			if err != nil {
				return l, fmt.Errorf("%s @%d: %w", tg.name, conns, err)
			}
			l.runs[runKey{tg.name, conns}] = res
			printRow(tg, conns, res)
		}
	}
	return l, nil
}

// rerun runs each group's rows twice more at 64 connections, taking turns,
// and returns every run of each (the one loadRows made first) by row name.
func (r *rig) rerun(groups [][]string, l loaded) (map[string][]result, error) {
	all := map[string][]result{}
	for _, group := range groups {
		targets := make([]target, len(group))
		for i, name := range group {
			tg, ok := l.targets[name]
			if !ok {
				return nil, fmt.Errorf("rerun of %q: no such row was loaded", name)
			}
			targets[i] = tg
		}
		runs, err := alternate(l.runs, targets, 2, func(tg target) (result, error) { return r.measure(tg, 64) })
		if err != nil {
			return nil, err
		}
		for name, rs := range runs {
			all[name] = rs
		}
	}
	return all, nil
}

// measure loads tg with conns connections for -d, after a short warm-up
// that fills connection pools and caches, and adds the service's peak RSS,
// S3 calls and CPU per listing served during the run.
func (r *rig) measure(tg target, conns int) (result, error) {
	if tg.sdkLoop != "" {
		return runSDKLoop(r.ctx, tg.sdkLoop, conns, r.opts.dur)
	}
	if tg.walk == nil {
		// A second of warm-up: connections open, caches filled.
		if _, err := r.load(tg, conns, time.Second); err != nil {
			return result{}, err
		}
	}
	if tg.svc == nil {
		return r.load(tg, conns, r.opts.dur)
	}
	if err := tg.svc.resetPeakRSS(); err != nil {
		return result{}, err
	}
	before, err := r.sample(tg.svc)
	if err != nil {
		return result{}, err
	}
	res, err := r.load(tg, conns, r.opts.dur)
	if err != nil {
		return result{}, err
	}
	if res.peakKiB, err = tg.svc.rssKiB("VmHWM"); err != nil {
		return result{}, err
	}
	after, err := r.sample(tg.svc)
	if err != nil {
		return result{}, err
	}
	served := after.http - before.http
	if served < 1 {
		return result{}, errors.New("the service served no listing or file")
	}
	// S3 calls of either kind: ListObjectsV2, and HeadObject and
	// GetObject for files.
	res.s3PerReq = (after.s3 - before.s3 + after.objects - before.objects) / served
	res.waitedShare = after.waits(before.counts) / served
	res.cpuPerReq = time.Duration(float64(after.cpu-before.cpu) / served)
	return res, nil
}

// load puts tg under conns connections for d: on schedule at tg.rate, by
// tg.walk's own loop, or with wrk.
func (r *rig) load(tg target, conns int, d time.Duration) (result, error) {
	switch {
	case tg.rate > 0:
		return rateLoad(r.ctx, r.walker, tg.url, tg.rate, conns, d), nil
	case tg.walk != nil:
		return goLoad(r.ctx, conns, d, tg.walk), nil
	default:
		return runWrk(r.ctx, r.opts.wrk, tg.url, tg.script, tg.header, conns, d)
	}
}

// serviceSample is what a service process has counted and spent so far.
type serviceSample struct {
	counts
	cpu time.Duration
}

// sample reads the service's counters and CPU time.
func (r *rig) sample(svc *svcProc) (serviceSample, error) {
	c, err := readCounts(r.walker, svc.base)
	if err != nil {
		return serviceSample{}, err
	}
	cpu, err := pidCPU(svc.cmd.Process.Pid)
	return serviceSample{counts: c, cpu: cpu}, err
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

// checkTargets makes sure every target answers 200 before loading it, so a
// misconfiguration cannot hide behind a fast stream of errors.
func checkTargets(targets []target) error {
	for _, tg := range targets {
		if tg.sdkLoop != "" {
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
