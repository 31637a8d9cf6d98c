package e2e

import (
	"reflect"
	"testing"

	"github.com/bucketls/bucketls/service"
	"github.com/bucketls/bucketls/stack"
)

// The stack does not import the service (the wall between them), so it
// keeps a copy of the reference tree. e2e may import both, so the test that
// holds the copy to its original lives here. (The bucket-name and
// root-prefix rules are no copy: both sides import package s3name.)

// TestReferenceTreesAgree: the bucket the stack seeds holds the tree the
// service's demo serves and the README documents.
func TestReferenceTreesAgree(t *testing.T) {
	if got, want := stack.ReferenceKeys(), service.ReferenceKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("stack.ReferenceKeys() = %q, service.ReferenceKeys() = %q; the stack's copy (stack/buckets.go) must match", got, want)
	}
}
