package service

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/internal/gobuild"
)

func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	vcs := func(revision, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified},
		}}
	}
	tests := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"the deploy build's stamp wins", "src-0123456789abcdef", vcs("abc123", "true"), "src-0123456789abcdef"},
		{"go install of a release", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"go build in a clone (pseudo-version)", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261204141441-0da8cf1b8a29+dirty"}}, "v0.0.0-20261204141441-0da8cf1b8a29+dirty"},
		{"a clean checkout's revision", "", vcs("0da8cf1b8a29", "false"), "0da8cf1b8a29"},
		{"a dirty tree is not its commit", "", vcs("0da8cf1b8a29", "true"), "0da8cf1b8a29+dirty"},
		{"a work tree without VCS information", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"a test binary (no main module version)", "", &debug.BuildInfo{}, "devel"},
		{"no build information", "", nil, "devel"},
	}
	for _, tt := range tests {
		if got := version(tt.linked, tt.bi); got != tt.want {
			t.Errorf("%s: version = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestRunVersion: --version prints one line and returns nil, with nothing
// else configured and even with a variable that would not parse.
func TestRunVersion(t *testing.T) {
	t.Parallel()
	want := "bucketls devel " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version", "--addr", "nonsense"}} {
		var stdout, stderr bytes.Buffer
		err := Run(context.Background(), args, envFunc("BUCKETLS_CACHE_TTL", "forever"), &stdout, &stderr)
		if err != nil || stdout.String() != want || stderr.Len() != 0 {
			t.Errorf("Run %q = %v, stdout %q, stderr %q; want nil, %q and nothing", args, err, stdout.String(), stderr.String(), want)
		}
	}
	for _, args := range [][]string{{"--version=false"}, {"--version=maybe"}} {
		if _, err := parseConfig(args, envFunc()); errors.Is(err, errVersion) || ExitCode(err) != 2 {
			t.Errorf("parseConfig %q = %v, want a configuration error, not the version", args, err)
		}
	}
}

// TestVersionServed: the serving line and /metrics name the build.
func TestVersionServed(t *testing.T) {
	t.Parallel()
	base, out, _, _, _ := startRun(t, []string{"--addr", "127.0.0.1:0", "--demo"})
	if l := out.find("serving"); l["version"] != "devel" {
		t.Errorf("serving line %v, want version devel", l)
	}
	r := get(t, base, "/metrics")
	if want := `bucketls_build_info{goversion="` + runtime.Version() + `",version="devel"} 1`; r.status != http.StatusOK || !strings.Contains(r.body, want) {
		t.Errorf("GET /metrics: %d, lacks %s", r.status, want)
	}
}

// TestProcessVersion runs the binary as deployed (built by gobuild): it
// reports the version of its sources, which gobuild stamped, with --version
// (exit 0, no bucket needed), in the serving line and on /metrics.
func TestProcessVersion(t *testing.T) {
	t.Parallel()
	want, err := gobuild.Version("..", runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, []string{"--version"})
	if code := p.exit(t, 10*time.Second); code != 0 {
		t.Errorf("--version: exit status = %d, want 0; stderr %q", code, p.stderrText())
	}
	if got, line := strings.Join(p.out.all(), ""), "bucketls "+want+" "+runtime.Version()+" linux/"+runtime.GOARCH+"\n"; got != line {
		t.Errorf("--version printed %q, want %q", got, line)
	}

	p = startProc(t, []string{"--demo", "--addr", "127.0.0.1:0"})
	base := p.base(t)
	if l := p.out.find("serving"); l["version"] != want {
		t.Errorf("serving line %v, want version %s", l, want)
	}
	if r := get(t, base, "/metrics"); !strings.Contains(r.body, `version="`+want+`"`) {
		t.Errorf("GET /metrics: %d, no bucketls_build_info with version %s", r.status, want)
	}
}
