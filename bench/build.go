package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/bucketls/bucketls/internal/gobuild"
)

// buildService builds the binary exactly as the stack ships it (gobuild is
// the stack's own build definition), for this machine's architecture, from
// the module in the working directory.
func buildService(dir string) (string, error) {
	bin := filepath.Join(dir, "bucketls")
	cmd, err := gobuild.Command(".", runtime.GOARCH, bin)
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s (run the benchmark from the module root): %v\n%s", gobuild.Package, err, strings.TrimSpace(stderr.String()))
	}
	return bin, nil
}
