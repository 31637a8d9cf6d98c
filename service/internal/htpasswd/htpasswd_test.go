package htpasswd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketls/bucketls/service/internal/htpasswd/htpasswdtest"
	"golang.org/x/crypto/bcrypt"
)

// testUsers is htpasswdtest.File, parsed.
func testUsers(t testing.TB) *File {
	t.Helper()
	u, err := Parse([]byte(htpasswdtest.File))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestParseHtpasswd accepts the bcrypt kinds Apache writes and refuses
// every other kind, naming the line and the user but never the hash.
func TestParseHtpasswd(t *testing.T) {
	t.Parallel()
	u := testUsers(t)
	if len(u.hashes) != 2 || u.dummy() == nil {
		t.Fatalf("parsed %d users (dummy %v), want alice and bob", len(u.hashes), u.dummy() != nil)
	}
	for user, pw := range map[string]string{"alice": htpasswdtest.AlicePassword, "bob": htpasswdtest.BobPassword} {
		if err := bcrypt.CompareHashAndPassword(u.hashes[user], []byte(pw)); err != nil {
			t.Errorf("%s: the $2y$ hash from Apache does not verify: %v", user, err)
		}
	}
	alice := strings.TrimPrefix(strings.Split(htpasswdtest.File, "\n")[1], "alice:")
	for _, kind := range []string{"$2a$", "$2b$"} {
		if _, err := Parse([]byte("carol:" + kind + alice[4:] + ":ignored field\n")); err != nil {
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
		{"long user", strings.Repeat("u", MaxUserLen+1) + ":" + alice, "longer than 255"},
		{"duplicate", "alice:" + alice + "\nalice:" + alice, `line 2: user "alice" is also on line 1`},
		{"cost too high", "z:$2y$15$C.0ghyCV0bHJ.OPHzQo/0uolKoO1NxthOaCCI2ygooPZbq5.UTPDS", "cost 15 is above 14"},
		{"indented line", "alice:" + alice + "\n  bob:" + alice, `line 2: user name "  bob" has white space around it; remove it`},
		{"space before the colon", "carol :" + alice, `line 1: user name "carol " has white space around it`},
		{"tab", "\tcarol:" + alice, "line 1: user name has a control character"},
		{"no-break space", "carol\u00a0:" + alice, "has white space around it"},
		{"a BOM mid-file", "alice:" + alice + "\n\ufeffbob:" + alice, `line 2: user name "\ufeffbob" has white space around it`},
		{"a BOM then spaces", "\ufeff alice:" + alice, `line 1: user name " alice" has white space around it`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "Tycrx") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "EfatjsUq") {
			t.Errorf("%s: message %q is not one line, or shows the hash", tt.name, msg)
		}
	}
}

// TestBOM: a file an editor saved with a UTF-8 byte-order mark loads, and
// its first user logs in (issue 20, point 6: the name was "\ufeffalice").
func TestBOM(t *testing.T) {
	t.Parallel()
	u, err := Parse([]byte("\ufeff" + htpasswdtest.File[strings.Index(htpasswdtest.File, "alice"):]))
	if err != nil {
		t.Fatal(err)
	}
	if err := NewAuthenticator(u).Check(context.Background(), "alice", htpasswdtest.AlicePassword); err != nil {
		t.Errorf("alice, the first user after the BOM: %v", err)
	}
}

// TestPasswordOver72Bytes: bcrypt reads 72 bytes of a password, so a
// longer one is refused instead of matched on its start (issue 20, point
// 10: pw72+"ANYTHING" logged in).
func TestPasswordOver72Bytes(t *testing.T) {
	t.Parallel()
	pw72 := strings.Repeat("p", 71) + "!"
	u, err := Parse([]byte(htpasswdtest.Entry(t, "carol", pw72)))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(u)
	ctx := context.Background()
	if err := a.Check(ctx, "carol", pw72); err != nil {
		t.Fatalf("the 72-byte password: %v", err)
	}
	for _, pw := range []string{pw72 + "ANYTHING", pw72 + "x", pw72 + strings.Repeat("y", 1000)} {
		if err := a.Check(ctx, "carol", pw); !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "longer than 72 bytes") || strings.Contains(err.Error(), pw72) {
			t.Errorf("a %d-byte password starting with the right 72: %v, want 401 saying it is too long (and never the password)", len(pw), err)
		}
	}
}

// TestMixedCosts: in a file whose hashes have different costs, every
// check does the work of the file's dearest one, so timing does not tell
// which names exist (issue 20, point 1: with carol at cost 5 first and
// dave at 12, an unknown user took 2.8 ms and dave 251 ms). bcrypt's work
// is 2^cost key expansions (and one more per check, the setup), counted
// here instead of timed.
func TestMixedCosts(t *testing.T) {
	t.Parallel()
	base, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	atCost := func(c int) string { return fmt.Sprintf("%s%02d%s", base[:4], c, base[6:]) }
	costs := map[string]int{"carol": 5, "dave": 12, "erin": 5, "frank": 9, "gina": 4}
	file := "carol:" + atCost(5) + "\ndave:" + atCost(12) + "\nerin:" + atCost(5) + "\nfrank:" + atCost(9) + "\ngina:" + atCost(4) + "\n"
	u, err := Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	const right = "right"
	for _, tt := range []struct{ user, password string }{
		{"nobody", "x"}, {"mallory", right}, {"carol", "wrong"}, {"carol", right}, {"dave", "wrong"}, {"dave", right},
		{"erin", "wrong"}, {"frank", "wrong"}, {"gina", "wrong"}, {"gina", right},
	} {
		a := NewAuthenticator(u)
		var work, checks int
		a.compare = func(h, p []byte) error {
			c, err := bcrypt.Cost(h)
			if err != nil {
				t.Fatalf("a check against %q: %v", h, err)
			}
			work += 1 << c
			checks++
			if want, ok := costs[tt.user]; ok && string(h) == atCost(want) && string(p) == right {
				return nil
			}
			return bcrypt.ErrMismatchedHashAndPassword
		}
		err := a.Check(context.Background(), tt.user, tt.password)
		if _, known := costs[tt.user]; (err == nil) != (known && tt.password == right) {
			t.Errorf("%s with %q: %v", tt.user, tt.password, err)
		}
		// The leftover is one setup expansion per extra check: 7 of
		// 8,192 for carol, under 0.1%.
		if work != 1<<12 || checks > 12-costs[tt.user]+1 {
			t.Errorf("%s with %q: %d checks doing 2^cost work %d, want the work of one cost-12 check (%d)", tt.user, tt.password, checks, work, 1<<12)
		}
	}
}

// TestAuthenticator checks the bcrypt bound, the memory of recent logins
// and its bound, on the authenticator alone.
func TestAuthenticator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	newCounted := func() (*Authenticator, *atomic.Int32) {
		a := NewAuthenticator(testUsers(t))
		var n atomic.Int32
		a.compare = func(h, p []byte) error { n.Add(1); return bcrypt.CompareHashAndPassword(h, p) }
		return a, &n
	}

	a, n := newCounted()
	for range 3 {
		if err := a.Check(ctx, "alice", htpasswdtest.AlicePassword); err != nil {
			t.Fatalf("alice: %v", err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("3 logins made %d bcrypt checks, want 1 (then remembered)", n.Load())
	}
	if err := a.Check(ctx, "alice", "guess"); !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "guess") {
		t.Errorf("wrong password after a good one: %v", err)
	}
	if err := a.Check(ctx, "alice", htpasswdtest.AlicePassword); err != nil || n.Load() != 2 {
		t.Errorf("a wrong guess must not forget the good login: %v, %d checks", err, n.Load())
	}
	if err := a.Check(ctx, "mallory", "x"); !errors.Is(err, ErrUnauthorized) || n.Load() != 3 {
		t.Errorf("unknown user: %v, %d checks; want 401 after a bcrypt check against the dummy", err, n.Load())
	}
	if len(a.recent) != 1 {
		t.Errorf("%d remembered logins, want 1 (alice)", len(a.recent))
	}
	for _, rl := range a.recent {
		if strings.Contains(string(rl.digest[:]), htpasswdtest.AlicePassword) {
			t.Error("the memory holds the password")
		}
	}

	a, n = newCounted()
	a.ttl = time.Nanosecond
	_ = a.Check(ctx, "alice", htpasswdtest.AlicePassword)
	time.Sleep(time.Millisecond)
	_ = a.Check(ctx, "alice", htpasswdtest.AlicePassword)
	if n.Load() != 2 {
		t.Errorf("after the TTL: %d checks, want 2", n.Load())
	}

	a, _ = newCounted()
	a.max = 1
	_ = a.Check(ctx, "alice", htpasswdtest.AlicePassword)
	_ = a.Check(ctx, "bob", htpasswdtest.BobPassword)
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
		if err := a.Check(ctx, "alice", htpasswdtest.AlicePassword); err != nil {
			t.Fatal(err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("a client asking every 40-59 s for 3 minutes: %d bcrypt checks, want 1", n.Load())
	}
	clock = clock.Add(recentLoginTTL + time.Second)
	if _ = a.Check(ctx, "alice", htpasswdtest.AlicePassword); n.Load() != 2 {
		t.Errorf("after a TTL of silence: %d bcrypt checks, want 2", n.Load())
	}

	// Many connections logging in at once share one bcrypt check.
	a, n = newCounted()
	slow := a.compare
	a.compare = func(h, p []byte) error { time.Sleep(50 * time.Millisecond); return slow(h, p) }
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if err := a.Check(ctx, "bob", htpasswdtest.BobPassword); err != nil {
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
	if err := a.Check(ctx, "bob", htpasswdtest.BobPassword); !errors.Is(err, ErrBusy) || n.Load() != 0 {
		t.Errorf("with every slot taken: %v after %d checks, want ErrBusy and none", err, n.Load())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Check(cctx, "bob", htpasswdtest.BobPassword); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v", err)
	}
}

// TestAuthSlots checks no more than authSlots bcrypt checks ever run at
// once, however many requests want one.
func TestAuthSlots(t *testing.T) {
	t.Parallel()
	a := NewAuthenticator(testUsers(t))
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
		wg.Go(func() { _ = a.Check(context.Background(), "bob", fmt.Sprint("guess", i)) })
	}
	wg.Wait()
	if peak.Load() > int32(authSlots) || peak.Load() == 0 {
		t.Errorf("peak of %d concurrent bcrypt checks, want 1 to %d", peak.Load(), authSlots)
	}
}

// FuzzReadHtpasswd checks the parser never panics, and that what it
// accepts is only bcrypt entries with bounded cost and valid user names.
func FuzzReadHtpasswd(f *testing.F) {
	f.Add([]byte(htpasswdtest.File))
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
