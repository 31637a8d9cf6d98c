package stack

import (
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkELF checks that path is a static Linux executable for arch, built
// with the reproducible flags.
func checkELF(t *testing.T, path, arch string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("artifact is not ELF: %v", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		t.Errorf("artifact is %v %v %v, want a 64-bit %v executable", f.Class, f.Machine, f.Type, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("artifact has an interpreter: it is not static")
		}
	}
	// The flags -trimpath keeps out of the build info, checked in the file:
	// -s (no symbol table), -w (no DWARF), -buildid= (no Go build ID note).
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") || s.Name == ".note.go.buildid" {
			t.Errorf("artifact has section %s: -ldflags=\"-s -w -buildid=\" was not applied", s.Name)
		}
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("artifact build info: %v", err)
	}
	if bi.Path != "github.com/bucketls/bucketls/service/cmd/bucketls" {
		t.Errorf("artifact main package = %s", bi.Path)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"-trimpath": "true", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch, "-buildmode": "exe"} {
		if settings[k] != v {
			t.Errorf("artifact built with %s=%q, want %q", k, settings[k], v)
		}
	}
	for k := range settings {
		if strings.HasPrefix(k, "vcs") {
			t.Errorf("artifact carries %s: -buildvcs=false was not applied", k)
		}
	}
}

func TestArtifact(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, _ := c.bucketNames(t)
		bin, err := os.ReadFile(c.res.Artifact)
		if err != nil {
			t.Fatalf("artifact: %v", err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(bin)); got != c.res.ArtifactSHA256 {
			t.Errorf("artifact SHA-256 = %s, Synth reports %s", got, c.res.ArtifactSHA256)
		}
		if !strings.Contains(c.res.ArtifactKey, c.res.ArtifactSHA256) {
			t.Errorf("artifact key %q does not contain the SHA-256", c.res.ArtifactKey)
		}
		var objects []map[string]any
		for _, o := range c.tf.Resource["aws_s3_object"] {
			if o["bucket"] == ref("aws_s3_bucket", artifactBucket, "bucket") {
				objects = append(objects, o)
			}
		}
		if len(objects) != 1 {
			t.Fatalf("%d objects in the artifact bucket, want 1", len(objects))
		}
		o := objects[0]
		if o["key"] != c.res.ArtifactKey || o["source_hash"] != c.res.ArtifactSHA256 {
			t.Errorf("artifact object key, source_hash = %v, %v; want %s, %s", o["key"], o["source_hash"], c.res.ArtifactKey, c.res.ArtifactSHA256)
		}
		if _, ok := o["etag"]; ok {
			t.Errorf("artifact object sets etag; source_hash is the trigger")
		}
		// source is relative to the stack directory, where terraform runs.
		src, _ := o["source"].(string)
		if filepath.IsAbs(src) || filepath.Join(c.res.Dir, src) != c.res.Artifact {
			t.Errorf("artifact object source = %q, want %s relative to %s", src, c.res.Artifact, c.res.Dir)
		}
		checkELF(t, c.res.Artifact, c.cfg.Arch)
	})
}
