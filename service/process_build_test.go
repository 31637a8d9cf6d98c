package service

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// buildBinary builds ./cmd/bucketls once per test run into a temporary
// directory that TestMain removes. The process tests use the real binary,
// exactly as deployed (CGO off, trimmed paths).
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		binDir, binErr = os.MkdirTemp("", "bucketls-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bucketls")
		cmd := exec.Command(goTool, "build", "-trimpath", "-o", binPath, "./cmd/bucketls")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
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
