package stack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// settings declares every setting once: its cdktf.json context key, its
// BUCKETLS_* variable, its default, how its value is read (kind) and how it
// is checked. DefaultConfig, LoadConfig, Validate and every ConfigError's
// Key and Env come from here. The order is the order of docs/deploy.md's
// tables; adding a setting is one line here, its Config field, its check
// and its test (cdktf.json and docs/deploy.md list it too, and tests hold them
// to this table).
var settings = []setting{
	field[string]{key: "region", env: "BUCKETLS_REGION", def: "us-east-1", kind: stringKind,
		get: func(c *Config) *string { return &c.Region }, valid: checkRegion},
	field[string]{key: "arch", env: "BUCKETLS_ARCH", def: "amd64", kind: stringKind,
		get: func(c *Config) *string { return &c.Arch }, valid: checkArch},
	field[string]{key: "instanceType", env: "BUCKETLS_INSTANCE_TYPE", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.InstanceType }, valid: checkInstanceType},
	field[string]{key: "bucketName", env: "BUCKETLS_BUCKET_NAME", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.BucketName }, valid: checkBucketName},
	field[[]string]{key: "allowedCidrs", env: "BUCKETLS_ALLOWED_CIDRS", def: []string{"0.0.0.0/0"}, kind: listKind(`["203.0.113.0/24"]`),
		get: func(c *Config) *[]string { return &c.AllowedCIDRs }, valid: checkCIDRs},
	field[bool]{key: "tls", env: "BUCKETLS_TLS", def: true, kind: boolKind,
		get: func(c *Config) *bool { return &c.TLS }},
	field[bool]{key: "ssm", env: "BUCKETLS_SSM", def: true, kind: boolKind,
		get: func(c *Config) *bool { return &c.SSM }},
	// 2s: see Config.CacheTTL for the S3-cost-versus-staleness trade-off.
	field[time.Duration]{key: "cacheTtl", env: "BUCKETLS_CACHE_TTL", def: 2 * time.Second, kind: durationKind,
		get: func(c *Config) *time.Duration { return &c.CacheTTL }, valid: checkCacheTTL},
	field[time.Duration]{key: "cacheStale", env: "BUCKETLS_CACHE_STALE", def: 0, kind: durationKind,
		get: func(c *Config) *time.Duration { return &c.CacheStale }, valid: checkCacheStale},
	field[[]string]{key: "corsOrigins", env: "BUCKETLS_CORS_ORIGINS", def: []string{}, kind: listKind(`["https://example.com"]`),
		get: func(c *Config) *[]string { return &c.CORSOrigins }, valid: checkCORSOrigins},
	field[bool]{key: "flowLogs", env: "BUCKETLS_FLOW_LOGS", def: false, kind: boolKind,
		get: func(c *Config) *bool { return &c.FlowLogs }},
	field[string]{key: "rootPrefix", env: "BUCKETLS_ROOT_PREFIX", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.RootPrefix }, valid: checkRootPrefix},
	field[[]string]{key: "hide", env: "BUCKETLS_HIDE", def: []string{}, kind: listKind(`[".*", "private/*"]`),
		get: func(c *Config) *[]string { return &c.Hide }, valid: checkHide},
	// 0: the service's own default (viewcap.Default), as instanceType's
	// "" is the arch's.
	field[int]{key: "viewCap", env: "BUCKETLS_VIEW_CAP", def: 0, kind: intKind,
		get: func(c *Config) *int { return &c.ViewCap }, valid: checkViewCap},
	field[bool]{key: "serveObjects", env: "BUCKETLS_SERVE_OBJECTS", def: false, kind: boolKind,
		get: func(c *Config) *bool { return &c.ServeObjects }},
	field[string]{key: "htpasswdParameter", env: "BUCKETLS_HTPASSWD_PARAMETER", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.HTPasswdParameter }, valid: checkHTPasswdParameter},
	field[bool]{key: "allowPasswordsInClear", env: "BUCKETLS_ALLOW_PASSWORDS_IN_CLEAR", def: false, kind: boolKind,
		get: func(c *Config) *bool { return &c.AllowPasswordsInClear }},
	field[bool]{key: "ssmEndpoints", env: "BUCKETLS_SSM_ENDPOINTS", def: false, kind: boolKind,
		get: func(c *Config) *bool { return &c.SSMEndpoints }, valid: checkSSMEndpoints},

	// Mode "ha" and its settings (haOnly: see field).
	field[string]{key: "mode", env: "BUCKETLS_MODE", def: ModeSingle, kind: stringKind,
		get: func(c *Config) *string { return &c.Mode }, valid: checkMode},
	field[int]{key: "minSize", env: "BUCKETLS_MIN_SIZE", def: 2, kind: intKind, haOnly: true,
		get: func(c *Config) *int { return &c.MinSize }, valid: checkMinSize},
	field[int]{key: "maxSize", env: "BUCKETLS_MAX_SIZE", def: 4, kind: intKind, haOnly: true,
		get: func(c *Config) *int { return &c.MaxSize }, valid: checkMaxSize},
	field[int]{key: "desiredCapacity", env: "BUCKETLS_DESIRED_CAPACITY", def: 2, kind: intKind, haOnly: true,
		get: func(c *Config) *int { return &c.DesiredCapacity }, valid: checkDesiredCapacity},
	field[int]{key: "targetCpu", env: "BUCKETLS_TARGET_CPU", def: 50, kind: intKind, haOnly: true,
		get: func(c *Config) *int { return &c.TargetCPU }, valid: checkTargetCPU},
	field[string]{key: "certificateArn", env: "BUCKETLS_CERTIFICATE_ARN", def: "", kind: stringKind, haOnly: true,
		get: func(c *Config) *string { return &c.CertificateARN }, valid: checkCertificateARN},

	// CloudFront and custom domains, in both modes.
	field[bool]{key: "cdn", env: "BUCKETLS_CDN", def: false, kind: boolKind,
		get: func(c *Config) *bool { return &c.CDN }, valid: checkCDN},
	field[string]{key: "domainName", env: "BUCKETLS_DOMAIN_NAME", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.DomainName }, valid: checkDomainName},
	field[string]{key: "hostedZoneId", env: "BUCKETLS_HOSTED_ZONE_ID", def: "", kind: stringKind,
		get: func(c *Config) *string { return &c.HostedZoneID }, valid: checkHostedZoneID},
}

// setting is one declared Config field, whatever its Go type.
type setting interface {
	names() (key, env string)
	setDefault(c *Config)
	// fromJSON sets the field from a cdktf.json context value.
	fromJSON(c *Config, raw json.RawMessage) error
	// fromEnv sets the field from a non-empty environment value.
	fromEnv(c *Config, v string) error
	// check returns one *ConfigError per problem with the field's value in c.
	check(c Config) []error
}

// field declares a setting of Go type T.
type field[T any] struct {
	key, env string
	def      T // the default, which DefaultConfig and cdktf.json state
	kind     kind[T]
	get      func(*Config) *T
	// haOnly settings shape mode "ha" only. In mode "single" they must stay
	// at their default, or the zero value of a Config built in Go:
	// cdktf.json lists every key at its default, so those values mean "not
	// set", but any other value is a mistake, most likely a forgotten mode
	// "ha", and ignoring it would deploy something other than what was
	// asked for (one instance instead of a group, or no HTTPS at all for a
	// certificateArn). In an unknown mode they are not checked: the mode's
	// own error says what to fix.
	haOnly bool
	// valid returns what is wrong with value v in c, nil when it is fine.
	valid func(c Config, v T) []problem
}

// problem is one thing wrong with a setting's value.
type problem struct {
	value   string // the offending value as the message shows it; "" for the whole value
	problem string // what is wrong
	fix     string // what to do instead
}

// bad returns one problem with the whole value.
func bad(what, fix string) []problem { return []problem{{problem: what, fix: fix}} }

func (f field[T]) names() (string, string) { return f.key, f.env }

func (f field[T]) setDefault(c *Config) { *f.get(c) = f.kind.clone(f.def) }

func (f field[T]) fromJSON(c *Config, raw json.RawMessage) error {
	v, err := f.kind.parseJSON(raw)
	if err != nil {
		return &ConfigError{Key: f.key, Env: f.env, Value: string(raw), Problem: f.kind.problem, Fix: f.kind.jsonFix}
	}
	*f.get(c) = v
	return nil
}

func (f field[T]) fromEnv(c *Config, s string) error {
	v, err := f.kind.parseEnv(s)
	if err != nil {
		return &ConfigError{Key: f.key, Env: f.env, Value: strconv.Quote(s), Problem: f.kind.problem, Fix: f.kind.envFix}
	}
	*f.get(c) = v
	return nil
}

func (f field[T]) check(c Config) []error {
	v := *f.get(&c)
	var ps []problem
	switch {
	case f.haOnly && c.single():
		var zero T
		if !reflect.DeepEqual(v, zero) && !reflect.DeepEqual(v, f.def) {
			ps = bad(`applies to mode "ha" only, but mode is "single"`,
				fmt.Sprintf(`set mode to "ha", or set %s back to its default %s`, f.key, f.kind.format(f.def)))
		}
	case f.haOnly && !c.ha():
		// An unknown mode: its own error says what to fix.
	case f.valid != nil:
		ps = f.valid(c, v)
	}
	var errs []error
	for _, p := range ps {
		value := p.value
		if value == "" {
			value = f.kind.format(v)
		}
		errs = append(errs, &ConfigError{Key: f.key, Env: f.env, Value: value, Problem: p.problem, Fix: p.fix})
	}
	return errs
}

// kind is how settings of one Go type read and show a value, and what
// their errors say when a value does not parse.
type kind[T any] struct {
	problem   string // what is wrong with a value that does not parse
	jsonFix   string // how to write it in cdktf.json
	envFix    string // how to write it in the environment
	parseJSON func(json.RawMessage) (T, error)
	parseEnv  func(string) (T, error)
	format    func(T) string // the value as messages show it
	clone     func(T) T      // a copy that shares no memory with the default
}

// unmarshal parses a cdktf.json value with encoding/json, which rejects
// strings for numbers and booleans, fractions and numbers out of range.
func unmarshal[T any](raw json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

func same[T any](v T) T { return v }

var (
	stringKind = kind[string]{
		problem: "not a string", jsonFix: "write the value in double quotes",
		parseJSON: unmarshal[string], parseEnv: func(v string) (string, error) { return v, nil },
		format: strconv.Quote, clone: same[string],
	}
	boolKind = kind[bool]{
		problem: "not a boolean", jsonFix: "write true or false without quotes", envFix: "set it to true or false",
		parseJSON: unmarshal[bool], parseEnv: strconv.ParseBool,
		format: strconv.FormatBool, clone: same[bool],
	}
	durationKind = kind[time.Duration]{
		problem: "not a duration", jsonFix: `write a Go duration in double quotes, such as "2s" or "500ms"`, envFix: "set it to a Go duration such as 2s or 500ms",
		parseJSON: func(raw json.RawMessage) (time.Duration, error) {
			s, err := unmarshal[string](raw)
			if err != nil {
				return 0, err
			}
			return time.ParseDuration(s)
		},
		parseEnv: time.ParseDuration,
		format:   func(d time.Duration) string { return strconv.Quote(d.String()) },
		clone:    same[time.Duration],
	}
	intKind = kind[int]{
		problem: "not a whole number", jsonFix: "write a number such as 2 without quotes", envFix: "set it to a number such as 2",
		parseJSON: unmarshal[int], parseEnv: strconv.Atoi,
		format: strconv.Itoa, clone: same[int],
	}
)

// listKind reads a JSON list of strings from cdktf.json and a
// comma-separated list from the environment; example is a JSON list for
// the error's fix.
func listKind(example string) kind[[]string] {
	return kind[[]string]{
		problem: "not a list of strings", jsonFix: "write a JSON list such as " + example,
		parseJSON: unmarshal[[]string],
		parseEnv: func(v string) ([]string, error) {
			var l []string
			for _, part := range strings.Split(v, ",") {
				l = append(l, strings.TrimSpace(part))
			}
			return l, nil
		},
		format: func(l []string) string {
			if l == nil {
				l = []string{}
			}
			b, _ := json.Marshal(l)
			return string(b)
		},
		clone: slices.Clone[[]string],
	}
}
