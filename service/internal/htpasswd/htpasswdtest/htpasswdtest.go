// Package htpasswdtest holds the htpasswd fixtures that tests of the
// htpasswd package and of the HTTP side both use.
package htpasswdtest

import (
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// File was written by Apache's htpasswd 2.4 (apache2-utils):
// htpasswd -nbB -C 4 alice 'correct horse', and bob with 's3:cret'. Cost 4
// keeps the tests fast; the format is what an operator's file holds.
const File = "# bucketls test users\n" +
	"alice:$2y$04$Kh0r0Ajg0uUCs80j7w7YqegOH0JDTSYY17ba4wLNKR4RUYLrHiLnK\n" +
	"\n" +
	"bob:$2y$04$Jsx1pTaRAk92eU95HWuybOqRvZ6tndu1BRjJT/PBDgpzIhVJHBSMG\r\n"

// The passwords of the users in File.
const (
	AlicePassword = "correct horse"
	BobPassword   = "s3:cret"
)

// Entry is an htpasswd line for user with password hashed by bcrypt at
// the lowest cost: a user of a test's own, checked quickly.
func Entry(t testing.TB, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return user + ":" + string(hash) + "\n"
}

// SlowHash is a bcrypt hash of password at the lowest cost, 8 at most,
// that takes 20 ms here: 8 on a normal build (htpasswd -B writes 5), less
// under -race, where bcrypt runs some 25 times slower, so flood tests stay
// within seconds either way.
func SlowHash(t testing.TB, password string) []byte {
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
