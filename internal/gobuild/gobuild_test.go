package gobuild

import (
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

func TestCommandIsReproducible(t *testing.T) {
	cmd, err := Command("/mod", "amd64", "/out/bucketls")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", Package} {
		if !slices.Contains(cmd.Args, want) {
			t.Errorf("go build args %q lack %q", cmd.Args, want)
		}
	}
	if cmd.Dir != "/mod" || !slices.Contains(cmd.Env, "GOARCH=amd64") {
		t.Errorf("go build runs in %q with GOARCH from %q, want /mod and amd64", cmd.Dir, cmd.Env)
	}
}
