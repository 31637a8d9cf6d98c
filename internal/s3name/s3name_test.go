package s3name

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bucketls/bucketls/internal/s3name/s3nametest"
)

// TestValidBucket: today's names, legacy us-east-1 names that still exist,
// and what can never be a bucket.
func TestValidBucket(t *testing.T) {
	for _, tt := range s3nametest.Buckets() {
		if got := ValidBucket(tt.Name); got != tt.OK {
			t.Errorf("ValidBucket(%q) = %v, want %v", tt.Name, got, tt.OK)
		}
	}
}

// TestCheckRootPrefix: what a deployment may be confined to, and why the
// rest is refused.
func TestCheckRootPrefix(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		want   error
	}{
		{"", nil}, {"reports", nil}, {"team/2024", nil}, {"ünïcode/päth", nil}, {"with space", nil},
		{"100%", nil}, {"a.b/c..d", nil}, {"..a", nil}, {strings.Repeat("p", 512), nil},
		{"/lead", ErrLeadingSlash}, {"/", ErrLeadingSlash}, {"trail/", ErrTrailing}, {"a//b", ErrEmptySegment},
		{"a/./b", ErrDotSegment}, {"..", ErrDotSegment}, {"a/..", ErrDotSegment}, {"a\x07b", ErrControlChar},
		{"a\u0085", ErrControlChar}, {"bad\xffutf8", ErrInvalidUTF8}, {strings.Repeat("p", 513), ErrTooLong},
	} {
		if err := CheckRootPrefix(tt.prefix); !errors.Is(err, tt.want) {
			t.Errorf("CheckRootPrefix(%q) = %v, want %v", tt.prefix, err, tt.want)
		}
	}
}

// FuzzCheckRootPrefix: whatever the check accepts has no empty or dot
// segment, no slash at either end, no control character, and is valid
// UTF-8 within the bound.
func FuzzCheckRootPrefix(f *testing.F) {
	for _, s := range []string{"", "pub", "a/b", "/a", "a/", "a//b", "a/../b", "\xff", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckRootPrefix(p) != nil || p == "" {
			return
		}
		if len(p) > MaxRootPrefixLen || !utf8.ValidString(p) || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsFunc(p, unicode.IsControl) {
			t.Fatalf("accepted %q", p)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
	})
}
