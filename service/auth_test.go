package service

import (
	"context"
	"encoding/base64"
	"errors"
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

	"golang.org/x/crypto/bcrypt"
)

// testHtpasswd was written by Apache's htpasswd 2.4 (apache2-utils):
// htpasswd -nbB -C 4 alice 'correct horse', and bob with 's3:cret'. Cost 4
// keeps the tests fast; the format is what an operator's file holds.
const testHtpasswd = "# bucketls test users\n" +
	"alice:$2y$04$Kh0r0Ajg0uUCs80j7w7YqegOH0JDTSYY17ba4wLNKR4RUYLrHiLnK\n" +
	"\n" +
	"bob:$2y$04$Jsx1pTaRAk92eU95HWuybOqRvZ6tndu1BRjJT/PBDgpzIhVJHBSMG\r\n"

const (
	alicePassword = "correct horse"
	bobPassword   = "s3:cret"
)

func testUsers(t testing.TB) *userFile {
	t.Helper()
	u, err := parseHtpasswd([]byte(testHtpasswd))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// basic is an Authorization header for user and password.
func basic(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

// TestParseHtpasswd accepts the bcrypt kinds Apache writes and refuses
// every other kind, naming the line and the user but never the hash.
func TestParseHtpasswd(t *testing.T) {
	t.Parallel()
	u := testUsers(t)
	if len(u.hashes) != 2 || u.dummy == nil {
		t.Fatalf("parsed %d users (dummy %v), want alice and bob", len(u.hashes), u.dummy != nil)
	}
	for user, pw := range map[string]string{"alice": alicePassword, "bob": bobPassword} {
		if err := bcrypt.CompareHashAndPassword(u.hashes[user], []byte(pw)); err != nil {
			t.Errorf("%s: the $2y$ hash from Apache does not verify: %v", user, err)
		}
	}
	alice := strings.TrimPrefix(strings.Split(testHtpasswd, "\n")[1], "alice:")
	for _, kind := range []string{"$2a$", "$2b$"} {
		if _, err := parseHtpasswd([]byte("carol:" + kind + alice[4:] + ":ignored field\n")); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	tests := []struct {
		name string
		file string
		want string // substring of the error
	}{
		{"empty", "", "has no users"},
		{"only comments", "# nobody\n\n  \n", "has no users"},
		{"MD5", "alice:" + alice + "\ncarol:$apr1$GWQjX9wA$Tycrxes9eS5ZWgkUuBOPf.\n", `line 2 (user "carol"): MD5 ($apr1$) hash; only bcrypt is accepted`},
		{"SHA-1", "dave:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=", `line 1 (user "dave"): SHA-1 ({SHA}) hash`},
		{"DES crypt", "erin:dVTIc2lhQtVs2", "line 1 (user \"erin\"): DES crypt"},
		{"plain", "frank:hunter2", "line 1 (user \"frank\"): plain-text"},
		{"MD5-crypt", "g:$1$abc$def", "MD5-crypt"},
		{"SHA-256-crypt", "g:$5$abc$def", "SHA-256-crypt"},
		{"SHA-512-crypt", "g:$6$QBsTUvlJVtNczwPx$D7EXbKbxDJp.UozDogtkYhXRffV8DIPTJQW1BnQ", "SHA-512-crypt"},
		{"bcrypt 2x", "g:$2x$04" + alice[7:], "unknown hash kind"},
		{"truncated bcrypt", "g:" + alice[:40], "malformed bcrypt hash"},
		{"no hash", "g:", "no password hash"},
		{"no colon", "just a line", "line 1 is not user:hash"},
		{"empty user", ":" + alice, "line 1: user name is empty"},
		{"control in user", "a\x01b:" + alice, "control character"},
		{"long user", strings.Repeat("u", maxUserLen+1) + ":" + alice, "longer than 255"},
		{"duplicate", "alice:" + alice + "\nalice:" + alice, `line 2: user "alice" is also on line 1`},
		{"cost too high", "z:$2y$15$C.0ghyCV0bHJ.OPHzQo/0uolKoO1NxthOaCCI2ygooPZbq5.UTPDS", "cost 15 is above 14"},
	}
	for _, tt := range tests {
		_, err := parseHtpasswd([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "Tycrx") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "EfatjsUq") {
			t.Errorf("%s: message %q is not one line, or shows the hash", tt.name, msg)
		}
	}
}

// TestLoadHtpasswd checks the file errors through parseConfig: each is
// one line naming the flag, with exit status 2.
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
	good := write("good", testHtpasswd)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing", filepath.Join(dir, "nope"), "--htpasswd (BUCKETLS_HTPASSWD): cannot read it"},
		{"directory", dir, "cannot read"},
		{"empty", write("empty", ""), "has no users"},
		{"md5 line", write("md5", testHtpasswd+"carol:$apr1$GWQjX9wA$Tycrxes9eS5ZWgkUuBOPf.\n"), `line 5 (user "carol"): MD5`},
		{"huge", write("huge", strings.Repeat("#", maxHtpasswdBytes+1)), "larger than 1 MiB"},
	}
	for _, tt := range tests {
		_, err := parseConfig([]string{"--bucket", "bkt", "--htpasswd", tt.path}, envFunc())
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--htpasswd") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (exit %d), want one line with %q", tt.name, err, ExitCode(err), tt.want)
		}
	}
	cfg, err := parseConfig([]string{"--bucket", "bkt"}, envFunc("BUCKETLS_HTPASSWD", good, "BUCKETLS_METRICS_PUBLIC", "true"))
	if err != nil || cfg.users == nil || len(cfg.users.hashes) != 2 || !cfg.MetricsPublic {
		t.Errorf("from the environment: %+v, %v", cfg, err)
	}
	if _, err := parseConfig([]string{"--bucket", "bkt"}, envFunc("BUCKETLS_METRICS_PUBLIC", "sure")); err == nil || !strings.Contains(err.Error(), "BUCKETLS_METRICS_PUBLIC") {
		t.Errorf("bad BUCKETLS_METRICS_PUBLIC: %v", err)
	}
}

// authServer is the service over the reference tree with the test users,
// ready (so /readyz answers 200), every answer checked against the OpenAPI
// document.
func authServer(t *testing.T, logger *slog.Logger, cfg Config) *httptest.Server {
	t.Helper()
	f := startFakeS3(t, ReferenceKeys(), nil)
	srv := NewServer(logger, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{}), cfg)
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
	private := authServer(t, discard, Config{users: users})
	publicMetrics := authServer(t, discard, Config{users: users, MetricsPublic: true})
	failClosed := authServer(t, discard, Config{Htpasswd: "/not/loaded"})
	alice, bob := basic("alice", alicePassword), basic("bob", bobPassword)
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
		{"another user's password", private, "", "/list-bucket-content", basic("alice", bobPassword), 401, ""},
		{"unknown user", private, "", "/list-bucket-content", basic("mallory", alicePassword), 401, ""},
		{"empty user", private, "", "/list-bucket-content", basic("", alicePassword), 401, ""},
		{"user name case matters", private, "", "/list-bucket-content", basic("Alice", alicePassword), 401, ""},
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
		{"unloaded file lets nobody in", failClosed, "", "/list-bucket-content", alice, 401, ""},
		{"unloaded file keeps healthz", failClosed, "", "/healthz", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			r := do(t, nil, method, tt.srv.URL, tt.path, tt.header)
			if r.status != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d (body %.200q)", method, tt.path, r.status, tt.wantStatus, r.body)
			}
			if tt.wantBody != "" && r.body != tt.wantBody {
				t.Errorf("%s %s: body %s, want %s", method, tt.path, r.body, tt.wantBody)
			}
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
	srv := authServer(t, slog.New(slog.NewJSONHandler(&logs, nil)), Config{users: testUsers(t)})
	do(t, nil, "GET", srv.URL, "/list-bucket-content/dir2", basic("alice", alicePassword))
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
	for _, secret := range []string{alicePassword, "wrong-secret", base64.StdEncoding.EncodeToString([]byte("alice:"))} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
}

// TestAuthenticator checks the bcrypt bound, the memory of recent logins
// and its bound, on the authenticator alone.
func TestAuthenticator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newCounted := func() (*authenticator, *atomic.Int32) {
		a := newAuthenticator(testUsers(t))
		var n atomic.Int32
		a.compare = func(h, p []byte) error { n.Add(1); return bcrypt.CompareHashAndPassword(h, p) }
		return a, &n
	}

	a, n := newCounted()
	for range 3 {
		if err := a.check(ctx, "alice", alicePassword); err != nil {
			t.Fatalf("alice: %v", err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("3 logins made %d bcrypt checks, want 1 (then remembered)", n.Load())
	}
	if err := a.check(ctx, "alice", "guess"); !errors.Is(err, errUnauthorized) || strings.Contains(err.Error(), "guess") {
		t.Errorf("wrong password after a good one: %v", err)
	}
	if err := a.check(ctx, "alice", alicePassword); err != nil || n.Load() != 2 {
		t.Errorf("a wrong guess must not forget the good login: %v, %d checks", err, n.Load())
	}
	if err := a.check(ctx, "mallory", "x"); !errors.Is(err, errUnauthorized) || n.Load() != 3 {
		t.Errorf("unknown user: %v, %d checks; want 401 after a bcrypt check against the dummy", err, n.Load())
	}
	if len(a.recent) != 1 {
		t.Errorf("%d remembered logins, want 1 (alice)", len(a.recent))
	}
	for _, rl := range a.recent {
		if strings.Contains(string(rl.digest[:]), alicePassword) {
			t.Error("the memory holds the password")
		}
	}

	a, n = newCounted()
	a.ttl = time.Nanosecond
	_ = a.check(ctx, "alice", alicePassword)
	time.Sleep(time.Millisecond)
	_ = a.check(ctx, "alice", alicePassword)
	if n.Load() != 2 {
		t.Errorf("after the TTL: %d checks, want 2", n.Load())
	}

	a, _ = newCounted()
	a.max = 1
	_ = a.check(ctx, "alice", alicePassword)
	_ = a.check(ctx, "bob", bobPassword)
	if len(a.recent) != 1 {
		t.Errorf("%d remembered logins, want at most 1", len(a.recent))
	}

	// A client that keeps asking stays remembered; one that stops is
	// forgotten a TTL after its last request.
	a, n = newCounted()
	clock := time.Now()
	a.now = func() time.Time { return clock }
	for _, step := range []time.Duration{0, 40 * time.Second, 50 * time.Second, 50 * time.Second, 59 * time.Second} {
		clock = clock.Add(step)
		if err := a.check(ctx, "alice", alicePassword); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("a client asking every 40-59 s for 3 minutes: %d bcrypt checks, want 1", n.Load())
	}
	clock = clock.Add(recentLoginTTL + time.Second)
	if _ = a.check(ctx, "alice", alicePassword); n.Load() != 2 {
		t.Errorf("after a TTL of silence: %d bcrypt checks, want 2", n.Load())
	}

	// Many connections logging in at once share one bcrypt check.
	a, n = newCounted()
	slow := a.compare
	a.compare = func(h, p []byte) error { time.Sleep(50 * time.Millisecond); return slow(h, p) }
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if err := a.check(ctx, "bob", bobPassword); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n.Load() != 1 {
		t.Errorf("32 concurrent logins with one password: %d bcrypt checks, want 1", n.Load())
	}

	// Every slot taken: a check waits a.wait, then is busy; a cancelled
	// request stops waiting at once.
	a, n = newCounted()
	a.wait = 20 * time.Millisecond
	for range cap(a.slots) {
		a.slots <- struct{}{}
	}
	if err := a.check(ctx, "bob", bobPassword); !errors.Is(err, errAuthBusy) || n.Load() != 0 {
		t.Errorf("with every slot taken: %v after %d checks, want errAuthBusy and none", err, n.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.check(cctx, "bob", bobPassword); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v", err)
	}
}

// TestAuthSlots checks no more than authSlots bcrypt checks ever run at
// once, however many requests want one.
func TestAuthSlots(t *testing.T) {
	t.Parallel()
	a := newAuthenticator(testUsers(t))
	var running, peak atomic.Int32
	a.compare = func(h, p []byte) error {
		if r := running.Add(1); r > peak.Load() {
			peak.Store(r)
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		return bcrypt.ErrMismatchedHashAndPassword
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() { _ = a.check(context.Background(), "bob", fmt.Sprint("guess", i)) })
	}
	wg.Wait()
	if peak.Load() > int32(authSlots) || peak.Load() == 0 {
		t.Errorf("peak of %d concurrent bcrypt checks, want 1 to %d", peak.Load(), authSlots)
	}
}

// TestAuthFlood sends a flood of wrong passwords with real bcrypt at a
// realistic cost while /healthz and a logged-in client keep asking: both
// must keep answering, and the flood must only ever get 401 or 503.
func TestAuthFlood(t *testing.T) {
	t.Parallel()
	users, err := parseHtpasswd([]byte("alice:" + string(slowHash(t, alicePassword)) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := authServer(t, discard, Config{users: users})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	if r := do(t, client, "GET", srv.URL, "/list-bucket-content", basic("alice", alicePassword)); r.status != 200 {
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
		}{{"/healthz", nil}, {"/list-bucket-content/dir2", basic("alice", alicePassword)}} {
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
	// waits authWait for one; the bound leaves room for a busy machine
	// (under -race bcrypt alone takes a whole core).
	if slowest >= 3*authWait {
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

// slowHash is a bcrypt hash of password at the lowest cost, 8 at most,
// that takes 20 ms here: 8 on a normal build (htpasswd -B writes 5), less
// under -race, where bcrypt runs some 25 times slower, so the flood test
// stays within seconds either way.
func slowHash(t *testing.T, password string) []byte {
	t.Helper()
	for cost := bcrypt.MinCost; ; cost++ {
		start := time.Now()
		hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) >= 20*time.Millisecond || cost == 8 {
			return hash
		}
	}
}

// TestRunAuth serves the demo behind --htpasswd through Run, as the
// deployed unit does (the file named by BUCKETLS_HTPASSWD).
func TestRunAuth(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(file, []byte(testHtpasswd), 0o600); err != nil {
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
	if r := do(t, nil, "GET", base, "/list-bucket-content/dir2", basic("bob", bobPassword)); r.body != `{"content":["file1","file2"]}` {
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

// FuzzReadHtpasswd checks the parser never panics, and that what it
// accepts is only bcrypt entries with bounded cost and valid user names.
func FuzzReadHtpasswd(f *testing.F) {
	f.Add([]byte(testHtpasswd))
	f.Add([]byte("a:$apr1$x$y\n"))
	f.Add([]byte("a:b:c\r\n#x\n:\n"))
	f.Add([]byte("alice:$2b$04$Kh0r0Ajg0uUCs80j7w7YqegOH0JDTSYY17ba4wLNKR4RUYLrHiLnK"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hashes, cost, err := readHtpasswd(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		if len(hashes) == 0 || cost < bcrypt.MinCost || cost > maxBcryptCost {
			t.Fatalf("accepted %d users at cost %d", len(hashes), cost)
		}
		for user, h := range hashes {
			c, err := bcrypt.Cost(h)
			if checkUser(user) != nil || err != nil || c > maxBcryptCost || !strings.HasPrefix(string(h), "$2") {
				t.Fatalf("accepted user %q with hash %q", user, h)
			}
		}
	})
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
		cfg    Config
		header http.Header
	}{
		{"public", Config{}, nil},
		{"htpasswd", Config{users: testUsers(b)}, basic("alice", alicePassword)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := NewServer(discard, lister, bc.cfg)
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
