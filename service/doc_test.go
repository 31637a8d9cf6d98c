package service

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestDocFileMap holds doc.go's list of files to the package directory, so
// the map a newcomer reads is the tree that is there.
func TestDocFileMap(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for line := range strings.SplitSeq(string(doc), "\n") {
		name, ok := strings.CutPrefix(line, "//\t")
		if f := strings.Fields(name); ok && len(f) > 0 && strings.HasSuffix(f[0], ".go") {
			listed = append(listed, f[0])
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			files = append(files, n)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, files) {
		t.Errorf("doc.go lists %q\nthe package has %q", listed, files)
	}
	internal, err := os.ReadDir("internal")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range internal {
		if e.IsDir() && !strings.Contains(string(doc), "internal/"+e.Name()+" ") {
			t.Errorf("doc.go does not describe internal/%s", e.Name())
		}
	}
}
