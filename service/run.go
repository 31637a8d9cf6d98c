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
// --help prints usage to stdout and returns nil.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return nil
	}
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
	lister := NewS3Lister(client, cfg.Bucket, S3ListerOptions{CacheTTL: cfg.CacheTTL, RootPrefix: cfg.RootPrefix})
	srv := NewServer(logger, lister, cfg)

	listeners, err := listen(cfg, srv, logger)
	if err != nil {
		return err
	}
	errc := listeners.serve()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go srv.WatchBucket(watchCtx)
	logger.Info("serving", append(listeners.attrs, "memory_target", memTarget)...)
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
	srv.Drain()
	stopWatch()
	listeners.shutdown(ctx, cfg.ShutdownTimeout, logger)
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

// openStorage returns the S3 client to list with: the in-process demo
// server (which it starts, and close stops), or the real S3 the SDK's
// default chain points at.
func openStorage(ctx context.Context, cfg *Config, getenv func(string) string) (client s3.ListObjectsV2APIClient, close func(), err error) {
	if !cfg.Demo {
		c, err := newS3Client(ctx, *cfg, getenv)
		return c, func() {}, err
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "demo"
	}
	endpoint, stopS3, err := startDemoS3(cfg.Bucket, cfg.RootPrefix)
	if err != nil {
		return nil, nil, err
	}
	return newStaticS3Client(endpoint), stopS3, nil
}

// listeners are the HTTP (and optional HTTPS) servers of the process.
type listeners struct {
	servers []*http.Server
	serves  []func() error
	addr    net.Addr       // the HTTP listener's, for the demo's help text
	attrs   []any          // the "serving" log line
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
	ln, err := l.listen(cfg.Addr)
	if err != nil {
		return nil, err
	}
	hs := newHTTPServer(h, logger)
	l.servers = []*http.Server{hs}
	l.serves = []func() error{func() error { return hs.Serve(ln) }}
	l.addr = ln.Addr()
	l.attrs = []any{"addr", ln.Addr().String(), "bucket", cfg.Bucket, "demo", cfg.Demo, "cache_ttl", cfg.CacheTTL.String()}
	if cfg.TLSAddr != "" {
		tln, err := l.listen(cfg.TLSAddr)
		if err != nil {
			return nil, err
		}
		ts := newHTTPServer(h, logger)
		ts.TLSConfig = tlsCfg
		l.servers = append(l.servers, ts)
		// ServeTLS (not a tls.Listener) so net/http sets up HTTP/2 too.
		l.serves = append(l.serves, func() error { return ts.ServeTLS(tln, "", "") })
		l.attrs = append(l.attrs, "tls_addr", tln.Addr().String(), "tls_self_signed", cfg.TLSSelfSigned)
	}
	if cfg.PprofAddr != "" {
		pln, err := l.listen(cfg.PprofAddr)
		if err != nil {
			return nil, err
		}
		ps := newPprofServer()
		l.servers = append(l.servers, ps)
		l.serves = append(l.serves, func() error { return ps.Serve(pln) })
		l.attrs = append(l.attrs, "pprof_addr", pln.Addr().String())
	}
	if cfg.S3Endpoint != "" {
		l.attrs = append(l.attrs, "s3_endpoint", cfg.S3Endpoint)
	}
	if cfg.RootPrefix != "" {
		l.attrs = append(l.attrs, "root_prefix", cfg.RootPrefix)
	}
	if cfg.users != nil {
		l.attrs = append(l.attrs, "htpasswd", cfg.Htpasswd, "htpasswd_users", len(cfg.users.hashes), "metrics_public", cfg.MetricsPublic)
	}
	return l, nil
}

// serve starts every server; the channel gets the first one that fails.
func (l *listeners) serve() <-chan error {
	errc := make(chan error, len(l.serves))
	for _, f := range l.serves {
		go func() { errc <- f() }()
	}
	return errc
}

// shutdown stops accepting, lets in-flight requests finish for up to
// timeout, then cuts what outlived it.
func (l *listeners) shutdown(ctx context.Context, timeout time.Duration, logger *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	done := make(chan error, len(l.servers))
	for _, hs := range l.servers {
		go func() { done <- hs.Shutdown(sctx) }()
	}
	for range l.servers {
		if err := <-done; err != nil {
			logger.Warn("in-flight requests cut off at shutdown timeout", "err", err.Error())
		}
	}
	for _, hs := range l.servers {
		_ = hs.Close() // no-op after a clean Shutdown; cuts what outlived the timeout
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
