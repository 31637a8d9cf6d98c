package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindModuleDir(t *testing.T) {
	dir, err := findModuleDir("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Errorf("findModuleDir() = %s, which has no go.mod", dir)
	}
	empty := t.TempDir()
	if _, err := findModuleDir(empty); err == nil || !strings.Contains(err.Error(), servicePackage) {
		t.Errorf("findModuleDir(%s) = %v, want an error naming %s", empty, err, servicePackage)
	}
}

func TestBuildServiceReportsCompileErrors(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, filepath.FromSlash(servicePackage))
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(dir, "go.mod"):  "module example.com/broken\n\ngo 1.22\n",
		filepath.Join(pkg, "main.go"): "package main\n\nfunc main() { undefined() }\n",
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := buildService(dir, "amd64", filepath.Join(dir, "out", "bucketls"))
	if err == nil || !strings.Contains(err.Error(), "undefined") || !strings.Contains(err.Error(), "linux/amd64") {
		t.Errorf("buildService of a broken package = %v, want the compiler's error and the target", err)
	}
}
