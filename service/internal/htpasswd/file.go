// Package htpasswd reads Apache htpasswd files (bcrypt only) and checks
// user names and passwords against them, at a bounded cost: a limited
// number of bcrypt runs at once, concurrent checks of one credential
// sharing a run, and recent logins remembered under a per-process HMAC key.
// It knows nothing of HTTP; the service wraps it in Basic authentication.
package htpasswd

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Limits on an htpasswd file. A megabyte is some 15,000 entries. Cost 14
// already takes about a second per check on a small instance; a higher
// cost would make every new login that slow and hand a flood of wrong
// passwords an easy win, so it is refused at start rather than discovered
// in production. User names are bounded so log lines stay short.
const (
	MaxFileBytes  = 1 << 20
	maxBcryptCost = 14
	MaxUserLen    = 255
)

// File is a parsed htpasswd file: every user's bcrypt hash, and hashes
// of a random password at every cost up to the file's highest (dummies),
// so that every check costs what the file's dearest one does and timing
// does not tell which names exist: an unknown name is checked against the
// dummy at the highest cost, and a known user whose hash is cheaper pays
// the difference in dummy checks (see padding).
type File struct {
	hashes  map[string][]byte
	maxCost int
	dummies [maxBcryptCost + 1][]byte // by cost, from bcrypt.MinCost to maxCost
}

// utf8BOM starts files that some editors (Notepad among them) save:
// Apache's htpasswd never writes one, and without this it would become
// part of the first user's name, who could then never log in.
const utf8BOM = "\ufeff"

// Parse parses an htpasswd file (see readHtpasswd) and makes the
// hashes unknown users and cheaper hashes are padded with.
func Parse(data []byte) (*File, error) {
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	hashes, maxCost, err := readHtpasswd(data)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	dummy, err := bcrypt.GenerateFromPassword(secret, bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt: %v", err)
	}
	f := &File{hashes: hashes, maxCost: maxCost}
	for c := bcrypt.MinCost; c <= maxCost; c++ {
		// The same salt and digest with another cost in the header: a
		// check against it runs bcrypt at that cost (and fails), with
		// no hash to compute at start.
		f.dummies[c] = fmt.Appendf(nil, "%s%02d%s", dummy[:4], c, dummy[6:])
	}
	return f, nil
}

// dummy is the hash an unknown user is checked against: the dearest.
func (f *File) dummy() []byte { return f.dummies[f.maxCost] }

// padding is the dummy checks a known user's check runs after its own,
// so that it costs what the file's dearest check does: one at each cost
// from the hash's own up to the highest but one. bcrypt's work doubles
// with each step of cost, so 2^c + 2^c + 2^(c+1) + ... + 2^(max-1) is
// 2^max; what is left over is one key expansion per extra check, under
// 0.1% of a cost-12 check for a cost-5 hash. Equal work, not a sleep:
// the two stay equal however loaded the machine is. Files whose entries
// all share one cost (htpasswd -B writes 5 unless told -C) pad nothing.
func (f *File) padding(hash []byte) [][]byte {
	c, err := bcrypt.Cost(hash)
	if err != nil || c >= f.maxCost {
		return nil
	}
	return f.dummies[c:f.maxCost]
}

// readHtpasswd reads Apache htpasswd lines, "user:hash", skipping blank
// lines and "#" comments as Apache does, and returns every user's hash
// and the highest cost among them. Only bcrypt hashes ($2y$, which
// htpasswd -B writes, and $2a$/$2b$) are accepted: the other kinds Apache
// knows (MD5 $apr1$, SHA-1 {SHA}, crypt, plain text) are fast to brute-force
// from a leaked file, and refusing them at start, naming the line, is
// kinder than a user who can never log in. Messages name lines and users,
// never a hash.
func readHtpasswd(data []byte) (hashes map[string][]byte, cost int, err error) {
	hashes = map[string][]byte{}
	firstLine := map[string]int{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line = bytes.TrimSuffix(line, []byte("\r"))
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(string(line), ":")
		if !ok {
			return nil, 0, fmt.Errorf("line %d is not user:hash", n)
		}
		if err := checkUser(user); err != nil {
			return nil, 0, fmt.Errorf("line %d: user name %v", n, err)
		}
		if first, dup := firstLine[user]; dup {
			return nil, 0, fmt.Errorf("line %d: user %q is also on line %d; keep one", n, user, first)
		}
		hash, _, _ = strings.Cut(hash, ":") // Apache ignores fields after the hash
		c, err := bcryptCost(hash)
		if err != nil {
			return nil, 0, fmt.Errorf("line %d (user %q): %v; only bcrypt is accepted: recreate it with htpasswd -B FILE %s", n, user, err, user)
		}
		if c > maxBcryptCost {
			return nil, 0, fmt.Errorf("line %d (user %q): bcrypt cost %d is above %d, too slow to check; recreate it with htpasswd -B -C 10 FILE %s", n, user, c, maxBcryptCost, user)
		}
		cost = max(cost, c)
		hashes[user] = []byte(hash)
		firstLine[user] = n
	}
	if len(hashes) == 0 {
		return nil, 0, fmt.Errorf("has no users; add one with htpasswd -B FILE NAME")
	}
	return hashes, cost, nil
}

// checkUser applies what a user name in a log line and in a Basic
// authorization header can be.
func checkUser(user string) error {
	switch {
	case user == "":
		return fmt.Errorf("is empty")
	case len(user) > MaxUserLen:
		return fmt.Errorf("is longer than %d bytes", MaxUserLen)
	case !utf8.ValidString(user):
		return fmt.Errorf("is not valid UTF-8")
	case strings.ContainsFunc(user, unicode.IsControl):
		return fmt.Errorf("has a control character")
	case strings.TrimFunc(user, isSpaceOrBOM) != user:
		// A browser never sends them, so such a user could never log in;
		// they come from hand edits ("alice :hash", an indented line).
		return fmt.Errorf("%q has white space around it; remove it", user)
	}
	return nil
}

// isSpaceOrBOM is white space, or a byte-order mark (U+FEFF, a zero-width
// no-break space) left mid-file where files were joined.
func isSpaceOrBOM(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// otherHashes are the hash kinds Apache's htpasswd writes besides bcrypt,
// by prefix, for the message that refuses them.
var otherHashes = []struct{ prefix, kind string }{
	{"$apr1$", "MD5 ($apr1$)"},
	{"{SHA}", "SHA-1 ({SHA})"},
	{"$1$", "MD5-crypt ($1$)"},
	{"$5$", "SHA-256-crypt ($5$)"},
	{"$6$", "SHA-512-crypt ($6$)"},
}

// bcryptCost checks that hash is a bcrypt hash of a kind Apache writes and
// returns its cost, or says which other kind it is.
func bcryptCost(hash string) (int, error) {
	for _, p := range []string{"$2y$", "$2a$", "$2b$"} {
		if !strings.HasPrefix(hash, p) {
			continue
		}
		c, err := bcrypt.Cost([]byte(hash))
		if err != nil || len(hash) != 60 {
			return 0, fmt.Errorf("malformed bcrypt hash")
		}
		return c, nil
	}
	for _, o := range otherHashes {
		if strings.HasPrefix(hash, o.prefix) {
			return 0, fmt.Errorf("%s hash", o.kind)
		}
	}
	switch {
	case hash == "":
		return 0, fmt.Errorf("no password hash")
	case strings.HasPrefix(hash, "$"):
		return 0, fmt.Errorf("unknown hash kind")
	case len(hash) == 13:
		return 0, fmt.Errorf("DES crypt hash, or a plain-text password")
	default:
		return 0, fmt.Errorf("plain-text password or unknown hash kind")
	}
}

// Users is how many users the file holds.
func (f *File) Users() int { return len(f.hashes) }
