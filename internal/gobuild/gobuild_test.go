package gobuild

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestEnvPinsTheOutput(t *testing.T) {
	t.Setenv("GOFLAGS", "-race")
	t.Setenv("GOAMD64", "v3")
	t.Setenv("CGO_ENABLED", "1")
	got := map[string][]string{}
	for _, kv := range Env("arm64") {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = append(got[k], v)
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "arm64", "GOFLAGS": "", "GOAMD64": "v1", "GOARM64": "v8.0"} {
		if len(got[k]) != 1 || got[k][0] != want {
			t.Errorf("build env %s = %q, want exactly [%q]", k, got[k], want)
		}
	}
	if len(got["PATH"]) != 1 {
		t.Errorf("build env lost PATH")
	}
}

// fakeModule is a module with the service's paths and VersionSymbol, small
// enough to build in a test: its binary prints the version it was given.
var fakeModule = map[string]string{
	"go.mod": "module github.com/bucketls/bucketls\n\ngo 1.26\n",
	"service/service.go": `package service

import _ "embed"

//go:embed page.css
var css string

var linkedVersion string

func Version() string { return linkedVersion }
`,
	"service/page.css":             "body { color: black }\n",
	"service/service_test.go":      "package service\n",
	"service/cmd/bucketls/main.go": "package main\n\nimport \"github.com/bucketls/bucketls/service\"\n\nfunc main() { println(service.Version()) }\n",
	"other/other.go":               "package other\n",
	"README.md":                    "# fake\n",
}

// writeModule writes files into a new directory and returns it.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// edited is fakeModule with one file set (or, with body "", removed).
func edited(name, body string) map[string]string {
	files := maps.Clone(fakeModule)
	if body == "" {
		delete(files, name)
	} else {
		files[name] = body
	}
	return files
}

// TestVersionFollowsTheSources: the version changes with what the build
// reads and with nothing else; the checkout's directory is not part of it.
func TestVersionFollowsTheSources(t *testing.T) {
	base, err := Version(writeModule(t, fakeModule), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^src-[0-9a-f]{16}$`).MatchString(base) {
		t.Fatalf("Version = %q, want src- and 16 hex digits", base)
	}
	tests := []struct {
		name        string
		files       map[string]string
		wantChanged bool
	}{
		{"another checkout of the same sources", fakeModule, false},
		{"for another architecture", fakeModule, false}, // no file of the module depends on GOARCH
		{"a compiled file changes", edited("service/service.go", fakeModule["service/service.go"]+"\nvar _ = 1\n"), true},
		{"the main package changes", edited("service/cmd/bucketls/main.go", strings.Replace(fakeModule["service/cmd/bucketls/main.go"], "println", "print", 1)), true},
		{"a file is added to a package", edited("service/more.go", "package service\n"), true},
		{"an embedded file changes", edited("service/page.css", "body { color: red }\n"), true},
		{"go.mod changes", edited("go.mod", fakeModule["go.mod"]+"\ngodebug default=go1.25\n"), true},
		{"a test file changes", edited("service/service_test.go", "package service\n\nvar _ = 1\n"), false},
		{"a package outside the build changes", edited("other/other.go", "package other\n\nvar _ = 1\n"), false},
		{"the README changes", edited("README.md", ""), false},
		{"a file for another OS is added", edited("service/x_windows.go", "package service\n"), false},
	}
	for _, tt := range tests {
		arch := "amd64"
		if strings.Contains(tt.name, "architecture") {
			arch = "arm64"
		}
		got, err := Version(writeModule(t, tt.files), arch)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if changed := got != base; changed != tt.wantChanged {
			t.Errorf("%s: Version = %s, was %s; want changed = %v", tt.name, got, base, tt.wantChanged)
		}
	}
	if _, err := Version(t.TempDir(), "amd64"); err == nil || !strings.Contains(err.Error(), "go list") {
		t.Errorf("Version of a directory without a module = %v, want go list's error", err)
	}
}

// TestBuildIsReproducibleAndStamped builds the same sources from two
// checkouts: the bytes are equal and the binary reports the version of its
// sources; a change to them gives other bytes and another version.
func TestBuildIsReproducibleAndStamped(t *testing.T) {
	build := func(files map[string]string) (bin []byte, printed, version string) {
		t.Helper()
		dir := writeModule(t, files)
		version, err := Version(dir, runtime.GOARCH)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "bucketls")
		cmd, err := Command(dir, runtime.GOARCH, out)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
		if bin, err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer // println writes there
		run := exec.Command(out)
		run.Stderr = &stderr
		if err := run.Run(); err != nil {
			t.Fatalf("run the build: %v", err)
		}
		return bin, strings.TrimSpace(stderr.String()), version
	}
	a, printedA, versionA := build(fakeModule)
	b, printedB, _ := build(fakeModule)
	if !bytes.Equal(a, b) {
		t.Errorf("two checkouts of the same sources built different bytes (%d and %d)", len(a), len(b))
	}
	if printedA != versionA || printedB != versionA {
		t.Errorf("the binaries report %q and %q, want the version they were given, %q", printedA, printedB, versionA)
	}
	c, printedC, versionC := build(edited("service/page.css", "body { color: red }\n"))
	if bytes.Equal(a, c) || versionC == versionA || printedC != versionC {
		t.Errorf("changed sources: equal bytes %v, version %s (was %s), reports %q; want other bytes reporting the new version",
			bytes.Equal(a, c), versionC, versionA, printedC)
	}
}

func TestCommandIsReproducible(t *testing.T) {
	dir := writeModule(t, fakeModule)
	version, err := Version(dir, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := Command(dir, "amd64", "/out/bucketls")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid= -X " + VersionSymbol + "=" + version, Package} {
		if !slices.Contains(cmd.Args, want) {
			t.Errorf("go build args %q lack %q", cmd.Args, want)
		}
	}
	if cmd.Dir != dir || !slices.Contains(cmd.Env, "GOARCH=amd64") {
		t.Errorf("go build runs in %q with GOARCH from %q, want %s and amd64", cmd.Dir, cmd.Env, dir)
	}
}
