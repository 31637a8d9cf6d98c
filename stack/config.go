package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Config is everything a deployment can choose. It is filled from the
// context block of cdktf.json, then from BUCKETLS_* environment variables
// (see LoadConfig), and checked by Validate before anything is built.
type Config struct {
	// Region is the AWS region everything is created in; the instance's
	// service gets it as AWS_REGION because the SDK does not read the region
	// from instance metadata. Context key "region", env BUCKETLS_REGION.
	// Default: "us-east-1".
	Region string

	// Arch is the CPU architecture of the instance and of the binary built for
	// it: "amd64" or "arm64". Context key "arch", env BUCKETLS_ARCH.
	// Default: "amd64".
	Arch string

	// InstanceType is the EC2 instance type; it must run Arch. Context key
	// "instanceType", env BUCKETLS_INSTANCE_TYPE. Default: "" (meaning
	// "t3.micro" for amd64 and "t4g.micro" for arm64, the smallest burstable
	// types with enough memory for the AWS CLI during boot).
	InstanceType string

	// BucketName is an existing S3 bucket for the service to list. It must
	// be in Region (the service asks that region), and a bucket of another
	// account must also grant s3:ListBucket to the instance role in its
	// bucket policy. When empty, the stack creates a private bucket and seeds
	// it with the reference tree (dir1/, dir2/file1, dir2/file2, file1, file2)
	// so a fresh deploy answers at once; teardown deletes it with its content.
	// Context key "bucketName", env BUCKETLS_BUCKET_NAME.
	// Default: "" (create and seed a bucket).
	BucketName string

	// AllowedCIDRs are the IPv4 networks allowed to reach ports 80 and 443;
	// nothing else is open inbound (no port 22). Context key "allowedCidrs"
	// (a JSON list), env BUCKETLS_ALLOWED_CIDRS (comma-separated).
	// Default: ["0.0.0.0/0"] (a public listing service).
	AllowedCIDRs []string

	// TLS serves self-signed HTTPS on 443 beside HTTP on 80. Mode "single"
	// only: in mode "ha" the load balancer terminates TLS (see
	// CertificateARN) and the instances serve plain HTTP to it, so TLS has
	// no effect there. Context key "tls", env BUCKETLS_TLS. Default: true.
	TLS bool

	// SSM attaches the AWS-managed AmazonSSMManagedInstanceCore policy so the
	// instance is reachable through SSM Session Manager; there is no SSH key
	// and no port 22 either way. Context key "ssm", env BUCKETLS_SSM.
	// Default: true.
	SSM bool

	// Mode chooses how the service runs. "single": one EC2 instance in one
	// zone, the smallest bill, a few minutes of downtime on each deploy.
	// "ha": an Auto Scaling group across both zones behind an Application
	// Load Balancer, scaled on CPU, with rolling deploys that keep full
	// capacity. Context key "mode", env BUCKETLS_MODE. Default: "single"
	// (an empty Mode means "single" too).
	Mode string

	// MinSize is the fewest instances the group runs, and so the capacity
	// left when a zone fails (each zone runs about half). Mode "ha" only.
	// Context key "minSize", env BUCKETLS_MIN_SIZE. Default: 2 (one per zone).
	MinSize int

	// MaxSize is the most instances scaling may add up to. Mode "ha" only.
	// Context key "maxSize", env BUCKETLS_MAX_SIZE. Default: 4.
	MaxSize int

	// DesiredCapacity is the number of instances the group starts with,
	// between MinSize and MaxSize. After the first deploy the scaling
	// policy owns the number: later deploys leave it where scaling put it.
	// Mode "ha" only. Context key "desiredCapacity", env
	// BUCKETLS_DESIRED_CAPACITY. Default: 2.
	DesiredCapacity int

	// TargetCPU is the average CPU utilization, in percent, that
	// target-tracking scaling keeps the group at: above it the group adds
	// instances, well below it removes them. Mode "ha" only. Context key
	// "targetCpu", env BUCKETLS_TARGET_CPU. Default: 50.
	TargetCPU int

	// CertificateARN is an ACM certificate, in Region, for the load
	// balancer: when set, it serves HTTPS on 443 with this certificate and
	// redirects HTTP on 80 to it. Point the certificate's domain at the load
	// balancer (CNAME or Route 53 alias). Mode "ha" only: the single
	// instance has no place for an ACM certificate (see TLS). Context key
	// "certificateArn", env BUCKETLS_CERTIFICATE_ARN. Default: "" (HTTP only).
	CertificateARN string

	// ModuleDir is the root of the Go module that holds
	// ./service/cmd/bucketls, built at synth time. It is not read from
	// cdktf.json or the environment: it exists so tests and tools running in
	// another directory can point at the module. Default: "" (the nearest
	// directory at or above the working directory that holds a go.mod).
	ModuleDir string
}

// DefaultConfig returns the configuration used when cdktf.json and the
// environment set nothing.
func DefaultConfig() Config {
	return Config{
		Region:       "us-east-1",
		Arch:         "amd64",
		AllowedCIDRs: []string{"0.0.0.0/0"},
		TLS:          true,
		SSM:          true,

		Mode:            ModeSingle,
		MinSize:         2,
		MaxSize:         4,
		DesiredCapacity: 2,
		TargetCPU:       50,
	}
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

// setting ties one Config field to its cdktf.json context key and its
// environment variable.
type setting struct {
	key, env string
	// fromJSON sets the field from a cdktf.json context value.
	fromJSON func(c *Config, raw json.RawMessage) error
	// fromEnv sets the field from a non-empty environment value.
	fromEnv func(c *Config, v string) error
}

// settings lists every configurable key; the order is the order of the README table.
var settings = []setting{
	stringSetting("region", "BUCKETLS_REGION", func(c *Config) *string { return &c.Region }),
	stringSetting("arch", "BUCKETLS_ARCH", func(c *Config) *string { return &c.Arch }),
	stringSetting("instanceType", "BUCKETLS_INSTANCE_TYPE", func(c *Config) *string { return &c.InstanceType }),
	stringSetting("bucketName", "BUCKETLS_BUCKET_NAME", func(c *Config) *string { return &c.BucketName }),
	{
		key: "allowedCidrs", env: "BUCKETLS_ALLOWED_CIDRS",
		fromJSON: func(c *Config, raw json.RawMessage) error {
			var v []string
			if err := json.Unmarshal(raw, &v); err != nil {
				return &ConfigError{Key: "allowedCidrs", Env: "BUCKETLS_ALLOWED_CIDRS", Value: string(raw),
					Problem: "not a list of strings", Fix: `write a JSON list such as ["203.0.113.0/24"]`}
			}
			c.AllowedCIDRs = v
			return nil
		},
		fromEnv: func(c *Config, v string) error {
			c.AllowedCIDRs = nil
			for _, part := range strings.Split(v, ",") {
				c.AllowedCIDRs = append(c.AllowedCIDRs, strings.TrimSpace(part))
			}
			return nil
		},
	},
	boolSetting("tls", "BUCKETLS_TLS", func(c *Config) *bool { return &c.TLS }),
	boolSetting("ssm", "BUCKETLS_SSM", func(c *Config) *bool { return &c.SSM }),
	stringSetting("mode", "BUCKETLS_MODE", func(c *Config) *string { return &c.Mode }),
	intSetting("minSize", "BUCKETLS_MIN_SIZE", func(c *Config) *int { return &c.MinSize }),
	intSetting("maxSize", "BUCKETLS_MAX_SIZE", func(c *Config) *int { return &c.MaxSize }),
	intSetting("desiredCapacity", "BUCKETLS_DESIRED_CAPACITY", func(c *Config) *int { return &c.DesiredCapacity }),
	intSetting("targetCpu", "BUCKETLS_TARGET_CPU", func(c *Config) *int { return &c.TargetCPU }),
	stringSetting("certificateArn", "BUCKETLS_CERTIFICATE_ARN", func(c *Config) *string { return &c.CertificateARN }),
}

// kind is how settings of one Go type read a value and what their errors
// say; the three kinds below cover every scalar setting.
type kind[T any] struct {
	problem string // what is wrong with a value that does not parse
	jsonFix string // how to write it in cdktf.json
	envFix  string // how to write it in the environment
	parse   func(string) (T, error)
}

var (
	stringKind = kind[string]{"not a string", "write the value in double quotes", "",
		func(v string) (string, error) { return v, nil }}
	boolKind = kind[bool]{"not a boolean", "write true or false without quotes", "set it to true or false",
		strconv.ParseBool}
	// json.Unmarshal into an int rejects strings, fractions and numbers out
	// of range.
	intKind = kind[int]{"not a whole number", "write a number such as 2 without quotes", "set it to a number such as 2",
		strconv.Atoi}
)

// scalarSetting ties field to key and env, reading values of kind k.
func scalarSetting[T any](key, env string, k kind[T], field func(*Config) *T) setting {
	return setting{
		key: key, env: env,
		fromJSON: func(c *Config, raw json.RawMessage) error {
			if err := json.Unmarshal(raw, field(c)); err != nil {
				return &ConfigError{Key: key, Env: env, Value: string(raw), Problem: k.problem, Fix: k.jsonFix}
			}
			return nil
		},
		fromEnv: func(c *Config, v string) error {
			parsed, err := k.parse(v)
			if err != nil {
				return &ConfigError{Key: key, Env: env, Value: strconv.Quote(v), Problem: k.problem, Fix: k.envFix}
			}
			*field(c) = parsed
			return nil
		},
	}
}

func stringSetting(key, env string, field func(*Config) *string) setting {
	return scalarSetting(key, env, stringKind, field)
}

func boolSetting(key, env string, field func(*Config) *bool) setting {
	return scalarSetting(key, env, boolKind, field)
}

func intSetting(key, env string, field func(*Config) *int) setting {
	return scalarSetting(key, env, intKind, field)
}

// LoadConfig returns DefaultConfig overridden by the context block of the
// cdktf.json at path (skipped when path is ""), then by the BUCKETLS_*
// variables that getenv returns non-empty, and validated. Unknown context
// keys are errors (a typo would otherwise be ignored), except the flags of
// ContextFlags, which cdktf.json carries for the CDKTF library.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	var errs []error // every problem at once, one line each
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
		if v := getenv(s.env); v != "" {
			errs = append(errs, s.fromEnv(&cfg, v))
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
		i := slices.IndexFunc(settings, func(s setting) bool { return s.key == key })
		switch {
		case i >= 0:
			errs = append(errs, settings[i].fromJSON(cfg, doc.Context[key]))
		case flags[key] != nil:
			// A CDKTF library flag, not ours.
		default:
			known := make([]string, len(settings))
			for i, s := range settings {
				known[i] = s.key
			}
			errs = append(errs, &ConfigError{Key: key, Value: string(doc.Context[key]),
				Problem: "unknown key", Fix: "use one of " + strings.Join(known, ", ")})
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	// regionRE matches region names such as us-east-1, us-gov-west-1, ap-southeast-5.
	regionRE = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+){1,2}-[0-9]{1,2}$`)
	// instanceTypeRE matches instance types such as t3.micro, m7g.large, c6gn.16xlarge.
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	// gravitonRE matches the families that run arm64: a generation digit
	// followed by "g" (t4g, m7g, c6gn, im4gn, g5g) or the first Graviton, a1.
	gravitonRE = regexp.MustCompile(`^([a-z]+[0-9]+g[a-z0-9-]*|a1)\.`)
	// bucketNameRE is the S3 general purpose bucket naming rule without the
	// exceptions that validBucketName checks separately.
	bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// maxAllowedCIDRs keeps the rules well under the default quota of 60 inbound
// rules per security group (each CIDR is one rule per port).
const maxAllowedCIDRs = 50

// Validate checks every field and returns one *ConfigError per bad value,
// joined; nil when the configuration can be deployed.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, env, value, problem, fix string) {
		errs = append(errs, &ConfigError{Key: key, Env: env, Value: value, Problem: problem, Fix: fix})
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", "BUCKETLS_REGION", strconv.Quote(c.Region), "not an AWS region name", `use a region such as "us-east-1" or "eu-west-1"`)
	}
	archOK := c.Arch == "amd64" || c.Arch == "arm64"
	if !archOK {
		bad("arch", "BUCKETLS_ARCH", strconv.Quote(c.Arch), "unsupported architecture", `use "amd64" (x86_64) or "arm64" (Graviton)`)
	}
	if c.InstanceType != "" {
		switch {
		case !instanceTypeRE.MatchString(c.InstanceType):
			bad("instanceType", "BUCKETLS_INSTANCE_TYPE", strconv.Quote(c.InstanceType),
				"not an EC2 instance type", `use a type such as "t3.micro", or leave it empty for the default of the arch`)
		case archOK && instanceTypeArch(c.InstanceType) != c.Arch:
			bad("instanceType", "BUCKETLS_INSTANCE_TYPE", strconv.Quote(c.InstanceType),
				fmt.Sprintf("an %s type, but arch is %q", instanceTypeArch(c.InstanceType), c.Arch),
				fmt.Sprintf("pick an %s type such as %q, or set arch to %q", c.Arch, defaultInstanceType(c.Arch), instanceTypeArch(c.InstanceType)))
		}
	}
	if c.BucketName != "" {
		if err := validBucketName(c.BucketName); err != nil {
			bad("bucketName", "BUCKETLS_BUCKET_NAME", strconv.Quote(c.BucketName), err.Error(),
				"give the name of an existing bucket (not an ARN or s3:// URI), or leave it empty to create and seed one")
		}
	}
	errs = append(errs, validCIDRs(c.AllowedCIDRs)...)
	errs = append(errs, c.validMode()...)
	return errors.Join(errs...)
}

// maxGroupSize bounds maxSize. A rolling deploy runs up to twice the
// group (maxHealthyPercentage), and twice this still fits the two /24
// subnets with room for the load balancer's nodes; it also stops a typo
// such as 400 from becoming a bill.
const maxGroupSize = 100

// acmARNRE matches an ACM certificate ARN and captures its partition,
// region and account.
var acmARNRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):acm:([a-z0-9-]+):([0-9]{12}):certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validMode checks mode and the settings that belong to mode "ha".
//
// In mode "single" the "ha" settings must stay at their defaults (or
// zero, for a Config built in Go): cdktf.json lists every key at its
// default, so those values mean "not set", but any other value is a
// mistake, most likely a forgotten mode "ha", and ignoring it would deploy
// something other than what was asked for (one instance instead of a
// group, or no HTTPS at all for a certificateArn).
func (c Config) validMode() []error {
	var errs []error
	bad := func(key, env, value, problem, fix string) {
		errs = append(errs, &ConfigError{Key: key, Env: env, Value: value, Problem: problem, Fix: fix})
	}
	type intField struct {
		key, env string
		value    int
		def      int
	}
	def := DefaultConfig()
	ints := []intField{
		{"minSize", "BUCKETLS_MIN_SIZE", c.MinSize, def.MinSize},
		{"maxSize", "BUCKETLS_MAX_SIZE", c.MaxSize, def.MaxSize},
		{"desiredCapacity", "BUCKETLS_DESIRED_CAPACITY", c.DesiredCapacity, def.DesiredCapacity},
		{"targetCpu", "BUCKETLS_TARGET_CPU", c.TargetCPU, def.TargetCPU},
	}
	switch c.Mode {
	case "", ModeSingle:
		for _, f := range ints {
			if f.value != 0 && f.value != f.def {
				bad(f.key, f.env, strconv.Itoa(f.value), `applies to mode "ha" only, but mode is "single"`,
					fmt.Sprintf(`set mode to "ha", or set %s back to its default %d`, f.key, f.def))
			}
		}
		if c.CertificateARN != "" {
			bad("certificateArn", "BUCKETLS_CERTIFICATE_ARN", strconv.Quote(c.CertificateARN),
				`applies to mode "ha" only: the single instance serves a self-signed certificate (tls), not an ACM one`,
				`set mode to "ha" to serve HTTPS from a load balancer with this certificate, or remove certificateArn`)
		}
		return errs
	case ModeHA:
	default:
		bad("mode", "BUCKETLS_MODE", strconv.Quote(c.Mode), "unknown mode",
			`use "single" (one instance) or "ha" (load balancer and Auto Scaling group across two zones)`)
		return errs
	}

	minOK := c.MinSize >= 1
	if !minOK {
		bad("minSize", "BUCKETLS_MIN_SIZE", strconv.Itoa(c.MinSize), "below 1: the load balancer would have nothing to send requests to",
			"set it to 1 or more; 2 keeps one instance in each zone")
	}
	maxOK := true
	switch {
	case c.MaxSize > maxGroupSize:
		maxOK = false
		bad("maxSize", "BUCKETLS_MAX_SIZE", strconv.Itoa(c.MaxSize), fmt.Sprintf("above %d", maxGroupSize),
			fmt.Sprintf("set it to %d or less", maxGroupSize))
	case minOK && c.MaxSize < c.MinSize:
		maxOK = false
		bad("maxSize", "BUCKETLS_MAX_SIZE", strconv.Itoa(c.MaxSize), fmt.Sprintf("below minSize %d", c.MinSize),
			fmt.Sprintf("set maxSize to %d or more, or lower minSize", c.MinSize))
	}
	if minOK && maxOK && (c.DesiredCapacity < c.MinSize || c.DesiredCapacity > c.MaxSize) {
		bad("desiredCapacity", "BUCKETLS_DESIRED_CAPACITY", strconv.Itoa(c.DesiredCapacity),
			fmt.Sprintf("outside minSize %d to maxSize %d", c.MinSize, c.MaxSize),
			fmt.Sprintf("set it between %d and %d", c.MinSize, c.MaxSize))
	}
	if c.TargetCPU < 1 || c.TargetCPU > 100 {
		bad("targetCpu", "BUCKETLS_TARGET_CPU", strconv.Itoa(c.TargetCPU), "not a CPU percentage from 1 to 100",
			"set the average CPU utilization to keep the group at, such as 50")
	}
	if c.CertificateARN != "" {
		const key, env = "certificateArn", "BUCKETLS_CERTIFICATE_ARN"
		value := strconv.Quote(c.CertificateARN)
		m := acmARNRE.FindStringSubmatch(c.CertificateARN)
		switch {
		case m == nil:
			bad(key, env, value, "not an ACM certificate ARN",
				`give the ARN that ACM shows, such as "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f", or leave it empty for HTTP only`)
		case m[2] != c.Region:
			bad(key, env, value, fmt.Sprintf("a certificate in %s, but region is %q; a load balancer uses certificates of its own region only", m[2], c.Region),
				fmt.Sprintf("request or import the certificate in ACM in %s and give that ARN", c.Region))
		case m[1] != c.partition():
			bad(key, env, value, fmt.Sprintf("a certificate in partition %s, but region %q is in %s", m[1], c.Region, c.partition()),
				"give the ARN of a certificate in the deployment's region")
		}
	}
	return errs
}

// ha reports whether the stack runs the load-balanced Auto Scaling group.
func (c Config) ha() bool { return c.Mode == ModeHA }

// instanceTLS reports whether the instances serve their own self-signed
// HTTPS on 443: in mode "single" when TLS is on; in mode "ha" never, since
// the load balancer talks plain HTTP to them inside the VPC and terminates
// clients' TLS itself with a real certificate, and a port 443 that nothing
// may reach would only be attack surface.
func (c Config) instanceTLS() bool { return c.TLS && !c.ha() }

// validCIDRs checks allowedCidrs: canonical IPv4 prefixes, no duplicates, at
// least one and at most maxAllowedCIDRs.
func validCIDRs(cidrs []string) []error {
	const key, env = "allowedCidrs", "BUCKETLS_ALLOWED_CIDRS"
	value := func() string { b, _ := json.Marshal(cidrs); return string(b) }
	switch {
	case len(cidrs) == 0:
		return []error{&ConfigError{Key: key, Env: env, Value: "[]", Problem: "empty: nobody could reach the service",
			Fix: `list the networks to admit, or ["0.0.0.0/0"] for everyone`}}
	case len(cidrs) > maxAllowedCIDRs:
		return []error{&ConfigError{Key: key, Env: env, Value: value(),
			Problem: fmt.Sprintf("%d entries, more than %d", len(cidrs), maxAllowedCIDRs),
			Fix:     "merge them into fewer, larger prefixes"}}
	}
	var errs []error
	seen := map[netip.Prefix]bool{}
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			errs = append(errs, &ConfigError{Key: key, Env: env, Value: strconv.Quote(s),
				Problem: "not a CIDR", Fix: `write an IPv4 network such as "203.0.113.0/24" or "198.51.100.7/32"`})
		case !p.Addr().Is4():
			errs = append(errs, &ConfigError{Key: key, Env: env, Value: strconv.Quote(s),
				Problem: "an IPv6 network, but the VPC is IPv4 only", Fix: "list IPv4 networks only"})
		case p.Masked() != p:
			errs = append(errs, &ConfigError{Key: key, Env: env, Value: strconv.Quote(s),
				Problem: "host bits set", Fix: fmt.Sprintf("write %q", p.Masked().String())})
		case seen[p]:
			errs = append(errs, &ConfigError{Key: key, Env: env, Value: strconv.Quote(s),
				Problem: "listed twice (AWS rejects duplicate rules)", Fix: "remove the duplicate"})
		}
		seen[p] = true
	}
	return errs
}

// validBucketName applies the S3 naming rules for general purpose buckets.
func validBucketName(name string) error {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("%d characters; bucket names have 3 to 63", len(name))
	case !bucketNameRE.MatchString(name):
		return errors.New("bucket names use only lowercase letters, digits, dots and hyphens, and start and end with a letter or digit")
	case strings.Contains(name, ".."):
		return errors.New("bucket names have no two adjacent dots")
	case isIPv4(name):
		return errors.New("bucket names are not formatted as IP addresses")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket names do not start with %q", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("bucket names do not end with %q", s)
		}
	}
	return nil
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// instanceTypeArch returns the architecture an instance type runs.
func instanceTypeArch(instanceType string) string {
	if gravitonRE.MatchString(instanceType) {
		return "arm64"
	}
	return "amd64"
}

// defaultInstanceType is the smallest burstable type of each arch with 1 GiB
// of memory: the AWS CLI needs it during boot.
func defaultInstanceType(arch string) string {
	if arch == "arm64" {
		return "t4g.micro"
	}
	return "t3.micro"
}

// instanceType returns InstanceType or, when empty, the default for Arch.
func (c Config) instanceType() string {
	if c.InstanceType != "" {
		return c.InstanceType
	}
	return defaultInstanceType(c.Arch)
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
