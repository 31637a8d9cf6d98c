package htpasswd

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"
)

// Errors of a check; the HTTP side maps them to 401 and 503.
var (
	// ErrUnauthorized is missing or wrong credentials (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBusy is a password check that found every bcrypt slot taken
	// for longer than authWait (503 with Retry-After).
	ErrBusy = errors.New("too many password checks in progress")
)

// Password check limits. bcrypt is slow by design, so a flood of wrong
// passwords is a flood of CPU work: at most authSlots checks run at once
// (half the CPUs, at least one, so listings always keep CPU), and a check
// that cannot get a slot within authWait is answered 503 with Retry-After
// rather than queued without bound. Users who logged in recently skip
// bcrypt for recentLoginTTL (see authenticator.recent), so a flood slows
// down only new logins, never authenticated clients or /healthz.
var authSlots = max(1, runtime.GOMAXPROCS(0)/2)

// MaxPasswordLen is the longest password a check accepts: all bcrypt
// reads of one.
const MaxPasswordLen = 72

const (
	authWait        = time.Second
	recentLoginTTL  = time.Minute
	maxRecentLogins = 4096
)

// Authenticator checks user names and passwords against a File, for HTTP
// Basic authentication. It is safe for concurrent use.
type Authenticator struct {
	users   *File // nil: nobody gets in (fail closed)
	slots   chan struct{}
	wait    time.Duration
	ttl     time.Duration
	max     int
	compare func(hash, password []byte) error // bcrypt; tests count calls
	now     func() time.Time                  // time.Now; tests move it
	group   singleflight.Group                // concurrent checks of one credential

	// key is a per-process random HMAC key: what recent holds is
	// HMAC(key, user, password), so a memory dump holds no password and
	// no digest that can be checked offline without the key.
	key    [32]byte
	macs   sync.Pool // of *macState, reused: a login check is on every request
	mu     sync.RWMutex
	recent map[string]recentLogin // by user name
}

// recentLogin is a successful check remembered briefly.
type recentLogin struct {
	digest  [sha256.Size]byte
	expires time.Time
}

func NewAuthenticator(users *File) *Authenticator {
	a := &Authenticator{
		users:   users,
		slots:   make(chan struct{}, authSlots),
		wait:    authWait,
		ttl:     recentLoginTTL,
		max:     maxRecentLogins,
		compare: bcrypt.CompareHashAndPassword,
		now:     time.Now,
		recent:  map[string]recentLogin{},
	}
	_, _ = rand.Read(a.key[:])
	a.macs.New = func() any { return &macState{mac: hmac.New(sha256.New, a.key[:])} }
	return a
}

// Check verifies user and password. A recent success with the same
// credentials answers at once, compared in constant time; anything else
// waits for a bcrypt slot. Concurrent checks of the same credentials share
// one bcrypt run: a client that opens many connections at once, or whose
// remembered login just expired, costs one check, not one per connection.
// The error says why a check failed, for the access log; it never carries
// the password.
func (a *Authenticator) Check(ctx context.Context, user, password string) error {
	if a.users == nil {
		return fmt.Errorf("%w: no users loaded", ErrUnauthorized)
	}
	if len(password) > MaxPasswordLen {
		// bcrypt reads the first 72 bytes and ignores the rest, so
		// pw72+"ANYTHING" would pass for pw72: refuse what it cannot check.
		return fmt.Errorf("%w: password of user %q is longer than %d bytes", ErrUnauthorized, user, MaxPasswordLen)
	}
	d := a.digest(user, password)
	if a.recall(user, d) {
		return nil
	}
	// Detached: the callers sharing this run must not fail because the one
	// that started it hung up; acquire's wait and bcrypt itself bound it.
	ch := a.group.DoChan(string(d[:]), func() (any, error) {
		return nil, a.verify(context.WithoutCancel(ctx), user, password, d)
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recall reports whether user logged in with digest d recently. A hit in
// the second half of its time is extended, so a client that keeps asking
// is never stalled by a bcrypt check every recentLoginTTL; one that stops
// is forgotten a TTL later.
func (a *Authenticator) recall(user string, d [sha256.Size]byte) bool {
	now := a.now()
	a.mu.RLock()
	rl, ok := a.recent[user]
	a.mu.RUnlock()
	if !ok || !now.Before(rl.expires) || !hmac.Equal(rl.digest[:], d[:]) {
		return false
	}
	if rl.expires.Sub(now) < a.ttl/2 {
		a.remember(user, d, now.Add(a.ttl))
	}
	return true
}

// verify runs bcrypt for user in a slot and remembers a success.
func (a *Authenticator) verify(ctx context.Context, user, password string, d [sha256.Size]byte) error {
	if err := a.acquire(ctx); err != nil {
		return err
	}
	hash, known := a.users.hashes[user]
	if !known {
		hash = a.users.dummy() // the dearest cost, so unknown names take as long
	}
	err := a.compare(hash, []byte(password))
	if known {
		for _, d := range a.users.padding(hash) {
			_ = a.compare(d, []byte(password))
		}
	}
	<-a.slots
	switch {
	case !known:
		return fmt.Errorf("%w: unknown user %q", ErrUnauthorized, user)
	case err != nil:
		return fmt.Errorf("%w: wrong password for user %q", ErrUnauthorized, user)
	}
	a.remember(user, d, a.now().Add(a.ttl))
	return nil
}

// acquire takes a bcrypt slot, waiting at most a.wait.
func (a *Authenticator) acquire(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// macState is an HMAC under the process key and the buffers one digest
// needs, pooled so the check on every request allocates nothing.
type macState struct {
	mac hash.Hash
	in  []byte
	sum []byte
}

// digest is HMAC-SHA-256 under the process key over the length-prefixed
// user name and the password, so no two credentials share an input.
func (a *Authenticator) digest(user, password string) [sha256.Size]byte {
	m := a.macs.Get().(*macState)
	defer a.macs.Put(m)
	m.in = binary.AppendUvarint(m.in[:0], uint64(len(user)))
	m.in = append(append(m.in, user...), password...)
	m.mac.Reset()
	m.mac.Write(m.in)
	m.sum = m.mac.Sum(m.sum[:0])
	clear(m.in) // the password does not outlive the check in the pool
	var d [sha256.Size]byte
	copy(d[:], m.sum)
	return d
}

// remember keeps a success until expires. The map is bounded: only real
// users of the file ever enter it, and beyond a.max entries expired ones
// go first, then arbitrary ones (they only cost one more bcrypt check).
func (a *Authenticator) remember(user string, d [sha256.Size]byte, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.recent[user]; !ok && len(a.recent) >= a.max {
		now := a.now()
		for u, rl := range a.recent {
			if now.After(rl.expires) {
				delete(a.recent, u)
			}
		}
		for u := range a.recent {
			if len(a.recent) < a.max {
				break
			}
			delete(a.recent, u)
		}
	}
	a.recent[user] = recentLogin{digest: d, expires: expires}
}
