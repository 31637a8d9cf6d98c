// Package s3name states the naming rules that bucketls's service and its
// stack both apply: which bucket names can exist and which key prefixes a
// deployment may be confined to. It is a leaf: it imports neither side, so
// each side imports it and the two never disagree.
package s3name

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidBucket reports whether name can be a bucket. It is deliberately
// looser than today's S3 naming rules: buckets created in us-east-1 before
// 2018 may have capitals, underscores and up to 255 characters, and still
// exist. It still rejects what can never be a bucket, such as a slash, a
// space or an ARN, with a clear message before S3 answers with a less
// clear one.
func ValidBucket(name string) bool {
	if len(name) < 3 || len(name) > 255 {
		return false
	}
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return alnum(name[0]) && alnum(name[len(name)-1])
}

// MaxRootPrefixLen bounds a root prefix. S3 keys are at most 1,024 bytes;
// half of that for the prefix still leaves room for real paths below it.
const MaxRootPrefixLen = 512

// Why a root prefix is refused; CheckRootPrefix returns one of these
// (CheckSegments the last two).
var (
	ErrTooLong      = errors.New("longer than 512 bytes")
	ErrLeadingSlash = errors.New("starts with a slash")
	ErrTrailing     = errors.New("ends with a slash")
	ErrInvalidUTF8  = errors.New("not valid UTF-8")
	ErrControlChar  = errors.New("control character")
	ErrEmptySegment = errors.New("empty segment")
	ErrDotSegment   = errors.New(`"." or ".." segment`)
)

// CheckRootPrefix validates a root prefix with the rules of a listing
// path, because it becomes the start of every key a deployment may list:
// no slash at either end (the lister adds the one separator), no empty or
// dot segments (S3 has no path semantics, so "a/../b" would be a distinct,
// surprising key prefix, not "b"), no control characters, valid UTF-8 and
// bounded length. The empty string means the whole bucket.
func CheckRootPrefix(p string) error {
	switch {
	case p == "":
		return nil
	case len(p) > MaxRootPrefixLen:
		return ErrTooLong
	case strings.HasPrefix(p, "/"):
		return ErrLeadingSlash
	case strings.HasSuffix(p, "/"):
		return ErrTrailing
	case !utf8.ValidString(p):
		return ErrInvalidUTF8
	case strings.ContainsFunc(p, unicode.IsControl):
		return ErrControlChar
	}
	return CheckSegments(p)
}

// CheckSegments applies the segment rule that root prefixes and the
// service's listing paths share to p, a path without a slash at either
// end: no empty segment ("a//b") and no "." or ".." segment. S3 has no path
// semantics, so each would name a distinct, surprising key prefix.
func CheckSegments(p string) error {
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return ErrEmptySegment
		case ".", "..":
			return ErrDotSegment
		}
	}
	return nil
}
