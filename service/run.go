package service

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/memtarget"
	"github.com/bucketls/bucketls/service/internal/s3store"
)

// Server timeouts. ReadHeaderTimeout stops slowloris clients; requests have
// no body, so ReadTimeout can be short too. WriteTimeout bounds the small
// answers; a streamed listing renews its own write deadline as the client
// makes progress (Config.StallTimeout), so it is not cut off at this bound.
// IdleTimeout frees keep-alive connections nobody uses.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10 // a 1,024-byte path percent-encoded is ~3 KiB
)

// Run is the whole bucketls process: it parses args with getenv as the
// environment fallback, logs JSON to stdout, serves HTTP (and HTTPS when
// configured) until ctx ends or SIGINT/SIGTERM arrives, then stops
// accepting, lets in-flight requests finish for up to ShutdownTimeout and
// returns nil. Configuration errors are *ConfigError (see [ExitCode]);
// --help prints usage and --version the version to stdout, and return nil.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return nil
	case errors.Is(err, errVersion):
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
	if err != nil {
		return err
	}
	users, err := loadUsers(cfg)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	memTarget, stopMemTarget := startMemoryTarget(cfg, getenv)
	defer stopMemTarget()

	client, closeStorage, err := openStorage(ctx, &cfg, getenv)
	if err != nil {
		return err
	}
	defer closeStorage()
	lister := NewS3Lister(client, cfg.Bucket, S3ListerOptions{CacheTTL: cfg.CacheTTL, CacheStale: cfg.CacheStale, RootPrefix: cfg.RootPrefix})
	srv := NewServer(logger, lister, users, cfg)

	listeners, err := listen(cfg, srv, logger)
	if err != nil {
		return err
	}
	errc := listeners.serve()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go srv.WatchBucket(watchCtx)
	logger.Info("serving", append(servingAttrs(cfg, users, listeners), "memory_target", memTarget)...)
	if cfg.Demo {
		printDemoHelp(stderr, listeners.addr, cfg)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	case serveErr = <-errc:
		logger.Error("server failed; shutting down", "err", serveErr.Error())
	}
	stopWatch()
	stopServing(ctx, srv, listeners, cfg.ShutdownTimeout, logger)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	logger.Info("stopped")
	return nil
}

// startMemoryTarget runs the garbage collector against cfg.MemoryTarget
// (see package memtarget), unless the environment has the runtime's own
// GOGC or GOMEMLIMIT: whoever set those meant them. It returns what the
// log says about it and the function that undoes it.
func startMemoryTarget(cfg Config, getenv func(string) string) (string, func()) {
	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		if getenv(v) != "" {
			return "off (" + v + " is set)", func() {}
		}
	}
	if cfg.MemoryTarget == 0 {
		return "off", func() {}
	}
	t := memtarget.Start(cfg.MemoryTarget)
	target := byteSize(cfg.MemoryTarget)
	return target.String(), t.Stop
}

// loadUsers loads the --htpasswd file, if one is set: after every flag is
// checked, so a bad flag is reported before a missing file.
func loadUsers(cfg Config) (*Users, error) {
	if cfg.Htpasswd == "" {
		return nil, nil
	}
	return LoadUsers(cfg.Htpasswd)
}

// openStorage returns the S3 client to list with: the in-process demo
// server (which it starts, and close stops), or the real S3 the SDK's
// default chain points at.
func openStorage(ctx context.Context, cfg *Config, getenv func(string) string) (client s3.ListObjectsV2APIClient, close func(), err error) {
	if !cfg.Demo {
		c, err := s3store.NewClient(ctx, cfg.S3Endpoint, getenv)
		if err != nil {
			return nil, nil, configErrorf("%v", err)
		}
		return c, func() {}, nil
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "demo"
	}
	endpoint, stopS3, err := startDemoS3(cfg.Bucket, cfg.RootPrefix)
	if err != nil {
		return nil, nil, err
	}
	return s3store.NewStaticClient(endpoint), stopS3, nil
}

// listeners are the HTTP (and optional HTTPS and profiling) servers of the
// process.
type listeners struct {
	servers []*http.Server
	serves  []func() error
	addr    net.Addr       // the HTTP listener's, for the demo's help text
	tlsAddr net.Addr       // the HTTPS listener's, if any
	pprof   net.Addr       // the profiling listener's, if any
	bound   []net.Listener // closed again if a later address cannot be bound
}

// listen binds one more address; if that fails, it closes the ones bound
// before, so a failed start leaves no port taken.
func (l *listeners) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		for _, b := range l.bound {
			b.Close()
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	l.bound = append(l.bound, ln)
	return ln, nil
}

// add serves srv on the listener bound to addr.
func (l *listeners) add(addr string, srv *http.Server, serve func(*http.Server, net.Listener) error) (net.Addr, error) {
	ln, err := l.listen(addr)
	if err != nil {
		return nil, err
	}
	l.servers = append(l.servers, srv)
	l.serves = append(l.serves, func() error { return serve(srv, ln) })
	return ln.Addr(), nil
}

func servePlain(s *http.Server, ln net.Listener) error { return s.Serve(ln) }

// serveTLS uses ServeTLS (not a tls.Listener) so net/http sets up HTTP/2 too.
func serveTLS(s *http.Server, ln net.Listener) error { return s.ServeTLS(ln, "", "") }

// listen binds every configured address before anything is served, so a
// busy port fails Run at once, and so ":0" works: the log line says which
// port was picked.
func listen(cfg Config, h *Server, logger *slog.Logger) (*listeners, error) {
	var tlsCfg *tls.Config
	if cfg.TLSAddr != "" {
		var err error
		if tlsCfg, err = tlsConfig(cfg); err != nil {
			return nil, err
		}
	}
	l := &listeners{}
	var err error
	if l.addr, err = l.add(cfg.Addr, newHTTPServer(h, logger), servePlain); err != nil {
		return nil, err
	}
	if cfg.TLSAddr != "" {
		ts := newHTTPServer(h, logger)
		ts.TLSConfig = tlsCfg
		if l.tlsAddr, err = l.add(cfg.TLSAddr, ts, serveTLS); err != nil {
			return nil, err
		}
		if h.https != nil {
			_, h.https.port, _ = net.SplitHostPort(l.tlsAddr.String()) // ":0" picked one
		}
	}
	if cfg.PprofAddr != "" {
		if l.pprof, err = l.add(cfg.PprofAddr, newPprofServer(), servePlain); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// servingAttrs is the "serving" log line: where each listener is bound
// and what the process serves.
func servingAttrs(cfg Config, users *Users, l *listeners) []any {
	attrs := []any{"version", Version(), "addr", l.addr.String(), "bucket", cfg.Bucket, "demo", cfg.Demo, "cache_ttl", cfg.CacheTTL.String(), "cache_max_age", cfg.CacheMaxAge.String(), "cache_stale", cfg.CacheStale.String()}
	if l.tlsAddr != nil {
		attrs = append(attrs, "tls_addr", l.tlsAddr.String(), "tls_self_signed", cfg.TLSSelfSigned)
	}
	if l.pprof != nil {
		attrs = append(attrs, "pprof_addr", l.pprof.String())
	}
	if cfg.S3Endpoint != "" {
		attrs = append(attrs, "s3_endpoint", cfg.S3Endpoint)
	}
	if cfg.RootPrefix != "" {
		attrs = append(attrs, "root_prefix", cfg.RootPrefix)
	}
	if cfg.ServeObjects {
		attrs = append(attrs, "serve_objects", true)
	}
	if users != nil {
		attrs = append(attrs, "htpasswd", cfg.Htpasswd, "htpasswd_users", users.Users(), "metrics_public", cfg.MetricsPublic)
	}
	return attrs
}

// serve starts every server; the channel gets the first one that fails.
func (l *listeners) serve() <-chan error {
	errc := make(chan error, len(l.serves))
	for _, f := range l.serves {
		go func() { errc <- f() }()
	}
	return errc
}

// cutWait bounds the wait, after shutdown closed the connections, for the
// requests it cut to log and count themselves. A cut request returns at
// once, unless it leads an S3 call, which the call's own timeout (10 s)
// ends.
const cutWait = 10 * time.Second

// stopServing makes /readyz answer 503, stops accepting, lets in-flight
// requests finish for up to timeout, then cuts what outlived it and waits
// (up to cutWait) for each cut request to write its access line and
// metrics: the process must not exit, and log "stopped", before they
// have.
func stopServing(ctx context.Context, srv *Server, l *listeners, timeout time.Duration, logger *slog.Logger) {
	srv.Drain()
	if !l.shutdown(ctx, timeout, logger) {
		return
	}
	srv.cutRequests()
	l.close()
	if n := srv.waitRequests(cutWait); n > 0 {
		logger.Warn("requests cut at shutdown still running; exiting without their access lines", "requests", n)
	}
}

// shutdown stops accepting and lets in-flight requests finish for up to
// timeout. It reports whether some outlived it.
func (l *listeners) shutdown(ctx context.Context, timeout time.Duration, logger *slog.Logger) (cut bool) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	done := make(chan error, len(l.servers))
	for _, hs := range l.servers {
		go func() { done <- hs.Shutdown(sctx) }()
	}
	for range l.servers {
		if err := <-done; err != nil {
			logger.Warn("in-flight requests cut off at shutdown timeout", "err", err.Error())
			cut = true
		}
	}
	return cut
}

// close cuts the connections of every server.
func (l *listeners) close() {
	for _, hs := range l.servers {
		_ = hs.Close()
	}
}

// newPprofServer serves net/http/pprof's handlers, and nothing of the
// listing routes, for --pprof-addr.
func newPprofServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
}

// newHTTPServer sets the timeouts every listener shares and routes
// net/http's own error log (TLS handshake failures and the like) into the
// JSON log.
func newHTTPServer(h *Server, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ConnContext:       h.conns.connContext,
		ConnState:         h.conns.connState,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}
}
