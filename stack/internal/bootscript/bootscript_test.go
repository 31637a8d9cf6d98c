package bootscript

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/stack/internal/bootscript/scripttest"
	"github.com/bucketls/bucketls/stack/tftemplate"
)

// sampleScript is a boot script with literal bucket names, as bash sees the
// user data once Terraform has filled in the references.
func sampleScript(sha string) Script {
	return Script{
		Region:         "eu-west-1",
		ArtifactBucket: "bucketls-artifacts-20240101",
		ArtifactKey:    "bucketls/" + sha + "/bucketls-linux-amd64",
		ArtifactSHA256: sha,
		ServedBucket:   "my-served-bucket",
		TLS:            true,
		CacheTTL:       2 * time.Second,
		CacheStale:     30 * time.Second,
		ViewCap:        50_000,
		CORSOrigins:    []string{"https://a.example", "http://localhost:3000"},
		RootPrefix:     "team/reports",
		// Globs with characters the unit must quote, and a % systemd would
		// read as a specifier.
		Hide:         []string{".*", "private/*", `a b[0-9]\?`, "100%"},
		ServeObjects: true,
		// A leading slash: the name of a hierarchy.
		HTPasswdParameter: "/bucketls/htpasswd",
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestBootScriptSyntax(t *testing.T) {
	for _, tls := range []bool{true, false} {
		b := sampleScript(sha256Hex([]byte("x")))
		b.TLS = tls
		script, err := b.Bash()
		if err != nil {
			t.Fatal(err)
		}
		scripttest.BashSyntax(t, script)
	}
}

// TestBootScriptContract checks the parts of the script that the boot
// rehearsal and the deployed service rely on.
func TestBootScriptContract(t *testing.T) {
	sha := sha256Hex([]byte("binary"))
	b := sampleScript(sha)
	script, err := b.Bash()
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

func TestBootScriptSize(t *testing.T) {
	// Generated bucket names are at most 63 characters.
	b := sampleScript(sha256Hex(nil))
	b.ArtifactBucket = strings.Repeat("a", 63)
	b.ServedBucket = strings.Repeat("b", 63)
	script, err := b.Bash()
	if err != nil {
		t.Fatal(err)
	}
	if len(script) > MaxUserData {
		t.Errorf("user data is %d bytes, EC2 takes at most %d", len(script), MaxUserData)
	}
}

func TestUserDataEscaping(t *testing.T) {
	b := sampleScript(sha256Hex(nil))
	b.ArtifactBucket = "${aws_s3_bucket.a.bucket}"
	b.ServedBucket = "${aws_s3_bucket.b.bucket}"
	ud, err := b.UserData()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := tftemplate.References(ud)
	if want := []string{"aws_s3_bucket.a.bucket", "aws_s3_bucket.b.bucket"}; err != nil || !slices.Equal(refs, want) {
		t.Errorf("Terraform references in the user data = %q, %v; want %q", refs, err, want)
	}
	// Rendering the template with the names gives the bash script exactly.
	rendered, _, err := tftemplate.Render(ud, map[string]string{"aws_s3_bucket.a.bucket": "art", "aws_s3_bucket.b.bucket": "served"})
	if err != nil {
		t.Fatal(err)
	}
	b.ArtifactBucket, b.ServedBucket = "art", "served"
	want, _ := b.Bash()
	if rendered != want {
		t.Errorf("rendered user data differs from the bash script")
	}
}

func TestBootScriptRejectsUnsafeValues(t *testing.T) {
	good := sampleScript(sha256Hex(nil))
	for name, mutate := range map[string]func(*Script){
		"quote in bucket":        func(b *Script) { b.ArtifactBucket = "a'b" },
		"empty bucket":           func(b *Script) { b.ServedBucket = "" },
		"newline in ref":         func(b *Script) { b.ServedBucket = "a\nb" },
		"short hash":             func(b *Script) { b.ArtifactSHA256 = "abc" },
		"upper-case hash":        func(b *Script) { b.ArtifactSHA256 = strings.ToUpper(good.ArtifactSHA256) },
		"space in key":           func(b *Script) { b.ArtifactKey = "a b" },
		"bad region":             func(b *Script) { b.Region = "us east" },
		"negative TTL":           func(b *Script) { b.CacheTTL = -time.Second },
		"negative stale window":  func(b *Script) { b.CacheStale = -time.Second },
		"negative view cap":      func(b *Script) { b.ViewCap = -1 },
		"hide with a line break": func(b *Script) { b.Hide = []string{"a\nEnvironment=X=1"} },
		"hide with a comma":      func(b *Script) { b.Hide = []string{"a,b"} },
		"origin with a space": func(b *Script) {
			b.CORSOrigins = []string{"https://a.example Environment=X=1"}
		},
		"origin not as the service writes it": func(b *Script) { b.CORSOrigins = []string{"https://A.example/"} },
		"origin with a comma":                 func(b *Script) { b.CORSOrigins = []string{"https://a.example,https://b.example"} },
	} {
		b := good
		mutate(&b)
		if _, err := b.UserData(); err == nil {
			t.Errorf("%s: userData accepted %+v", name, b)
		}
	}
}

// variants are scripts that take every optional part in and out: TLS,
// the password, the root prefix (plain and quoted), CORS origins, hidden
// names, the object route, and the stale window and the view cap.
func variants() []Script {
	var out []Script
	for _, tls := range []bool{true, false} {
		for _, password := range []string{"", "/bucketls/htpasswd"} {
			for _, prefix := range []string{"", "team/reports", "ünïcode prefix/with 'quotes' and %"} {
				for _, origins := range [][]string{nil, {"*"}, {"https://a.example", "http://localhost:3000", "https://*.example.com"}} {
					for _, rest := range []bool{false, true} {
						s := sampleScript(sha256Hex(nil))
						s.TLS, s.HTPasswdParameter, s.RootPrefix, s.CORSOrigins = tls, password, prefix, origins
						if !rest {
							s.Hide, s.ServeObjects, s.CacheStale, s.ViewCap = nil, false, 0, 0
						}
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// optInLines are the unit's lines that CacheStale and ViewCap add, each
// after its reason, for sampleScript's values.
var optInLines = []string{
	"# Answer a listing up to this long past cacheTtl while it is refreshed or S3 fails (cacheStale).\nEnvironment=BUCKETLS_CACHE_STALE=30s\n",
	"# The most entries sort= and match= read from one directory (viewCap).\nEnvironment=BUCKETLS_VIEW_CAP=50000\n",
}

// TestOptInSettingsAddOnlyTheirLines: in every variant, setting the stale
// window and the view cap adds their two lines to the unit and changes
// nothing else, and leaving them unset leaves no trace of them: a deploy
// that does not ask for them gets the boot script it got before they
// existed, byte for byte.
func TestOptInSettingsAddOnlyTheirLines(t *testing.T) {
	for _, v := range variants() {
		off, on := v, v
		off.CacheStale, off.ViewCap = 0, 0
		on.CacheStale, on.ViewCap = 30*time.Second, 50_000
		without, err := off.Bash()
		if err != nil {
			t.Fatal(err)
		}
		with, err := on.Bash()
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("TLS %v, password %q, prefix %q, origins %q, hide %q", v.TLS, v.HTPasswdParameter, v.RootPrefix, v.CORSOrigins, v.Hide)
		if strings.Contains(without, "CACHE_STALE") || strings.Contains(without, "VIEW_CAP") {
			t.Errorf("%s: unset, the unit still mentions the stale window or the view cap:\n%s", name, without)
		}
		stripped := with
		for _, line := range optInLines {
			if strings.Count(stripped, line) != 1 {
				t.Errorf("%s: the unit has %q %d times, want once", name, line, strings.Count(stripped, line))
			}
			stripped = strings.Replace(stripped, line, "", 1)
		}
		if stripped != without {
			t.Errorf("%s: setting the stale window and the view cap changed more than their lines:\n%s\nwant\n%s", name, stripped, without)
		}
	}
}

// TestNoPlaceholderSurvives renders every variant, for Terraform and for
// bash: no template delimiter is left in either.
func TestNoPlaceholderSurvives(t *testing.T) {
	for _, s := range variants() {
		ud, err := s.UserData()
		if err != nil {
			t.Fatal(err)
		}
		script, err := s.Bash()
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{ud, script} {
			if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
				t.Errorf("TLS %v, password %q, prefix %q, origins %q: a placeholder is left:\n%s",
					s.TLS, s.HTPasswdParameter, s.RootPrefix, s.CORSOrigins, text)
			}
		}
	}
}

// TestValuesAreFilled: with every optional part on, every value of the
// script's and the unit's templates is set; a field added to one of them
// and forgotten where they are filled fails here.
func TestValuesAreFilled(t *testing.T) {
	s := sampleScript(sha256Hex(nil))
	for _, v := range []any{s.scriptValues("art", "served"), s.unitValues("served")} {
		rv := reflect.ValueOf(v)
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Errorf("%T.%s is not set", v, rv.Type().Field(i).Name)
			}
		}
	}
}

// TestTemplatesHoldFieldsOnly: a placeholder that names no field, and any
// action but a field reference, stop the package from loading.
func TestTemplatesHoldFieldsOnly(t *testing.T) {
	for text, wantPanic := range map[string]bool{
		"ExecStart={{.InstallPath}}\n": false,
		"{{.InstallPth}}":              true,
		"{{if .Env}}x{{end}}":          true,
		"{{.Env | printf \"%q\"}}":     true,
	} {
		func() {
			defer func() {
				if r := recover(); (r != nil) != wantPanic {
					t.Errorf("newTemplate(%q): panic %v, want a panic: %v", text, r, wantPanic)
				}
			}()
			newTemplate[unitValues]("test", text)
		}()
	}
}

// TestLocalURL: the boot script reaches the service on HTTPPort through
// localURL, which names no port.
func TestLocalURL(t *testing.T) {
	u, err := url.Parse(localURL)
	if err != nil || u.Scheme != "http" || u.Port() != "" || u.Path != "" {
		t.Fatalf("localURL %q: want http:// with no port or path (%v)", localURL, err)
	}
	if HTTPPort != 80 {
		t.Errorf("HTTPPort = %d, but localURL %q reaches port 80", HTTPPort, localURL)
	}
	u, err = url.Parse(localHTTPSURL)
	if err != nil || u.Scheme != "https" || u.Port() != "" || u.Path != "" || u.Host != "127.0.0.1" {
		t.Fatalf("localHTTPSURL %q: want https://127.0.0.1 with no port or path (%v)", localHTTPSURL, err)
	}
	if HTTPSPort != 443 {
		t.Errorf("HTTPSPort = %d, but localHTTPSURL %q reaches port 443", HTTPSPort, localHTTPSURL)
	}
}
