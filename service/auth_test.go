package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketls/bucketls/service/internal/htpasswd"
	"github.com/bucketls/bucketls/service/internal/htpasswd/htpasswdtest"
)

// basic is an Authorization header for user and password.
func basic(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

// TestLoadHtpasswd checks the file errors of LoadUsers (Run's loadUsers):
// each is one line naming the flag, with exit status 2.
func TestLoadHtpasswd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", htpasswdtest.File)
	aliceHash := strings.TrimSpace(strings.TrimPrefix(strings.Split(htpasswdtest.File, "\n")[1], "alice:"))
	// An editor's byte-order mark before the first user: it loads, and
	// the first user is "alice", not "\ufeffalice".
	bom, err := LoadUsers(write("bom", "\ufeffalice:"+aliceHash+"\n"))
	if err != nil {
		t.Fatalf("a file with a BOM: %v", err)
	}
	if err := htpasswd.NewAuthenticator(bom).Check(context.Background(), "alice", htpasswdtest.AlicePassword); err != nil {
		t.Errorf("alice after a BOM: %v", err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "nope"), "--htpasswd (BUCKETLS_HTPASSWD): cannot read it"},
		{"directory", dir, "cannot read"},
		{"empty", write("empty", ""), "has no users"},
		{"md5 line", write("md5", htpasswdtest.File+"carol:$apr1$GWQjX9wA$Tycrxes9eS5ZWgkUuBOPf.\n"), `line 5 (user "carol"): MD5`},
		{"huge", write("huge", strings.Repeat("#", htpasswd.MaxFileBytes+1)), "larger than 1 MiB"},
		{"indented name", write("indented", htpasswdtest.File+"  carol:"+aliceHash+"\n"), `line 5: user name "  carol" has white space around it; remove it`},
	}
	for _, tt := range tests {
		_, err := LoadUsers(tt.path)
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--htpasswd") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (exit %d), want one line with %q", tt.name, err, ExitCode(err), tt.want)
		}
	}
	cfg, err := parseConfig([]string{"--bucket", "bkt"}, envFunc("BUCKETLS_HTPASSWD", good, "BUCKETLS_METRICS_PUBLIC", "true"))
	if err != nil || cfg.Htpasswd != good || !cfg.MetricsPublic {
		t.Errorf("from the environment: %+v, %v", cfg, err)
	}
	if users, err := loadUsers(cfg); err != nil || users.Users() != 2 {
		t.Errorf("loadUsers(%q) = %v users, %v; want 2", cfg.Htpasswd, users.Users(), err)
	}
	if _, err := parseConfig([]string{"--bucket", "bkt"}, envFunc("BUCKETLS_METRICS_PUBLIC", "sure")); err == nil || !strings.Contains(err.Error(), "BUCKETLS_METRICS_PUBLIC") {
		t.Errorf("bad BUCKETLS_METRICS_PUBLIC: %v", err)
	}
}

// TestAuthLongPassword: a password over 72 bytes is a 401, even when its
// first 72 bytes are right (bcrypt would read only those).
func TestAuthLongPassword(t *testing.T) {
	t.Parallel()
	pw72 := strings.Repeat("0123456789", 7) + "!?"
	users, err := htpasswd.Parse([]byte(htpasswdtest.Entry(t, "carol", pw72)))
	if err != nil {
		t.Fatal(err)
	}
	srv := authServer(t, discard, users, Config{})
	if r := do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("carol", pw72)); r.status != 200 {
		t.Errorf("the 72-byte password: %d %s", r.status, r.body)
	}
	if r := do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("carol", pw72+"ANYTHING")); r.status != 401 {
		t.Errorf("the 72-byte password and a tail: %d %s, want 401", r.status, r.body)
	}
}

// testUsers is htpasswdtest.File, loaded.
func testUsers(t testing.TB) *Users {
	t.Helper()
	u, err := htpasswd.Parse([]byte(htpasswdtest.File))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestNewServerNeedsLoadedUsers: a Config that names an htpasswd file
// without the users loaded from it is a programming error NewServer
// refuses at once, instead of a server that answers 401 to everyone.
func TestNewServerNeedsLoadedUsers(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "LoadUsers") {
			t.Errorf("NewServer with Htpasswd and no users: recovered %v, want a panic naming LoadUsers", r)
		}
	}()
	NewServer(discard, funcLister(nil), nil, Config{Htpasswd: "/not/loaded"})
}

// authServer is the service over the reference tree with the test users,
// ready (so /readyz answers 200), every answer checked against the OpenAPI
// document.
func authServer(t *testing.T, logger *slog.Logger, users *Users, cfg Config) *httptest.Server {
	t.Helper()
	srv := NewServer(logger, refLister(t), users, cfg)
	if err := srv.CheckBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(conformingTo(t, srv))
	t.Cleanup(hs.Close)
	return hs
}

// TestAuth checks which routes need credentials and what a client gets
// without them, through real HTTP.
func TestAuth(t *testing.T) {
	t.Parallel()
	users := testUsers(t)
	private := authServer(t, discard, users, Config{})
	publicMetrics := authServer(t, discard, users, Config{MetricsPublic: true})
	alice, bob := basic("alice", htpasswdtest.AlicePassword), basic("bob", htpasswdtest.BobPassword)
	tests := []struct {
		name       string
		srv        *httptest.Server
		method     string // "" = GET
		path       string
		header     http.Header
		wantStatus int
		wantBody   string // "" = do not check
	}{
		{"listing with credentials", private, "", "/list-bucket-content", alice, 200, `{"content":["dir1","dir2","file1","file2"]}`},
		{"directory with credentials", private, "", "/list-bucket-content/dir2", bob, 200, `{"content":["file1","file2"]}`},
		{"HEAD with credentials", private, "HEAD", "/list-bucket-content/dir2", alice, 200, ""},
		{"no credentials", private, "", "/list-bucket-content", nil, 401, ""},
		{"no credentials, directory", private, "", "/list-bucket-content/dir2", nil, 401, ""},
		{"no credentials, HEAD", private, "HEAD", "/list-bucket-content", nil, 401, ""},
		{"no credentials, details", private, "", "/list-bucket-content?details=true&recursive=true", nil, 401, ""},
		{"wrong password", private, "", "/list-bucket-content", basic("alice", "correct horse "), 401, ""},
		{"another user's password", private, "", "/list-bucket-content", basic("alice", htpasswdtest.BobPassword), 401, ""},
		{"unknown user", private, "", "/list-bucket-content", basic("mallory", htpasswdtest.AlicePassword), 401, ""},
		{"empty user", private, "", "/list-bucket-content", basic("", htpasswdtest.AlicePassword), 401, ""},
		{"user name case matters", private, "", "/list-bucket-content", basic("Alice", htpasswdtest.AlicePassword), 401, ""},
		{"not base64", private, "", "/list-bucket-content", http.Header{"Authorization": {"Basic !!!"}}, 401, ""},
		{"bearer token", private, "", "/list-bucket-content", http.Header{"Authorization": {"Bearer abc"}}, 401, ""},
		{"huge user name", private, "", "/list-bucket-content", basic(strings.Repeat("a", 5000), "x"), 401, ""},
		{"healthz is public", private, "", "/healthz", nil, 200, `{"status":"ok"}`},
		{"the API document is public", private, "", "/openapi.json", nil, 200, ""},
		{"readyz is public", private, "", "/readyz", nil, 200, `{"status":"ready"}`},
		{"metrics need a user", private, "", "/metrics", nil, 401, ""},
		{"metrics with credentials", private, "", "/metrics", alice, 200, ""},
		{"--metrics-public", publicMetrics, "", "/metrics", nil, 200, ""},
		{"--metrics-public keeps listings private", publicMetrics, "", "/list-bucket-content", nil, 401, ""},
		{"bad path is 400 either way", private, "", "/list-bucket-content/a/../b", nil, 400, ""},
		{"unknown route", private, "", "/nope", nil, 404, ""},
		{"browser without credentials gets the page and the challenge", private, "", "/list-bucket-content/dir2?format=html", nil, 401, ""},
		{"browser with credentials", private, "", "/list-bucket-content/dir2", http.Header{"Accept": {"text/html"}, "Authorization": alice["Authorization"]}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method, r := checkAnswer(t, tt.method, tt.srv.URL, tt.path, tt.header, tt.wantStatus, tt.wantBody)
			challenge := r.header.Get("WWW-Authenticate")
			if (r.status == 401) != (challenge == `Basic realm="bucketls"`) {
				t.Errorf("%s %s: status %d with WWW-Authenticate %q", method, tt.path, r.status, challenge)
			}
			switch html := strings.Contains(tt.path, "format=html"); {
			case r.status == 401 && html:
				if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "authentication required") {
					t.Errorf("%s %s: 401 page %s %.300q", method, tt.path, r.header.Get("Content-Type"), r.body)
				}
			case r.status == 401 && method == http.MethodGet:
				if msg := checkJSONError(t, r); !strings.Contains(msg, "authentication required") {
					t.Errorf("%s %s: 401 message %q", method, tt.path, msg)
				}
			}
		})
	}
}

// TestAuthLog checks the access log names the user on success and the
// failure without the password.
func TestAuthLog(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv := authServer(t, slog.New(slog.NewJSONHandler(&logs, nil)), testUsers(t), Config{})
	do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("alice", htpasswdtest.AlicePassword))
	do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("bob", "wrong-secret-1"))
	do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("nobody", "wrong-secret-2"))
	do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", nil)
	srv.Close()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines for 4 requests:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{
		`"status":200,.*"user":"alice"`,
		`"status":401,.*"err":"unauthorized: wrong password for user \"bob\""`,
		`"status":401,.*"err":"unauthorized: unknown user \"nobody\""`,
		`"status":401,.*"err":"unauthorized: no Basic credentials"`,
	} {
		before, after, _ := strings.Cut(want, ".*")
		if !strings.Contains(lines[i], before) || !strings.Contains(lines[i], after) {
			t.Errorf("line %d = %s\nwant %s", i, lines[i], want)
		}
		if i > 0 && strings.Contains(lines[i], `"user":`) {
			t.Errorf("line %d names a user for a failed login: %s", i, lines[i])
		}
	}
	for _, secret := range []string{htpasswdtest.AlicePassword, "wrong-secret", base64.StdEncoding.EncodeToString([]byte("alice:"))} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
}

// TestAuthFlood sends a flood of wrong passwords with real bcrypt at a
// realistic cost while /healthz and a logged-in client keep asking: both
// must keep answering, and the flood must only ever get 401 or 503.
func TestAuthFlood(t *testing.T) {
	t.Parallel()
	users, err := htpasswd.Parse([]byte("alice:" + string(htpasswdtest.SlowHash(t, htpasswdtest.AlicePassword)) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := authServer(t, discard, users, Config{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	if r := do(t, client, "GET", srv.URL, "/list-bucket-content", basic("alice", htpasswdtest.AlicePassword)); r.status != 200 {
		t.Fatalf("first login: %d %s", r.status, r.body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var statuses sync.Map // status -> *atomic.Int32
	const attackers = 48
	for i := range attackers {
		wg.Go(func() {
			user := "alice"
			if i%2 == 1 {
				user = "mallory"
			}
			for j := 0; ctx.Err() == nil; j++ {
				// A new guess every time, as an attacker sends: identical
				// guesses would share one bcrypt check.
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/list-bucket-content", nil)
				req.Header = basic(user, fmt.Sprint("guess-", i, "-", j))
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				resp.Body.Close()
				c, _ := statuses.LoadOrStore(resp.StatusCode, new(atomic.Int32))
				c.(*atomic.Int32).Add(1)
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let the flood fill every slot
	var slowest time.Duration
	for ctx.Err() == nil {
		for _, probe := range []struct {
			path   string
			header http.Header
		}{{"/healthz", nil}, {"/list-bucket-content/dir2", basic("alice", htpasswdtest.AlicePassword)}} {
			start := time.Now()
			r := do(t, client, "GET", srv.URL, probe.path, probe.header)
			slowest = max(slowest, time.Since(start))
			if r.status != 200 {
				t.Errorf("GET %s during the flood: %d %s", probe.path, r.status, r.body)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	// A logged-in request never queues for a bcrypt slot, so it never
	// waits the second a check may wait for one; the bound leaves room for a busy machine
	// (under -race bcrypt alone takes a whole core).
	if slowest >= 3*time.Second {
		t.Errorf("slowest answer to /healthz or the logged-in client during the flood: %s", slowest)
	}
	total := 0
	statuses.Range(func(k, v any) bool {
		n := int(v.(*atomic.Int32).Load())
		total += n
		if k != 401 && k != 503 {
			t.Errorf("the flood got %d answers with status %v, want only 401 or 503", n, k)
		}
		return true
	})
	if total == 0 {
		t.Error("the flood got no answer at all")
	}
	t.Logf("flood: %d answers; slowest probe %s", total, slowest)
}

// TestRunAuth serves the demo behind --htpasswd through Run, as the
// deployed unit does (the file named by BUCKETLS_HTPASSWD).
func TestRunAuth(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte(htpasswdtest.File), 0o600); err != nil {
		t.Fatal(err)
	}
	base, out, _, _, _ := startRun(t, []string{"--demo", "--addr", "127.0.0.1:0", "--root-prefix", "pub"}, "BUCKETLS_HTPASSWD", file)
	waitReady(t, http.DefaultClient, base, 5*time.Second)
	if l := out.find("serving"); l["htpasswd"] != file || l["htpasswd_users"] != 2.0 || l["metrics_public"] != false || l["root_prefix"] != "pub" {
		t.Errorf("serving line %v, want the htpasswd file, 2 users, metrics_public false and the root prefix", l)
	}
	if r := get(t, base, "/list-bucket-content"); r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="bucketls"` {
		t.Errorf("GET without credentials: %d %v %s", r.status, r.header, r.body)
	}
	if r := do(t, nil, "GET", base, "/list-bucket-content/dir2", basic("bob", htpasswdtest.BobPassword)); r.body != `{"content":["file1","file2"]}` {
		t.Errorf("GET with credentials: %d %s", r.status, r.body)
	}
	if l := out.wait(t, "request", time.Second); l == nil {
		t.Fatal("no access line")
	}
	if l := out.find("request", "path", "/list-bucket-content/dir2"); l == nil || l["user"] != "bob" {
		t.Errorf("access line %v, want user bob", l)
	}
	if err := Run(context.Background(), []string{"--demo", "--htpasswd", filepath.Dir(file) + "/nope"}, envFunc(), &strings.Builder{}, &strings.Builder{}); ExitCode(err) != 2 {
		t.Errorf("Run with a missing --htpasswd file = %v, want exit 2", err)
	}
}

// BenchmarkAuth is the service's own cost per listing request with and
// without --htpasswd (a logged-in client, so the remembered login), over a
// lister that answers from memory so only the HTTP side is measured. Next
// to ns/op (wall time, which a busy machine inflates) it reports cpu-ns/op,
// the process CPU time per request, which it does not:
//
//	go test ./service -run '^$' -bench BenchmarkAuth -count 5
func BenchmarkAuth(b *testing.B) {
	lister := funcLister(func(ctx context.Context, path string, page func([]string, bool) error) error {
		return page([]string{"file1", "file2"}, true)
	})
	for _, bc := range []struct {
		name   string
		users  *Users
		header http.Header
	}{
		{"public", nil, nil},
		{"htpasswd", testUsers(b), basic("alice", htpasswdtest.AlicePassword)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := NewServer(discard, lister, bc.users, Config{})
			req := httptest.NewRequest("GET", "/list-bucket-content/dir2", nil)
			req.Header = bc.header
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
