package stack

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/internal/corsorigin/corsorigintest"
	"github.com/bucketls/bucketls/internal/s3name/s3nametest"
)

// cdktfJSONPath is the project's cdktf.json, seen from the package directory.
const cdktfJSONPath = "../cdktf.json"

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if got := DefaultConfig().instanceType(); got != "t3.micro" {
		t.Errorf("default instance type = %q, want t3.micro", got)
	}
	c := DefaultConfig()
	c.Arch = "arm64"
	if got := c.instanceType(); got != "t4g.micro" {
		t.Errorf("default arm64 instance type = %q, want t4g.micro", got)
	}
}

// TestCdktfJSONStatesTheDefaults keeps cdktf.json the readable list of every
// setting at its default.
func TestCdktfJSONStatesTheDefaults(t *testing.T) {
	cfg, err := LoadConfig(cdktfJSONPath, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("cdktf.json gives %+v, want the defaults %+v", cfg, DefaultConfig())
	}
	doc := readCdktfJSON(t)
	for _, key := range settingKeys() {
		if _, ok := doc.Context[key]; !ok {
			t.Errorf("cdktf.json context does not list %q", key)
		}
	}
}

type cdktfJSON struct {
	Language string                     `json:"language"`
	App      string                     `json:"app"`
	Context  map[string]json.RawMessage `json:"context"`
}

func readCdktfJSON(t *testing.T) cdktfJSON {
	t.Helper()
	data, err := os.ReadFile(cdktfJSONPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc cdktfJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("cdktf.json: %v", err)
	}
	return doc
}

// TestCdktfJSONWiring checks that `cdktf synth` runs main.go and sets the
// same library flags as every other app that synthesizes the stack.
func TestCdktfJSONWiring(t *testing.T) {
	doc := readCdktfJSON(t)
	if doc.Language != "go" || doc.App != "go run main.go" {
		t.Errorf("cdktf.json language, app = %q, %q; want go, go run main.go", doc.Language, doc.App)
	}
	for k, v := range ContextFlags() {
		raw, ok := doc.Context[k]
		if !ok {
			t.Errorf("cdktf.json context lacks the flag %q", k)
			continue
		}
		var got any
		_ = json.Unmarshal(raw, &got)
		if !reflect.DeepEqual(got, v) {
			t.Errorf("cdktf.json context %q = %s, want %v", k, raw, v)
		}
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdktf.json")
	err := os.WriteFile(path, []byte(`{"context": {
		"region": "eu-central-1", "arch": "arm64", "bucketName": "from-context",
		"allowedCidrs": ["10.0.0.0/8"], "tls": false, "ssm": false,
		"@cdktf/disable_stack_trace_in_metadata": true}}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, env(map[string]string{
		"BUCKETLS_BUCKET_NAME":   "from-env",
		"BUCKETLS_ALLOWED_CIDRS": "203.0.113.0/24, 198.51.100.7/32",
		"BUCKETLS_TLS":           "true",
		"BUCKETLS_INSTANCE_TYPE": "m7g.large",
		"BUCKETLS_CACHE_TTL":     "500ms",
		"BUCKETLS_CORS_ORIGINS":  "https://a.example, https://b.example",
		"BUCKETLS_CACHE_STALE":   "1m",
		"BUCKETLS_VIEW_CAP":      "25000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Region: "eu-central-1", Arch: "arm64", InstanceType: "m7g.large", BucketName: "from-env",
		AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}, TLS: true, SSM: false,
		CacheTTL: 500 * time.Millisecond, CacheStale: time.Minute, ViewCap: 25000,
		CORSOrigins: []string{"https://a.example", "https://b.example"}, Hide: []string{},
		Mode: ModeSingle, MinSize: 2, MaxSize: 4, DesiredCapacity: 2, TargetCPU: 50,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadConfig = %+v\nwant %+v", cfg, want)
	}
}

// TestLoadConfigStaleAndViewCap reads cacheStale and viewCap from
// cdktf.json, and accepts the edges of what the service takes: 0 (off,
// or the service's default), a view cap of 1 and of viewcap.Max, and a
// stale window behind a TTL shorter than a second (the process answers
// stale; only the whole seconds reach Cache-Control).
func TestLoadConfigStaleAndViewCap(t *testing.T) {
	for _, tc := range []struct {
		context string
		stale   time.Duration
		viewCap int
	}{
		{`"cacheStale": "30s", "viewCap": 20000`, 30 * time.Second, 20000},
		{`"cacheStale": "0s", "viewCap": 0`, 0, 0},
		{`"cacheTtl": "0s", "cacheStale": "0s"`, 0, 0},
		{`"cacheTtl": "500ms", "cacheStale": "1500ms", "viewCap": 1`, 1500 * time.Millisecond, 1},
		{`"cacheTtl": "1h", "cacheStale": "24h", "viewCap": 1000000`, 24 * time.Hour, 1_000_000},
	} {
		path := filepath.Join(t.TempDir(), "cdktf.json")
		if err := os.WriteFile(path, []byte(`{"context": {`+tc.context+`}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path, env(nil))
		if err != nil {
			t.Errorf("%s: %v", tc.context, err)
			continue
		}
		if cfg.CacheStale != tc.stale || cfg.ViewCap != tc.viewCap {
			t.Errorf("%s: cacheStale, viewCap = %s, %d; want %s, %d", tc.context, cfg.CacheStale, cfg.ViewCap, tc.stale, tc.viewCap)
		}
	}
}

// TestLoadConfigHA sets every "ha" key, from cdktf.json and from the
// environment, which wins.
func TestLoadConfigHA(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdktf.json")
	err := os.WriteFile(path, []byte(`{"context": {
		"mode": "ha", "minSize": 3, "maxSize": 9, "desiredCapacity": 5, "targetCpu": 70,
		"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"}}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Mode, want.MinSize, want.MaxSize, want.DesiredCapacity, want.TargetCPU = ModeHA, 3, 9, 5, 70
	want.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadConfig = %+v\nwant %+v", cfg, want)
	}

	cfg, err = LoadConfig(path, env(map[string]string{
		"BUCKETLS_MIN_SIZE":         "1",
		"BUCKETLS_MAX_SIZE":         "2",
		"BUCKETLS_DESIRED_CAPACITY": "1",
		"BUCKETLS_TARGET_CPU":       "35",
		"BUCKETLS_CERTIFICATE_ARN":  "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000002",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want.MinSize, want.MaxSize, want.DesiredCapacity, want.TargetCPU = 1, 2, 1, 35
	want.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000002"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("LoadConfig with env = %+v\nwant %+v", cfg, want)
	}

	// The environment alone switches the default cdktf.json to ha.
	cfg, err = LoadConfig(cdktfJSONPath, env(map[string]string{"BUCKETLS_MODE": "ha"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.ha() || cfg.instanceTLS() {
		t.Errorf("BUCKETLS_MODE=ha: ha() = %v, instanceTLS() = %v; want true, false", cfg.ha(), cfg.instanceTLS())
	}
}

// TestInstanceTLS: only a single instance serves its own (self-signed)
// HTTPS; behind the load balancer the instances serve plain HTTP.
func TestInstanceTLS(t *testing.T) {
	for _, tc := range []struct {
		mode string
		tls  bool
		want bool
	}{
		{"", true, true}, {ModeSingle, true, true}, {ModeSingle, false, false},
		{ModeHA, true, false}, {ModeHA, false, false},
	} {
		c := DefaultConfig()
		c.Mode, c.TLS = tc.mode, tc.tls
		if got := c.instanceTLS(); got != tc.want {
			t.Errorf("mode %q tls %v: instanceTLS() = %v, want %v", tc.mode, tc.tls, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		context string            // cdktf.json context body, "" = none
		env     map[string]string // BUCKETLS_* variables
		wantKey string            // the key the error names
		want    string            // the bad value, as the message quotes it
	}{
		{"unknown arch", `"arch": "x86"`, nil, "arch", `"x86"`},
		{"unknown arch from env", "", map[string]string{"BUCKETLS_ARCH": "i386"}, "arch", `"i386"`},
		{"arm64 with an x86 type", `"arch": "arm64", "instanceType": "t3.micro"`, nil, "instanceType", `"t3.micro"`},
		{"x86 with a Graviton type", `"instanceType": "c7g.large"`, nil, "instanceType", `"c7g.large"`},
		{"malformed instance type", `"instanceType": "micro"`, nil, "instanceType", `"micro"`},
		{"bad region", `"region": "useast1"`, nil, "region", `"useast1"`},
		{"not a CIDR", `"allowedCidrs": ["10.0.0.300/8"]`, nil, "allowedCidrs", `"10.0.0.300/8"`},
		{"host bits set", `"allowedCidrs": ["10.1.2.3/8"]`, nil, "allowedCidrs", `"10.1.2.3/8"`},
		{"IPv6 CIDR", `"allowedCidrs": ["2001:db8::/32"]`, nil, "allowedCidrs", `"2001:db8::/32"`},
		{"empty CIDR list", `"allowedCidrs": []`, nil, "allowedCidrs", `[]`},
		{"duplicate CIDR", `"allowedCidrs": ["10.0.0.0/8", "10.0.0.0/8"]`, nil, "allowedCidrs", `"10.0.0.0/8"`},
		{"bad CIDR from env", "", map[string]string{"BUCKETLS_ALLOWED_CIDRS": "10.0.0.0/8,nope"}, "allowedCidrs", `"nope"`},
		{"CIDRs not a list", `"allowedCidrs": "0.0.0.0/0"`, nil, "allowedCidrs", `"0.0.0.0/0"`},
		{"bucket given as URI", `"bucketName": "s3://my-bucket"`, nil, "bucketName", `"s3://my-bucket"`},
		{"bucket given as ARN", `"bucketName": "arn:aws:s3:::my-bucket"`, nil, "bucketName", `"arn:aws:s3:::my-bucket"`},
		{"bucket name too short", `"bucketName": "ab"`, nil, "bucketName", `"ab"`},
		{"bucket name too long", `"bucketName": "` + strings.Repeat("b", 256) + `"`, nil, "bucketName", `"` + strings.Repeat("b", 256) + `"`},
		{"bucket name with a space", `"bucketName": "my bucket"`, nil, "bucketName", `"my bucket"`},
		{"bucket name ending in a dot", `"bucketName": "my-bucket."`, nil, "bucketName", `"my-bucket."`},
		{"tls as a string", `"tls": "yes"`, nil, "tls", `"yes"`},
		{"tls from env", "", map[string]string{"BUCKETLS_TLS": "maybe"}, "tls", `"maybe"`},
		{"ssm as a number", `"ssm": 1`, nil, "ssm", `1`},
		{"cacheTtl as a number", `"cacheTtl": 2`, nil, "cacheTtl", `2`},
		{"cacheTtl without a unit", `"cacheTtl": "2"`, nil, "cacheTtl", `"2"`},
		{"cacheTtl negative", `"cacheTtl": "-1s"`, nil, "cacheTtl", `"-1s"`},
		{"cacheTtl from env", "", map[string]string{"BUCKETLS_CACHE_TTL": "soon"}, "cacheTtl", `"soon"`},
		{"cacheStale as a number", `"cacheStale": 30`, nil, "cacheStale", `30`},
		{"cacheStale without a unit", `"cacheStale": "30"`, nil, "cacheStale", `"30"`},
		{"cacheStale negative", `"cacheStale": "-1s"`, nil, "cacheStale", `"-1s"`},
		{"cacheStale from env", "", map[string]string{"BUCKETLS_CACHE_STALE": "a while"}, "cacheStale", `"a while"`},
		{"cacheStale negative from env", "", map[string]string{"BUCKETLS_CACHE_STALE": "-30s"}, "cacheStale", `"-30s"`},
		{"cacheStale without a cache", `"cacheTtl": "0s", "cacheStale": "30s"`, nil, "cacheStale", `"30s"`},
		{"cacheStale without a cache from env", "", map[string]string{"BUCKETLS_CACHE_TTL": "0s", "BUCKETLS_CACHE_STALE": "30s"}, "cacheStale", `"30s"`},
		{"viewCap as a string", `"viewCap": "5000"`, nil, "viewCap", `"5000"`},
		{"viewCap a fraction", `"viewCap": 2.5`, nil, "viewCap", `2.5`},
		{"viewCap negative", `"viewCap": -1`, nil, "viewCap", `-1`},
		{"viewCap above the service's bound", `"viewCap": 1000001`, nil, "viewCap", `1000001`},
		{"viewCap from env", "", map[string]string{"BUCKETLS_VIEW_CAP": "lots"}, "viewCap", `"lots"`},
		{"viewCap above the bound from env", "", map[string]string{"BUCKETLS_VIEW_CAP": "2000000"}, "viewCap", `2000000`},
		{"corsOrigins not a list", `"corsOrigins": "https://a.example"`, nil, "corsOrigins", `"https://a.example"`},
		{"corsOrigin with a path", `"corsOrigins": ["https://a.example/app"]`, nil, "corsOrigins", `"https://a.example/app"`},
		{"corsOrigin without a scheme", `"corsOrigins": ["a.example"]`, nil, "corsOrigins", `"a.example"`},
		{"corsOrigin of another scheme", `"corsOrigins": ["ftp://a.example"]`, nil, "corsOrigins", `"ftp://a.example"`},
		{"corsOrigin with a bad port", `"corsOrigins": ["https://a.example:99999"]`, nil, "corsOrigins", `"https://a.example:99999"`},
		{"corsOrigin with a query", `"corsOrigins": ["https://a.example?x"]`, nil, "corsOrigins", `"https://a.example?x"`},
		{"corsOrigins star among others", `"corsOrigins": ["*", "https://a.example"]`, nil, "corsOrigins", `"*"`},
		{"corsOrigin with user info", `"corsOrigins": ["https://me@a.example"]`, nil, "corsOrigins", `"https://me@a.example"`},
		{"corsOrigin wildcard over a top-level domain", `"corsOrigins": ["https://*.com"]`, nil, "corsOrigins", `"https://*.com"`},
		{"corsOrigin wildcard in the middle", `"corsOrigins": ["https://a.*.example.com"]`, nil, "corsOrigins", `"https://a.*.example.com"`},
		{"corsOrigin wildcard from env", "", map[string]string{"BUCKETLS_CORS_ORIGINS": "https://*.example.com,https://app-*.example.com"}, "corsOrigins", `"https://app-*.example.com"`},
		{"corsOrigins empty entry from env", "", map[string]string{"BUCKETLS_CORS_ORIGINS": "https://a.example,"}, "corsOrigins", `""`},
		{"corsOrigins too many", `"corsOrigins": [` + strings.Repeat(`"https://a.example",`, 20) + `"https://b.example"]`, nil, "corsOrigins", `[` + strings.Repeat(`"https://a.example",`, 20) + `"https://b.example"]`},
		{"rootPrefix with a leading slash", `"rootPrefix": "/reports"`, nil, "rootPrefix", `"/reports"`},
		{"rootPrefix with a trailing slash", `"rootPrefix": "reports/"`, nil, "rootPrefix", `"reports/"`},
		{"rootPrefix with an empty segment", `"rootPrefix": "a//b"`, nil, "rootPrefix", `"a//b"`},
		{"rootPrefix with a dot segment", `"rootPrefix": "a/../b"`, nil, "rootPrefix", `"a/../b"`},
		{"rootPrefix with a control char", `"rootPrefix": "a\u0007b"`, nil, "rootPrefix", `"a\ab"`},
		{"rootPrefix with a wildcard", `"rootPrefix": "a*"`, nil, "rootPrefix", `"a*"`},
		{"rootPrefix with a question mark", `"rootPrefix": "a?"`, nil, "rootPrefix", `"a?"`},
		{"rootPrefix with a policy variable", `"rootPrefix": "${aws:username}"`, nil, "rootPrefix", `"${aws:username}"`},
		{"rootPrefix with a template directive", `"rootPrefix": "a%{b}"`, nil, "rootPrefix", `"a%{b}"`},
		{"rootPrefix too long", `"rootPrefix": "` + strings.Repeat("p", 513) + `"`, nil, "rootPrefix", `"` + strings.Repeat("p", 513) + `"`},
		{"hide not a list", `"hide": ".*"`, nil, "hide", `".*"`},
		{"hide bad glob", `"hide": ["[a-"]`, nil, "hide", `"[a-"`},
		{"hide absolute", `"hide": ["/etc/*"]`, nil, "hide", `"/etc/*"`},
		{"hide twice", `"hide": [".*", ".*"]`, nil, "hide", `".*"`},
		{"hide with a template", `"hide": ["${x}"]`, nil, "hide", `"${x}"`},
		{"hide from env", "", map[string]string{"BUCKETLS_HIDE": ".*,a//b"}, "hide", `"a//b"`},
		{"rootPrefix from env", "", map[string]string{"BUCKETLS_ROOT_PREFIX": "./x"}, "rootPrefix", `"./x"`},
		{"htpasswdParameter as an ARN", `"htpasswdParameter": "arn:aws:ssm:us-east-1:123456789012:parameter/x"`, nil,
			"htpasswdParameter", `"arn:aws:ssm:us-east-1:123456789012:parameter/x"`},
		{"htpasswdParameter with a space", `"htpasswdParameter": "/bucketls/my file"`, nil, "htpasswdParameter", `"/bucketls/my file"`},
		{"htpasswdParameter reserved", `"htpasswdParameter": "/aws/htpasswd"`, nil, "htpasswdParameter", `"/aws/htpasswd"`},
		{"htpasswdParameter without TLS", `"tls": false, "htpasswdParameter": "/bucketls/htpasswd"`, nil, "htpasswdParameter", `"/bucketls/htpasswd"`},
		{"htpasswdParameter in ha without a certificate", `"mode": "ha", "htpasswdParameter": "/bucketls/htpasswd"`, nil, "htpasswdParameter", `"/bucketls/htpasswd"`},
		{"htpasswdParameter without TLS from env", `"tls": false`, map[string]string{"BUCKETLS_HTPASSWD_PARAMETER": "bucketls-htpasswd"}, "htpasswdParameter", `"bucketls-htpasswd"`},
		{"allowPasswordsInClear as a string", `"allowPasswordsInClear": "yes"`, nil, "allowPasswordsInClear", `"yes"`},
		{"corsOrigins from env", "", map[string]string{"BUCKETLS_CORS_ORIGINS": "https://a.example,nope"}, "corsOrigins", `"nope"`},
		{"flowLogs as a string", `"flowLogs": "on"`, nil, "flowLogs", `"on"`},
		{"ssmEndpoints without ssm", `"ssm": false, "ssmEndpoints": true`, nil, "ssmEndpoints", `true`},
		{"ssmEndpoints without ssm from env", "", map[string]string{"BUCKETLS_SSM": "false", "BUCKETLS_SSM_ENDPOINTS": "true"}, "ssmEndpoints", `true`},
		{"unknown key", `"instancetype": "t3.micro"`, nil, "instancetype", `"t3.micro"`},
		{"unknown mode", `"mode": "cluster"`, nil, "mode", `"cluster"`},
		{"unknown mode from env", "", map[string]string{"BUCKETLS_MODE": "HA"}, "mode", `"HA"`},
		{"minSize not a number", `"mode": "ha", "minSize": "2"`, nil, "minSize", `"2"`},
		{"minSize a fraction", `"mode": "ha", "minSize": 1.5`, nil, "minSize", `1.5`},
		{"maxSize from env not a number", `"mode": "ha"`, map[string]string{"BUCKETLS_MAX_SIZE": "four"}, "maxSize", `"four"`},
		{"minSize zero", `"mode": "ha", "minSize": 0, "desiredCapacity": 2`, nil, "minSize", `0`},
		{"minSize negative", `"mode": "ha", "minSize": -1`, nil, "minSize", `-1`},
		{"maxSize below minSize", `"mode": "ha", "minSize": 3, "maxSize": 2, "desiredCapacity": 3`, nil, "maxSize", `2`},
		{"maxSize too large", `"mode": "ha", "maxSize": 400`, nil, "maxSize", `400`},
		{"desired below minSize", `"mode": "ha", "minSize": 2, "desiredCapacity": 1`, nil, "desiredCapacity", `1`},
		{"desired above maxSize", `"mode": "ha", "desiredCapacity": 5`, nil, "desiredCapacity", `5`},
		{"desired above maxSize from env", `"mode": "ha"`, map[string]string{"BUCKETLS_DESIRED_CAPACITY": "9"}, "desiredCapacity", `9`},
		{"targetCpu zero", `"mode": "ha", "targetCpu": 0`, nil, "targetCpu", `0`},
		{"targetCpu above 100", `"mode": "ha", "targetCpu": 101`, nil, "targetCpu", `101`},
		{"certificateArn not an ARN", `"mode": "ha", "certificateArn": "my-cert"`, nil, "certificateArn", `"my-cert"`},
		{"certificateArn of IAM", `"mode": "ha", "certificateArn": "arn:aws:iam::123456789012:server-certificate/x"`, nil, "certificateArn", `"arn:aws:iam::123456789012:server-certificate/x"`},
		{"certificateArn in another region", `"mode": "ha", "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`, nil,
			"certificateArn", `"arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`},
		{"certificateArn in another partition", `"mode": "ha", "certificateArn": "arn:aws-cn:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`, nil,
			"certificateArn", `"arn:aws-cn:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`},
		// In mode single, the ha settings must stay at their defaults: a
		// changed one most likely means a forgotten mode "ha".
		{"minSize in single mode", `"minSize": 1`, nil, "minSize", `1`},
		{"maxSize in single mode from env", "", map[string]string{"BUCKETLS_MAX_SIZE": "6"}, "maxSize", `6`},
		{"desiredCapacity in single mode", `"mode": "single", "desiredCapacity": 3`, nil, "desiredCapacity", `3`},
		{"targetCpu in single mode", `"targetCpu": 70`, nil, "targetCpu", `70`},
		{"certificateArn in single mode", `"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`, nil,
			"certificateArn", `"arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000001"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.context != "" {
				path = filepath.Join(t.TempDir(), "cdktf.json")
				if err := os.WriteFile(path, []byte(`{"context": {`+tc.context+`}}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadConfig(path, env(tc.env))
			if err == nil {
				t.Fatalf("LoadConfig accepted %s %v", tc.context, tc.env)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Key != tc.wantKey {
				t.Errorf("error names key %q, want %q: %v", ce.Key, tc.wantKey, err)
			}
			msg := err.Error()
			for _, want := range []string{"config " + tc.wantKey + " = " + tc.want, "; fix: ", `cdktf.json context "` + tc.wantKey + `"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") && !strings.Contains(tc.name, "CIDR") {
				t.Errorf("message has more than one line: %q", msg)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := DefaultConfig()
	c.Arch, c.Region, c.BucketName = "sparc", "nowhere", "s3://bad"
	err := c.Validate()
	for _, key := range []string{"config arch", "config region", "config bucketName"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate() = %v, want it to name %s", err, key)
		}
	}
}

// TestModeConfigsAreValid: the defaults are valid in both modes, the
// defaults of the "ha" keys (or zero, from a Config built in Go) are
// accepted in mode single, and the edges of the ranges are accepted in "ha".
func TestModeConfigsAreValid(t *testing.T) {
	ha := DefaultConfig()
	ha.Mode = ModeHA
	zero := DefaultConfig()
	zero.Mode, zero.MinSize, zero.MaxSize, zero.DesiredCapacity, zero.TargetCPU = "", 0, 0, 0, 0
	edges := ha
	edges.MinSize, edges.MaxSize, edges.DesiredCapacity, edges.TargetCPU = 1, 1, 1, 1
	top := ha
	top.MinSize, top.MaxSize, top.DesiredCapacity, top.TargetCPU = maxGroupSize, maxGroupSize, maxGroupSize, 100
	cert := ha
	cert.Region = "us-gov-west-1"
	cert.CertificateARN = "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
	for name, c := range map[string]Config{"ha defaults": ha, "single with zero ha values": zero, "ha lower edges": edges, "ha upper edges": top, "GovCloud certificate": cert} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}

func TestInstanceTypeArch(t *testing.T) {
	for typ, want := range map[string]string{
		"t3.micro": "amd64", "t3a.small": "amd64", "m7i.large": "amd64", "g4dn.xlarge": "amd64", "c5n.large": "amd64",
		"t4g.micro": "arm64", "m7g.large": "arm64", "c6gn.large": "arm64", "im4gn.large": "arm64", "g5g.xlarge": "arm64", "a1.medium": "arm64", "r8g.large": "arm64",
	} {
		if got := instanceTypeArch(typ); got != want {
			t.Errorf("instanceTypeArch(%q) = %q, want %q", typ, got, want)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "eu-west-3": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"} {
		c := DefaultConfig()
		c.Region = region
		if err := c.Validate(); err != nil {
			t.Errorf("region %q: %v", region, err)
		}
		if got := c.partition(); got != want {
			t.Errorf("partition of %q = %q, want %q", region, got, want)
		}
	}
}

func TestBurstable(t *testing.T) {
	for _, tt := range []struct {
		instanceType string
		want         bool
	}{
		{"t3.micro", true}, {"t4g.micro", true}, {"t2.nano", true},
		{"trn1.2xlarge", false}, {"c7g.medium", false}, {"m5.large", false}, {"t", false}, {"", false},
	} {
		if got := burstable(tt.instanceType); got != tt.want {
			t.Errorf("burstable(%q) = %v, want %v", tt.instanceType, got, tt.want)
		}
	}
}

// TestLegacyBucketNames: an existing bucket may have a name from before
// today's naming rules (us-east-1 before March 2018: capitals,
// underscores, up to 255 characters); the stack accepts what the service
// accepts for --bucket, and still rejects what can never be a bucket.
func TestLegacyBucketNames(t *testing.T) {
	for _, tc := range s3nametest.Buckets() {
		c := DefaultConfig()
		c.BucketName = tc.Name
		err := c.Validate()
		if (err == nil) != tc.OK {
			t.Errorf("bucketName %q: Validate() = %v, want ok = %v", tc.Name, err, tc.OK)
		}
	}
}

// TestDocumentedSettings keeps the stack configuration tables of
// docs/deploy.md the list of every setting: a row per key with its
// variable.
func TestDocumentedSettings(t *testing.T) {
	readme, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		key, env := s.names()
		if row := "\n| `" + key + "` | `" + env + "`"; !strings.Contains(string(readme), row) {
			t.Errorf("docs/deploy.md has no stack configuration row %q", strings.TrimSpace(row))
		}
	}
}

// TestFileListsAgree keeps the list of the package's files in doc.go and
// in the layout of docs/development.md one list: both name exactly the
// package's non-test files and sub-packages, in the same order.
func TestFileListsAgree(t *testing.T) {
	entry := regexp.MustCompile(`^(\S+\.go|[a-z]+/)\s`)
	names := func(text, indent string) []string {
		var out []string
		for _, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(line, indent); ok {
				if m := entry.FindStringSubmatch(rest); m != nil {
					out = append(out, m[1])
				}
			}
		}
		return out
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../docs/development.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, _ := strings.Cut(string(readme), "\nstack/ ")
	layout, _, _ = strings.Cut(layout, "\ne2e/")
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		switch {
		case e.IsDir() && e.Name() != "testdata":
			files = append(files, e.Name()+"/")
		case !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go"):
			files = append(files, e.Name())
		}
	}
	docList, readmeList := names(string(doc), "//\t"), names(layout, "  ")
	if !reflect.DeepEqual(docList, readmeList) {
		t.Errorf("doc.go lists %q\ndocs/development.md lists %q", docList, readmeList)
	}
	if !sameElements(docList, files) {
		t.Errorf("doc.go lists %q\nthe package has %q", docList, files)
	}
}

// TestCORSOriginsRule: corsOrigins takes the lists the service's
// --cors-origins takes (corsorigintest's examples, which the service's
// tests run too), wildcards included, and the unit carries them as the
// service writes them; the rest is refused naming the entry, with a fix.
func TestCORSOriginsRule(t *testing.T) {
	art := artifact{bucketName: "artifacts", key: "bucketls/x", sha256: strings.Repeat("a", 64)}
	for _, ex := range corsorigintest.Examples() {
		c := DefaultConfig()
		c.CORSOrigins = ex.Origins
		err := c.Validate()
		if ex.Want == nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != "corsOrigins" || ce.Value != strconv.Quote(ex.Bad) || !strings.Contains(ce.Problem, ex.Problem) || ce.Fix == "" {
				t.Errorf("corsOrigins %q: %v; want the error of %q saying %q, with a fix", ex.Origins, err, ex.Bad, ex.Problem)
			}
			continue
		}
		if err != nil {
			t.Errorf("corsOrigins %q: %v", ex.Origins, err)
			continue
		}
		ud, err := userData(c, art, servedBucket{name: "served"})
		if want := "\nEnvironment=BUCKETLS_CORS_ORIGINS=" + strings.Join(ex.Want, ",") + "\n"; err != nil || !strings.Contains(ud, want) {
			t.Errorf("corsOrigins %q: the unit lacks %q (%v)", ex.Origins, strings.TrimSpace(want), err)
		}
	}
	for _, origins := range [][]string{nil, {}} {
		c := DefaultConfig()
		c.CORSOrigins = origins
		ud, err := userData(c, art, servedBucket{name: "served"})
		if c.Validate() != nil || err != nil || strings.Contains(ud, "BUCKETLS_CORS_ORIGINS") {
			t.Errorf("corsOrigins %q: want no CORS variable in the unit (%v)", origins, err)
		}
	}
}

// TestPasswordConfigsAreValid: a password with TLS in either mode, without
// it only with the override, and root prefixes the service also accepts.
func TestPasswordConfigsAreValid(t *testing.T) {
	single := DefaultConfig()
	single.HTPasswdParameter = "/bucketls/htpasswd"
	clear := single
	clear.TLS, clear.AllowPasswordsInClear = false, true
	ha := single
	ha.Mode, ha.CertificateARN = ModeHA, "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"
	haClear := single
	haClear.Mode, haClear.AllowPasswordsInClear = ModeHA, true
	plain := single
	plain.HTPasswdParameter = "bucketls_htpasswd.v2"
	configs := map[string]Config{"single with tls": single, "single without tls, allowed": clear, "ha with a certificate": ha,
		"ha without a certificate, allowed": haClear, "a name without a hierarchy": plain}
	for _, p := range []string{"reports", "team/2024", "ünïcode/päth", "with space", "quote'and\"", "100%", "a.b/c..d", strings.Repeat("p", 512)} {
		c := DefaultConfig()
		c.RootPrefix = p
		configs["root prefix "+p] = c
	}
	for name, c := range configs {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}
