package service

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// proc is the bucketls binary running as a child process.
type proc struct {
	cmd    *exec.Cmd
	out    *logSink
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// childEnv is the whole environment of a child: test credentials and
// nothing of the developer's AWS setup.
func childEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	for k, v := range testAWSEnv {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// startProc starts the binary; the test's cleanup kills it if still
// running.
func startProc(t *testing.T, args []string, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(buildBinary(t), args...), out: newLogSink(), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = childEnv(env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// exit waits for the process to end and returns its exit status.
func (p *proc) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("bucketls still running after %s; log:\n%s", timeout, strings.Join(p.out.all(), ""))
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// base waits for the "serving" line and returns the HTTP base URL.
func (p *proc) base(t *testing.T) string {
	t.Helper()
	return "http://" + p.out.wait(t, "serving", 10*time.Second)["addr"].(string)
}

// syncBuffer is a bytes.Buffer safe for a child's writes and a test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProcess runs the built binary against a fake S3 on loopback,
// configured only through the environment as the systemd unit does, checks
// the reference responses, and stops it with SIGTERM while a slow listing
// is in flight: the listing completes, the process exits 0.
func TestProcess(t *testing.T) {
	t.Parallel()
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Query().Get("prefix"), "slow") {
				time.Sleep(time.Second)
			}
			next.ServeHTTP(w, r)
		})
	}
	f := startFakeS3(t, append([]string{"slow/a", "slow/b"}, ReferenceKeys()...), slow)
	p := startProc(t, nil, "BUCKETLS_BUCKET="+testBucket, "BUCKETLS_S3_ENDPOINT="+f.URL(), "BUCKETLS_ADDR=127.0.0.1:0")
	base := p.base(t)
	waitReady(t, http.DefaultClient, base, 5*time.Second)

	for _, tt := range []struct {
		path, want string
		status     int
	}{
		{"/list-bucket-content", `{"content":["dir1","dir2","file1","file2","slow"]}`, 200},
		{"/list-bucket-content/", `{"content":["dir1","dir2","file1","file2","slow"]}`, 200},
		{"/list-bucket-content/dir1", `{"content":[]}`, 200},
		{"/list-bucket-content/dir2", `{"content":["file1","file2"]}`, 200},
		{"/list-bucket-content/dir2/", `{"content":["file1","file2"]}`, 200},
		{"/list-bucket-content/dir2/file1", `{"content":["file1"]}`, 200},
		{"/list-bucket-content/nope", `{"error":"not found: nope"}`, 404},
		{"/list-bucket-content/a/../b", "", 400},
		{"/healthz", `{"status":"ok"}`, 200},
	} {
		r := get(t, base, tt.path)
		if r.status != tt.status || (tt.want != "" && r.body != tt.want) {
			t.Errorf("GET %s: status = %d, body %s; want %d %s", tt.path, r.status, r.body, tt.status, tt.want)
		}
	}

	type result struct {
		r   response
		err error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/list-bucket-content/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{r: response{status: resp.StatusCode, body: string(b)}, err: err}
	}()
	time.Sleep(300 * time.Millisecond) // the listing is waiting on the slow S3
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res := <-inflight
	if res.err != nil || res.r.status != 200 || res.r.body != `{"content":["a","b"]}` {
		t.Errorf("in-flight GET slow across SIGTERM: %d %q %v; want it to finish", res.r.status, res.r.body, res.err)
	}
	if code := p.exit(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after SIGTERM = %d, want 0; stderr %q", code, p.stderr.String())
	}
	p.out.wait(t, "stopped", time.Second)
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("GET /healthz after exit succeeded; want connection refused")
	}
	for _, line := range p.out.all() {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("stdout line is not JSON: %q", line)
		}
	}
}

// TestProcessDemo runs --demo exactly as the README shows and follows the
// URLs it prints.
func TestProcessDemo(t *testing.T) {
	t.Parallel()
	p := startProc(t, []string{"--demo", "--addr", "127.0.0.1:0"})
	p.base(t)
	var urls []string
	deadline := time.Now().Add(5 * time.Second)
	for len(urls) < 11 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		urls = regexp.MustCompile(`curl (-r \S+ )?'?([^\s']+)`).FindAllString(p.stderrText(), -1)
	}
	want := map[string]string{
		"/list-bucket-content":            `{"content":["dir1","dir2","file1","file2"]}`,
		"/list-bucket-content/dir1":       `{"content":[]}`,
		"/list-bucket-content/dir2":       `{"content":["file1","file2"]}`,
		"/list-bucket-content/dir2/file1": `{"content":["file1"]}`,
		"/list-bucket-content/nope":       `{"error":"not found: nope"}`,
		// The options; details carry the demo's start time, so only
		// their start is fixed.
		"/list-bucket-content/dir2?details=true": `{"content":[{"name":"file1","type":"file","size":22,"modified":"`,
		"/list-bucket-content?limit=2":           `{"content":["dir1","dir2"],"next":"ARIvkDOtV5PBBWRpcjIvAA"}`,
		"/list-bucket-content?recursive=true":    `{"content":["dir1/","dir2/file1","dir2/file2","file1","file2"]}`,
		"/list-bucket-content?prefix=file":       `{"content":["file1","file2"]}`,
		// --demo serves the files too: a whole one and a range.
		"/files/dir2/file1":        "content of dir2/file1\n",
		"-r 0-6 /files/dir2/file1": "content",
	}
	if len(urls) != len(want) {
		t.Fatalf("demo printed %d curl lines, want %d:\n%s", len(urls), len(want), p.stderrText())
	}
	for _, u := range urls {
		f := strings.Fields(strings.TrimPrefix(u, "curl "))
		var header http.Header
		key := ""
		if len(f) == 3 && f[0] == "-r" { // curl -r FIRST-LAST sends Range
			header = http.Header{"Range": {"bytes=" + f[1]}}
			key = "-r " + f[1] + " "
		}
		u = strings.TrimPrefix(f[len(f)-1], "'")
		i := strings.Index(u, "/list-bucket-content")
		if i < 0 {
			i = strings.Index(u, fileRoot)
		}
		key += u[i:]
		r := do(t, nil, http.MethodGet, u[:i], u[i:], header)
		if w := want[key]; w == "" || (r.body != w && !(strings.HasSuffix(w, `"`) && strings.HasPrefix(r.body, w))) {
			t.Errorf("GET %s: %s, want %s", key, r.body, want[key])
		}
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.exit(t, 10*time.Second); code != 0 {
		t.Errorf("exit status after SIGINT = %d, want 0", code)
	}
}

func (p *proc) stderrText() string { return p.stderr.String() }

// TestProcessBadConfig checks exit status 2 with one line on stderr, and
// --help exit 0.
func TestProcessBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"missing bucket", nil, nil, "bucketls: invalid configuration: no bucket: set --bucket or BUCKETLS_BUCKET (or try --demo)\n"},
		{"unknown flag", []string{"--bukcet", "x"}, nil, "bucketls: invalid configuration: flag provided but not defined: -bukcet (see --help)\n"},
		{"bad env", nil, []string{"BUCKETLS_BUCKET=b-1", "BUCKETLS_CACHE_TTL=forever"}, "bucketls: invalid configuration: BUCKETLS_CACHE_TTL=\"forever\" is not a duration (use e.g. 1s or 500ms)\n"},
		{"no region", []string{"--bucket", "b-1"}, []string{"AWS_REGION="}, "bucketls: invalid configuration: no AWS region: set AWS_REGION (or region in the shared config)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startProc(t, tt.args, tt.env...)
			if code := p.exit(t, 10*time.Second); code != 2 {
				t.Errorf("exit status = %d, want 2", code)
			}
			if got := p.stderrText(); got != tt.want {
				t.Errorf("stderr = %q, want %q", got, tt.want)
			}
			if len(p.out.all()) != 0 {
				t.Errorf("stdout = %q, want nothing", p.out.all())
			}
		})
	}
	p := startProc(t, []string{"--help"})
	if code := p.exit(t, 10*time.Second); code != 0 {
		t.Errorf("--help: exit status = %d, want 0", code)
	}
	if out := strings.Join(p.out.all(), ""); !strings.Contains(out, "Usage: bucketls") || !strings.Contains(out, "--bucket") {
		t.Errorf("--help printed %q", out)
	}
}

// TestProcessPortInUse checks a busy port: the configuration is valid, the
// machine is not ready for it, so the exit status is 1 (runtime failure),
// not 2 (configuration mistake), with one line naming the address.
func TestProcessPortInUse(t *testing.T) {
	t.Parallel()
	addr := busyAddr(t)
	p := startProc(t, []string{"--demo", "--addr", addr})
	if code := p.exit(t, 10*time.Second); code != 1 {
		t.Errorf("exit status = %d, want 1", code)
	}
	if got, want := p.stderrText(), "bucketls: listen on "+addr+": "; !strings.HasPrefix(got, want) || !strings.Contains(got, "address already in use") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q about the address in use", got, want)
	}
}

// TestProcessWrongBucketAndTLS starts the binary as the deployed unit does
// (HTTP and self-signed HTTPS) but with a bucket that does not exist: it
// answers 502 JSON on both, stays up, and /readyz says 503.
func TestProcessWrongBucketAndTLS(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	p := startProc(t, nil, "BUCKETLS_BUCKET=no-such-bucket", "BUCKETLS_S3_ENDPOINT="+f.URL(), "BUCKETLS_ADDR=127.0.0.1:0",
		"BUCKETLS_TLS_ADDR=127.0.0.1:0", "BUCKETLS_TLS_SELF_SIGNED=true")
	base := p.base(t)
	tlsBase := "https://" + p.out.find("serving")["tls_addr"].(string)
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	defer insecure.CloseIdleConnections()
	for i := range 3 {
		for _, b := range []string{base, tlsBase} {
			r := do(t, insecure, "GET", b, "/list-bucket-content", nil)
			if r.status != 502 {
				t.Fatalf("GET %s/list-bucket-content #%d: status = %d, want 502 (%s)", b, i, r.status, r.body)
			}
			checkJSONError(t, r)
		}
	}
	if r := do(t, insecure, "GET", tlsBase, "/healthz", nil); r.status != 200 {
		t.Errorf("GET healthz over HTTPS: %d", r.status)
	}
	time.Sleep(100 * time.Millisecond) // the first probe has long failed
	if r := get(t, base, "/readyz"); r.status != 503 {
		t.Errorf("GET /readyz with a missing bucket: %d, want 503", r.status)
	}
	if l := p.out.find("bucket check failed; not ready"); l == nil || !strings.Contains(l["err"].(string), "NoSuchBucket") {
		t.Errorf("no warning naming NoSuchBucket in the log:\n%s", strings.Join(p.out.all(), ""))
	}
	select {
	case <-p.done:
		t.Fatalf("process exited: %v", p.err)
	default:
	}
}

// TestProcessS3LateStart starts the binary while S3 is unreachable (as on a
// boot where the network comes up late): it serves /healthz at once,
// /readyz is 503, and it turns ready by itself once S3 answers. The S3
// endpoint is given through the SDK's own AWS_ENDPOINT_URL_S3.
func TestProcessS3LateStart(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)

	p := startProc(t, nil, "BUCKETLS_BUCKET="+testBucket, "AWS_ENDPOINT_URL_S3=http://"+addr, "BUCKETLS_ADDR=127.0.0.1:0")
	base := p.base(t)
	if r := get(t, base, "/healthz"); r.status != 200 {
		t.Errorf("GET /healthz with S3 down: %d, want 200", r.status)
	}
	if r := get(t, base, "/readyz"); r.status != 503 {
		t.Errorf("GET /readyz with S3 down: %d, want 503", r.status)
	}
	if r := get(t, base, "/list-bucket-content/dir2"); r.status != 502 {
		t.Errorf("GET dir2 with S3 down: %d, want 502", r.status)
	}

	backend, err := NewMemBackend(testBucket, ReferenceKeys())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken in between: %v", addr, err)
	}
	s3srv := httptest.NewUnstartedServer(gofakes3.New(backend).Server())
	s3srv.Listener.Close()
	s3srv.Listener = ln
	s3srv.Start()
	defer s3srv.Close()

	waitReady(t, http.DefaultClient, base, 10*time.Second)
	if r := get(t, base, "/list-bucket-content/dir2"); r.body != `{"content":["file1","file2"]}` {
		t.Errorf("GET dir2 once S3 is up: %d %s", r.status, r.body)
	}
}
