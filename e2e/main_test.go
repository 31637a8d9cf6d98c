package e2e

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// TestMain stops the jsii runtime that synthesis starts, so its Node.js
// process and its /tmp/jsii-runtime.* directory do not outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
