package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// loggedServer is NewServer with its JSON log captured, behind httptest.
func loggedServer(t *testing.T, lister Lister, cfg Config) (*httptest.Server, *logSink) {
	t.Helper()
	sink := newLogSink()
	srv := httptest.NewServer(NewServer(slog.New(slog.NewJSONHandler(sink, nil)), lister, nil, cfg))
	t.Cleanup(srv.Close)
	return srv, sink
}

// longNames is a Lister of pages of long names that S3 serves at a healthy
// but unhurried pace, like a big directory over a slow link.
func longNames(pages int, delay time.Duration) Lister {
	return funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		for p := range pages {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			batch := make([]string, 1000)
			for i := range batch {
				batch[i] = fmt.Sprintf("%04d-%04d-%s", p, i, strings.Repeat("n", 90))
			}
			if err := page(batch, p == pages-1); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestSlowClientGetsEverything checks that a listing taking far longer in
// all than any single limit completes for a client that keeps reading:
// each write renews its own deadline, nothing bounds the whole request.
func TestSlowClientGetsEverything(t *testing.T) {
	t.Parallel()
	const pages = 30 // about 3 MB
	srv, sink := loggedServer(t, longNames(pages, 20*time.Millisecond), Config{StallTimeout: 400 * time.Millisecond})
	// Uncompressed, so the bytes on the wire are the ones read slowly.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/list-bucket-content/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// About 1.5 MB/s: the whole listing takes about twice the time that
	// five stall timeouts add up to, so only renewed deadlines get it
	// through.
	start := time.Now()
	n, err := io.Copy(io.Discard, &slowReader{r: resp.Body, chunk: 16 << 10, every: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("slow read cut off after %d bytes and %s: %v", n, time.Since(start), err)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Logf("the read took only %s; the test proves less on a fast machine", took)
	}
	if l := sink.wait(t, "request", 5*time.Second); l["status"] != float64(200) || l["aborted"] != nil || l["bytes"] != float64(n) {
		t.Errorf("log line %v, want status 200, %d bytes, not aborted", l, n)
	}
}

// slowReader reads chunk bytes every interval.
type slowReader struct {
	r     io.Reader
	chunk int
	every time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.every)
	return s.r.Read(p[:min(len(p), s.chunk)])
}

// TestStalledClient checks a client that stops reading is cut off after
// the stall timeout, and that the log and metrics blame the client, not
// storage.
func TestStalledClient(t *testing.T) {
	t.Parallel()
	srv, sink := loggedServer(t, longNames(400, 0), Config{StallTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10) // fill up the pipe quickly
	}
	fmt.Fprintf(conn, "GET /list-bucket-content/big HTTP/1.1\r\nHost: x\r\n\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("status line %q, %v", status, err)
	}
	// Now read nothing more.
	l := sink.wait(t, "request", 20*time.Second)
	if l["limit"] != limitStall || l["aborted"] != true || l["level"] != "INFO" {
		t.Errorf("log line %v, want limit %q, aborted, level INFO", l, limitStall)
	}
	if err, _ := l["err"].(string); strings.Contains(err, "storage") {
		t.Errorf("log blames storage: %q", err)
	}
	checkMetric(t, srv.URL, `bucketls_http_responses_aborted_total{reason="client_stalled",route="/list-bucket-content/{path...}"} 1`)
}

// TestAbortedCounted checks a stream cut off by a storage failure shows in
// the metrics as aborted, so an alert can fire on it.
func TestAbortedCounted(t *testing.T) {
	t.Parallel()
	srv, sink := loggedServer(t, midStreamLister, Config{})
	checkBroken(t, http.DefaultClient, srv.URL)
	if l := sink.wait(t, "request", 5*time.Second); l["aborted"] != true || l["level"] != "ERROR" {
		t.Errorf("log line %v, want aborted at level ERROR", l)
	}
	checkMetric(t, srv.URL, `bucketls_http_responses_aborted_total{reason="storage",route="/list-bucket-content/{path...}"} 1`)
}

// TestEarlyFailureGetsStatus checks a failure before anything reached the
// client is answered with its status and JSON error, and logged as such.
func TestEarlyFailureGetsStatus(t *testing.T) {
	t.Parallel()
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		if err := page([]string{"a", "b"}, false); err != nil {
			return err
		}
		return fmt.Errorf("list: %w: repeated continuation token", ErrUpstream)
	})
	srv, sink := loggedServer(t, lister, Config{})
	r := get(t, srv.URL, "/list-bucket-content/dup")
	if r.status != 502 {
		t.Fatalf("GET dup: %d %s, want 502", r.status, r.body)
	}
	checkJSONError(t, r)
	if l := sink.wait(t, "request", 5*time.Second); l["status"] != float64(502) || l["aborted"] != nil || l["bytes"] != float64(len(r.body)) {
		t.Errorf("log line %v, want status 502 and the %d bytes sent", l, len(r.body))
	}
}

// cyclingS3 serves pages whose continuation tokens go round in a cycle.
type cyclingS3 struct {
	pages map[string]*s3.ListObjectsV2Output // by token; "" is the first
	calls atomic.Int32
}

func (c *cyclingS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	c.calls.Add(1)
	return c.pages[aws.ToString(in.ContinuationToken)], nil
}

func cyclePage(next string, keys ...string) *s3.ListObjectsV2Output {
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(true), NextContinuationToken: aws.String(next)}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String("d/" + k), Size: aws.Int64(1)})
	}
	return out
}

// TestTokenCycle checks a walk stops with an error on a token cycle that
// is not an immediate repeat, through pages with keys (the keys go
// backwards) and through empty pages (a token comes round again).
func TestTokenCycle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pages  map[string]*s3.ListObjectsV2Output
		reason string
	}{
		{"A, B, A with keys", map[string]*s3.ListObjectsV2Output{
			"": cyclePage("A", "k1", "k2"), "A": cyclePage("B", "k3", "k4"), "B": cyclePage("A", "k5"),
		}, "backwards"},
		{"A, B, A empty", map[string]*s3.ListObjectsV2Output{
			"": cyclePage("A", "k1"), "A": cyclePage("B"), "B": cyclePage("A"),
		}, "repeated_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := &cyclingS3{pages: tt.pages}
			l := NewS3Lister(api, testBucket, S3ListerOptions{})
			err := listNames(context.Background(), l, "d", func([]string, bool) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "storage error") {
				t.Fatalf("List over a cycling S3 = %v, want a storage error", err)
			}
			if n := api.calls.Load(); n > 5 {
				t.Errorf("%d S3 calls before the cycle was seen", n)
			}
			srv := testServer(t, l, Config{})
			if r := get(t, srv.URL, "/list-bucket-content/d"); r.status != 502 {
				t.Errorf("GET d: %d %s, want 502", r.status, r.body)
			}
			checkMetric(t, srv.URL, `bucketls_s3_pagination_errors_total{reason="`+tt.reason+`"} 2`)
		})
	}
}

// TestEchoedCharactersEscaped checks that invisible and bidirectional
// characters in a path stay valid but are escaped wherever the path is
// echoed, so a 404 body, a log line or a terminal cannot be made to lie.
func TestEchoedCharactersEscaped(t *testing.T) {
	t.Parallel()
	srv, sink := loggedServer(t, refLister(t), Config{})
	tests := []struct {
		name    string
		path    string // raw, percent-encoded
		status  int
		wantMsg string // "" = do not check
		wantLog string
	}{
		{"right-to-left override", "/list-bucket-content/evil%E2%80%AEtxt.exe", 404, `not found: evil\u202etxt.exe`, `/list-bucket-content/evil\u202etxt.exe`},
		{"zero-width space", "/list-bucket-content/a%E2%80%8Bb", 404, `not found: a\u200bb`, `/list-bucket-content/a\u200bb`},
		{"byte order mark", "/list-bucket-content/%EF%BB%BFbom", 404, `not found: \ufeffbom`, `/list-bucket-content/\ufeffbom`},
		{"DEL is rejected, logged escaped", "/list-bucket-content/a%7Fb", 400, "", `/list-bucket-content/a\x7fb`},
		{"NEL is rejected, logged escaped", "/list-bucket-content/a%C2%85b", 400, "", `/list-bucket-content/a\u0085b`},
		{"unknown route", "/x%E2%80%AE", 404, `no such route: /x%E2%80%AE`, `/x\u202e`},
	}
	for _, tt := range tests {
		r := get(t, srv.URL, tt.path)
		if r.status != tt.status {
			t.Errorf("%s: GET %s: %d %s, want %d", tt.name, tt.path, r.status, r.body, tt.status)
			continue
		}
		msg := checkJSONError(t, r)
		if tt.wantMsg != "" && msg != tt.wantMsg {
			t.Errorf("%s: error %q, want %q", tt.name, msg, tt.wantMsg)
		}
		for _, bad := range []string{"\u202e", "\u200b", "\ufeff", "\x7f", "\u0085"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s: body %q carries %q raw", tt.name, r.body, bad)
			}
		}
		if sink.find("request", "path", tt.wantLog) == nil {
			t.Errorf("%s: no log line with path %q in\n%s", tt.name, tt.wantLog, strings.Join(sink.all(), "\n"))
		}
	}
}

// TestEncodedSlashRoute checks that a 404 for a route whose slash was
// percent-encoded names what was requested, not the route it decodes to.
func TestEncodedSlashRoute(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	r := get(t, srv.URL, "/list-bucket-content%2Fdir2")
	if r.status != 404 || checkJSONError(t, r) != "no such route: /list-bucket-content%2Fdir2" {
		t.Errorf("GET /list-bucket-content%%2Fdir2: %d %s", r.status, r.body)
	}
}

// checkMetric asserts /metrics has the sample line want.
func checkMetric(t *testing.T, base, want string) {
	t.Helper()
	metrics := get(t, base, "/metrics").body
	if !strings.Contains(metrics, want) {
		name, _, _ := strings.Cut(want, "{")
		t.Errorf("/metrics lacks %s; it has\n%s", want, grepLines(metrics, name))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestNetHTTPAnswersCounted sends what net/http answers by itself, before
// any route: each is counted and logged, and the process keeps serving.
func TestNetHTTPAnswersCounted(t *testing.T) {
	t.Parallel()
	base, sink, _, _, _ := startRun(t, []string{"--demo", "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--tls-self-signed"})
	addr := strings.TrimPrefix(base, "http://")
	raw := func(addr, req string) string {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, req)
		b, _ := io.ReadAll(c)
		return string(b)
	}
	malformed := []string{
		"GET /list-bucket-content/dir2%zz HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /list-bucket-content HTTP/9.9\r\nHost: x\r\n\r\n",
		"GET /list-bucket-content HTTP/1.1\r\n\r\n",
		"GET /list-bucket-content HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n",
		"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	for _, req := range malformed {
		if got := raw(addr, req); !strings.HasPrefix(got, "HTTP/1.1 4") && !strings.HasPrefix(got, "HTTP/1.1 5") {
			t.Errorf("%.60q: answer %.80q, want net/http's 4xx or 5xx", req, got)
		}
	}
	tlsAddr := sink.find("serving")["tls_addr"].(string)
	if got := raw(tlsAddr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.Contains(got, "400") {
		t.Errorf("plain HTTP on the TLS port: %.80q", got)
	}
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		metrics = get(t, base, "/metrics").body
		if strings.Contains(metrics, fmt.Sprintf(`bucketls_http_rejected_total{reason="malformed_request"} %d`, len(malformed))) &&
			strings.Contains(metrics, `bucketls_http_rejected_total{reason="closed_before_request"}`) {
			break
		}
	}
	if !strings.Contains(metrics, fmt.Sprintf(`bucketls_http_rejected_total{reason="malformed_request"} %d`, len(malformed))) {
		t.Errorf("malformed requests not counted:\n%s", grepLines(metrics, "rejected"))
	}
	if !strings.Contains(metrics, `bucketls_http_rejected_total{reason="closed_before_request"}`) {
		t.Errorf("plain HTTP on the TLS port not counted:\n%s", grepLines(metrics, "rejected"))
	}
	if sink.find("request answered by net/http before routing (malformed, incomplete or oversized)") == nil {
		t.Errorf("no log line for a malformed request:\n%s", strings.Join(sink.all(), "\n"))
	}
	if r := get(t, base, "/list-bucket-content/dir2"); r.body != `{"content":["file1","file2"]}` {
		t.Errorf("after the malformed requests: GET dir2 = %d %s", r.status, r.body)
	}
}
