// Package gobuild is the one definition of how the bucketls binary is built
// for a deploy: the go build flags and the pinned environment. The stack
// builds the artifact it ships with it, and the benchmark builds the binary
// it measures with it, so "as deployed" means the same bytes in both.
//
// The build stamps the binary with a version that is a function of its
// sources alone ([Version]), so the same sources still give the same bytes.
//
// It is a leaf: pure Go, importing neither the service nor the stack (nor
// cdktf or jsii), so each of them, the benchmark and the tests import it
// and the stack still meets the service only as the bytes this build makes.
package gobuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Package is the service's main package, relative to the module root.
const Package = "./service/cmd/bucketls"

// VersionSymbol is the string variable the build sets to [Version] with
// the linker's -X: the service reports it (--version, the serving log line,
// bucketls_build_info). The linker ignores -X for a name that does not
// exist, so the service's process tests check that the binary reports it.
const VersionSymbol = "github.com/bucketls/bucketls/service.linkedVersion"

// flags make the build reproducible: -trimpath drops file system paths,
// -buildvcs=false drops the git state (a commit, a clean or dirty tree: two
// checkouts of the same sources must not differ by it), -s -w drop the
// symbol and debug tables, and an empty -buildid drops the ID that changes
// with the build cache. ldflags completes the last one with the version.
var flags = []string{"-trimpath", "-buildvcs=false"}

// ldflags is the -ldflags argument for a build stamped with version.
func ldflags(version string) string {
	return "-ldflags=-s -w -buildid= -X " + VersionSymbol + "=" + version
}

// Env returns the environment for the cross-compile to linux/arch: the
// caller's, with every variable that changes the output bytes pinned, so the
// same source and toolchain always give the same binary (and so the same S3
// key, user data and instance).
func Env(arch string) []string {
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
	names := make([]string, 0, len(pinned))
	for name := range pinned {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		env = append(env, name+"="+pinned[name])
	}
	return env
}

// Command returns the go build that cross-compiles [Package] of the module
// in moduleDir for linux/arch into out, with [Env] as its environment and
// the sources' [Version] stamped in. The caller runs it and reads its
// stderr.
func Command(moduleDir, arch, out string) (*exec.Cmd, error) {
	goBin, err := goCommand()
	if err != nil {
		return nil, err
	}
	version, err := sourceVersion(goBin, moduleDir, arch)
	if err != nil {
		return nil, err
	}
	args := append(append([]string{"build"}, flags...), ldflags(version), "-o", out, Package)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = moduleDir
	cmd.Env = Env(arch)
	return cmd, nil
}

// Version returns the version [Command] stamps into a build of [Package]
// of the module in moduleDir for linux/arch: "src-" and 16 hex digits of a
// SHA-256 over the build's sources, which are
//   - every file of the module (or of a module replaced by a directory) that
//     the build compiles or embeds, by import path and name, as go list
//     names them for linux/arch;
//   - go.mod, whole: its go, toolchain and godebug lines change the binary;
//   - the path and version of every other module the binary links, whose
//     contents go.sum and the checksum database hold to that version.
//
// Why not the git commit: a commit is not a function of the sources (a
// commit that only changes docs or tests would give the same sources a new
// version, new bytes, a new S3 key and so a replaced instance), and a tree
// with uncommitted changes has no commit to name. Equal sources give an
// equal version, whatever the checkout, its path or its git state, so the
// stamped binary keeps "equal sources, equal bytes"; the toolchain, which
// changes the bytes too, is reported beside it (Go's runtime.Version).
func Version(moduleDir, arch string) (string, error) {
	goBin, err := goCommand()
	if err != nil {
		return "", err
	}
	return sourceVersion(goBin, moduleDir, arch)
}

func goCommand() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s: the go command is not on PATH (%w): the binary is cross-compiled from source, so this needs Go", Package, err)
	}
	return goBin, nil
}

// listedPackage is what sourceVersion reads of go list's answer.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct {
		Path, Version, GoMod string
		Main                 bool
		Replace              *struct{ Path, Version string }
	}
	// Every kind of file go build reads from a package's directory.
	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles []string
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles                      []string
}

// sourceVersion is [Version] with the go command found.
func sourceVersion(goBin, moduleDir, arch string) (string, error) {
	cmd := exec.Command(goBin, "list", "-e", "-deps", "-json", Package)
	cmd.Dir = moduleDir
	cmd.Env = Env(arch)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("version of %s in %s: go list: %w\n%s", Package, moduleDir, err, strings.TrimSpace(stderr.String()))
	}
	var lines []string
	var goMod string
	dec := json.NewDecoder(&stdout)
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("version of %s: read go list: %w", Package, err)
		}
		m := p.Module
		switch {
		case p.Standard || m == nil:
			continue // the toolchain's, reported beside the version
		case !m.Main && (m.Replace == nil || m.Replace.Version != ""):
			dep := "module " + m.Path + " " + m.Version
			if m.Replace != nil {
				dep += " => " + m.Replace.Path + " " + m.Replace.Version
			}
			lines = append(lines, dep)
			continue
		case m.Main:
			goMod = m.GoMod
		}
		for _, names := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles, p.FFiles, p.SFiles, p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles} {
			for _, name := range names {
				sum, err := fileSum(filepath.Join(p.Dir, filepath.FromSlash(name)))
				if err != nil {
					return "", fmt.Errorf("version of %s: %w", Package, err)
				}
				lines = append(lines, "file "+p.ImportPath+"/"+name+" "+sum)
			}
		}
	}
	if goMod == "" {
		return "", fmt.Errorf("version of %s in %s: go list names no package of the main module", Package, moduleDir)
	}
	sum, err := fileSum(goMod)
	if err != nil {
		return "", fmt.Errorf("version of %s: %w", Package, err)
	}
	lines = append(lines, "go.mod "+sum)
	slices.Sort(lines)
	lines = slices.Compact(lines) // a module links many packages
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "src-" + hex.EncodeToString(h[:8]), nil
}

// fileSum returns the lowercase hex SHA-256 of the file at path.
func fileSum(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}
