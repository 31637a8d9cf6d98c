package bootscript

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bootRun is one run of the boot script against fake commands.
type bootRun struct {
	root, log string
	stdout    string
	err       error
}

// fakeCommands stand in for the AWS CLI, systemd, curl, ps and install, so
// the script's logic runs for real without touching the machine. Each logs
// its arguments; the FAKE_* variables steer them.
var fakeCommands = map[string]string{
	"aws": `echo "aws $*" >>"$FAKE_LOG"
[ -z "${FAKE_AWS_FAIL:-}" ] || exit 1
if [ "$1" = ssm ]; then
	[ -z "${FAKE_SSM_FAIL:-}" ] || exit 1
	printf '%s\n' "$FAKE_HTPASSWD"
	exit 0
fi
args=("$@")
cp "$FAKE_ARTIFACT" "${args[-1]}"`,
	"install": `echo "install $*" >>"$FAKE_LOG"
args=("$@")
cp "${args[-2]}" "${args[-1]}" && chmod 0755 "${args[-1]}"`,
	"systemctl": `echo "systemctl $*" >>"$FAKE_LOG"
[ "$1" != show ] || echo 4242`,
	"curl": `echo "curl $*" >>"$FAKE_LOG"
case " $* " in
*" --write-out "*" https://"*) echo "${FAKE_HTTPS_LIST_STATUS:-401}" ;;
*" --write-out "*) echo "${FAKE_LIST_STATUS:-401}" ;;
*) [ -n "${FAKE_HEALTHY:-}" ] ;;
esac`,
	"ps":         `echo "${FAKE_PS:-bucketls 61934}"`,
	"journalctl": `echo "journalctl $*" >>"$FAKE_LOG"`,
	"sleep":      `exec /bin/sleep 0.05`,
}

// runBoot runs the boot script for b with the artifact bytes, under env
// FAKE_* settings, with no HOME and the machine paths moved into a temp dir.
func runBoot(t *testing.T, b Script, artifact []byte, fake ...string) bootRun {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	bin := filepath.Join(dir, "bin")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{bin, tmp, filepath.Join(root, "usr/local/bin"), filepath.Join(root, "usr/local/sbin"), filepath.Join(root, "etc/systemd/system")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range fakeCommands {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	artifactPath := filepath.Join(dir, "artifact")
	if err := os.WriteFile(artifactPath, artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := b.Bash()
	if err != nil {
		t.Fatal(err)
	}
	// Move machine paths into the temp dir and shorten the health wait; each
	// rewrite must apply, so a changed script fails here, not silently.
	rewrites := [][2]string{
		{"export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "export PATH=" + bin + ":/usr/bin:/bin"},
		{"/usr/bin/aws ", bin + "/aws "},
		{installPath, root + installPath},
		{unitPath, root + unitPath},
		{"deadline=$((SECONDS + 60))", "deadline=$((SECONDS + 2))"},
	}
	if b.HTPasswdParameter != "" {
		rewrites = append(rewrites, [2]string{fetchPath, root + fetchPath}, [2]string{htpasswdDir, root + htpasswdDir})
	}
	for _, r := range rewrites {
		if !strings.Contains(script, r[0]) {
			t.Fatalf("boot script has no %q to rewrite for the test", r[0])
		}
		script = strings.ReplaceAll(script, r[0], r[1])
	}
	scriptPath := filepath.Join(dir, "user-data.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "calls.log")
	cmd := exec.Command("/bin/bash", scriptPath)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "TMPDIR=" + tmp, "FAKE_LOG=" + log, "FAKE_ARTIFACT=" + artifactPath,
		"FAKE_HTPASSWD=" + fakeHTPasswd}, fake...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	calls, _ := os.ReadFile(log)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the script left %d entries in TMPDIR", len(left))
	}
	return bootRun{root: root, log: string(calls), stdout: out.String(), err: err}
}

// fakeHTPasswd is what the fake SSM parameter holds.
const fakeHTPasswd = "alice:$2y$05$abcdefghijklmnopqrstuu5mUCFbB8/N0Ju5yD5v2cWzJqu9HFWTW"

func (r bootRun) installed() bool {
	_, err := os.Stat(r.root + installPath)
	return err == nil
}

func (r bootRun) unitWritten() bool {
	_, err := os.Stat(r.root + unitPath)
	return err == nil
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestBootScriptRuns(t *testing.T) {
	artifact := []byte("\x7fELF the service")
	b := sampleScript(sha256Hex(artifact))
	// With tls and a password the service sends plain HTTP to HTTPS.
	r := runBoot(t, b, artifact, "FAKE_HEALTHY=1", "FAKE_LIST_STATUS=308")
	if r.err != nil {
		t.Fatalf("boot script: %v\n%s", r.err, r.stdout)
	}
	got, err := os.ReadFile(r.root + installPath)
	if err != nil || !bytes.Equal(got, artifact) {
		t.Errorf("installed binary = %q, %v; want the artifact", got, err)
	}
	if st, err := os.Stat(r.root + installPath); err == nil && st.Mode().Perm() != 0o755 {
		t.Errorf("installed binary mode = %v, want 0755", st.Mode().Perm())
	}
	unit, _ := os.ReadFile(r.root + unitPath)
	// The test moved the install path and the password's directory into
	// its temp dir, in the unit too.
	moved := strings.NewReplacer(installPath, r.root+installPath, htpasswdDir, r.root+htpasswdDir)
	if string(unit) != moved.Replace(b.unit(b.ServedBucket)) {
		t.Errorf("written unit differs from unit():\n%s", unit)
	}
	// The password file: fetched once with decryption, root's alone.
	file := r.root + htpasswdPath
	if got, err := os.ReadFile(file); err != nil || string(got) != fakeHTPasswd+"\n" {
		t.Errorf("htpasswd file = %q, %v; want the parameter's value", got, err)
	}
	for path, want := range map[string]os.FileMode{file: 0o600, r.root + htpasswdDir: 0o700 | os.ModeDir, r.root + fetchPath: 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode(), err, want)
		}
	}
	wantAWS := "aws s3 cp --no-progress --region eu-west-1 s3://bucketls-artifacts-20240101/" + b.ArtifactKey + " "
	wantSSM := "aws ssm get-parameter --region eu-west-1 --name /bucketls/htpasswd --with-decryption --query Parameter.Value --output text"
	wantCalls := []string{wantAWS, "install -o root -g root -m 0755 ", wantSSM, "systemctl daemon-reload", "systemctl enable --now --no-block bucketls.service", "systemctl show --property MainPID --value bucketls.service"}
	last := -1
	for _, c := range wantCalls {
		i := strings.Index(r.log, c)
		if i < 0 || i < last {
			t.Errorf("calls do not include %q in order; calls:\n%s", c, r.log)
		}
		last = i
	}
	if want := "the listing asks for a password over HTTPS (401 without credentials) and sends plain HTTP there (308)\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
	if want := "bucketls-userdata: healthy: bucketls.service runs as user=bucketls uid=61934 pid=4242\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
}

func TestBootScriptFailsClosed(t *testing.T) {
	artifact := []byte("\x7fELF the service")
	b := sampleScript(sha256Hex(artifact))
	plain := b
	plain.TLS = false
	tests := []struct {
		name          string
		artifact      []byte
		fake          []string
		wantOutput    string
		wantInstalled bool   // the binary and unit were written before the failure
		wantCalls     string // "" = do not check
	}{
		{"tampered artifact", []byte("\x7fELF something else"), []string{"FAKE_HEALTHY=1"}, "checksum mismatch: refusing to install", false, ""},
		{"download keeps failing", artifact, []string{"FAKE_HEALTHY=1", "FAKE_AWS_FAIL=1"}, "download failed 8 times; giving up", false, ""},
		{"no answer from healthz", artifact, nil, "no answer from /healthz after 60 s", true, "systemctl --no-pager --full status bucketls.service"},
		{"runs as root", artifact, []string{"FAKE_HEALTHY=1", "FAKE_PS=root 0"}, "the service runs as root; refusing", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBoot(t, b, tc.artifact, tc.fake...)
			if exitCode(r.err) <= 0 {
				t.Fatalf("boot script exit = %v, want a non-zero exit\n%s", r.err, r.stdout)
			}
			if !strings.Contains(r.stdout, tc.wantOutput) {
				t.Errorf("output lacks %q:\n%s", tc.wantOutput, r.stdout)
			}
			if r.installed() != tc.wantInstalled || r.unitWritten() != tc.wantInstalled {
				t.Errorf("installed = %v, unit written = %v; want %v", r.installed(), r.unitWritten(), tc.wantInstalled)
			}
			if !tc.wantInstalled && strings.Contains(r.log, "systemctl") {
				t.Errorf("systemctl ran although nothing was installed:\n%s", r.log)
			}
			if tc.wantCalls != "" && !strings.Contains(r.log, tc.wantCalls) {
				t.Errorf("calls lack %q:\n%s", tc.wantCalls, r.log)
			}
		})
	}
	// A service that lists without asking for the password, or asks for
	// it over plain HTTP (where a browser would send it in clear), or
	// does not ask over HTTPS: the boot fails, and the unit is disabled.
	for _, tc := range []struct {
		script Script
		fake   []string
		want   string
	}{
		{plain, []string{"FAKE_LIST_STATUS=200"}, "the listing answered 200 without credentials, not 401"},
		{b, []string{"FAKE_LIST_STATUS=200"}, "the listing answered 200 over plain HTTP, not 308 to HTTPS"},
		{b, []string{"FAKE_LIST_STATUS=401"}, "the listing answered 401 over plain HTTP, not 308 to HTTPS: a browser would send the password in clear"},
		{b, []string{"FAKE_LIST_STATUS=308", "FAKE_HTTPS_LIST_STATUS=200"}, "the listing answered 200 over HTTPS without credentials, not 401"},
	} {
		r := runBoot(t, tc.script, artifact, append(tc.fake, "FAKE_HEALTHY=1")...)
		if exitCode(r.err) <= 0 || !strings.Contains(r.stdout, tc.want) ||
			!strings.Contains(r.log, "systemctl disable --now bucketls.service") {
			t.Errorf("TLS %v, %v: exit %v; want a failed boot saying %q that disables the unit\n%s\n%s", tc.script.TLS, tc.fake, r.err, tc.want, r.stdout, r.log)
		}
	}
	// Without tls the 401 is asked of plain HTTP, as before.
	r := runBoot(t, plain, artifact, "FAKE_HEALTHY=1")
	if r.err != nil || !strings.Contains(r.stdout, "the listing asks for a password (401 without credentials)\n") || strings.Contains(r.log, "https://") {
		t.Errorf("password without tls: exit %v; want a boot that checks the 401 over plain HTTP\n%s\n%s", r.err, r.stdout, r.log)
	}
	// With tls the HTTPS check skips verifying the self-signed certificate.
	r = runBoot(t, b, artifact, "FAKE_HEALTHY=1", "FAKE_LIST_STATUS=308")
	if !strings.Contains(r.log, "--insecure https://127.0.0.1/list-bucket-content") {
		t.Errorf("calls lack the HTTPS check of the listing:\n%s", r.log)
	}
	// A password that cannot be fetched: retried, then the boot fails
	// before the unit is written, so no service runs without its password.
	r = runBoot(t, b, artifact, "FAKE_HEALTHY=1", "FAKE_SSM_FAIL=1")
	if exitCode(r.err) <= 0 || !strings.Contains(r.stdout, "htpasswd fetch failed 8 times; giving up") || r.unitWritten() || strings.Contains(r.log, "systemctl") {
		t.Errorf("htpasswd fetch failing: exit %v, unit written %v; want a failed boot with no unit and no systemctl\n%s\n%s", r.err, r.unitWritten(), r.stdout, r.log)
	}
	if n := strings.Count(r.log, "aws ssm get-parameter"); n != downloadAttempts {
		t.Errorf("fetch attempts = %d, want %d", n, downloadAttempts)
	}
	// The download is retried, then given up.
	r = runBoot(t, b, artifact, "FAKE_AWS_FAIL=1")
	if n := strings.Count(r.log, "aws s3 cp"); n != downloadAttempts {
		t.Errorf("download attempts = %d, want %d", n, downloadAttempts)
	}
}
