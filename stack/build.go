package stack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// servicePackage is the service's main package, relative to the module root.
const servicePackage = "./service/cmd/bucketls"

// binary is one build of the service.
type binary struct {
	path   string // absolute path of the built file
	sha256 string // lowercase hex SHA-256 of its bytes
	arch   string // GOARCH it was built for
}

// buildEnv returns the environment for the cross-compile: the caller's, with
// every variable that changes the output bytes pinned, so the same source
// and toolchain always give the same binary (and so the same S3 key, user
// data and instance).
func buildEnv(arch string) []string {
	pinned := map[string]string{
		"CGO_ENABLED": "0", // static binary: AL2023's libc does not matter
		"GOOS":        "linux",
		"GOARCH":      arch,
		"GOAMD64":     "v1",   // baseline x86-64: any developer tuning would change the bytes
		"GOARM64":     "v8.0", // baseline arm64, for the same reason
		"GOFLAGS":     "",     // e.g. -race or -tags in a developer's GOFLAGS would change the bytes
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[name]; !ok {
			env = append(env, kv)
		}
	}
	for _, name := range sortedKeys(pinned) {
		env = append(env, name+"="+pinned[name])
	}
	return env
}

// buildService cross-compiles servicePackage of the module in moduleDir for
// linux/arch into out and returns its SHA-256. The flags make the build
// reproducible: -trimpath drops file system paths, -buildvcs=false drops the
// git state, -s -w drop the symbol and debug tables, and an empty -buildid
// drops the ID that changes with the build cache.
func buildService(moduleDir, arch, out string) (binary, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return binary{}, fmt.Errorf("build %s: the go command is not on PATH (%w): synth cross-compiles the service, so it needs Go", servicePackage, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return binary{}, fmt.Errorf("build %s: %w", servicePackage, err)
	}
	cmd := exec.Command(goBin, "build",
		"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
		"-o", out, servicePackage)
	cmd.Dir = moduleDir
	cmd.Env = buildEnv(arch)
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
