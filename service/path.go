package service

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bucketls/bucketls/internal/s3name"
)

// maxPathLen bounds a listing path. S3 keys are at most 1,024 bytes, so a
// longer path can never name anything; rejecting it early also caps what a
// request can make the service send to S3.
const maxPathLen = 1024

// badPathError is a client error in the request path (answered with 400).
type badPathError struct{ reason string }

func (e *badPathError) Error() string { return "invalid path: " + e.reason }

var (
	errControlChar  = &badPathError{"control character"}
	errNonCharacter = &badPathError{"U+FFFE or U+FFFF, which S3 cannot list"}
	errInvalidUTF8  = &badPathError{"not valid UTF-8"}
	errTooLong      = &badPathError{"longer than 1024 bytes"}
	errNotAbsolute  = &badPathError{"does not start with /"}
)

// isBadPath reports whether err is a path validation error.
func isBadPath(err error) bool {
	var bp *badPathError
	return errors.As(err, &bp)
}

// checkRequestPath validates a decoded URL path (r.URL.Path) before the mux
// sees it. The mux would answer ".", ".." and "//" with a 307 redirect and an
// HTML body; checking here keeps every answer JSON. Net/http has already
// percent-decoded the path exactly once, so "%2e%2e", "%2F", "%00" and "%ff"
// arrive as "..", "/", NUL and an invalid byte and are caught here.
func checkRequestPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errNotAbsolute
	}
	return checkSegments(p[1:])
}

// parseListPath validates the part of a listing URL after
// "/list-bucket-content/" and returns it as the Lister expects it: "" for the
// root, otherwise the path with at most one trailing slash kept (it means
// "must be a directory"). It does not decode anything: decoding happened
// once, in net/http, and a second pass would turn a literal "%2e" in a key
// name into ".".
func parseListPath(p string) (string, error) {
	if len(p) > maxPathLen {
		return "", errTooLong
	}
	if err := checkSegments(p); err != nil {
		return "", err
	}
	return p, nil
}

// checkSegments validates a slash-separated path without its leading slash,
// by the segment rule root prefixes follow too (s3name.CheckSegments). One
// trailing slash is allowed ("dir2/" lists like "dir2"); any other empty
// segment ("a//b", and "/": "//" after the route prefix) is rejected
// because S3 would treat it as a distinct key and the mux would redirect it.
func checkSegments(p string) error {
	if err := checkChars(p); err != nil {
		return err
	}
	if p == "" {
		return nil // the root
	}
	if err := s3name.CheckSegments(strings.TrimSuffix(p, "/")); err != nil {
		return &badPathError{err.Error()}
	}
	return nil
}

// checkChars applies the character rules of a path to p: valid UTF-8, no
// control character, and only characters an S3 listing can carry.
func checkChars(p string) error {
	if !utf8.ValidString(p) {
		return errInvalidUTF8
	}
	for _, r := range p {
		// unicode.IsControl covers NUL, the C0 range, DEL and the C1 range:
		// none belongs in a path a person typed, and they make log lines and
		// terminals lie.
		if unicode.IsControl(r) {
			return errControlChar
		}
		if !isXMLChar(r) {
			return errNonCharacter
		}
	}
	return nil
}

// isXMLChar reports whether r may appear in an XML 1.0 document. S3
// answers ListObjectsV2 in XML and echoes the Prefix and StartAfter it was
// sent: with any other character in them the answer cannot be parsed (the
// SDK fails, a 502), and no key holding one can be listed at all (keys
// come back as XML text too). Of the valid UTF-8 that is not a control
// character, this leaves out only U+FFFE and U+FFFF.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= utf8.MaxRune)
}

// printable returns s with every rune that is not graphic (control and
// format characters such as U+202E RIGHT-TO-LEFT OVERRIDE, U+200B, a BOM,
// line and paragraph separators) and every invalid byte written as a Go
// escape. Whatever echoes a client's path or parameter (error bodies, log
// lines) goes through it, so a log line or a terminal cannot be made to lie;
// such characters stay valid in paths, as S3 allows them in keys.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r != ' ' && !unicode.IsGraphic(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsGraphic(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}
