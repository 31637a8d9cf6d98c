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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server timeouts. ReadHeaderTimeout stops slowloris clients; requests have
// no body, so ReadTimeout can be short too. WriteTimeout must outlast the S3
// work of one request (Config.S3Timeout, 30 s by default) plus streaming a
// large listing to a slow client. IdleTimeout frees keep-alive connections
// nobody uses.
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

	var client s3.ListObjectsV2APIClient
	if cfg.Demo {
		if cfg.Bucket == "" {
			cfg.Bucket = "demo"
		}
		endpoint, stopS3, err := startDemoS3(cfg.Bucket)
		if err != nil {
			return err
		}
		defer stopS3()
		client = newStaticS3Client(endpoint)
	} else {
		c, err := newS3Client(ctx, cfg, getenv)
		if err != nil {
			return err
		}
		client = c
	}
	var tlsCfg *tls.Config
	if cfg.TLSAddr != "" {
		if tlsCfg, err = tlsConfig(cfg); err != nil {
			return err
		}
	}

	lister := NewS3Lister(client, cfg.Bucket, S3ListerOptions{CacheTTL: cfg.CacheTTL})
	srv := NewServer(logger, lister, cfg)

	// Listen before serving so a busy port fails Run at once, and so
	// ":0" works: the log line says which port was picked.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	servers := []*http.Server{newHTTPServer(srv, logger)}
	serve := []func() error{func() error { return servers[0].Serve(ln) }}
	attrs := []any{"addr", ln.Addr().String(), "bucket", cfg.Bucket, "demo", cfg.Demo, "cache_ttl", cfg.CacheTTL.String()}
	if cfg.TLSAddr != "" {
		tln, err := net.Listen("tcp", cfg.TLSAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", cfg.TLSAddr, err)
		}
		hs := newHTTPServer(srv, logger)
		hs.TLSConfig = tlsCfg
		servers = append(servers, hs)
		// ServeTLS (not a tls.Listener) so net/http sets up HTTP/2 too.
		serve = append(serve, func() error { return hs.ServeTLS(tln, "", "") })
		attrs = append(attrs, "tls_addr", tln.Addr().String(), "tls_self_signed", cfg.TLSSelfSigned)
	}
	if cfg.S3Endpoint != "" {
		attrs = append(attrs, "s3_endpoint", cfg.S3Endpoint)
	}

	errc := make(chan error, len(serve))
	for _, f := range serve {
		go func() { errc <- f() }()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go srv.WatchBucket(watchCtx)
	logger.Info("serving", attrs...)
	if cfg.Demo {
		printDemoHelp(stderr, ln.Addr(), cfg.Bucket)
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

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	done := make(chan error, len(servers))
	for _, hs := range servers {
		go func() { done <- hs.Shutdown(sctx) }()
	}
	for range servers {
		if err := <-done; err != nil {
			logger.Warn("in-flight requests cut off at shutdown timeout", "err", err.Error())
		}
	}
	for _, hs := range servers {
		_ = hs.Close() // no-op after a clean Shutdown; cuts what outlived the timeout
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	logger.Info("stopped")
	return nil
}

// newHTTPServer sets the timeouts every listener shares and routes
// net/http's own error log (TLS handshake failures and the like) into the
// JSON log.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}
}
