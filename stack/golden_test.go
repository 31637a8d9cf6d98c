package stack

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden from this synth")

// assetHashRE matches the content hash directory of an asset path.
var assetHashRE = regexp.MustCompile(`assets/([^/"]+)/[0-9A-F]{32}/`)

// normalize replaces what changes with the service's source (the artifact's
// SHA-256 and the asset's content hash) by placeholders, leaving only what
// the stack code decides.
func (c *synthCase) normalize() []byte {
	out := bytes.ReplaceAll(c.raw, []byte(c.res.ArtifactSHA256), []byte("<ARTIFACT_SHA256>"))
	return assetHashRE.ReplaceAll(out, []byte("assets/$1/<ASSET_HASH>/"))
}

// TestGolden pins the synthesized JSON of both single-mode test stacks,
// less the artifact's hashes: any change to resources, names, user data or
// outputs shows up as a diff to review. After an intended change, run
// go test ./stack -run Golden -update and commit the files.
func TestGolden(t *testing.T) {
	def, _, variant := synthesized(t)
	checkGolden(t, map[string]*synthCase{"default": def, "variant": variant})
}

// TestGoldenHA pins the two stacks of mode "ha" the same way, in their
// own files: go test ./stack -run GoldenHA -update rewrites only those.
func TestGoldenHA(t *testing.T) {
	def, variant := haSynthesized(t)
	checkGolden(t, map[string]*synthCase{"ha-default": def, "ha-variant": variant})
}

// checkGolden compares each stack with testdata/golden/<name>.cdk.tf.json,
// or rewrites the file with -update.
func checkGolden(t *testing.T, cases map[string]*synthCase) {
	t.Helper()
	for name, c := range cases {
		checkGoldenFile(t, filepath.Join("testdata", "golden", name+".cdk.tf.json"), c.normalize())
	}
}

// checkGoldenFile compares got with the file at path, or rewrites the file
// with -update. A difference leaves got in a temporary file, for the diff.
func checkGoldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./stack -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		dir, err := os.MkdirTemp("", "bucketls-golden-")
		if err != nil {
			t.Fatal(err)
		}
		gotPath := filepath.Join(dir, filepath.Base(path))
		_ = os.WriteFile(gotPath, got, 0o644)
		t.Errorf("%s differs; compare with: diff %s %s\n(if the change is intended: go test ./stack -run %s -update)",
			path, path, gotPath, t.Name())
	}
}
