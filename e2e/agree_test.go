package e2e

import (
	"context"
	"io"
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

// TestBucketNameRulesAgree: a bucketName the stack accepts for an existing
// bucket is one the deployed service accepts for --bucket, and the other
// way round. The service's rule is unexported, so it is asked through Run:
// with a --cache-ttl that is always wrong, Run stops at its configuration
// check, and its error names --bucket exactly when the name is refused.
func TestBucketNameRulesAgree(t *testing.T) {
	for _, name := range []string{
		"my-bucket", "My_Legacy_Bucket", "a.b-c_d", "my..bucket", "192.168.1.1", "abc", strings.Repeat("b", 255),
		"ab", strings.Repeat("b", 256), "_leading", "trailing-", "s3://my-bucket", "arn:aws:s3:::my-bucket", "my bucket", "my/bucket",
	} {
		cfg := stack.DefaultConfig()
		cfg.BucketName = name
		stackOK := cfg.Validate() == nil

		err := service.Run(context.Background(), []string{"--bucket", name, "--cache-ttl", "-1s"},
			func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil {
			t.Fatalf("service.Run with --cache-ttl -1s returned nil; the test needs a configuration error")
		}
		serviceOK := !strings.Contains(err.Error(), "--bucket")
		if stackOK != serviceOK {
			t.Errorf("bucket name %q: the stack accepts it = %v, the service = %v (%v)", name, stackOK, serviceOK, err)
		}
	}
}
