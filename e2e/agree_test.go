package e2e

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bucketls/bucketls/service"
	"github.com/bucketls/bucketls/stack"
)

// The stack does not import the service (the wall between them), so it
// keeps copies of two of the service's rules. e2e may import both, so the
// tests that hold each copy to its original live here.

// TestReferenceTreesAgree: the bucket the stack seeds holds the tree the
// service's demo serves and the README documents.
func TestReferenceTreesAgree(t *testing.T) {
	if got, want := stack.ReferenceKeys(), service.ReferenceKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("stack.ReferenceKeys() = %q, service.ReferenceKeys() = %q; the stack's copy (stack/buckets.go) must match", got, want)
	}
}

// serviceAccepts reports whether the service's configuration check accepts
// args as far as flag goes. The service's rules are unexported, so they are
// asked through Run: with an --htpasswd file that does not exist, which Run
// reads only after every other check passed, Run always stops with a
// configuration error before it opens anything, and that error names flag
// exactly when flag's value is refused.
func serviceAccepts(t *testing.T, flag string, args ...string) bool {
	t.Helper()
	args = append(args, "--htpasswd", filepath.Join(t.TempDir(), "no-such-file"))
	err := service.Run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
	switch {
	case err == nil:
		t.Fatalf("service.Run(%q) returned nil; the test needs a configuration error", args)
	case strings.Contains(err.Error(), flag):
		return false
	case !strings.Contains(err.Error(), "--htpasswd"):
		t.Fatalf("service.Run(%q) = %v; want an error about %s or --htpasswd", args, err, flag)
	}
	return true
}

// TestBucketNameRulesAgree: a bucketName the stack accepts for an existing
// bucket is one the deployed service accepts for --bucket, and the other
// way round.
func TestBucketNameRulesAgree(t *testing.T) {
	for _, name := range []string{
		"my-bucket", "My_Legacy_Bucket", "a.b-c_d", "my..bucket", "192.168.1.1", "abc", strings.Repeat("b", 255),
		"ab", strings.Repeat("b", 256), "_leading", "trailing-", "s3://my-bucket", "arn:aws:s3:::my-bucket", "my bucket", "my/bucket",
	} {
		cfg := stack.DefaultConfig()
		cfg.BucketName = name
		stackOK := cfg.Validate() == nil

		if serviceOK := serviceAccepts(t, "--bucket", "--bucket", name); stackOK != serviceOK {
			t.Errorf("bucket name %q: the stack accepts it = %v, the service = %v", name, stackOK, serviceOK)
		}
	}
}

// TestRootPrefixRulesAgree: every rootPrefix the stack accepts, the
// service accepts for --root-prefix, and what the service refuses, the
// stack refuses too. The stack refuses a few more ("*", "?", "$", "%{"),
// which its IAM condition and Terraform cannot carry.
func TestRootPrefixRulesAgree(t *testing.T) {
	for _, tc := range []struct {
		prefix         string
		stack, service bool // accepted by each
	}{
		{"reports", true, true}, {"team/2024", true, true}, {"ünïcode/päth", true, true}, {"with space", true, true},
		{"100%", true, true}, {"a.b/c..d", true, true}, {strings.Repeat("p", 512), true, true},
		{"/lead", false, false}, {"trail/", false, false}, {"a//b", false, false}, {"a/./b", false, false}, {"..", false, false},
		{"a\x07b", false, false}, {"bad\xffutf8", false, false}, {strings.Repeat("p", 513), false, false},
		{"a*", false, true}, {"a?", false, true}, {"$x", false, true}, {"a%{b}", false, true},
	} {
		cfg := stack.DefaultConfig()
		cfg.RootPrefix = tc.prefix
		stackOK := cfg.Validate() == nil

		serviceOK := serviceAccepts(t, "--root-prefix", "--bucket", "my-bucket", "--root-prefix", tc.prefix)
		if stackOK != tc.stack || serviceOK != tc.service {
			t.Errorf("root prefix %q: accepted by the stack %v, by the service %v; want %v, %v", tc.prefix, stackOK, serviceOK, tc.stack, tc.service)
		}
	}
}
