package service

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketls/bucketls/service/internal/htpasswd/htpasswdtest"
)

// logSink collects JSON log lines written by Run or a child process and
// lets a test wait for one.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []map[string]any
	raw   []string
	added chan struct{}
}

func newLogSink() *logSink { return &logSink{added: make(chan struct{}, 1)} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadBytes('\n')
		if err != nil {
			s.buf.Write(line) // incomplete: keep for the next write
			break
		}
		s.raw = append(s.raw, string(line))
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			s.lines = append(s.lines, m)
		} else {
			s.lines = append(s.lines, map[string]any{"msg": "<not JSON>", "raw": string(line)})
		}
	}
	select {
	case s.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

// find returns the first line with msg and the given key/values.
func (s *logSink) find(msg string, kv ...any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
next:
	for _, l := range s.lines {
		if l["msg"] != msg {
			continue
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if l[kv[i].(string)] != kv[i+1] {
				continue next
			}
		}
		return l
	}
	return nil
}

func (s *logSink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.raw...)
}

// wait blocks until a line with msg appears, or fails the test.
func (s *logSink) wait(t testing.TB, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if l := s.find(msg); l != nil {
			return l
		}
		select {
		case <-s.added:
		case <-deadline:
			t.Fatalf("no %q log line within %s; log:\n%s", msg, timeout, strings.Join(s.all(), ""))
		}
	}
}

// waitReady polls base/readyz until it answers 200.
func waitReady(t testing.TB, client *http.Client, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not 200 within %s (last: %v)", base, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startRun runs Run in the background and returns the HTTP base URL from
// its "serving" log line, the log and a channel with Run's result.
func startRun(t *testing.T, args []string, env ...string) (string, *logSink, context.CancelFunc, <-chan struct{}, *error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newLogSink()
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = Run(ctx, args, envFunc(env...), out, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	line := out.wait(t, "serving", 10*time.Second)
	return "http://" + line["addr"].(string), out, cancel, done, &runErr
}

// TestRun serves the reference tree through Run (flags, SDK client from
// the default chain, server, probe) and stops cleanly on cancel.
func TestRun(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	base, out, cancel, done, runErr := startRun(t, []string{"--addr", "127.0.0.1:0", "--s3-endpoint", f.URL()}, "BUCKETLS_BUCKET", testBucket)
	waitReady(t, http.DefaultClient, base, 5*time.Second)
	if r := get(t, base, "/list-bucket-content/dir2"); r.body != `{"content":["file1","file2"]}` {
		t.Errorf("GET dir2: %d %s", r.status, r.body)
	}
	out.wait(t, "request", time.Second)
	l := out.find("request", "path", "/list-bucket-content/dir2")
	if l == nil {
		t.Fatalf("no access line for dir2; log:\n%s", strings.Join(out.all(), ""))
	}
	for _, k := range []string{"method", "path", "status", "bytes", "duration_ms", "s3_calls", "time", "level"} {
		if _, ok := l[k]; !ok {
			t.Errorf("access line lacks %q: %v", k, l)
		}
	}
	if l["status"] != 200.0 || l["s3_calls"] != 1.0 || l["bytes"] != 29.0 {
		t.Errorf("access line %v, want status 200, 1 S3 call, 29 bytes", l)
	}
	cancel()
	select {
	case <-done:
		if *runErr != nil {
			t.Errorf("Run = %v, want nil after cancel", *runErr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	out.wait(t, "stopped", time.Second)
	for _, raw := range out.all() {
		if strings.Contains(raw, "AWS_SECRET") || strings.Contains(raw, `"test"`) {
			t.Errorf("log line mentions credentials: %s", raw)
		}
	}
}

// TestRunErrors checks Run's synchronous failures and their exit codes.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	busy := busyAddr(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no bucket", nil, 2, "no bucket"},
		{"port in use", []string{"--bucket", "bkt", "--addr", busy, "--s3-endpoint", "http://127.0.0.1:1"}, 1, "listen on"},
		{"pprof on every interface", []string{"--bucket", "bkt", "--addr", "127.0.0.1:0", "--pprof-addr", ":0", "--s3-endpoint", "http://127.0.0.1:1"}, 2, "add --pprof-public"},
		{"pprof port in use", []string{"--bucket", "bkt", "--addr", "127.0.0.1:0", "--pprof-addr", busy, "--s3-endpoint", "http://127.0.0.1:1"}, 1, "listen on " + busy},
		{"missing cert file", []string{"--bucket", "bkt", "--addr", "127.0.0.1:0", "--s3-endpoint", "http://127.0.0.1:1",
			"--tls-addr", "127.0.0.1:0", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"}, 2, "--tls-cert"},
	}
	for _, tt := range tests {
		// Bounded: a case that is wrongly accepted serves until cancelled,
		// then returns nil, which fails it.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := Run(ctx, tt.args, envFunc(), &bytes.Buffer{}, &bytes.Buffer{})
		cancel()
		if ExitCode(err) != tt.wantCode || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Run = %v (exit %d), want exit %d mentioning %q", tt.name, err, ExitCode(err), tt.wantCode, tt.want)
		}
	}
	var stdout bytes.Buffer
	if err := Run(context.Background(), []string{"--help"}, envFunc(), &stdout, &bytes.Buffer{}); err != nil || !strings.Contains(stdout.String(), "Usage: bucketls") {
		t.Errorf("Run --help = %v, stdout %q", err, stdout.String())
	}
}

// TestRunTLSFiles serves HTTPS from certificate files beside HTTP.
func TestRunTLSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, err := selfSignedCert(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)

	f := startFakeS3(t, ReferenceKeys(), nil)
	_, out, _, _, _ := startRun(t, []string{"--addr", "127.0.0.1:0", "--s3-endpoint", f.URL(), "--bucket", testBucket,
		"--tls-addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile})
	tlsBase := "https://" + out.find("serving")["tls_addr"].(string)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	r := do(t, client, "GET", tlsBase, "/list-bucket-content", nil)
	if r.body != `{"content":["dir1","dir2","file1","file2"]}` {
		t.Errorf("GET over HTTPS: %d %s", r.status, r.body)
	}
	resp, err := client.Get(tlsBase + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("HTTPS answered with %s, TLS %v; want HTTP/2 over TLS 1.2+", resp.Proto, resp.TLS)
	}
}

// TestSelfSignedCert checks the in-memory certificate is usable for
// localhost and the loopback addresses.
func TestSelfSignedCert(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, err := selfSignedCert(now)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("certificate does not verify for %s: %v", name, err)
		}
	}
	if cert.Leaf.NotAfter.Sub(now) < 300*24*time.Hour {
		t.Errorf("certificate expires %s, want about a year out", cert.Leaf.NotAfter)
	}
	if cert.Leaf.IsCA {
		t.Errorf("self-signed server certificate must not be a CA")
	}
}

// TestRunPprof serves the runtime profiles on --pprof-addr only: the
// listing port does not have them, and without the flag nothing listens.
func TestRunPprof(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	base, out, _, _, _ := startRun(t, []string{"--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0", "--s3-endpoint", f.URL()}, "BUCKETLS_BUCKET", testBucket)
	line := out.find("serving")
	pprofAddr, _ := line["pprof_addr"].(string)
	if pprofAddr == "" {
		t.Fatalf("serving line %v has no pprof_addr", line)
	}
	if r := get(t, "http://"+pprofAddr, "/debug/pprof/"); r.status != 200 || !strings.Contains(r.body, "goroutine") {
		t.Errorf("GET pprof index: %d %.200s", r.status, r.body)
	}
	if r := get(t, "http://"+pprofAddr, "/debug/pprof/heap?debug=1"); r.status != 200 || !strings.Contains(r.body, "heap profile") {
		t.Errorf("GET heap profile: %d %.200s", r.status, r.body)
	}
	if line["memory_target"] != "24MiB" {
		t.Errorf("serving line says memory_target %v, want the default 24MiB", line["memory_target"])
	}
	if r := get(t, base, "/debug/pprof/"); r.status != 404 {
		t.Errorf("the listing port serves profiles: %d", r.status)
	}
	if r := get(t, "http://"+pprofAddr, "/list-bucket-content/dir2"); r.status != 404 {
		t.Errorf("the profile port serves listings: %d", r.status)
	}
}

// TestRunMemoryTargetYields: GOGC or GOMEMLIMIT in the environment rule
// over --memory-target, and the log says so.
func TestRunMemoryTargetYields(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	for _, env := range [][]string{{"GOGC", "200"}, {"GOMEMLIMIT", "1GiB"}} {
		_, out, _, _, _ := startRun(t, []string{"--addr", "127.0.0.1:0", "--s3-endpoint", f.URL(), "--memory-target", "32MiB"}, "BUCKETLS_BUCKET", testBucket, env[0], env[1])
		if got, want := out.find("serving")["memory_target"], "off ("+env[0]+" is set)"; got != want {
			t.Errorf("with %s set: memory_target %v, want %q", env[0], got, want)
		}
	}
}

// TestShutdownCutIsLogged: requests still running when the shutdown
// timeout passes are cut, and each still gets its access line and its
// metrics, before stopServing returns (after which Run logs "stopped" and
// the process exits). Issue 20, point 2: 0 of 4 cut requests were logged
// or counted as aborted.
func TestShutdownCutIsLogged(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	slowS3 := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			time.Sleep(150 * time.Millisecond)
			h.ServeHTTP(w, r)
		})
	}
	f := startFakeS3(t, ReferenceKeys(), slowS3)
	f.Put(t, names("big/"+strings.Repeat("k", 60), 6000)...)
	out := newLogSink()
	logger := slog.New(slog.NewJSONHandler(out, nil))
	cfg := Config{Addr: "127.0.0.1:0", Bucket: testBucket}
	srv := NewServer(logger, fakeLister(f), nil, cfg)
	l, err := listen(cfg, srv, logger)
	if err != nil {
		t.Fatal(err)
	}
	l.serve()
	base := "http://" + l.addr.String()
	// Four listings of six slow S3 pages each: some have sent their
	// status and some not when the cut comes.
	targets := []string{"/list-bucket-content/big", "/list-bucket-content/big?details=true", "/list-bucket-content/big/", "/list-bucket-content/big?prefix=k&recursive=true"}
	var wg sync.WaitGroup
	for _, target := range targets {
		wg.Go(func() {
			resp, err := http.Get(base + target)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Errorf("GET %s: complete answer, want one cut at shutdown", target)
			}
		})
	}
	for calls.Load() < int32(2*len(targets)) {
		time.Sleep(10 * time.Millisecond)
	}
	stopServing(context.Background(), srv, l, 100*time.Millisecond, logger)
	lines := len(out.all())
	wg.Wait()
	for _, target := range targets {
		path, query, _ := strings.Cut(target, "?")
		var line map[string]any
		out.mu.Lock()
		logged := slices.Clone(out.lines)
		out.mu.Unlock()
		for _, l := range logged {
			if l["msg"] == "request" && l["path"] == path && (query == "" && l["query"] == nil || l["query"] == query) {
				line = l
			}
		}
		if line == nil {
			t.Errorf("GET %s: no access line once stopServing returned; log:\n%s", target, strings.Join(out.all(), ""))
			continue
		}
		if line["aborted"] != true || line["limit"] != limitShutdown || line["level"] != "WARN" {
			t.Errorf("GET %s: access line %v, want aborted, limit %s, level WARN", target, line, limitShutdown)
		}
	}
	if n := len(out.all()); n != lines {
		t.Errorf("%d log lines came after stopServing returned", n-lines)
	}
	ms := httptest.NewServer(srv)
	defer ms.Close()
	checkMetric(t, ms.URL, `bucketls_http_responses_aborted_total{reason="shutdown_timeout",route="/list-bucket-content/{path...}"} 4`)
}

// TestRunHTTPSOnlyWithPassword: with TLS and --htpasswd both on, plain
// HTTP sends every route but /healthz to HTTPS with 308 before any
// password can cross in clear, and HTTPS answers carry HSTS (issue 20,
// point 8: port 80 answered 401 and a browser sent the password in clear
// on its next try). TLS without a password keeps plain HTTP as it was.
func TestRunHTTPSOnlyWithPassword(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte(htpasswdtest.File), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsArgs := []string{"--demo", "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--tls-self-signed"}
	base, out, _, _, _ := startRun(t, tlsArgs, "BUCKETLS_HTPASSWD", file)
	tlsAddr := out.find("serving")["tls_addr"].(string)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct{ method, target string }{
		{"GET", "/list-bucket-content"},
		{"GET", "/list-bucket-content/dir2?details=true&limit=1"},
		{"HEAD", "/list-bucket-content/dir2"},
		{"GET", "/list-bucket-content/a%20b/%E6%97%A5"},
		{"GET", "/list-bucket-content/a/../b"},
		{"POST", "/list-bucket-content"},
		{"GET", "/readyz"},
		{"GET", "/metrics"},
		{"GET", "/openapi.json"},
		{"GET", "/files/dir2/file1"},
		{"GET", "/nope"},
	} {
		h := basic("alice", htpasswdtest.AlicePassword)
		r := do(t, noFollow, tt.method, base, tt.target, h)
		want := "https://127.0.0.1:" + tlsPort + tt.target
		if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != want {
			t.Errorf("%s %s over HTTP: %d, Location %q; want 308 to %s", tt.method, tt.target, r.status, r.header.Get("Location"), want)
		}
		if strings.Contains(r.body, `"content"`) || r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s %s over HTTP: body %q, HSTS %q; want neither a listing nor HSTS in clear", tt.method, tt.target, r.body, r.header.Get("Strict-Transport-Security"))
		}
		if tt.method == "GET" {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			if err := checkAgainstSpec(specRouter(t), req, r.status, r.header, []byte(r.body)); err != nil {
				t.Errorf("GET %s over HTTP: the 308 does not match api/openapi.json: %v", tt.target, err)
			}
		}
	}
	if r := get(t, base, "/healthz"); r.status != 200 || r.body != `{"status":"ok"}` {
		t.Errorf("GET /healthz over HTTP: %d %s, want 200 as always", r.status, r.body)
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer insecure.CloseIdleConnections()
	tlsBase := "https://" + tlsAddr
	for _, tt := range []struct {
		header     http.Header
		wantStatus int
	}{{nil, 401}, {basic("alice", htpasswdtest.AlicePassword), 200}} {
		r := do(t, insecure, "GET", tlsBase, "/list-bucket-content/dir2", tt.header)
		if r.status != tt.wantStatus || r.header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("GET dir2 over HTTPS: %d, HSTS %q; want %d with max-age=31536000", r.status, r.header.Get("Strict-Transport-Security"), tt.wantStatus)
		}
	}
	// Following the redirect, as curl -L or a browser does, lists.
	r := do(t, insecure, "GET", base, "/list-bucket-content/dir2", basic("alice", htpasswdtest.AlicePassword))
	if r.body != `{"content":["file1","file2"]}` {
		t.Errorf("GET dir2 over HTTP, redirect followed: %d %s", r.status, r.body)
	}

	// TLS without a password: plain HTTP serves as it always did.
	base, _, _, _, _ = startRun(t, tlsArgs)
	if r := do(t, noFollow, "GET", base, "/list-bucket-content/dir2", nil); r.status != 200 || r.body != `{"content":["file1","file2"]}` || r.header.Get("Strict-Transport-Security") != "" {
		t.Errorf("GET dir2 over HTTP with TLS and no password: %d %s (HSTS %q)", r.status, r.body, r.header.Get("Strict-Transport-Security"))
	}
}

// TestHTTPSHost: the redirect keeps the host the client asked for and
// puts the HTTPS port in place of the plain one.
func TestHTTPSHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ host, port, want string }{
		{"example.com", "443", "example.com"},
		{"example.com:80", "443", "example.com"},
		{"example.com:8080", "8443", "example.com:8443"},
		{"1.2.3.4", "443", "1.2.3.4"},
		{"[::1]:8080", "8443", "[::1]:8443"},
		{"[::1]", "443", "[::1]"},
		{"[2001:db8::1]:80", "443", "[2001:db8::1]"},
		{"ec2-1-2-3-4.compute-1.amazonaws.com", "443", "ec2-1-2-3-4.compute-1.amazonaws.com"},
	} {
		if got := httpsHost(tt.host, tt.port); got != tt.want {
			t.Errorf("httpsHost(%q, %q) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}
