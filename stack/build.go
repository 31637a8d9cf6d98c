package stack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bucketls/bucketls/internal/gobuild"
)

// servicePackage is the service's main package, relative to the module root.
const servicePackage = gobuild.Package

// binary is one build of the service.
type binary struct {
	path   string // absolute path of the built file
	sha256 string // lowercase hex SHA-256 of its bytes
	arch   string // GOARCH it was built for
}

// buildService cross-compiles servicePackage of the module in moduleDir for
// linux/arch into out and returns its SHA-256. The flags and environment are
// gobuild's, the one build definition the benchmark shares, so the bytes are
// the same for the same source and toolchain.
func buildService(moduleDir, arch, out string) (binary, error) {
	cmd, err := gobuild.Command(moduleDir, arch, out)
	if err != nil {
		return binary{}, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return binary{}, fmt.Errorf("build %s: %w", servicePackage, err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return binary{}, fmt.Errorf("build %s for linux/%s in %s: %w\n%s", servicePackage, arch, moduleDir, err, strings.TrimSpace(stderr.String()))
	}
	sum, err := fileSHA256(out)
	if err != nil {
		return binary{}, fmt.Errorf("build %s: %w", servicePackage, err)
	}
	return binary{path: out, sha256: sum, arch: arch}, nil
}

// fileSHA256 returns the lowercase hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// findModuleDir returns dir, or when dir is empty the nearest directory at
// or above the working directory that holds a go.mod, after checking that it
// holds the service's main package.
func findModuleDir(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find the Go module: %w", err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = d
				break
			}
			if filepath.Dir(d) == d {
				return "", fmt.Errorf("find the Go module: no go.mod in %s or above it; run synth inside the bucketls repository or set Config.ModuleDir", wd)
			}
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find the Go module: %w", err)
	}
	pkg := filepath.Join(dir, filepath.FromSlash(servicePackage))
	if st, err := os.Stat(pkg); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return "", fmt.Errorf("find the service: %s: %w; the stack builds the binary it deploys from %s of the module", pkg, err, servicePackage)
	}
	return dir, nil
}
