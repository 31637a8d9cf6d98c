package service

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/fakes3"
	"github.com/bucketls/bucketls/service/internal/s3store"
)

// TestMain gives the in-process Run tests an AWS environment that points
// nowhere real: fixed test credentials, a region, no instance metadata and
// no shared config files, so nothing a developer has configured leaks in.
// Process-level tests pass their children an explicit environment instead.
func TestMain(m *testing.M) {
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		os.Unsetenv(k)
	}
	for k, v := range testAWSEnv {
		os.Setenv(k, v)
	}
	code := m.Run()
	cleanupBinary()
	os.Exit(code)
}

var testAWSEnv = map[string]string{
	"AWS_ACCESS_KEY_ID":           "test",
	"AWS_SECRET_ACCESS_KEY":       "test",
	"AWS_REGION":                  "us-east-1",
	"AWS_EC2_METADATA_DISABLED":   "true",
	"AWS_CONFIG_FILE":             os.DevNull,
	"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
}

const testBucket = "test-bucket"

// startFakeS3 serves bucket testBucket holding keys (see fakes3.Start).
func startFakeS3(t testing.TB, keys []string, wrap func(http.Handler) http.Handler) *fakes3.Server {
	t.Helper()
	return fakes3.Start(t, testBucket, keys, wrap)
}

// testS3Client talks to endpoint with test credentials and fast retries
// (the SDK's real backoff would make throttling tests take seconds).
func testS3Client(endpoint string) *s3.Client {
	return s3store.NewEndpointClient(endpoint, "test", s3store.FastRetries)
}

// discard is a logger for tests that do not look at logs.
var discard = slog.New(slog.DiscardHandler)

// testServer is NewServer behind httptest on 127.0.0.1.
func testServer(t testing.TB, lister Lister, cfg Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(conformingTo(t, NewServer(discard, lister, nil, cfg)))
	t.Cleanup(srv.Close)
	return srv
}

// refServer is the service over gofakes3 holding the reference tree.
func refServer(t testing.TB) *httptest.Server {
	t.Helper()
	return testServer(t, refLister(t), Config{})
}

// refLister is the S3 lister, uncached, over gofakes3 holding the
// reference tree.
func refLister(t testing.TB) *S3Lister {
	t.Helper()
	return fakeLister(startFakeS3(t, ReferenceKeys(), nil))
}

// fakeLister is the S3 lister, uncached, over f's test bucket.
func fakeLister(f *fakes3.Server) *S3Lister {
	return NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{})
}

// response is what a test looks at in an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends method to base+rawPath exactly as written (no cleaning, no
// re-encoding) and reads the whole answer.
func do(t testing.TB, client *http.Client, method, base, rawPath string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, base+rawPath, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, rawPath, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// get is do with GET and no extra headers.
func get(t testing.TB, base, rawPath string) response {
	t.Helper()
	return do(t, nil, http.MethodGet, base, rawPath, nil)
}

// busyAddr is a loopback address something listens on until the test
// ends, so whatever else tries to listen there fails.
func busyAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// freeAddr is a loopback address nothing listens on: a port just given up,
// so a connection to it is refused until something takes it.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// checkAnswer sends a table row's request as do does, method "" being
// GET, and checks the answer: its status, fatally (a row's later checks
// assume it), and with wantBody set, the whole body. It returns the method
// sent and the answer, for the row's own checks.
func checkAnswer(t testing.TB, method, base, rawPath string, header http.Header, wantStatus int, wantBody string) (string, response) {
	t.Helper()
	method = cmp.Or(method, http.MethodGet)
	r := do(t, nil, method, base, rawPath, header)
	if r.status != wantStatus {
		t.Fatalf("%s %s: status = %d, want %d (body %.200q)", method, rawPath, r.status, wantStatus, r.body)
	}
	if wantBody != "" && r.body != wantBody {
		t.Errorf("%s %s: body = %s, want %s", method, rawPath, r.body, wantBody)
	}
	return method, r
}

// contentOf decodes a {"content":[...]} body strictly.
func contentOf(t testing.TB, body string) []string {
	t.Helper()
	var v struct {
		Content []string `json:"content"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body %.200q is not a listing: %v", body, err)
	}
	if v.Content == nil {
		t.Fatalf("body %.200q: content is null, want an array", body)
	}
	return v.Content
}

// checkJSONError asserts an {"error":"..."} body and returns the message.
func checkJSONError(t testing.TB, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json (body %.200q)", ct, r.body)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || len(v) != 1 || v["error"] == "" {
		t.Errorf("body %.200q is not {\"error\":\"...\"}", r.body)
	}
	return v["error"]
}

// names returns n names like prefix00000, in byte order.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

// sorted reports whether s is in strictly increasing byte order.
func sorted(s []string) bool {
	return slices.IsSortedFunc(s, strings.Compare) && len(slices.Compact(slices.Clone(s))) == len(s)
}

// funcLister adapts a names-only function to Lister, for fault injection.
// It serves plain listings: options that need a real walk are ignored.
type funcLister func(ctx context.Context, path string, page func([]string, bool) error) error

func (f funcLister) List(ctx context.Context, req ListRequest, page func([]Entry, bool) error) (*Position, error) {
	return nil, f(ctx, req.Path, namesPage(page))
}

// namesPage turns a names callback into an entries callback.
func namesPage(page func([]Entry, bool) error) func([]string, bool) error {
	return func(names []string, last bool) error {
		entries := make([]Entry, len(names))
		for i, n := range names {
			entries[i] = Entry{Name: n}
		}
		return page(entries, last)
	}
}

// listNames walks path with l and hands the names of each batch to page.
func listNames(ctx context.Context, l Lister, path string, page func(names []string, last bool) error) error {
	_, err := l.List(ctx, ListRequest{Path: path}, func(entries []Entry, last bool) error {
		return page(entryNames(entries), last)
	})
	return err
}
