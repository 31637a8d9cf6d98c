package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is everything a deployment can choose. It is filled from the
// context block of cdktf.json, then from BUCKETLS_* environment variables
// (see LoadConfig), and checked by Validate before anything is built. Each
// field's cdktf.json key, variable, default, parser and check are declared
// once, in settings (settings.go); the README's stack configuration tables
// list them.
type Config struct {
	// Region is the AWS region everything is created in; the instance's
	// service gets it as AWS_REGION because the SDK does not read the region
	// from instance metadata. Default: "us-east-1".
	Region string

	// Arch is the CPU architecture of the instance and of the binary built for
	// it: "amd64" or "arm64". Default: "amd64".
	Arch string

	// InstanceType is the EC2 instance type; it must run Arch. Default: ""
	// (meaning "t3.micro" for amd64 and "t4g.micro" for arm64, the smallest
	// burstable types with enough memory for the AWS CLI during boot).
	InstanceType string

	// BucketName is an existing S3 bucket for the service to list. It must
	// be in Region (the service asks that region), and a bucket of another
	// account must also grant s3:ListBucket to the instance role in its
	// bucket policy. When empty, the stack creates a private bucket and seeds
	// it with the reference tree (dir1/, dir2/file1, dir2/file2, file1, file2)
	// so a fresh deploy answers at once; teardown deletes it with its content.
	// Default: "" (create and seed a bucket).
	BucketName string

	// AllowedCIDRs are the IPv4 networks allowed to reach ports 80 and 443;
	// nothing else is open inbound (no port 22). A JSON list in cdktf.json,
	// comma-separated in the environment. Default: ["0.0.0.0/0"] (a public
	// listing service).
	AllowedCIDRs []string

	// TLS serves self-signed HTTPS on 443 beside HTTP on 80. Mode "single"
	// only: in mode "ha" the load balancer terminates TLS (see
	// CertificateARN) and the instances serve plain HTTP to it, so TLS has
	// no effect there. Default: true.
	TLS bool

	// SSM attaches the AWS-managed AmazonSSMManagedInstanceCore policy so the
	// instance is reachable through SSM Session Manager; there is no SSH key
	// and no port 22 either way. Default: true.
	SSM bool

	// CacheTTL is how long the deployed service keeps a listing page
	// (its --cache-ttl). S3 bills every LIST request and throttles a prefix
	// at a few thousand a second; with a TTL each instance lists each
	// directory at most once per TTL however many clients ask, and an
	// answer is at most one TTL older than the bucket. 0 turns the cache
	// off (concurrent identical listings are still merged into one).
	// Default: 2s (staleness nobody browsing notices, S3 calls bounded by
	// directories per two seconds instead of by requests).
	CacheTTL time.Duration

	// CacheStale is how long past CacheTTL the deployed service may still
	// answer a listing (its --cache-stale, passed as BUCKETLS_CACHE_STALE):
	// from its cache while one S3 call refreshes the page in the
	// background, so a popular directory never waits for S3 at expiry,
	// and while refreshes fail (S3 throttling or an outage). Clients and
	// CloudFront (CDN) get the same window as Cache-Control's
	// stale-while-revalidate and stale-if-error, in whole seconds. An
	// answer may then be up to CacheStale older than CacheTTL promises
	// (see docs/deploy.md for the bound with CDN). It needs CacheTTL above
	// 0: without a cache there is nothing to answer stale.
	// Default: 0 (off, as the service's own default: the TTL's bound holds).
	CacheStale time.Duration

	// CORSOrigins are the web origins (scheme://host[:port]) whose pages
	// may read listings from a browser, or the single value "*" for any;
	// passed to the service as BUCKETLS_CORS_ORIGINS. A JSON list in
	// cdktf.json, comma-separated in the environment. Default: [] (no CORS
	// headers: only same-origin pages and non-browser clients).
	CORSOrigins []string

	// FlowLogs records the VPC's traffic, accepted and rejected, as VPC flow
	// logs in a private bucket of their own that deletes records after 90
	// days: what an operator investigating an incident wants. Delivery and
	// storage are billed by volume (see the README's costs).
	// Default: false.
	FlowLogs bool

	// RootPrefix limits the service to one subtree of the bucket, the keys
	// under RootPrefix + "/": /list-bucket-content lists that prefix, names
	// stay relative to it, and the instance role may list nothing else (an
	// s3:prefix condition), so even a bug in the service cannot reach the
	// rest of the bucket. The seeded bucket seeds the reference tree under
	// it. Default: "" (the whole bucket).
	RootPrefix string

	// Hide are glob patterns of names (".*", "*.bak": at any depth) and
	// paths from the listing root ("private/*") that the service leaves
	// out of its listings and answers 404 for (its --hide, passed as
	// BUCKETLS_HIDE). It is presentation, not access control: hidden keys
	// stay readable to whoever can read the bucket; RootPrefix and the
	// instance role's IAM policy are what keep keys from the service. A
	// JSON list in cdktf.json, comma-separated in the environment.
	// Default: [] (nothing hidden).
	Hide []string

	// ViewCap is the most entries a sorted or filtered listing (sort=,
	// match=) reads from one directory (the service's --view-cap, passed
	// as BUCKETLS_VIEW_CAP), from 1 to viewcap.Max (1,000,000); a larger
	// directory is listed in key order, unsorted and unfiltered, and the
	// answer says so (overCap). A view holds its directory whole while it
	// is built, about 150 bytes an entry on the instance. Default: 0 (not
	// passed: the service's default, viewcap.Default, 10,000).
	ViewCap int

	// ServeObjects makes the service serve the objects' bytes (its
	// --serve-objects, passed as BUCKETLS_SERVE_OBJECTS): GET /files/<key>,
	// and the index links files there. The instance role and the S3
	// endpoint then allow s3:GetObject on the served keys (the bucket's
	// "/*", or RootPrefix + "/*"), through the endpoint only, like the
	// listing. Presigned URLs cannot replace it: the role's S3 statements
	// hold only through the VPC endpoint, so a browser on the internet
	// could not use a URL signed with them. Default: false.
	ServeObjects bool

	// HTPasswdParameter is the name of an SSM Parameter Store SecureString
	// in Region holding an Apache htpasswd file with bcrypt entries. When
	// set, the listing requires HTTP Basic authentication against it: the
	// boot script fetches it once into a root-only file, systemd hands it
	// to the service as a credential (LoadCredential), and the instance
	// role may read exactly this parameter. It needs TLS (CDN; TLS in mode
	// "single"; CertificateARN or DomainName in mode "ha") unless
	// AllowPasswordsInClear.
	// A changed value takes effect when the service restarts (see the
	// README). Default: "" (no authentication).
	HTPasswdParameter string

	// AllowPasswordsInClear lets HTPasswdParameter be used without TLS, so
	// that passwords cross the network readable by anyone on the path: for
	// a private network, or a test. Default: false.
	AllowPasswordsInClear bool

	// SSMEndpoints reaches Session Manager through interface VPC endpoints
	// (ssm, ssmmessages, ec2messages) in the instances' subnets instead of
	// over the internet: the instances' only egress is then S3's prefix
	// list and the endpoints; Parameter Store (htpasswdParameter) is
	// reached through the ssm endpoint too. Needs SSM or
	// HTPasswdParameter. The endpoints bill by the hour in
	// each zone they serve (see the README's costs). Default: false.
	SSMEndpoints bool

	// Mode chooses how the service runs. "single": one EC2 instance in one
	// zone, the smallest bill, a few minutes of downtime on each deploy.
	// "ha": an Auto Scaling group across both zones behind an Application
	// Load Balancer, scaled on CPU, with rolling deploys that keep full
	// capacity. Default: "single" (an empty Mode means "single" too).
	Mode string

	// MinSize is the fewest instances the group runs, and so the capacity
	// left when a zone fails (each zone runs about half). Mode "ha" only.
	// Default: 2 (one per zone).
	MinSize int

	// MaxSize is the most instances scaling may add up to. Mode "ha" only.
	// Default: 4.
	MaxSize int

	// DesiredCapacity is the number of instances the group starts with,
	// between MinSize and MaxSize. After the first deploy the scaling
	// policy owns the number: later deploys leave it where scaling put it.
	// Mode "ha" only. Default: 2.
	DesiredCapacity int

	// TargetCPU is the average CPU utilization, in percent, that
	// target-tracking scaling keeps the group at: above it the group adds
	// instances, well below it removes them. Mode "ha" only. Default: 50.
	TargetCPU int

	// CertificateARN is an ACM certificate, in Region, for the load
	// balancer: when set, it serves HTTPS on 443 with this certificate and
	// redirects HTTP on 80 to it. Point the certificate's domain at the load
	// balancer (CNAME or Route 53 alias). Mode "ha" only: the single
	// instance has no place for an ACM certificate (see TLS).
	// Default: "" (HTTP only).
	CertificateARN string

	// CDN puts a CloudFront distribution in front of the service, in either
	// mode. Its origin is a CloudFront VPC origin: the instance (single) or
	// an internal load balancer (ha), in private subnets with no public
	// address, that only CloudFront's origin-facing addresses may reach on
	// port 80. Viewers get HTTPS on the distribution's *.cloudfront.net
	// name (or DomainName), HTTP redirected to it; listings are cached at
	// the edge for as long as the service's Cache-Control allows, except
	// behind HTPasswdParameter, where nothing is cached. The instances
	// have no way to the internet, so SSM and HTPasswdParameter need
	// SSMEndpoints, and AllowedCIDRs must stay at its default (CloudFront
	// answers everyone). TLS has no effect: CloudFront serves HTTPS.
	// Default: false.
	CDN bool

	// DomainName is a custom domain (such as "files.example.com") to serve
	// the service under, with HostedZoneID, the Route 53 hosted zone that
	// holds it. The stack requests an ACM certificate for it, validates it
	// through DNS in that zone and points the name at what serves it with
	// an alias record: the distribution with CDN (the certificate then in
	// us-east-1, where CloudFront takes it from), the load balancer in mode
	// "ha" without CDN (replacing CertificateARN). In mode "single"
	// without CDN there is nothing to put a certificate on. Default: ""
	// (the distribution's or the load balancer's own name).
	DomainName string

	// HostedZoneID is the ID of the public Route 53 hosted zone of
	// DomainName (such as "Z0123456789ABCDEFGHIJ"); required with it.
	// Default: "".
	HostedZoneID string

	// ModuleDir is the root of the Go module that holds
	// ./service/cmd/bucketls, built at synth time. It is not read from
	// cdktf.json or the environment: it exists so tests and tools running in
	// another directory can point at the module. Default: "" (the nearest
	// directory at or above the working directory that holds a go.mod).
	ModuleDir string
}

// DefaultConfig returns the configuration used when cdktf.json and the
// environment set nothing: every setting at the default it declares.
func DefaultConfig() Config {
	var c Config
	for _, s := range settings {
		s.setDefault(&c)
	}
	return c
}

// The values of Config.Mode.
const (
	ModeSingle = "single"
	ModeHA     = "ha"
)

// ConfigError is one bad configuration value: the setting (its cdktf.json
// context key and its environment variable), the value, what is wrong with it
// and how to fix it.
type ConfigError struct {
	Key     string // cdktf.json context key, e.g. "arch"
	Env     string // environment variable that overrides the key, e.g. "BUCKETLS_ARCH"
	Value   string // the value as given
	Problem string // what is wrong with it
	Fix     string // what to do instead
}

// Error returns one line naming the key, the bad value, the problem and the fix.
func (e *ConfigError) Error() string {
	where := fmt.Sprintf("cdktf.json context %q", e.Key)
	if e.Env != "" {
		where += " or env " + e.Env
	}
	return fmt.Sprintf("config %s = %s: %s; fix: %s (%s)", e.Key, e.Value, e.Problem, e.Fix, where)
}

// LoadConfig returns DefaultConfig overridden by the context block of the
// cdktf.json at path (skipped when path is ""), then by the BUCKETLS_*
// variables that getenv returns non-empty, and validated. Unknown context
// keys are errors (a typo would otherwise be ignored), except the flags of
// ContextFlags, which cdktf.json carries for the CDKTF library. It reports
// every problem at once, one line each.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("load config: %w", err)
		}
		if err := applyContext(&cfg, data); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) { // not JSON at all
				return Config{}, fmt.Errorf("load config from %s: %w", path, err)
			}
			errs = append(errs, err)
		}
	}
	for _, s := range settings {
		if _, env := s.names(); getenv(env) != "" {
			errs = append(errs, s.fromEnv(&cfg, getenv(env)))
		}
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyContext sets cfg from the "context" object of a cdktf.json document.
func applyContext(cfg *Config, cdktfJSON []byte) error {
	var doc struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(cdktfJSON, &doc); err != nil {
		return fmt.Errorf("parse cdktf.json: %w", err)
	}
	flags := ContextFlags()
	var errs []error
	for _, key := range sortedKeys(doc.Context) {
		i := slices.IndexFunc(settings, func(s setting) bool { k, _ := s.names(); return k == key })
		switch {
		case i >= 0:
			errs = append(errs, settings[i].fromJSON(cfg, doc.Context[key]))
		case flags[key] != nil:
			// A CDKTF library flag, not ours.
		default:
			errs = append(errs, &ConfigError{Key: key, Value: string(doc.Context[key]),
				Problem: "unknown key", Fix: "use one of " + strings.Join(settingKeys(), ", ")})
		}
	}
	return errors.Join(errs...)
}

// settingKeys returns the cdktf.json keys of every setting, in table order.
func settingKeys() []string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i], _ = s.names()
	}
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Validate checks every setting and returns one *ConfigError per bad
// value, joined; nil when the configuration can be deployed.
func (c Config) Validate() error {
	var errs []error
	for _, s := range settings {
		errs = append(errs, s.check(c)...)
	}
	return errors.Join(errs...)
}

// ha reports whether the stack runs the load-balanced Auto Scaling group.
func (c Config) ha() bool { return c.Mode == ModeHA }

// single reports whether the stack runs one instance ("" counts as single).
func (c Config) single() bool { return c.Mode == "" || c.Mode == ModeSingle }

// instanceTLS reports whether the instances serve their own self-signed
// HTTPS on 443: in mode "single" when TLS is on; in mode "ha" never, since
// the load balancer talks plain HTTP to them inside the VPC and terminates
// clients' TLS itself with a real certificate, and a port 443 that nothing
// may reach would only be attack surface.
// With cdn the instances serve plain HTTP to CloudFront, which serves
// HTTPS to clients.
func (c Config) instanceTLS() bool { return c.TLS && !c.ha() && !c.CDN }

// clientTLS reports whether clients reach the service over HTTPS: the
// instance's own (single, tls), the load balancer's (ha, certificateArn or
// domainName) or CloudFront's (cdn).
func (c Config) clientTLS() bool {
	return c.instanceTLS() || c.loadBalancerTLS() || c.CDN
}

// loadBalancerTLS reports whether the load balancer serves HTTPS: in mode
// "ha" without cdn, with a certificate given (certificateArn) or requested
// for domainName.
func (c Config) loadBalancerTLS() bool {
	return c.ha() && !c.CDN && (c.CertificateARN != "" || c.DomainName != "")
}

// instanceType returns InstanceType or, when empty, the default for Arch.
func (c Config) instanceType() string {
	if c.InstanceType != "" {
		return c.InstanceType
	}
	return defaultInstanceType(c.Arch)
}

// defaultInstanceType is the smallest burstable type of each arch with 1 GiB
// of memory: the AWS CLI needs it during boot.
func defaultInstanceType(arch string) string {
	if arch == "arm64" {
		return "t4g.micro"
	}
	return "t3.micro"
}

// partition returns the AWS partition of the region, for ARNs built from
// names (the served bucket, the managed SSM policy).
func (c Config) partition() string {
	switch {
	case strings.HasPrefix(c.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(c.Region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
