package bootscript

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/bucketls/bucketls/stack/internal/bootscript/scripttest"
)

func TestUnit(t *testing.T) {
	b := sampleScript(sha256Hex(nil))
	unit := b.unit("my-served-bucket")
	for _, want := range []string{
		"\nExecStart=/usr/local/bin/bucketls\n",
		"\nEnvironment=BUCKETLS_BUCKET=my-served-bucket\n",
		"\nEnvironment=AWS_REGION=eu-west-1\n",
		"\nEnvironment=BUCKETLS_ADDR=:80\n",
		"\nEnvironment=BUCKETLS_TLS_ADDR=:443\n",
		"\nEnvironment=BUCKETLS_TLS_SELF_SIGNED=true\n",
		"\nEnvironment=BUCKETLS_CACHE_TTL=2s\n",
		"\nEnvironment=BUCKETLS_CACHE_STALE=30s\n",
		"\nEnvironment=BUCKETLS_VIEW_CAP=50000\n",
		"\nEnvironment=BUCKETLS_CORS_ORIGINS=https://a.example,http://localhost:3000\n",
		"\nEnvironment=BUCKETLS_ROOT_PREFIX=team/reports\n",
		"\nEnvironment=\"BUCKETLS_HIDE=.*,private/*,a b[0-9]\\\\?,100%%\"\n",
		"\nEnvironment=BUCKETLS_SERVE_OBJECTS=true\n",
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
	b.RootPrefix, b.HTPasswdParameter, b.Hide, b.ServeObjects, b.CacheStale, b.ViewCap = "", "", nil, false, 0, 0
	if u := b.unit("x"); strings.Contains(u, "BUCKETLS_HIDE") || strings.Contains(u, "ROOT_PREFIX") || strings.Contains(u, "htpasswd") || strings.Contains(u, "Credential") ||
		strings.Contains(u, "SERVE_OBJECTS") || strings.Contains(u, "CACHE_STALE") || strings.Contains(u, "VIEW_CAP") {
		t.Errorf("unit without the optional settings still mentions one of them:\n%s", u)
	}
}

// TestUnitVerifies runs systemd-analyze verify over the unit, and its offline
// security review, where systemd-analyze exists.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: cannot verify the unit here (install systemd to run this check)")
	}
	unit := sampleScript(sha256Hex(nil)).unit("my-served-bucket")
	scripttest.VerifyUnit(t, analyze, unit)
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
