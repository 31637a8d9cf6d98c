// Package gobuild is the one definition of how the bucketls binary is built
// for a deploy: the go build flags and the pinned environment. The stack
// builds the artifact it ships with it, and the benchmark builds the binary
// it measures with it, so "as deployed" means the same bytes in both.
//
// It is a leaf: pure Go, importing neither the service nor the stack (nor
// cdktf or jsii), so each of them, the benchmark and the tests import it
// and the stack still meets the service only as the bytes this build makes.
package gobuild

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Package is the service's main package, relative to the module root.
const Package = "./service/cmd/bucketls"

// flags make the build reproducible: -trimpath drops file system paths,
// -buildvcs=false drops the git state, -s -w drop the symbol and debug
// tables, and an empty -buildid drops the ID that changes with the build
// cache.
var flags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

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
// in moduleDir for linux/arch into out, with [Env] as its environment. The
// caller runs it and reads its stderr.
func Command(moduleDir, arch, out string) (*exec.Cmd, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("build %s: the go command is not on PATH (%w): the binary is cross-compiled from source, so this needs Go", Package, err)
	}
	cmd := exec.Command(goBin, append(append([]string{"build"}, flags...), "-o", out, Package)...)
	cmd.Dir = moduleDir
	cmd.Env = Env(arch)
	return cmd, nil
}
