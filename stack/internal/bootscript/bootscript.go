// Package bootscript writes the user data of a bucketls instance: a bash
// script that downloads the service binary from S3, checks its SHA-256,
// installs it under a hardened systemd unit, starts it and waits until it
// answers. It is pure Go without the provider bindings, so its tests build
// in seconds; the stack (stack/userdata.go) fills a Script from its
// Config and gives the instances Script.UserData.
//
// The script and the unit are text/template templates executed with
// values of one struct type each (scriptValues, unitValues, ...): a
// placeholder that names no field of its type panics when the package
// loads (see newTemplate), so no rendering can leave one unfilled.
//
// The package also owns what the stack must know about the service it
// configures: the ports it listens on and the paths the boot script and
// the load balancer probe. It imports nothing from the stack or the
// service, only the stack's leaf package tftemplate and the module's
// leaves internal/hidden and internal/corsorigin (the --hide patterns and
// the --cors-origins both sides agree on).
package bootscript

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bucketls/bucketls/internal/corsorigin"
	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/bucketls/bucketls/stack/tftemplate"
)

// The service as the unit configures it and the boot script and the load
// balancer reach it.
const (
	// HTTPPort is where the service serves plain HTTP (BUCKETLS_ADDR):
	// the default port of http:// URLs, so the stack's url outputs need
	// none. The stack's security groups and load balancer use it too.
	HTTPPort = 80
	// HTTPSPort is where the service serves HTTPS beside HTTP with tls
	// (BUCKETLS_TLS_ADDR), and where the load balancer serves it with a
	// certificate: the default port of https:// URLs.
	HTTPSPort = 443
	// HealthPath is the service's liveness endpoint: 200 once it listens,
	// without calling S3. The boot script waits for it and the load
	// balancer checks it, so a slow S3 neither fails a boot nor takes every
	// instance out of service at once.
	HealthPath = "/healthz"
	// ListPath is the listing endpoint: the boot script checks that it asks
	// for the password, and the stack's url outputs point at it.
	ListPath = "/list-bucket-content"
	// MaxUserData is the EC2 limit for user data, in bytes.
	MaxUserData = 16 * 1024
)

// Paths, names and limits of the boot script and the unit.
const (
	installPath = "/usr/local/bin/bucketls"
	unitName    = "bucketls.service"
	unitPath    = "/etc/systemd/system/" + unitName
	// localURL is the service seen from its instance: HTTPPort is http's
	// default port, so the URL names none (TestLocalURL holds them
	// together).
	localURL = "http://127.0.0.1"
	// localHTTPSURL is the service's HTTPS (tls) seen from its instance:
	// HTTPSPort is https's default port.
	localHTTPSURL = "https://127.0.0.1"
	// healthWaitSeconds bounds the wait for HealthPath after start: long
	// enough for a slow first start, short enough that a broken deploy
	// fails the boot visibly instead of hanging cloud-init.
	healthWaitSeconds = 60
	// downloadAttempts covers IAM propagation: the instance can boot before
	// its fresh role is usable (waits 3+6+...+21 s = 84 s at most).
	downloadAttempts = 8
	// fetchPath is the helper that fetches the htpasswd file from SSM, and
	// htpasswdPath the root-only file it writes, which systemd hands to
	// the service as the credential htpasswdCredential.
	fetchPath          = "/usr/local/sbin/bucketls-fetch-htpasswd"
	htpasswdDir        = "/etc/bucketls"
	htpasswdPath       = htpasswdDir + "/htpasswd"
	htpasswdCredential = "htpasswd"
	// logPrefix starts every line the boot script logs (cloud-init copies
	// them to the console log and /var/log/cloud-init-output.log).
	logPrefix = "bucketls-userdata:"
)

// Script holds what the instance's user data needs. The two bucket names
// may be Terraform references (generated names are unknown at synth); all
// other values are literals. The stack checks its settings before it
// fills a Script (stack/validate.go); Script's own check only refuses
// what would break the script's quoting.
type Script struct {
	Region         string
	ArtifactBucket string // name of the artifact bucket, or a reference to it
	ArtifactKey    string
	ArtifactSHA256 string // lowercase hex
	ServedBucket   string // name of the bucket the service lists, or a reference to it
	TLS            bool
	CacheTTL       time.Duration // the service's --cache-ttl
	CacheStale     time.Duration // the service's --cache-stale; 0 = not passed (off)
	CORSOrigins    []string      // the service's --cors-origins; none = no CORS
	RootPrefix     string        // the service's --root-prefix; "" = the whole bucket
	Hide           []string      // the service's --hide; none = nothing hidden
	ServeObjects   bool          // the service's --serve-objects
	ViewCap        int           // the service's --view-cap; 0 = not passed (its default)
	// HTPasswdParameter is the SSM parameter holding the htpasswd file;
	// "" = no password.
	HTPasswdParameter string
}

// Sentinels stand for the bucket names while the script is escaped for
// Terraform, so that only the names stay unescaped.
const (
	artifactBucketSentinel = "\x00artifact-bucket\x00"
	servedBucketSentinel   = "\x00served-bucket\x00"
)

var (
	sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// safeKeyRE keeps the key usable unquoted in a URI and inside '...'.
	safeKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)
	// wordRE matches what bash and systemd read unquoted as one plain word
	// (the region, the SSM parameter name): nothing they expand or split.
	wordRE = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
)

// check rejects values that would break the script's quoting.
func (s Script) check() error {
	switch {
	case !wordRE.MatchString(s.Region):
		return fmt.Errorf("boot script: bad region %q", s.Region)
	case !safeKeyRE.MatchString(s.ArtifactKey):
		return fmt.Errorf("boot script: bad artifact key %q", s.ArtifactKey)
	case !sha256HexRE.MatchString(s.ArtifactSHA256):
		return fmt.Errorf("boot script: bad artifact SHA-256 %q", s.ArtifactSHA256)
	case s.HTPasswdParameter != "" && !wordRE.MatchString(s.HTPasswdParameter):
		return fmt.Errorf("boot script: bad SSM parameter name %q", s.HTPasswdParameter)
	// The unit quotes the prefix (unitQuote), but no quoting carries a
	// line break, and systemd reads UTF-8.
	case !utf8.ValidString(s.RootPrefix) || strings.IndexFunc(s.RootPrefix, unicode.IsControl) >= 0:
		return fmt.Errorf("boot script: bad root prefix %q", s.RootPrefix)
	case s.CacheTTL < 0:
		return fmt.Errorf("boot script: negative cache TTL %s", s.CacheTTL)
	// Negative values are neither a setting nor "not passed".
	case s.CacheStale < 0:
		return fmt.Errorf("boot script: negative cache stale window %s", s.CacheStale)
	case s.ViewCap < 0:
		return fmt.Errorf("boot script: negative view cap %d", s.ViewCap)
	}
	for _, name := range []string{s.ArtifactBucket, s.ServedBucket} {
		if name == "" || strings.ContainsAny(name, "'\"\\\n\x00 ") {
			return fmt.Errorf("boot script: bad bucket name or reference %q", name)
		}
	}
	// The unit quotes the patterns (unitQuote); a comma would split one.
	for _, p := range s.Hide {
		if err := hidden.Check(p); err != nil {
			return fmt.Errorf("boot script: bad hide %v", err)
		}
	}
	// Origins go into the unit unquoted: as the service writes them
	// (package corsorigin), they have no character systemd would read
	// otherwise and no comma the service would split at.
	if origins, err := corsorigin.Parse(s.CORSOrigins); err != nil || !slices.Equal(origins, s.CORSOrigins) {
		return fmt.Errorf("boot script: CORS origins %q are not as the service writes them (%q, %v)", s.CORSOrigins, origins, err)
	}
	return nil
}

// UserData returns the script as Terraform needs it in user_data: bash's
// own "${" and "%{" are escaped as "$${" and "%%{", and the bucket names
// (which may be references such as ${aws_s3_bucket.x.bucket}) are left as
// they are for Terraform to fill in.
func (s Script) UserData() (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	out := s.render(artifactBucketSentinel, servedBucketSentinel)
	out = tftemplate.Escape(out)
	out = strings.ReplaceAll(out, artifactBucketSentinel, s.ArtifactBucket)
	out = strings.ReplaceAll(out, servedBucketSentinel, s.ServedBucket)
	return out, nil
}

// Bash returns the script as bash sees it once Terraform has rendered
// UserData, for bucket names that are literal names.
func (s Script) Bash() (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	return s.render(s.ArtifactBucket, s.ServedBucket), nil
}
