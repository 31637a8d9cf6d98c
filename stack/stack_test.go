package stack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The synth tests of every file share the stacks of four fixtures, each
// synthesized once per test binary behind its own sync.Once, so a run of
// a few tests pays only for the stacks they read: fx (the default, twice,
// and the variant of mode "single"), haFx (the default and the variant of
// mode "ha"), prefixedFx (both modes with a root prefix and a password)
// and endpointsFx (both modes with ssmEndpoints). Each goes through Synth:
// the same path as main.go and the boot rehearsal (a real App with an
// output directory, so the asset is copied), with one jsii runtime. The
// jsii runtime serves one goroutine at a time: no t.Parallel here.
//
// They assert on the synthesized JSON with the cdktf Testing matchers where
// a property check is enough, and by decoding it where a rule needs an
// exact answer (counts, the full IAM document, every security group rule).

// synthCase is one synthesized stack.
type synthCase struct {
	cfg Config
	res Synthesized
	raw []byte   // cdk.tf.json
	tf  tfConfig // cdk.tf.json, decoded
}

// tfConfig is the part of cdk.tf.json the tests read.
type tfConfig struct {
	Resource  map[string]map[string]map[string]any `json:"resource"`
	Data      map[string]map[string]map[string]any `json:"data"`
	Output    map[string]map[string]any            `json:"output"`
	Provider  map[string][]map[string]any          `json:"provider"`
	Terraform map[string]any                       `json:"terraform"`
}

// fixture synthesizes a set of stacks once per test binary: the jsii
// runtime serves one goroutine at a time, and each synth takes seconds.
type fixture struct {
	once    sync.Once
	dir     string
	cases   []*synthCase
	err     error
	skipMsg string
}

// namedConfig is one stack of a fixture and the directory it goes to.
type namedConfig struct {
	name string
	cfg  Config
}

// synth synthesizes configs into a new temporary directory on first use
// and returns the cases in the same order. Without Node.js it skips, except
// under CI, where a missing Node.js is a failure.
func (f *fixture) synth(t *testing.T, configs ...namedConfig) []*synthCase {
	t.Helper()
	f.once.Do(func() {
		if err := CheckNode(); err != nil {
			if os.Getenv("CI") == "" {
				f.skipMsg = "cannot synthesize here: " + err.Error()
				return
			}
			f.err = err // CI must have Node.js
			return
		}
		if f.dir, f.err = os.MkdirTemp("", "bucketls-stack-test-"); f.err != nil {
			return
		}
		for _, nc := range configs {
			c, err := synthCaseFor(filepath.Join(f.dir, nc.name), nc.cfg)
			if err != nil {
				f.err = err
				return
			}
			f.cases = append(f.cases, c)
		}
	})
	if f.skipMsg != "" {
		t.Skip(f.skipMsg)
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.cases
}

// synthCaseFor synthesizes cfg into outdir and reads the result.
func synthCaseFor(outdir string, cfg Config) (*synthCase, error) {
	c := &synthCase{cfg: cfg}
	var err error
	if c.res, err = Synth(outdir, cfg); err != nil {
		return nil, fmt.Errorf("synth %s: %w", filepath.Base(outdir), err)
	}
	if c.raw, err = os.ReadFile(c.res.JSON); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(c.raw, &c.tf); err != nil {
		return nil, err
	}
	return c, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	for _, dir := range []string{fx.dir, haFx.dir, prefixedFx.dir, endpointsFx.dir, cdnFx.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

var fx fixture

// synthesized returns the default stack, the default stack synthesized a
// second time into another directory, and the variant stack.
func synthesized(t *testing.T) (def, again, variant *synthCase) {
	t.Helper()
	c := fx.synth(t, namedConfig{"default", DefaultConfig()}, namedConfig{"again", DefaultConfig()}, namedConfig{"variant", variantConfig()})
	return c[0], c[1], c[2]
}

// variantConfig differs from the default in every setting.
func variantConfig() Config {
	return Config{
		Region:       "eu-west-1",
		Arch:         "arm64",
		BucketName:   "my-existing-bucket",
		AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"},
		TLS:          false,
		SSM:          false,
		FlowLogs:     true,
		CacheTTL:     0,
		// As an operator may write them: the unit carries them as
		// browsers send them (corsOriginsUnit), the wildcard included.
		CORSOrigins:  []string{"https://example.com", "HTTP://LocalHost:3000/", "https://*.example.com"},
		RootPrefix:   "team/reports",
		Hide:         []string{".*", "private/*"},
		ServeObjects: true,
		ViewCap:      500,
		// No cacheStale: with cacheTtl 0 it is refused (haVariantConfig
		// sets it).
	}
}

// both runs f for the default and the variant stack.
func both(t *testing.T, f func(t *testing.T, c *synthCase)) {
	def, _, variant := synthesized(t)
	t.Run("default", func(t *testing.T) { f(t, def) })
	t.Run("variant", func(t *testing.T) { f(t, variant) })
}

// haDefaultConfig is the default configuration in mode "ha": HTTP only.
func haDefaultConfig() Config {
	c := DefaultConfig()
	c.Mode = ModeHA
	return c
}

// haVariantConfig differs from haDefaultConfig in every setting that
// shapes the stack, and has a certificate (HTTPS on the load balancer).
// TLS stays on: in mode "ha" it must change nothing.
func haVariantConfig() Config {
	return Config{
		Region:          "eu-west-1",
		Arch:            "arm64",
		InstanceType:    "c7g.medium", // not burstable: no credit specification
		BucketName:      "my-existing-bucket",
		AllowedCIDRs:    []string{"203.0.113.0/24", "198.51.100.7/32"},
		TLS:             true,
		SSM:             false,
		FlowLogs:        true,
		Mode:            ModeHA,
		MinSize:         3,
		MaxSize:         6,
		DesiredCapacity: 4,
		TargetCPU:       65,
		CacheTTL:        1500 * time.Millisecond,
		CacheStale:      90 * time.Second,
		ViewCap:         1_000_000, // the upper edge
		CORSOrigins:     []string{"*"},
		RootPrefix:      "ünïcode prefix/with 'quotes' and %",
		Hide:            []string{"*.bak", "drafts [0-9]"},
		ServeObjects:    true,
		CertificateARN:  "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f",
	}
}

var haFx fixture

// haSynthesized returns the default and the variant stack of mode "ha".
func haSynthesized(t *testing.T) (def, variant *synthCase) {
	t.Helper()
	c := haFx.synth(t, namedConfig{"ha-default", haDefaultConfig()}, namedConfig{"ha-variant", haVariantConfig()})
	return c[0], c[1]
}

// bothHA runs f for the default and the variant stack of mode "ha".
func bothHA(t *testing.T, f func(t *testing.T, c *synthCase)) {
	def, variant := haSynthesized(t)
	t.Run("default", func(t *testing.T) { f(t, def) })
	t.Run("variant", func(t *testing.T) { f(t, variant) })
}

// prefixedConfigs are the defaults of both modes with a root prefix and a
// password: the seeded bucket holds the reference tree under the prefix.
// In mode "single" the password needs no override (tls is on); in "ha"
// it has a certificate, or it would need one.
func prefixedConfigs() (single, ha Config) {
	single = DefaultConfig()
	single.RootPrefix = "team/reports"
	single.HTPasswdParameter = "bucketls-htpasswd" // no leading slash: the ARN gains one
	ha = haDefaultConfig()
	ha.RootPrefix = "ünïcode prefix/with 'quotes' and %"
	ha.HTPasswdParameter = "/bucketls/prod/htpasswd"
	ha.AllowPasswordsInClear = true // HTTP only, allowed
	return single, ha
}

var prefixedFx fixture

// prefixedSynthesized returns the stacks of prefixedConfigs.
func prefixedSynthesized(t *testing.T) (single, ha *synthCase) {
	t.Helper()
	s, h := prefixedConfigs()
	c := prefixedFx.synth(t, namedConfig{"prefixed", s}, namedConfig{"ha-prefixed", h})
	return c[0], c[1]
}

var endpointsFx fixture

// ssmEndpointsSynthesized returns the default stacks of both modes with
// ssmEndpoints on.
func ssmEndpointsSynthesized(t *testing.T) (single, ha *synthCase) {
	t.Helper()
	s, h := DefaultConfig(), haDefaultConfig()
	s.SSMEndpoints, h.SSMEndpoints = true, true
	c := endpointsFx.synth(t, namedConfig{"ssm-endpoints", s}, namedConfig{"ha-ssm-endpoints", h})
	return c[0], c[1]
}

// allStacks runs f for the four test stacks: single and ha, default and
// variant each.
func allStacks(t *testing.T, f func(t *testing.T, c *synthCase)) {
	def, _, variant := synthesized(t)
	haDef, haVariant := haSynthesized(t)
	for name, c := range map[string]*synthCase{"default": def, "variant": variant, "ha-default": haDef, "ha-variant": haVariant} {
		t.Run(name, func(t *testing.T) { f(t, c) })
	}
}

// one returns the name and body of the only resource of type typ.
func (c *synthCase) one(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	return onlyEntry(t, typ+" resources", c.tf.Resource[typ])
}

// only returns the name of the only element of m.
func only[V any](t *testing.T, m map[string]V) string {
	t.Helper()
	k, _ := onlyEntry(t, "entries", m)
	return k
}

// onlyEntry returns the only key of m and its value, and fails t unless m
// has exactly one; what names m's elements in the message.
func onlyEntry[V any](t *testing.T, what string, m map[string]V) (string, V) {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%d %s, want 1: %v", len(m), what, m)
	}
	for k, v := range m {
		return k, v
	}
	panic("unreachable")
}

// names returns the logical names of the resources of type typ, sorted.
func (c *synthCase) names(typ string) []string {
	var out []string
	for name := range c.tf.Resource[typ] {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ref returns the Terraform reference to an attribute of a resource.
func ref(typ, name, attr string) string { return "${" + typ + "." + name + "." + attr + "}" }

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// matcher is one of cdktf's Testing matchers: does the JSON received have
// a resource, data source or provider of type typ with the properties
// (nested blocks compared as subsets)?
type matcher func(received, typ *string, properties *map[string]interface{}) *bool

// matches reports whether the stack passes the cdktf matcher m for typ
// and properties; when it does not, it logs the synthesized JSON, since
// the matchers tell nothing but a bool.
func (c *synthCase) matches(t *testing.T, m matcher, typ string, properties map[string]any) bool {
	t.Helper()
	if *m(jsii.String(string(c.raw)), jsii.String(typ), &properties) {
		return true
	}
	t.Logf("synthesized %s:\n%s", c.res.JSON, c.raw)
	return false
}

// hasResource reports whether the stack has a resource of type typ with
// the properties (cdktf's Testing_ToHaveResourceWithProperties).
func (c *synthCase) hasResource(t *testing.T, typ string, properties map[string]any) bool {
	t.Helper()
	return c.matches(t, cdktf.Testing_ToHaveResourceWithProperties, typ, properties)
}

// hasDataSource is hasResource for data sources.
func (c *synthCase) hasDataSource(t *testing.T, typ string, properties map[string]any) bool {
	t.Helper()
	return c.matches(t, cdktf.Testing_ToHaveDataSourceWithProperties, typ, properties)
}

// bucketNames returns the logical names of the artifact and content buckets
// ("" when the stack does not create one).
func (c *synthCase) bucketNames(t *testing.T) (artifact, content string) {
	t.Helper()
	for name, b := range c.tf.Resource["aws_s3_bucket"] {
		switch b["bucket_prefix"] {
		case "bucketls-artifacts-":
			artifact = name
		case "bucketls-content-":
			content = name
		case "bucketls-flow-logs-":
			if !c.cfg.FlowLogs {
				t.Errorf("flow log bucket %s, but flowLogs is off", name)
			}
		default:
			t.Errorf("unexpected bucket %s: %v", name, b)
		}
	}
	if artifact == "" {
		t.Fatal("no artifact bucket")
	}
	return artifact, content
}

// haParts names the resources the ha tests refer to.
type haParts struct {
	lbSG, instanceSG string // aws_security_group
	lb, targets      string
	lt, asg          string
	subnets          []string
}

func (c *synthCase) haParts(t *testing.T) haParts {
	t.Helper()
	var p haParts
	for name, sg := range c.tf.Resource["aws_security_group"] {
		switch sg["name_prefix"] {
		case "bucketls-lb-":
			p.lbSG = name
		case "bucketls-instance-":
			p.instanceSG = name
		case "bucketls-ssm-endpoints-":
			if !c.cfg.SSMEndpoints {
				t.Errorf("security group %s for Session Manager endpoints, but ssmEndpoints is off", name)
			}
		default:
			t.Errorf("unexpected security group %s: %v", name, sg)
		}
	}
	if p.lbSG == "" || p.instanceSG == "" {
		t.Fatalf("security groups %v: want one for the load balancer and one for the instances", c.names("aws_security_group"))
	}
	p.lb, _ = c.one(t, "aws_lb")
	p.targets, _ = c.one(t, "aws_lb_target_group")
	p.lt, _ = c.one(t, "aws_launch_template")
	p.asg, _ = c.one(t, "aws_autoscaling_group")
	for _, s := range c.names("aws_subnet") {
		p.subnets = append(p.subnets, ref("aws_subnet", s, "id"))
	}
	return p
}

// evalResourceAttr evaluates one attribute of a resource in cdk.tf.json
// with HCL's JSON syntax, as Terraform reads the file. The only
// references it resolves are aws_s3_bucket.<name>.bucket, from buckets;
// the only function is base64encode.
func evalResourceAttr(t *testing.T, c *synthCase, typ, name, attr string, buckets map[string]string) string {
	t.Helper()
	f, diags := hcljson.Parse(c.raw, c.res.JSON)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "resource", LabelNames: []string{"type", "name"}}}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	bucketVals := map[string]cty.Value{}
	for n, v := range buckets {
		bucketVals[n] = cty.ObjectVal(map[string]cty.Value{"bucket": cty.StringVal(v)})
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"aws_s3_bucket": cty.ObjectVal(bucketVals)},
		Functions: map[string]function.Function{"base64encode": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "str", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
			},
		})},
	}
	for _, b := range content.Blocks {
		if b.Labels[0] != typ || b.Labels[1] != name {
			continue
		}
		attrs, diags := b.Body.JustAttributes()
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		a, ok := attrs[attr]
		if !ok {
			t.Fatalf("%s.%s has no %s", typ, name, attr)
		}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s.%s.%s does not evaluate: %v", typ, name, attr, diags)
		}
		if !v.Type().Equals(cty.String) || !v.IsKnown() {
			t.Fatalf("%s.%s.%s = %#v, want a known string", typ, name, attr, v)
		}
		return v.AsString()
	}
	t.Fatalf("no resource %s.%s", typ, name)
	return ""
}

// sameElements reports whether a and b hold the same strings, in any order.
func sameElements(a, b []string) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestProviderAndBackend(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		if !c.matches(t, cdktf.Testing_ToHaveProviderWithProperties, "aws", map[string]any{
			"region": c.cfg.Region,
		}) {
			t.Errorf("no aws provider for region %s", c.cfg.Region)
		}
		backend, _ := c.tf.Terraform["backend"].(map[string]any)
		if want := map[string]any{"local": map[string]any{"path": statePath}}; !reflect.DeepEqual(backend, want) {
			t.Errorf("backend = %v, want %v", backend, want)
		}
		rp, _ := c.tf.Terraform["required_providers"].(map[string]any)
		aws, _ := rp["aws"].(map[string]any)
		if aws["source"] != "aws" || !regexp.MustCompile(`^5\.\d+\.\d+$`).MatchString(fmt.Sprint(aws["version"])) {
			t.Errorf("required aws provider = %v, want AWS provider 5.x pinned", aws)
		}
	})
}

func TestResourceCounts(t *testing.T) {
	def, _, variant := synthesized(t)
	common := map[string]int{
		"aws_vpc": 1, "aws_subnet": 2, "aws_internet_gateway": 1, "aws_route_table": 1, "aws_route": 1,
		"aws_route_table_association": 2, "aws_default_security_group": 1, "aws_security_group": 1, "aws_vpc_endpoint": 1,
		"aws_iam_role": 1, "aws_iam_role_policy": 1, "aws_iam_instance_profile": 1, "aws_instance": 1,
	}
	want := func(buckets, objects, rules, attachments int) map[string]int {
		m := map[string]int{}
		for k, v := range common {
			m[k] = v
		}
		for _, k := range perBucketTypes {
			m[k] = buckets
		}
		m["aws_s3_object"] = objects
		m["aws_security_group_rule"] = rules
		if attachments > 0 {
			m["aws_iam_role_policy_attachment"] = attachments
		}
		return m
	}
	for _, tc := range []struct {
		c    *synthCase
		want map[string]int
	}{
		// Default: artifact and content buckets, the artifact and 5 seeded
		// objects, 80/443 in, 443 out to S3 and to the internet (SSM), the
		// SSM attachment.
		{def, want(2, 6, 4, 1)},
		// Variant: an existing bucket, no TLS, no SSM: 80 in, 443 out to
		// S3; flow logs (counted by checkCounts).
		{variant, want(1, 1, 2, 0)},
	} {
		tc.c.checkCounts(t, tc.want)
	}
}

// perBucketTypes are the resources of each bucket the stack creates.
var perBucketTypes = []string{"aws_s3_bucket", "aws_s3_bucket_public_access_block", "aws_s3_bucket_ownership_controls",
	"aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_versioning",
	"aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_policy"}

// checkCounts compares the number of resources of each type with want, and
// the data sources with the three every mode reads. With flowLogs, want
// grows by the flow log and its bucket, and the data sources by the
// account lookup.
func (c *synthCase) checkCounts(t *testing.T, want map[string]int) {
	t.Helper()
	wantData := map[string]int{"aws_ssm_parameter": 1, "aws_availability_zones": 1, "aws_ec2_instance_type_offerings": 1}
	if c.cfg.FlowLogs {
		want = maps.Clone(want)
		want["aws_flow_log"]++
		for _, k := range perBucketTypes {
			want[k]++
		}
		wantData["aws_caller_identity"] = 1
	}
	got := map[string]int{}
	for typ, rs := range c.tf.Resource {
		got[typ] = len(rs)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: resource counts = %v\nwant %v", c.res.Dir, got, want)
	}
	gotData := map[string]int{}
	for typ, ds := range c.tf.Data {
		gotData[typ] = len(ds)
	}
	if c.cfg.HTPasswdParameter != "" {
		wantData["aws_caller_identity"]++ // the account in the parameter's ARN
	}
	if !reflect.DeepEqual(gotData, wantData) {
		t.Errorf("%s: data source counts = %v, want %v", c.res.Dir, gotData, wantData)
	}
}

func TestHAResourceCounts(t *testing.T) {
	def, variant := haSynthesized(t)
	for _, tc := range []struct {
		c    *synthCase
		want map[string]int
	}{
		// Default: artifact and content buckets, the artifact and 5 seeded
		// objects, 80 in to the load balancer, 80 from it to the
		// instances, 80 in to the instances, 443 out to S3 and to the
		// internet (SSM); the SSM attachment; one listener (80).
		{def, haCounts(2, 6, 5, 1, 1)},
		// Variant: an existing bucket, HTTPS (443 in, a second listener),
		// no SSM (443 out to S3 only).
		{variant, haCounts(1, 1, 5, 0, 2)},
	} {
		tc.c.checkCounts(t, tc.want)
	}
}

// haCounts is the resource count of a mode "ha" stack.
func haCounts(buckets, objects, rules, attachments, listeners int) map[string]int {
	m := map[string]int{
		"aws_vpc": 1, "aws_subnet": 2, "aws_internet_gateway": 1, "aws_route_table": 1, "aws_route": 1,
		"aws_route_table_association": 2, "aws_default_security_group": 1, "aws_security_group": 2, "aws_vpc_endpoint": 1,
		"aws_iam_role": 1, "aws_iam_role_policy": 1, "aws_iam_instance_profile": 1,
		"aws_launch_template": 1, "aws_autoscaling_group": 1, "aws_autoscaling_policy": 1,
		"aws_lb": 1, "aws_lb_target_group": 1, "aws_lb_listener": listeners,
		"aws_s3_object": objects, "aws_security_group_rule": rules,
	}
	for _, k := range perBucketTypes {
		m[k] = buckets
	}
	if attachments > 0 {
		m["aws_iam_role_policy_attachment"] = attachments
	}
	return m
}

// TestDeterministic: the same source gives the same bytes, twice.
func TestDeterministic(t *testing.T) {
	def, again, _ := synthesized(t)
	if !bytes.Equal(def.raw, again.raw) {
		t.Errorf("two synths of the same config differ:\n%s\n---\n%s", def.raw, again.raw)
	}
	a, _ := os.ReadFile(def.res.Artifact)
	b, _ := os.ReadFile(again.res.Artifact)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("two builds of the artifact differ (%d and %d bytes)", len(a), len(b))
	}
	ma, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(def.res.Dir)), "manifest.json"))
	mb, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(again.res.Dir)), "manifest.json"))
	if len(ma) == 0 || !bytes.Equal(ma, mb) {
		t.Errorf("manifest.json differs between synths")
	}
	if bytes.Contains(def.raw, []byte(fx.dir)) {
		t.Errorf("cdk.tf.json contains the output directory %s: it would differ between machines", fx.dir)
	}
}

// TestHASharesIdentityAndArtifact: the ha stack uses the same identity,
// artifact and private buckets as the single one (built by the same code),
// with the same exact IAM policy.
func TestHASharesIdentityAndArtifact(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		artifactBucket, contentBucket := c.bucketNames(t)
		servedARN := "arn:aws:s3:::" + c.cfg.BucketName
		if contentBucket != "" {
			servedARN = ref("aws_s3_bucket", contentBucket, "arn")
		}
		_, policy := c.one(t, "aws_iam_role_policy")
		objectARN := ref("aws_s3_bucket", artifactBucket, "arn") + "/" + c.res.ArtifactKey
		c.checkInstancePolicy(t, policy["policy"].(string), servedARN, objectARN)
		for name := range c.tf.Resource["aws_s3_bucket"] {
			var policies []string
			for _, p := range c.tf.Resource["aws_s3_bucket_policy"] {
				if p["bucket"] == ref("aws_s3_bucket", name, "id") {
					policies = append(policies, p["policy"].(string))
				}
			}
			if want := c.wantBucketPolicy(t, name); len(policies) != 1 || policies[0] != want {
				t.Errorf("bucket %s policies = %q, want only %s", name, policies, want)
			}
		}
		checkELF(t, c.res.Artifact, c.cfg.Arch)
	})
}

// TestPrefixedStack: with a root prefix and a password, the seeded bucket
// holds the reference tree under the prefix, the role may list only that
// subtree and read only the one parameter, and the unit gets both.
func TestPrefixedStack(t *testing.T) {
	single, ha := prefixedSynthesized(t)
	single.checkPrefixed(t)
	ha.checkPrefixed(t)
	single.checkCounts(t, map[string]int{
		"aws_vpc": 1, "aws_subnet": 2, "aws_internet_gateway": 1, "aws_route_table": 1, "aws_route": 1, "aws_vpc_endpoint": 1,
		"aws_route_table_association": 2, "aws_default_security_group": 1, "aws_security_group": 1,
		"aws_iam_role": 1, "aws_iam_role_policy": 1, "aws_iam_instance_profile": 1, "aws_instance": 1,
		"aws_s3_bucket": 2, "aws_s3_bucket_public_access_block": 2, "aws_s3_bucket_ownership_controls": 2,
		"aws_s3_bucket_server_side_encryption_configuration": 2, "aws_s3_bucket_versioning": 2,
		"aws_s3_bucket_lifecycle_configuration": 2, "aws_s3_bucket_policy": 2,
		"aws_s3_object": 6, "aws_security_group_rule": 4, "aws_iam_role_policy_attachment": 1,
	})
	ud, values := single.userDataOf(t)
	single.checkScript(t, renderUserData(t, ud, values), single.cfg.TLS)
	// The launch template's user data, decoded as in TestHAUserData.
	ha.checkScript(t, ha.launchTemplateScript(t, ha.generatedNames(t)), false)
}

// checkPrefixed checks the seeded keys and the role of a stack with a
// root prefix and a password.
func (c *synthCase) checkPrefixed(t *testing.T) {
	t.Helper()
	_, content := c.bucketNames(t)
	var keys []string
	for _, o := range c.tf.Resource["aws_s3_object"] {
		if o["bucket"] == ref("aws_s3_bucket", content, "bucket") {
			keys = append(keys, o["key"].(string))
		}
	}
	sort.Strings(keys)
	var want []string
	for _, k := range ReferenceKeys() {
		want = append(want, c.cfg.RootPrefix+"/"+k)
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("seeded keys = %q, want %q", keys, want)
	}
	// The same construct IDs as without a prefix: a new prefix moves the
	// objects, it does not rename the resources.
	def, _, _ := synthesized(t)
	if c.cfg.ha() {
		def, _ = haSynthesized(t)
	}
	if got, want := c.names("aws_s3_object"), def.names("aws_s3_object"); !reflect.DeepEqual(got, want) {
		t.Errorf("object names with a prefix = %q, without = %q", got, want)
	}
	artifactBucket, _ := c.bucketNames(t)
	_, policy := c.one(t, "aws_iam_role_policy")
	c.checkInstancePolicy(t, policy["policy"].(string), ref("aws_s3_bucket", content, "arn"), ref("aws_s3_bucket", artifactBucket, "arn")+"/"+c.res.ArtifactKey)
}
