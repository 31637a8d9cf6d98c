package stack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleBoot is a boot script with literal bucket names, as bash sees the
// user data once Terraform has filled in the references.
func sampleBoot(sha string) bootScript {
	return bootScript{
		Region:         "eu-west-1",
		ArtifactBucket: "bucketls-artifacts-20240101",
		ArtifactKey:    "bucketls/" + sha + "/bucketls-linux-amd64",
		ArtifactSHA256: sha,
		ServedBucket:   "my-served-bucket",
		TLS:            true,
		CacheTTL:       2 * time.Second,
		CORSOrigins:    []string{"https://a.example", "http://localhost:3000"},
		RootPrefix:     "team/reports",
		// A leading slash: the name of a hierarchy.
		HTPasswdParameter: "/bucketls/htpasswd",
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// bashSyntax runs bash -n over script and fails the test on an error.
func bashSyntax(t *testing.T, script string) {
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

func TestBootScriptSyntax(t *testing.T) {
	for _, tls := range []bool{true, false} {
		b := sampleBoot(sha256Hex([]byte("x")))
		b.TLS = tls
		script, err := b.bash()
		if err != nil {
			t.Fatal(err)
		}
		bashSyntax(t, script)
	}
}

// TestBootScriptContract checks the parts of the script that the boot
// rehearsal and the deployed service rely on.
func TestBootScriptContract(t *testing.T) {
	sha := sha256Hex([]byte("binary"))
	b := sampleBoot(sha)
	script, err := b.bash()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(script, "#!/bin/bash\n") {
		t.Errorf("script does not start with #!/bin/bash")
	}
	for _, want := range []string{
		"\nset -euo pipefail\n",
		"/usr/bin/aws s3 cp --no-progress --region eu-west-1 s3://bucketls-artifacts-20240101/bucketls/" + sha + "/bucketls-linux-amd64 ",
		"| sha256sum -c",
		"install -o root -g root -m 0755 ",
		"cat >/etc/systemd/system/bucketls.service <<'UNIT'\n", // quoted: bash expands nothing inside
		"systemctl enable --now --no-block bucketls.service",
		"curl --silent --fail --max-time 2 --output /dev/null http://127.0.0.1/healthz",
		"ps -o user=,uid= -p",
		`log "healthy: bucketls.service runs as user=$user uid=$uid pid=$pid"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(script, "HOME") {
		t.Errorf("script mentions HOME: cloud-init runs it without HOME, and set -u would stop it")
	}
	// Order: verify, then install, then write and start the unit.
	order := []string{"sha256sum -c", "install -o root", "cat >/etc/systemd/system", "systemctl daemon-reload", "systemctl enable", "http://127.0.0.1/healthz"}
	last := -1
	for _, step := range order {
		i := strings.Index(script, step)
		if i < last {
			t.Errorf("%q comes before the step preceding it; want order %q", step, order)
		}
		last = i
	}
}

func TestUnit(t *testing.T) {
	b := sampleBoot(sha256Hex(nil))
	unit := b.unit("my-served-bucket")
	for _, want := range []string{
		"\nExecStart=/usr/local/bin/bucketls\n",
		"\nEnvironment=BUCKETLS_BUCKET=my-served-bucket\n",
		"\nEnvironment=AWS_REGION=eu-west-1\n",
		"\nEnvironment=BUCKETLS_ADDR=:80\n",
		"\nEnvironment=BUCKETLS_TLS_ADDR=:443\n",
		"\nEnvironment=BUCKETLS_TLS_SELF_SIGNED=true\n",
		"\nEnvironment=BUCKETLS_CACHE_TTL=2s\n",
		"\nEnvironment=BUCKETLS_CORS_ORIGINS=https://a.example,http://localhost:3000\n",
		"\nEnvironment=BUCKETLS_ROOT_PREFIX=team/reports\n",
		"\nLoadCredential=htpasswd:/etc/bucketls/htpasswd\n",
		"\nEnvironment=BUCKETLS_HTPASSWD=%d/htpasswd\n",
		"\nDynamicUser=yes\n",
		"\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n",
		"\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n",
		"\nNoNewPrivileges=yes\n",
		"\nProtectSystem=strict\n",
		"\nPrivateTmp=yes\n",
		"\nRestart=on-failure\n",
		"\nAfter=network-online.target\n",
		"\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	// Settings that would cut the service off from IMDS and S3, or stop it
	// binding port 80, or deadlock boot.
	for _, bad := range []string{"PrivateUsers=", "PrivateNetwork=", "IPAddressDeny=", "cloud-final", "cloud-init"} {
		for _, line := range strings.Split(unit, "\n") {
			if strings.HasPrefix(line, bad) || (!strings.HasPrefix(line, "#") && strings.Contains(line, bad)) {
				t.Errorf("unit has %q", line)
			}
		}
	}
	b.TLS = false
	if u := b.unit("x"); strings.Contains(u, "BUCKETLS_TLS") {
		t.Errorf("unit without TLS still sets a TLS variable:\n%s", u)
	}
	// No origins: no CORS variable at all (the service's default, off); a
	// zero TTL is written out, so the unit says the cache is off.
	b.CORSOrigins, b.CacheTTL = nil, 0
	if u := b.unit("x"); strings.Contains(u, "BUCKETLS_CORS_ORIGINS") || !strings.Contains(u, "\nEnvironment=BUCKETLS_CACHE_TTL=0s\n") {
		t.Errorf("unit without origins and TTL 0: want no CORS variable and BUCKETLS_CACHE_TTL=0s:\n%s", u)
	}
	b.RootPrefix, b.HTPasswdParameter = "", ""
	if u := b.unit("x"); strings.Contains(u, "ROOT_PREFIX") || strings.Contains(u, "htpasswd") || strings.Contains(u, "Credential") {
		t.Errorf("unit without a root prefix and a password still mentions them:\n%s", u)
	}
}

// TestUnitVerifies runs systemd-analyze verify over the unit, and its offline
// security review, where systemd-analyze exists.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: cannot verify the unit here (install systemd to run this check)")
	}
	unit := sampleBoot(sha256Hex(nil)).unit("my-served-bucket")
	verifyUnit(t, analyze, unit)
}

// verifyUnit fails the test when systemd-analyze verify reports anything
// about unit, or its exposure score is above 2.0. verify exits 0 on unknown
// keys and bad values (it only warns), so any output counts as a failure.
// ExecStart points at a real executable for the check: verify insists the
// binary exists, and it is not installed here.
func verifyUnit(t *testing.T, analyze, unit string) {
	t.Helper()
	dir := t.TempDir()
	exe, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(unit, "\nExecStart="+installPath+"\n") {
		t.Fatalf("unit has no ExecStart=%s", installPath)
	}
	unit = strings.Replace(unit, "\nExecStart="+installPath+"\n", "\nExecStart="+exe+"\n", 1)
	path := filepath.Join(dir, unitName)
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
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("unit exposure level %.1f, want at most 2.0:\n%s", level, out)
	}
}

func TestBootScriptSize(t *testing.T) {
	// Generated bucket names are at most 63 characters.
	b := sampleBoot(sha256Hex(nil))
	b.ArtifactBucket = strings.Repeat("a", 63)
	b.ServedBucket = strings.Repeat("b", 63)
	script, err := b.bash()
	if err != nil {
		t.Fatal(err)
	}
	if len(script) > maxUserData {
		t.Errorf("user data is %d bytes, EC2 takes at most %d", len(script), maxUserData)
	}
}

func TestUserDataEscaping(t *testing.T) {
	b := sampleBoot(sha256Hex(nil))
	b.ArtifactBucket = "${aws_s3_bucket.a.bucket}"
	b.ServedBucket = "${aws_s3_bucket.b.bucket}"
	ud, err := b.userData()
	if err != nil {
		t.Fatal(err)
	}
	refs := terraformRefs(ud)
	if want := []string{"aws_s3_bucket.a.bucket", "aws_s3_bucket.b.bucket"}; !equalSets(refs, want) {
		t.Errorf("Terraform references in the user data = %q, want %q", refs, want)
	}
	// Rendering the template with the names gives the bash script exactly.
	rendered := renderTemplate(ud, map[string]string{"aws_s3_bucket.a.bucket": "art", "aws_s3_bucket.b.bucket": "served"})
	b.ArtifactBucket, b.ServedBucket = "art", "served"
	want, _ := b.bash()
	if rendered != want {
		t.Errorf("rendered user data differs from the bash script")
	}
	// The escaping itself, on bash that uses ${VAR} and %{.
	if got := escapeTemplate(`echo "${HOSTNAME}" %{x} $PWD`); got != `echo "$${HOSTNAME}" %%{x} $PWD` {
		t.Errorf("escapeTemplate = %q", got)
	}
}

func TestBootScriptRejectsUnsafeValues(t *testing.T) {
	good := sampleBoot(sha256Hex(nil))
	for name, mutate := range map[string]func(*bootScript){
		"quote in bucket": func(b *bootScript) { b.ArtifactBucket = "a'b" },
		"empty bucket":    func(b *bootScript) { b.ServedBucket = "" },
		"newline in ref":  func(b *bootScript) { b.ServedBucket = "a\nb" },
		"short hash":      func(b *bootScript) { b.ArtifactSHA256 = "abc" },
		"upper-case hash": func(b *bootScript) { b.ArtifactSHA256 = strings.ToUpper(good.ArtifactSHA256) },
		"space in key":    func(b *bootScript) { b.ArtifactKey = "a b" },
		"bad region":      func(b *bootScript) { b.Region = "us east" },
		"negative TTL":    func(b *bootScript) { b.CacheTTL = -time.Second },
		"origin with a space": func(b *bootScript) {
			b.CORSOrigins = []string{"https://a.example Environment=X=1"}
		},
	} {
		b := good
		mutate(&b)
		if _, err := b.userData(); err == nil {
			t.Errorf("%s: userData accepted %+v", name, b)
		}
	}
}

// terraformRefs returns the expressions of the ${...} sequences in a
// Terraform template, skipping $${ escapes.
func terraformRefs(tpl string) []string {
	var refs []string
	for i := 0; i < len(tpl); i++ {
		if strings.HasPrefix(tpl[i:], "$${") {
			i += 2
			continue
		}
		if strings.HasPrefix(tpl[i:], "${") {
			end := strings.Index(tpl[i:], "}")
			refs = append(refs, tpl[i+2:i+end])
			i += end
		}
	}
	return refs
}

// renderTemplate does what Terraform does to the user data: replace each
// ${ref} by its value and unescape $${ and %%{.
func renderTemplate(tpl string, values map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		switch {
		case strings.HasPrefix(tpl[i:], "$${"), strings.HasPrefix(tpl[i:], "%%{"):
			b.WriteString(tpl[i+1 : i+3])
			i += 2
		case strings.HasPrefix(tpl[i:], "${"):
			end := strings.Index(tpl[i:], "}")
			ref := tpl[i+2 : i+end]
			v, ok := values[ref]
			if !ok {
				v = "<unknown " + ref + ">"
			}
			b.WriteString(v)
			i += end
		default:
			b.WriteByte(tpl[i])
		}
	}
	return b.String()
}

func equalSets(got, want []string) bool {
	set := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range l {
			m[s] = true
		}
		return m
	}
	g, w := set(got), set(want)
	if len(g) != len(w) {
		return false
	}
	for k := range w {
		if !g[k] {
			return false
		}
	}
	return true
}

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
	"curl": `case " $* " in
*" --write-out "*) echo "${FAKE_LIST_STATUS:-401}" ;;
*) [ -n "${FAKE_HEALTHY:-}" ] ;;
esac`,
	"ps":         `echo "${FAKE_PS:-bucketls 61934}"`,
	"journalctl": `echo "journalctl $*" >>"$FAKE_LOG"`,
	"sleep":      `exec /bin/sleep 0.05`,
}

// runBoot runs the boot script for b with the artifact bytes, under env
// FAKE_* settings, with no HOME and the machine paths moved into a temp dir.
func runBoot(t *testing.T, b bootScript, artifact []byte, fake ...string) bootRun {
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
	script, err := b.bash()
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
	b := sampleBoot(sha256Hex(artifact))
	r := runBoot(t, b, artifact, "FAKE_HEALTHY=1")
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
	if want := "the listing asks for a password (401 without credentials)\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
	if want := "bucketls-userdata: healthy: bucketls.service runs as user=bucketls uid=61934 pid=4242\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
}

func TestBootScriptFailsClosed(t *testing.T) {
	artifact := []byte("\x7fELF the service")
	b := sampleBoot(sha256Hex(artifact))
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
	// A service that lists without asking for the password: the boot
	// fails, and the unit is disabled.
	r := runBoot(t, b, artifact, "FAKE_HEALTHY=1", "FAKE_LIST_STATUS=200")
	if exitCode(r.err) <= 0 || !strings.Contains(r.stdout, "the listing answered 200 without credentials, not 401") ||
		!strings.Contains(r.log, "systemctl disable --now bucketls.service") {
		t.Errorf("password not enforced: exit %v; want a failed boot that disables the unit\n%s\n%s", r.err, r.stdout, r.log)
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

func TestUnitQuote(t *testing.T) {
	for in, want := range map[string]string{
		"BUCKETLS_ROOT_PREFIX=team/reports":   "BUCKETLS_ROOT_PREFIX=team/reports",
		"BUCKETLS_ROOT_PREFIX=with space":     `"BUCKETLS_ROOT_PREFIX=with space"`,
		`BUCKETLS_ROOT_PREFIX=q"u\o'te`:       `"BUCKETLS_ROOT_PREFIX=q\"u\\o'te"`,
		"BUCKETLS_ROOT_PREFIX=100%":           `"BUCKETLS_ROOT_PREFIX=100%%"`,
		"BUCKETLS_ROOT_PREFIX=ünïcode":        `"BUCKETLS_ROOT_PREFIX=ünïcode"`,
		"BUCKETLS_CORS_ORIGINS=https://a.b,*": "BUCKETLS_CORS_ORIGINS=https://a.b,*",
	} {
		if got := unitQuote(in); got != want {
			t.Errorf("unitQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
