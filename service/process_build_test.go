package service

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/bucketls/bucketls/internal/gobuild"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// buildBinary builds ./cmd/bucketls once per test run into a temporary
// directory that TestMain removes, with the deploy's own build definition
// (package gobuild: CGO off, trimmed paths, pinned environment), so the
// process tests run the binary exactly as deployed, for this machine's
// architecture.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "bucketls-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bucketls")
		cmd, err := gobuild.Command("..", runtime.GOARCH, binPath)
		if err != nil {
			binErr = err
			return
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building bucketls: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func cleanupBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}
