// Package scripttest checks boot scripts and systemd units with the
// tools that run them, for the tests of the boot script and of the stack
// that synthesizes it.
package scripttest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// BashSyntax runs bash -n over script and fails the test on an error.
func BashSyntax(t *testing.T, script string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "user-data.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-n", path).CombinedOutput()
	if err != nil {
		t.Fatalf("bash -n: %v\n%s\nscript:\n%s", err, out, script)
	}
}

var (
	execStartRE = regexp.MustCompile(`\nExecStart=\S+\n`)
	exposureRE  = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)
)

// VerifyUnit fails the test when systemd-analyze (at the path analyze)
// verify reports anything about the service unit file unit, or its
// exposure score is above 2.0. verify exits 0 on unknown keys and bad
// values (it only warns), so any output counts as a failure. ExecStart
// points at a real executable for the check: verify insists the binary
// exists, and it is not installed here.
func VerifyUnit(t *testing.T, analyze, unit string) {
	t.Helper()
	dir := t.TempDir()
	exe, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(execStartRE.FindAllString(unit, -1)); n != 1 {
		t.Fatalf("unit has %d ExecStart= lines, want 1", n)
	}
	unit = execStartRE.ReplaceAllLiteralString(unit, "\nExecStart="+exe+"\n")
	path := filepath.Join(dir, "checked.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, unit)
	}
	out, err = exec.Command(analyze, "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureRE.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("unit exposure level %.1f, want at most 2.0:\n%s", level, out)
	}
}
