// Package fakes3 is an in-memory S3 server (gofakes3) on a loopback port:
// what --demo serves, and what tests of every layer list through the real
// SDK client and real HTTP.
package fakes3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// ReferenceKeys returns the reference tree the demo serves and the
// API docs (README.md, docs/api.md) describe: a zero-byte directory marker, two files in
// a directory and two at the root. A function, not a variable, so no caller
// can change what the next one gets.
func ReferenceKeys() []string {
	return []string{"dir1/", "dir2/file1", "dir2/file2", "file1", "file2"}
}

// NewBackend returns a gofakes3 in-memory backend holding bucket with the
// given keys, each with a short plain-text body (empty for keys ending in
// "/", which are directory markers).
func NewBackend(bucket string, keys []string) (gofakes3.Backend, error) {
	b := s3mem.New()
	if err := b.CreateBucket(bucket); err != nil {
		return nil, fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	for _, k := range keys {
		body := ""
		if !strings.HasSuffix(k, "/") {
			body = "content of " + k + "\n"
		}
		if err := put(b, bucket, k, "text/plain; charset=utf-8", body); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// put stores body at key with the headers S3 keeps for an upload: its
// Content-Type ("" for none) and when it was made.
func put(b gofakes3.Backend, bucket, key, contentType, body string) error {
	meta := map[string]string{"Last-Modified": time.Now().UTC().Format(http.TimeFormat)}
	if contentType != "" {
		meta["Content-Type"] = contentType
	}
	if _, err := b.PutObject(bucket, key, meta, strings.NewReader(body), int64(len(body)), nil); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// Handler is the S3 API over backend.
func Handler(backend gofakes3.Backend) http.Handler { return gofakes3.New(backend).Server() }

// Serve serves h (usually [Handler]) on a free loopback port and returns
// its endpoint URL and a function that stops it.
func Serve(h http.Handler) (endpoint string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("fake S3: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("fake S3 stopped: %v", err)) // loopback server of our own; cannot happen
		}
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// Server is a fake S3 started for a test.
type Server struct {
	srv     *httptest.Server
	backend gofakes3.Backend
	bucket  string
}

// Start serves bucket holding keys on 127.0.0.1 until the test ends. wrap,
// if not nil, wraps the S3 handler (to delay, count or break requests).
func Start(tb testing.TB, bucket string, keys []string, wrap func(http.Handler) http.Handler) *Server {
	tb.Helper()
	backend, err := NewBackend(bucket, keys)
	if err != nil {
		tb.Fatal(err)
	}
	h := Handler(backend)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &Server{srv: srv, backend: backend, bucket: bucket}
}

// URL is the server's endpoint.
func (s *Server) URL() string { return s.srv.URL }

// Put adds keys straight into the backend (no HTTP): fast for thousands.
func (s *Server) Put(tb testing.TB, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		if _, err := s.backend.PutObject(s.bucket, k, nil, strings.NewReader("x"), 1, nil); err != nil {
			tb.Fatal(err)
		}
	}
}

// PutFile stores an object of the given type and body straight into the
// backend.
func (s *Server) PutFile(tb testing.TB, key, contentType, body string) {
	tb.Helper()
	if err := put(s.backend, s.bucket, key, contentType, body); err != nil {
		tb.Fatal(err)
	}
}

// Backend is the server's storage, for tests that write objects of their
// own shape.
func (s *Server) Backend() gofakes3.Backend { return s.backend }
