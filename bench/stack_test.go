package main

import (
	"testing"

	"github.com/bucketls/bucketls/stack"
)

// TestStackCacheTTL keeps the "1000 dirs, --cache-ttl" rows on the TTL the
// stack deploys. The benchmark itself does not import the stack, so that
// go run ./bench does not compile cdktf.
func TestStackCacheTTL(t *testing.T) {
	if got := stack.DefaultConfig().CacheTTL; got != stackCacheTTL {
		t.Errorf("the stack deploys --cache-ttl %s, the benchmark measures %s: update stackCacheTTL", got, stackCacheTTL)
	}
}
