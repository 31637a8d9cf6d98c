package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/bucketls/bucketls/internal/viewcap"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server is the bucketls HTTP handler. Beyond http.Handler it owns the
// readiness state that /readyz reports, which [Run] drives: WatchBucket
// probes the bucket, Drain marks the server as shutting down.
type Server struct {
	handler http.Handler
	conns   *connWatch // what net/http answers by itself
	lister  Lister
	logger  *slog.Logger
	ready   *readiness
	flight  *inFlight
	https   *httpsOnly // nil unless TLS and a password are both on
}

// inFlight follows the requests inside the handler chain, so that a
// shutdown that cuts some of them can wait for each to write its access
// line and count itself before the process exits, and can tell them the
// cut was its doing.
type inFlight struct {
	running atomic.Int64
	cut     atomic.Bool // the shutdown timeout passed and connections were closed
}

// NewServer returns the handler for every route, over lister. users are
// the accounts the listing routes (and /metrics, unless cfg.MetricsPublic)
// admit; nil serves every route without a password. cfg supplies the
// request limits (RequestTimeout, StallTimeout; zero StallTimeout gets its
// default), ViewCap (zero gets its default), Hide (patterns that do not
// parse panic: Run checks them first), CORSOrigins, and CacheMaxAge and
// CacheStale for the listing answers' Cache-Control (zero: no-cache, as
// without cache settings). cfg.Htpasswd is only the file's name: load it
// with [LoadUsers] and pass the result, or NewServer panics rather than
// serve a password-protected configuration without its passwords. If
// lister is a prometheus.Collector (the S3 lister is), its metrics are
// served on /metrics next to the HTTP and Go runtime ones.
func NewServer(logger *slog.Logger, lister Lister, users *Users, cfg Config) *Server {
	cfg = serverDefaults(cfg, users)
	reg := newRegistry(lister)
	m := newHTTPMetrics(reg)
	ready := &readiness{}
	mux := http.NewServeMux()
	cors := newCORSPolicy(cfg.CORSOrigins)
	objects, hide := servedObjects(lister, cfg.ServeObjects), mustHide(cfg.Hide)
	addRoutes(mux, routeDeps{
		lister:   lister,
		ready:    ready,
		gatherer: reg,
		limits:   listLimits{request: cfg.RequestTimeout, stall: cfg.StallTimeout},
		views:    newViewer(cfg.ViewCap),
		hide:     hide,
		cors:     cors,
		caching:  newCachePolicy(cfg, users),
		access:   newAccess(users, cfg.MetricsPublic),
		objects:  objects,
		readmes:  readmesFor(objects, lister, hide),
	})
	flight := &inFlight{}
	https := httpsOnlyFor(cfg, users)
	var h http.Handler = mux
	h = rejectBadPaths(cors, h) // 400 JSON before the mux can redirect ".", "..", "//"
	h = recoverPanics(logger, h)
	h = requireHTTPS(https, h)
	h = setHeaders(h)
	h = noteShutdownCut(flight, h)
	h = countRequests(m, h)
	h = logRequests(logger, h)
	h = trackRequests(flight, h)
	return &Server{
		handler: h,
		conns:   &connWatch{logger: logger.With("component", "http"), m: m},
		lister:  lister,
		logger:  logger.With("component", "s3"),
		ready:   ready,
		flight:  flight,
		https:   https,
	}
}

// serverDefaults fills the zero limits of cfg with their defaults, and
// refuses a Config that names a password file without its users.
func serverDefaults(cfg Config, users *Users) Config {
	if cfg.Htpasswd != "" && users == nil {
		panic("service.NewServer: Config.Htpasswd is set but no users were passed; load them with LoadUsers")
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = defaultStallTimeout
	}
	if cfg.ViewCap <= 0 {
		cfg.ViewCap = viewcap.Default
	}
	return cfg
}

// newRegistry is the /metrics registry of one Server: the Go runtime's
// and the process's metrics, the build info, and the lister's own when it
// collects any.
func newRegistry(lister Lister) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newBuildInfo())
	if c, ok := lister.(prometheus.Collector); ok {
		reg.MustRegister(c)
	}
	return reg
}

// mustHide parses --hide's patterns, which Run has already checked.
func mustHide(patterns []string) *hidden.Set {
	hide, err := hidden.Parse(patterns)
	if err != nil {
		panic("service.NewServer: Config.Hide: " + err.Error() + " (Run checks it first)")
	}
	return hide
}

// servedObjects is what serves /files: nil when objects are not served.
func servedObjects(lister Lister, serve bool) ObjectReader {
	if !serve {
		return nil
	}
	objects, ok := lister.(ObjectReader)
	if !ok {
		panic("service.NewServer: Config.ServeObjects needs a Lister that is also an ObjectReader (the S3 lister is)")
	}
	return objects
}

// httpsOnlyFor is the plain listener's redirect to HTTPS: on when TLS and
// a password are both configured, so no password crosses in clear.
func httpsOnlyFor(cfg Config, users *Users) *httpsOnly {
	if cfg.TLSAddr == "" || users == nil {
		return nil
	}
	_, port, _ := net.SplitHostPort(cfg.TLSAddr)
	return &httpsOnly{port: port} // listen puts in the port it bound
}

// cutRequests records that the shutdown timeout passed: the requests
// still running are about to lose their connections.
func (s *Server) cutRequests() { s.flight.cut.Store(true) }

// waitRequests waits up to timeout for the requests in the handler chain
// to return, and reports how many still run.
func (s *Server) waitRequests(timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	for {
		n := s.flight.running.Load()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readmesFor shows directories' READMEs when objects are served, since
// a README's link, images and relative links go to the object route.
func readmesFor(objects ObjectReader, lister Lister, hide *hidden.Set) *readmes {
	if objects == nil {
		return nil
	}
	return newReadmes(objects, lister, hide)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// CheckBucket asks storage for the first page of the bucket root and
// records the outcome for /readyz. It returns the storage error, if any.
func (s *Server) CheckBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := s.lister.List(ctx, ListRequest{}, func([]Entry, bool) error { return errStopWalk })
	if err == nil || errors.Is(err, errStopWalk) {
		s.ready.answered()
		return nil
	}
	if !errors.Is(err, context.Canceled) { // shutting down is not a storage failure
		s.ready.failed()
	}
	return err
}

// Probe timing: how quickly an unready server retries (doubling up to
// probeMaxBackoff, so a missing bucket costs a LIST every half minute, not
// every second), how often a ready one re-checks when no request did it
// for it, and how long an answer counts as recent.
const (
	probeTimeout    = 5 * time.Second
	probeMinBackoff = 250 * time.Millisecond
	probeMaxBackoff = 30 * time.Second
	probeInterval   = 10 * time.Second
	readyWindow     = 30 * time.Second
)

// WatchBucket probes the bucket until ctx ends: right away (so a fresh
// process turns ready as soon as S3 answers), then with backoff while the
// bucket fails and every probeInterval while it answers. It logs only
// changes, not every failed probe.
func (s *Server) WatchBucket(ctx context.Context) {
	backoff := probeMinBackoff
	wasReady, first := false, true
	for {
		wait := probeInterval
		if s.ready.since() >= probeInterval {
			err := s.CheckBucket(ctx)
			if ctx.Err() != nil {
				return
			}
			switch {
			case err == nil && !wasReady:
				s.logger.Info("bucket answered; ready")
				wasReady, backoff = true, probeMinBackoff
			case err != nil && (wasReady || first):
				s.logger.Warn("bucket check failed; not ready", "err", err.Error())
				wasReady = false
			}
			if err != nil {
				wait = backoff
				backoff = min(2*backoff, probeMaxBackoff)
			}
			first = false
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Drain makes /readyz answer 503 from now on, so load balancers stop
// sending new requests while in-flight ones finish.
func (s *Server) Drain() { s.ready.draining.Store(true) }

// readiness is the state behind /readyz: when storage last answered, whether
// the last probe failed, and whether the process is draining. Requests only
// ever refresh it; a single failing request (a throttle, a timeout) does not
// take an instance out of service, a failing probe does.
type readiness struct {
	lastOK   atomic.Int64 // unix nanoseconds of the last storage answer
	failing  atomic.Bool  // the last probe failed and nothing answered since
	draining atomic.Bool
}

func (r *readiness) answered() {
	r.lastOK.Store(time.Now().UnixNano())
	if r.failing.Load() {
		r.failing.Store(false)
	}
}

func (r *readiness) failed() { r.failing.Store(true) }

// since is the time since storage last answered (very large if never).
func (r *readiness) since() time.Duration {
	last := r.lastOK.Load()
	if last == 0 {
		return 1<<63 - 1
	}
	return time.Since(time.Unix(0, last))
}

func (r *readiness) check() (bool, string) {
	switch {
	case r.draining.Load():
		return false, "shutting down"
	case r.failing.Load():
		return false, "bucket check failing"
	case r.since() > readyWindow:
		return false, "bucket has not answered recently"
	}
	return true, ""
}

// handleHealthz answers 200 while the process runs: liveness only, it never
// touches S3, so a storage outage does not get the process restarted.
func handleHealthz() http.Handler {
	body := []byte(`{"status":"ok"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// handleReadyz answers 200 when the bucket answered recently and the
// process is not shutting down, 503 otherwise.
func handleReadyz(ready *readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, why := ready.check(); !ok {
			w.Header().Set("Retry-After", retryAfterSeconds)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": why})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
