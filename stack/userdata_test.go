package stack

import (
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
	"github.com/bucketls/bucketls/stack/internal/bootscript/scripttest"
	"github.com/bucketls/bucketls/stack/tftemplate"
)

// generatedNames are the names the tests give the buckets that Terraform
// names at apply time, by logical name: the artifact bucket, and the
// content bucket where the stack creates one.
func (c *synthCase) generatedNames(t *testing.T) map[string]string {
	t.Helper()
	artifactBucket, content := c.bucketNames(t)
	names := map[string]string{artifactBucket: "bucketls-artifacts-20260101000000000000000001"}
	if content != "" {
		names[content] = "bucketls-content-20260101000000000000000002"
	}
	return names
}

// userDataOf returns the instance's user data and the values Terraform
// would fill in for its references (the generatedNames).
func (c *synthCase) userDataOf(t *testing.T) (string, map[string]string) {
	t.Helper()
	_, inst := c.one(t, "aws_instance")
	ud, ok := inst["user_data"].(string)
	if !ok {
		t.Fatalf("instance user_data = %v, want plain text", inst["user_data"])
	}
	values := map[string]string{}
	for name, v := range c.generatedNames(t) {
		values["aws_s3_bucket."+name+".bucket"] = v
	}
	return ud, values
}

// launchTemplateScript evaluates the launch template's user_data the way
// Terraform does (HCL's JSON syntax, with the buckets of names filled in
// and base64encode) and decodes it.
func (c *synthCase) launchTemplateScript(t *testing.T, names map[string]string) string {
	t.Helper()
	encoded := evalResourceAttr(t, c, "aws_launch_template", c.haParts(t).lt, "user_data", names)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("user_data is not base64: %v", err)
	}
	return string(raw)
}

// checkScript checks the boot script that c's user data renders to with
// the generatedNames: it is the pure-Go script of c's settings (with the
// instance's own TLS as tls), it checks the artifact's SHA-256, its unit
// passes the service settings, bash reads it, and EC2 takes its size.
func (c *synthCase) checkScript(t *testing.T, script string, tls bool) {
	t.Helper()
	names := c.generatedNames(t)
	artifactBucket, content := c.bucketNames(t)
	b := bootscript.Script{
		Region:            c.cfg.Region,
		ArtifactBucket:    names[artifactBucket],
		ArtifactKey:       c.res.ArtifactKey,
		ArtifactSHA256:    c.res.ArtifactSHA256,
		ServedBucket:      c.cfg.BucketName,
		TLS:               tls,
		CacheTTL:          c.cfg.CacheTTL,
		CacheStale:        c.cfg.CacheStale,
		CORSOrigins:       unitOrigins(t, c.cfg.CORSOrigins),
		RootPrefix:        c.cfg.RootPrefix,
		Hide:              c.cfg.Hide,
		ServeObjects:      c.cfg.ServeObjects,
		ViewCap:           c.cfg.ViewCap,
		HTPasswdParameter: c.cfg.HTPasswdParameter,
	}
	if content != "" {
		b.ServedBucket = names[content]
	}
	want, err := b.Bash()
	if err != nil {
		t.Fatal(err)
	}
	if script != want {
		t.Errorf("user data renders to\n%s\nwant\n%s", script, want)
	}
	// The checksum the script checks is the artifact's.
	if !strings.Contains(script, `echo "`+c.res.ArtifactSHA256+`  $work/bucketls" | sha256sum -c`) {
		t.Errorf("user data does not check the artifact's SHA-256 %s", c.res.ArtifactSHA256)
	}
	checkServiceSettings(t, c, script)
	scripttest.BashSyntax(t, script)
	if len(script) > bootscript.MaxUserData {
		t.Errorf("user data is %d bytes, EC2 takes %d", len(script), bootscript.MaxUserData)
	}
}

func TestUserData(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		ud, values := c.userDataOf(t)
		// The only references are the generated bucket names; region, key
		// and hash are literals.
		var wantRefs []string
		for r := range values {
			wantRefs = append(wantRefs, r)
		}
		if refs, err := tftemplate.References(ud); err != nil || !sameElements(refs, wantRefs) {
			t.Errorf("references in user data = %q, %v; want %q", refs, err, wantRefs)
		}
		if strings.Contains(strings.ReplaceAll(ud, "%%{", ""), "%{") {
			t.Errorf("user data has an unescaped %%{ template directive")
		}
		script := renderUserData(t, ud, values)
		c.checkScript(t, script, c.cfg.TLS)
		for _, secret := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "aws_access_key_id"} {
			if strings.Contains(script, secret) {
				t.Errorf("user data mentions %s", secret)
			}
		}
		if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
			unit := script[strings.Index(script, "<<'UNIT'\n")+len("<<'UNIT'\n"):]
			unit = unit[:strings.Index(unit, "\nUNIT\n")+1]
			scripttest.VerifyUnit(t, analyze, unit)
		} else {
			t.Log("systemd-analyze not found: unit not verified")
		}
	})
}

// rootPrefixEnv is the unit's line for each root prefix the tests
// synthesize: quoted (and "%" doubled) where systemd would split or
// expand the value.
var rootPrefixEnv = map[string]string{
	"team/reports":                       "Environment=BUCKETLS_ROOT_PREFIX=team/reports",
	"ünïcode prefix/with 'quotes' and %": `Environment="BUCKETLS_ROOT_PREFIX=ünïcode prefix/with 'quotes' and %%"`,
}

// corsOriginsUnit are the origins the unit must carry for each test
// stack's corsOrigins, written out by hand as browsers send them:
// lowercase, no trailing slash, a wildcard first label kept.
var corsOriginsUnit = map[string][]string{
	"*":                   {"*"},
	"https://example.com": {"https://example.com"},
	"https://example.com,HTTP://LocalHost:3000/,https://*.example.com": {"https://example.com", "http://localhost:3000", "https://*.example.com"},
}

// unitOrigins returns corsOriginsUnit's entry for origins; none for none.
func unitOrigins(t *testing.T, origins []string) []string {
	t.Helper()
	if len(origins) == 0 {
		return nil
	}
	want, ok := corsOriginsUnit[strings.Join(origins, ",")]
	if !ok {
		t.Fatalf("no unit origins for corsOrigins %q in corsOriginsUnit", origins)
	}
	return want
}

// renderUserData does what Terraform does to the user data ud with the
// values of its references.
func renderUserData(t *testing.T, ud string, values map[string]string) string {
	t.Helper()
	script, _, err := tftemplate.Render(ud, values)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

// hideEnv is the unit line each test stack's hide patterns must give,
// written out by hand: plain, or quoted where systemd would split a space.
var hideEnv = map[string]string{
	".*,private/*":       "Environment=BUCKETLS_HIDE=.*,private/*",
	"*.bak,drafts [0-9]": `Environment="BUCKETLS_HIDE=*.bak,drafts [0-9]"`,
}

// optInEnv is the unit line of each stale window and view cap the test
// stacks set, written out by hand.
var optInEnv = map[any]string{
	30 * time.Second: "Environment=BUCKETLS_CACHE_STALE=30s",
	90 * time.Second: "Environment=BUCKETLS_CACHE_STALE=1m30s",
	500:              "Environment=BUCKETLS_VIEW_CAP=500",
	1_000_000:        "Environment=BUCKETLS_VIEW_CAP=1000000",
}

// checkServiceSettings checks that the unit in a synthesized boot script
// passes the stack's service settings to the service, and sets no
// variable of an optional setting that is not set.
func checkServiceSettings(t *testing.T, c *synthCase, script string) {
	t.Helper()
	want := []string{"\nEnvironment=BUCKETLS_CACHE_TTL=" + c.cfg.CacheTTL.String() + "\n"}
	if p := c.cfg.RootPrefix; p != "" {
		line, ok := rootPrefixEnv[p]
		if !ok {
			t.Fatalf("no unit line for root prefix %q in rootPrefixEnv", p)
		}
		want = append(want, "\n"+line+"\n")
	}
	if p := c.cfg.HTPasswdParameter; p != "" {
		want = append(want, "\nLoadCredential=htpasswd:/etc/bucketls/htpasswd\n", "\nEnvironment=BUCKETLS_HTPASSWD=%d/htpasswd\n",
			"\n/usr/bin/aws ssm get-parameter --region "+c.cfg.Region+" --name "+p+" --with-decryption --query Parameter.Value --output text >/etc/bucketls/htpasswd.new\n")
	} else if strings.Contains(script, "htpasswd") {
		t.Errorf("no htpasswdParameter, but the boot script mentions htpasswd")
	}
	if len(c.cfg.CORSOrigins) > 0 {
		want = append(want, "\nEnvironment=BUCKETLS_CORS_ORIGINS="+strings.Join(unitOrigins(t, c.cfg.CORSOrigins), ",")+"\n")
	} else if strings.Contains(script, "BUCKETLS_CORS_ORIGINS") {
		t.Errorf("no corsOrigins, but the unit sets BUCKETLS_CORS_ORIGINS")
	}
	if len(c.cfg.Hide) > 0 {
		line, ok := hideEnv[strings.Join(c.cfg.Hide, ",")]
		if !ok {
			t.Fatalf("no unit line for hide %q in hideEnv", c.cfg.Hide)
		}
		want = append(want, "\n"+line+"\n")
	} else if strings.Contains(script, "BUCKETLS_HIDE") {
		t.Errorf("no hide, but the unit sets BUCKETLS_HIDE")
	}
	if c.cfg.ServeObjects {
		want = append(want, "\nEnvironment=BUCKETLS_SERVE_OBJECTS=true\n")
	} else if strings.Contains(script, "BUCKETLS_SERVE_OBJECTS") {
		t.Errorf("no serveObjects, but the unit sets BUCKETLS_SERVE_OBJECTS")
	}
	for _, opt := range []struct {
		set   bool
		value any
		key   string
		env   string
	}{
		{c.cfg.CacheStale != 0, c.cfg.CacheStale, "cacheStale", "BUCKETLS_CACHE_STALE"},
		{c.cfg.ViewCap != 0, c.cfg.ViewCap, "viewCap", "BUCKETLS_VIEW_CAP"},
	} {
		if !opt.set {
			if strings.Contains(script, opt.env) {
				t.Errorf("no %s, but the unit sets %s", opt.key, opt.env)
			}
			continue
		}
		line, ok := optInEnv[opt.value]
		if !ok {
			t.Fatalf("no unit line for %s %v in optInEnv", opt.key, opt.value)
		}
		want = append(want, "\n"+line+"\n")
	}
	for _, w := range want {
		if !strings.Contains(script, w) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(w))
		}
	}
}

// TestHAUserData evaluates the launch template's user_data the way
// Terraform does and compares it with the boot script of the same values
// without TLS: the load balancer terminates TLS.
func TestHAUserData(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		script := c.launchTemplateScript(t, c.generatedNames(t))
		c.checkScript(t, script, false)
		// TLS is on in both configs, and the instances must serve no HTTPS.
		if !c.cfg.TLS || strings.Contains(script, "BUCKETLS_TLS") || strings.Contains(script, ":443") {
			t.Errorf("user data of mode ha sets up TLS on the instance (tls = %v)", c.cfg.TLS)
		}
	})
}
