package stack

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
	"github.com/bucketls/bucketls/stack/internal/bootscript/scripttest"
	"github.com/bucketls/bucketls/stack/tftemplate"
)

// The synth tests synthesize three stacks once per test binary, through
// Synth: the same path as main.go and the boot rehearsal (a real App with
// an output directory, so the asset is copied), with one jsii runtime. The
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
		CORSOrigins:  []string{"https://example.com", "http://localhost:3000"},
		RootPrefix:   "team/reports",
	}
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

var fx fixture

// synthesized returns the default stack, the default stack synthesized a
// second time into another directory, and the variant stack.
func synthesized(t *testing.T) (def, again, variant *synthCase) {
	t.Helper()
	c := fx.synth(t, namedConfig{"default", DefaultConfig()}, namedConfig{"again", DefaultConfig()}, namedConfig{"variant", variantConfig()})
	return c[0], c[1], c[2]
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
	for _, dir := range []string{fx.dir, haFx.dir, prefixedFx.dir, endpointsFx.dir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// both runs f for the default and the variant stack.
func both(t *testing.T, f func(t *testing.T, c *synthCase)) {
	def, _, variant := synthesized(t)
	t.Run("default", func(t *testing.T) { f(t, def) })
	t.Run("variant", func(t *testing.T) { f(t, variant) })
}

// one returns the name and body of the only resource of type typ.
func (c *synthCase) one(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := c.tf.Resource[typ]
	if len(rs) != 1 {
		t.Fatalf("%d %s resources, want 1", len(rs), typ)
	}
	for name, body := range rs {
		return name, body
	}
	panic("unreachable")
}

// ref returns the Terraform reference to an attribute of a resource.
func ref(typ, name, attr string) string { return "${" + typ + "." + name + "." + attr + "}" }

// showJSON prints the synthesized JSON once per failing test, for the
// cdktf matchers that only return a bool.
func (c *synthCase) showJSON(t *testing.T) {
	t.Helper()
	t.Logf("synthesized %s:\n%s", c.res.JSON, c.raw)
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

func TestProviderAndBackend(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		if !*cdktf.Testing_ToHaveProviderWithProperties(jsii.String(string(c.raw)), jsii.String("aws"), &map[string]interface{}{
			"region": c.cfg.Region,
		}) {
			c.showJSON(t)
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

func TestNetwork(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		vpcName, vpc := c.one(t, "aws_vpc")
		if vpc["enable_dns_hostnames"] != true || vpc["cidr_block"] != vpcCIDR {
			t.Errorf("vpc = %v, want %s with DNS hostnames (the url output needs a public DNS name)", vpc, vpcCIDR)
		}
		var zones []string
		for _, s := range c.tf.Resource["aws_subnet"] {
			if s["vpc_id"] != ref("aws_vpc", vpcName, "id") || s["map_public_ip_on_launch"] != false {
				t.Errorf("subnet %v: want it in the VPC without automatic public IPs", s)
			}
			zones = append(zones, fmt.Sprint(s["availability_zone"]))
		}
		sort.Strings(zones)
		offerName := only(t, c.tf.Data["aws_ec2_instance_type_offerings"])
		azName := only(t, c.tf.Data["aws_availability_zones"])
		usable := fmt.Sprintf("sort(setintersection(data.aws_availability_zones.%s.names, data.aws_ec2_instance_type_offerings.%s.locations))", azName, offerName)
		if want := []string{"${element(" + usable + ", 0)}", "${element(" + usable + ", 1)}"}; !reflect.DeepEqual(zones, want) {
			t.Errorf("subnet zones = %q, want %q", zones, want)
		}
		if !*cdktf.Testing_ToHaveDataSourceWithProperties(jsii.String(string(c.raw)), jsii.String("aws_ec2_instance_type_offerings"), &map[string]interface{}{
			"location_type": "availability-zone",
			"filter":        []interface{}{map[string]interface{}{"name": "instance-type", "values": []interface{}{c.cfg.instanceType()}}},
		}) {
			c.showJSON(t)
			t.Errorf("subnets are not limited to zones that offer %s", c.cfg.instanceType())
		}
		_, route := c.one(t, "aws_route")
		igwName, _ := c.one(t, "aws_internet_gateway")
		if route["destination_cidr_block"] != "0.0.0.0/0" || route["gateway_id"] != ref("aws_internet_gateway", igwName, "id") {
			t.Errorf("route = %v, want the default route to the internet gateway", route)
		}
		_, dsg := c.one(t, "aws_default_security_group")
		if _, ok := dsg["ingress"]; ok || dsg["egress"] != nil {
			t.Errorf("default security group = %v, want no rules", dsg)
		}
	})
}

// only returns the name of the only element of m.
func only[V any](t *testing.T, m map[string]V) string {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%d entries, want 1: %v", len(m), m)
	}
	for k := range m {
		return k
	}
	panic("unreachable")
}

func TestSecurityGroupRules(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		sgName, sg := c.one(t, "aws_security_group")
		if sg["ingress"] != nil || sg["egress"] != nil {
			t.Errorf("security group has inline rules: %v", sg)
		}
		wantIngress := []float64{80}
		if c.cfg.TLS {
			wantIngress = append(wantIngress, 443)
		}
		var gotIngress []float64
		var gotEgress []string
		for name, r := range c.tf.Resource["aws_security_group_rule"] {
			if r["security_group_id"] != ref("aws_security_group", sgName, "id") {
				t.Errorf("rule %s is not on the web security group", name)
			}
			from, to := r["from_port"].(float64), r["to_port"].(float64)
			if r["protocol"] != "tcp" || from != to {
				t.Errorf("rule %s = %v, want one TCP port", name, r)
			}
			if from <= 22 && 22 <= to {
				t.Errorf("rule %s opens port 22", name)
			}
			cidrs := fmt.Sprint(r["cidr_blocks"])
			switch r["type"] {
			case "ingress":
				gotIngress = append(gotIngress, from)
				if want := fmt.Sprint(toAny(c.cfg.AllowedCIDRs)); cidrs != want {
					t.Errorf("ingress rule %s admits %s, want exactly allowedCidrs %s", name, cidrs, want)
				}
			case "egress":
				gotEgress = append(gotEgress, c.rulePeer(t, name, r))
			default:
				t.Errorf("rule %s has type %v", name, r["type"])
			}
		}
		slices.Sort(gotIngress)
		if !reflect.DeepEqual(gotIngress, wantIngress) {
			t.Errorf("ingress ports = %v, want %v", gotIngress, wantIngress)
		}
		slices.Sort(gotEgress)
		if want := wantEgress(c.cfg); !reflect.DeepEqual(gotEgress, want) {
			t.Errorf("egress = %v, want exactly %v", gotEgress, want)
		}
	})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
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

func TestBucketsArePrivate(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		// Each bucket has exactly one of each protection, and it says what it should.
		for name, b := range c.tf.Resource["aws_s3_bucket"] {
			if b["force_destroy"] != true {
				t.Errorf("bucket %s: force_destroy = %v, want true so teardown empties it", name, b["force_destroy"])
			}
			id := ref("aws_s3_bucket", name, "id")
			for typ, want := range map[string]map[string]any{
				"aws_s3_bucket_public_access_block": {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
				"aws_s3_bucket_ownership_controls":  {"rule": map[string]any{"object_ownership": "BucketOwnerEnforced"}},
				"aws_s3_bucket_server_side_encryption_configuration": {
					"rule": []any{map[string]any{"apply_server_side_encryption_by_default": map[string]any{"sse_algorithm": "AES256"}}},
				},
				"aws_s3_bucket_versioning": {"versioning_configuration": map[string]any{"status": "Enabled"}},
			} {
				var found []map[string]any
				for _, r := range c.tf.Resource[typ] {
					if r["bucket"] == id {
						found = append(found, r)
					}
				}
				if len(found) != 1 {
					t.Errorf("bucket %s has %d %s, want 1", name, len(found), typ)
					continue
				}
				for k, v := range want {
					if !reflect.DeepEqual(found[0][k], v) {
						t.Errorf("bucket %s: %s.%s = %v, want %v", name, typ, k, found[0][k], v)
					}
				}
			}
			var policies []string
			for _, p := range c.tf.Resource["aws_s3_bucket_policy"] {
				if p["bucket"] == id {
					policies = append(policies, p["policy"].(string))
				}
			}
			if want := c.wantBucketPolicy(t, name); len(policies) != 1 || policies[0] != want {
				t.Errorf("bucket %s policies = %q, want only %s", name, policies, want)
			}
		}
	})
}

func TestInstanceRole(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, contentBucket := c.bucketNames(t)
		roleName, role := c.one(t, "aws_iam_role")
		parsePolicy(t, role["assume_role_policy"].(string))
		if role["assume_role_policy"] != assumeRolePolicy("aws") {
			t.Errorf("assume role policy = %v", role["assume_role_policy"])
		}
		_, policy := c.one(t, "aws_iam_role_policy")
		if policy["role"] != ref("aws_iam_role", roleName, "id") {
			t.Errorf("inline policy is on %v, want the instance role", policy["role"])
		}
		servedARN := "arn:aws:s3:::" + c.cfg.BucketName
		if contentBucket != "" {
			servedARN = ref("aws_s3_bucket", contentBucket, "arn")
		}
		objectARN := ref("aws_s3_bucket", artifactBucket, "arn") + "/" + c.res.ArtifactKey
		c.checkInstancePolicy(t, policy["policy"].(string), servedARN, objectARN)
		attachments := c.tf.Resource["aws_iam_role_policy_attachment"]
		if c.cfg.SSM {
			_, a := c.one(t, "aws_iam_role_policy_attachment")
			if a["policy_arn"] != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" || a["role"] != ref("aws_iam_role", roleName, "name") {
				t.Errorf("SSM attachment = %v", a)
			}
		} else if len(attachments) != 0 {
			t.Errorf("ssm off, but the role has attachments: %v", attachments)
		}
		_, profile := c.one(t, "aws_iam_instance_profile")
		if profile["role"] != ref("aws_iam_role", roleName, "name") {
			t.Errorf("instance profile role = %v", profile["role"])
		}
	})
}

// wantInstanceStatements is the instance policy c must have: list the
// served bucket (under the root prefix only, when set) and read the
// artifact, both only through the S3 endpoint, and read the htpasswd
// parameter when set.
func (c *synthCase) wantInstanceStatements(t *testing.T, servedARN, objectARN string) []policyStatement {
	t.Helper()
	viaEndpoint := map[string]conditionValues{"aws:SourceVpce": {ref("aws_vpc_endpoint", c.s3Endpoint(t), "id")}}
	list := policyStatement{Sid: "ListServedBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{servedARN},
		Condition: map[string]map[string]conditionValues{"StringEquals": viaEndpoint}}
	if p := c.cfg.RootPrefix; p != "" {
		list.Condition["StringLike"] = map[string]conditionValues{"s3:prefix": {p + "/", p + "/*"}}
	}
	want := []policyStatement{list,
		{Sid: "ReadArtifact", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{objectARN},
			Condition: map[string]map[string]conditionValues{"StringEquals": viaEndpoint}}}
	if name := c.cfg.HTPasswdParameter; name != "" {
		account := "${data.aws_caller_identity." + only(t, c.tf.Data["aws_caller_identity"]) + ".account_id}"
		want = append(want, policyStatement{Sid: "ReadHtpasswd", Effect: "Allow", Action: []string{"ssm:GetParameter"},
			Resource: []string{"arn:aws:ssm:" + c.cfg.Region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")}})
	}
	return want
}

func TestInstance(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		if !*cdktf.Testing_ToHaveResourceWithProperties(jsii.String(string(c.raw)), jsii.String("aws_instance"), &map[string]interface{}{
			"instance_type":               c.cfg.instanceType(),
			"associate_public_ip_address": true,
			"user_data_replace_on_change": true,
			"metadata_options": map[string]interface{}{
				"http_endpoint":               "enabled",
				"http_tokens":                 "required",
				"http_put_response_hop_limit": 1,
			},
			"root_block_device": map[string]interface{}{
				"encrypted":   true,
				"volume_type": "gp3",
			},
			"credit_specification": map[string]interface{}{"cpu_credits": "standard"},
		}) {
			c.showJSON(t)
			t.Error("aws_instance lacks IMDSv2 with hop limit 1, an encrypted gp3 root, or user_data_replace_on_change")
		}
		name, inst := c.one(t, "aws_instance")
		for _, k := range []string{"key_name", "user_data_base64"} {
			if _, ok := inst[k]; ok {
				t.Errorf("instance %s sets %s", name, k)
			}
		}
		ami := only(t, c.tf.Data["aws_ssm_parameter"])
		if inst["ami"] != "${data.aws_ssm_parameter."+ami+".insecure_value}" {
			t.Errorf("ami = %v, want the SSM parameter's value", inst["ami"])
		}
		if got, want := c.tf.Data["aws_ssm_parameter"][ami]["name"], amiParameter(c.cfg.Arch); got != want {
			t.Errorf("AMI parameter = %v, want %v", got, want)
		}
		if !strings.HasSuffix(amiParameter(c.cfg.Arch), map[string]string{"amd64": "al2023-ami-kernel-default-x86_64", "arm64": "al2023-ami-kernel-default-arm64"}[c.cfg.Arch]) {
			t.Errorf("AMI parameter %s is not the standard AL2023 one for %s", amiParameter(c.cfg.Arch), c.cfg.Arch)
		}
		profile, _ := c.one(t, "aws_iam_instance_profile")
		sg, _ := c.one(t, "aws_security_group")
		if inst["iam_instance_profile"] != ref("aws_iam_instance_profile", profile, "name") ||
			fmt.Sprint(inst["vpc_security_group_ids"]) != fmt.Sprint([]any{ref("aws_security_group", sg, "id")}) {
			t.Errorf("instance profile, security groups = %v, %v", inst["iam_instance_profile"], inst["vpc_security_group_ids"])
		}
		// The instance must not boot before its artifact, its permissions and
		// the seeded content exist.
		deps, _ := inst["depends_on"].([]any)
		var want []string
		for _, typ := range []string{"aws_s3_object", "aws_iam_role_policy", "aws_iam_role_policy_attachment"} {
			for n := range c.tf.Resource[typ] {
				want = append(want, typ+"."+n)
			}
		}
		var got []string
		for _, d := range deps {
			got = append(got, d.(string))
		}
		if !sameElements(got, want) {
			t.Errorf("instance depends_on = %q, want %q", got, want)
		}
		lc, _ := inst["lifecycle"].(map[string]any)
		if fmt.Sprint(lc["ignore_changes"]) != "[ami]" {
			t.Errorf("instance lifecycle = %v, want ignore_changes [ami]", lc)
		}
	})
}

func TestArtifact(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, _ := c.bucketNames(t)
		bin, err := os.ReadFile(c.res.Artifact)
		if err != nil {
			t.Fatalf("artifact: %v", err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(bin)); got != c.res.ArtifactSHA256 {
			t.Errorf("artifact SHA-256 = %s, Synth reports %s", got, c.res.ArtifactSHA256)
		}
		if !strings.Contains(c.res.ArtifactKey, c.res.ArtifactSHA256) {
			t.Errorf("artifact key %q does not contain the SHA-256", c.res.ArtifactKey)
		}
		var objects []map[string]any
		for _, o := range c.tf.Resource["aws_s3_object"] {
			if o["bucket"] == ref("aws_s3_bucket", artifactBucket, "bucket") {
				objects = append(objects, o)
			}
		}
		if len(objects) != 1 {
			t.Fatalf("%d objects in the artifact bucket, want 1", len(objects))
		}
		o := objects[0]
		if o["key"] != c.res.ArtifactKey || o["source_hash"] != c.res.ArtifactSHA256 {
			t.Errorf("artifact object key, source_hash = %v, %v; want %s, %s", o["key"], o["source_hash"], c.res.ArtifactKey, c.res.ArtifactSHA256)
		}
		if _, ok := o["etag"]; ok {
			t.Errorf("artifact object sets etag; source_hash is the trigger")
		}
		// source is relative to the stack directory, where terraform runs.
		src, _ := o["source"].(string)
		if filepath.IsAbs(src) || filepath.Join(c.res.Dir, src) != c.res.Artifact {
			t.Errorf("artifact object source = %q, want %s relative to %s", src, c.res.Artifact, c.res.Dir)
		}
		checkELF(t, c.res.Artifact, c.cfg.Arch)
	})
}

// checkELF checks that path is a static Linux executable for arch, built
// with the reproducible flags.
func checkELF(t *testing.T, path, arch string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("artifact is not ELF: %v", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		t.Errorf("artifact is %v %v %v, want a 64-bit %v executable", f.Class, f.Machine, f.Type, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("artifact has an interpreter: it is not static")
		}
	}
	// The flags -trimpath keeps out of the build info, checked in the file:
	// -s (no symbol table), -w (no DWARF), -buildid= (no Go build ID note).
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") || s.Name == ".note.go.buildid" {
			t.Errorf("artifact has section %s: -ldflags=\"-s -w -buildid=\" was not applied", s.Name)
		}
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("artifact build info: %v", err)
	}
	if bi.Path != "github.com/bucketls/bucketls/service/cmd/bucketls" {
		t.Errorf("artifact main package = %s", bi.Path)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"-trimpath": "true", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch, "-buildmode": "exe"} {
		if settings[k] != v {
			t.Errorf("artifact built with %s=%q, want %q", k, settings[k], v)
		}
	}
	for k := range settings {
		if strings.HasPrefix(k, "vcs") {
			t.Errorf("artifact carries %s: -buildvcs=false was not applied", k)
		}
	}
}

func TestSeededContent(t *testing.T) {
	def, _, variant := synthesized(t)
	_, content := def.bucketNames(t)
	var keys []string
	for _, o := range def.tf.Resource["aws_s3_object"] {
		if o["bucket"] == ref("aws_s3_bucket", content, "bucket") {
			keys = append(keys, o["key"].(string))
			if o["key"] == "dir1/" && o["content"] != "" {
				t.Errorf("dir1/ marker has content %q", o["content"])
			}
		}
	}
	sort.Strings(keys)
	if want := []string{"dir1/", "dir2/file1", "dir2/file2", "file1", "file2"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("seeded keys = %q, want %q", keys, want)
	}
	if _, c := variant.bucketNames(t); c != "" {
		t.Errorf("variant serves an existing bucket but creates a content bucket %s", c)
	}
}

func TestOutputs(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, content := c.bucketNames(t)
		inst, _ := c.one(t, "aws_instance")
		dns := ref("aws_instance", inst, "public_dns")
		bucket := c.cfg.BucketName
		if content != "" {
			bucket = ref("aws_s3_bucket", content, "bucket")
		}
		want := map[string]string{
			"url":          "http://" + dns + "/list-bucket-content",
			"instance_id":  ref("aws_instance", inst, "id"),
			"bucket_name":  bucket,
			"artifact_uri": "s3://" + ref("aws_s3_bucket", artifactBucket, "bucket") + "/" + c.res.ArtifactKey,
		}
		if c.cfg.TLS {
			want["https_url"] = "https://" + dns + "/list-bucket-content"
		}
		got := map[string]string{}
		for name, o := range c.tf.Output {
			got[name] = fmt.Sprint(o["value"])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("outputs = %v\nwant %v", got, want)
		}
	})
}

// userDataOf returns the instance's user data and the values Terraform
// would fill in for its references (the generated bucket names).
func (c *synthCase) userDataOf(t *testing.T) (string, map[string]string) {
	t.Helper()
	_, inst := c.one(t, "aws_instance")
	ud, ok := inst["user_data"].(string)
	if !ok {
		t.Fatalf("instance user_data = %v, want plain text", inst["user_data"])
	}
	artifactBucket, content := c.bucketNames(t)
	values := map[string]string{"aws_s3_bucket." + artifactBucket + ".bucket": "bucketls-artifacts-20260101000000000000000001"}
	if content != "" {
		values["aws_s3_bucket."+content+".bucket"] = "bucketls-content-20260101000000000000000002"
	}
	return ud, values
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
		scripttest.BashSyntax(t, script)
		if len(script) > bootscript.MaxUserData {
			t.Errorf("user data is %d bytes, EC2 takes %d", len(script), bootscript.MaxUserData)
		}
		// The rendered script is the pure-Go script for the same values.
		artifactBucket, content := c.bucketNames(t)
		b := bootscript.Script{
			Region:            c.cfg.Region,
			ArtifactBucket:    values["aws_s3_bucket."+artifactBucket+".bucket"],
			ArtifactKey:       c.res.ArtifactKey,
			ArtifactSHA256:    c.res.ArtifactSHA256,
			ServedBucket:      c.cfg.BucketName,
			TLS:               c.cfg.TLS,
			CacheTTL:          c.cfg.CacheTTL,
			CORSOrigins:       c.cfg.CORSOrigins,
			RootPrefix:        c.cfg.RootPrefix,
			HTPasswdParameter: c.cfg.HTPasswdParameter,
		}
		if content != "" {
			b.ServedBucket = values["aws_s3_bucket."+content+".bucket"]
		}
		want, err := b.Bash()
		if err != nil {
			t.Fatal(err)
		}
		if script != want {
			t.Errorf("user data renders to\n%s\nwant\n%s", script, want)
		}
		checkServiceSettings(t, c, script)
		// The checksum the script checks is the artifact's.
		if !strings.Contains(script, `echo "`+c.res.ArtifactSHA256+`  $work/bucketls" | sha256sum -c`) {
			t.Errorf("user data does not check the artifact's SHA-256 %s", c.res.ArtifactSHA256)
		}
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

// rootPrefixEnv is the unit's line for each root prefix the tests
// synthesize: quoted (and "%" doubled) where systemd would split or
// expand the value.
var rootPrefixEnv = map[string]string{
	"team/reports":                       "Environment=BUCKETLS_ROOT_PREFIX=team/reports",
	"ünïcode prefix/with 'quotes' and %": `Environment="BUCKETLS_ROOT_PREFIX=ünïcode prefix/with 'quotes' and %%"`,
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

// checkServiceSettings checks that the unit in a synthesized boot script
// passes the stack's service settings to the service.
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
		want = append(want, "\nEnvironment=BUCKETLS_CORS_ORIGINS="+strings.Join(c.cfg.CORSOrigins, ",")+"\n")
	} else if strings.Contains(script, "BUCKETLS_CORS_ORIGINS") {
		t.Errorf("no corsOrigins, but the unit sets BUCKETLS_CORS_ORIGINS")
	}
	for _, w := range want {
		if !strings.Contains(script, w) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(w))
		}
	}
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
	script := renderUserData(t, ud, values)
	scripttest.BashSyntax(t, script)
	checkServiceSettings(t, single, script)

	// The launch template's user data, decoded as in TestHAUserData.
	p := ha.haParts(t)
	artifactBucket, content := ha.bucketNames(t)
	encoded := evalResourceAttr(t, ha, "aws_launch_template", p.lt, "user_data",
		map[string]string{artifactBucket: "bucketls-artifacts-1", content: "bucketls-content-2"})
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("user_data is not base64: %v", err)
	}
	scripttest.BashSyntax(t, string(raw))
	checkServiceSettings(t, ha, string(raw))
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
