package stack

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/stack/internal/tfhcl"
)

// scanPolicy is testdata/security-scan.json.
type scanPolicy struct {
	Scanner  string   `json:"scanner"` // module path of the tfsec command @ version
	FailOn   []string `json:"failOn"`
	Accepted []struct {
		Rule     string `json:"rule"`
		Resource string `json:"resource"`
		Reason   string `json:"reason"`
	} `json:"accepted"`
}

func readScanPolicy(t *testing.T) scanPolicy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "security-scan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p scanPolicy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil && !strings.Contains(err.Error(), `"//"`) {
		t.Fatalf("security-scan.json: %v", err)
	}
	if p.Scanner == "" || len(p.FailOn) == 0 {
		t.Fatalf("security-scan.json names no scanner or no failing severities")
	}
	for _, a := range p.Accepted {
		if a.Rule == "" || a.Resource == "" || len(a.Reason) < 20 {
			t.Errorf("security-scan.json: accepted finding %+v needs a rule, a resource and a reason", a)
		}
	}
	return p
}

// finding is one tfsec result (JSON output).
type finding struct {
	Rule        string `json:"long_id"`
	Resource    string `json:"resource"`
	Severity    string `json:"severity"`
	Status      int    `json:"status"` // 0 failed, 1 passed
	Description string `json:"description"`
}

func (f finding) failed() bool { return f.Status == 0 }

func (f finding) String() string {
	return fmt.Sprintf("%s %s on %s: %s", f.Severity, f.Rule, f.Resource, f.Description)
}

// tfsecBinary returns a tfsec of the version the policy pins: $BUCKETLS_TFSEC
// if set, else a copy in the user cache, installed there by the Go
// toolchain the first time (a few minutes on a fresh machine). It checks
// the module and version recorded in the binary.
func tfsecBinary(t *testing.T, scanner string) string {
	t.Helper()
	module, version, ok := strings.Cut(scanner, "@")
	if !ok {
		t.Fatalf("scanner %q is not module@version", scanner)
	}
	bin := os.Getenv("BUCKETLS_TFSEC")
	if bin == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "bucketls", "tools", "tfsec-"+version)
		bin = filepath.Join(dir, "tfsec")
		if _, err := os.Stat(bin); err != nil {
			start := time.Now()
			cmd := exec.Command("go", "install", scanner)
			cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go install %s: %v\n%s", scanner, err, out)
			}
			t.Logf("installed %s into %s in %v", scanner, dir, time.Since(start).Round(time.Second))
		}
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("tfsec at %s: %v", bin, err)
	}
	if bi.Main.Path != strings.TrimSuffix(module, "/cmd/tfsec") || bi.Main.Version != version {
		t.Fatalf("tfsec at %s is %s@%s, want %s", bin, bi.Main.Path, bi.Main.Version, scanner)
	}
	return bin
}

// scan runs tfsec over a Terraform JSON configuration, converted to native
// syntax first (see package tfhcl: the scanner misreads nested blocks in
// JSON), and returns every result, passed ones too.
func scan(t *testing.T, tfsec string, tfJSON []byte) []finding {
	t.Helper()
	hcl, err := tfhcl.FromJSON(tfJSON)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), hcl, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tfsec, dir, "--format", "json", "--include-passed", "--soft-fail",
		"--no-color", "--no-ignores", "--no-module-downloads", "--disable-grouping")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tfsec: %v\n%s", err, stderr.String())
	}
	var out struct {
		Results []finding `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("tfsec output: %v\n%s", err, stdout.String())
	}
	if len(out.Results) == 0 {
		t.Fatalf("tfsec evaluated no check: it did not read the configuration\n%s\n%s", stderr.String(), hcl)
	}
	return out.Results
}

// mustPass are checks every stack is built to pass. Each must have been
// evaluated and passed: that proves the scanner read the nested blocks
// they live in, not just that it found nothing.
var mustPass = []string{
	"aws-s3-enable-bucket-encryption",
	"aws-s3-enable-versioning",
	"aws-s3-block-public-acls",
	"aws-s3-block-public-policy",
	"aws-s3-ignore-public-acls",
	"aws-s3-no-public-buckets",
	"aws-s3-specify-public-access-block",
	"aws-vpc-add-description-to-security-group",
	"aws-vpc-add-description-to-security-group-rule",
}

// mustPassSingle are checks of the single instance.
var mustPassSingle = []string{
	"aws-ec2-enforce-http-token-imds",
	"aws-ec2-enable-at-rest-encryption",
	"aws-ec2-no-secrets-in-user-data",
}

// mustPassHA are checks of the launch template and the load balancer.
// (tfsec has no check for a launch template's volume encryption;
// TestHALaunchTemplate asserts it.)
var mustPassHA = []string{
	"aws-autoscaling-enforce-http-token-imds",
	"aws-autoscaling-no-secrets-in-user-data",
	"aws-elb-drop-invalid-headers",
}

// mustPassHTTPS are checks of the HTTPS listener, with certificateArn.
var mustPassHTTPS = []string{
	"aws-elb-use-secure-tls-policy",
	"aws-elb-http-not-used",
}

// mustPassFor returns the checks the stack of cfg must pass.
func mustPassFor(cfg Config) []string {
	rules := slices.Clone(mustPass)
	if !cfg.ha() {
		return append(rules, mustPassSingle...)
	}
	rules = append(rules, mustPassHA...)
	if cfg.CertificateARN != "" {
		rules = append(rules, mustPassHTTPS...)
	}
	return rules
}

// TestSecurityScan scans the four test stacks: single and ha, each in its
// default and its variant configuration.
func TestSecurityScan(t *testing.T) {
	def, _, variant := synthesized(t)
	haDef, haVariant := haSynthesized(t)
	policy := readScanPolicy(t)
	tfsec := tfsecBinary(t, policy.Scanner)
	used := map[int]bool{}
	for _, c := range []*synthCase{def, variant, haDef, haVariant} {
		results := scan(t, tfsec, c.raw)
		passed, failed := map[string]bool{}, map[string]bool{}
		for _, f := range results {
			if !f.failed() {
				passed[f.Rule] = true
				continue
			}
			failed[f.Rule] = true
			if !slices.Contains(policy.FailOn, f.Severity) {
				t.Logf("%s: %v (below %v)", c.res.Dir, f, policy.FailOn)
				continue
			}
			i := slices.IndexFunc(policy.Accepted, func(a struct {
				Rule     string `json:"rule"`
				Resource string `json:"resource"`
				Reason   string `json:"reason"`
			}) bool {
				return a.Rule == f.Rule && a.Resource == f.Resource
			})
			if i < 0 {
				t.Errorf("%s: %v\n\tfix it, or accept it in testdata/security-scan.json with a reason", c.res.Dir, f)
				continue
			}
			used[i] = true
		}
		for _, rule := range mustPassFor(c.cfg) {
			if !passed[rule] || failed[rule] {
				t.Errorf("%s: check %s passed = %v, failed = %v; want it evaluated and passed", c.res.Dir, rule, passed[rule], failed[rule])
			}
		}
	}
	for i, a := range policy.Accepted {
		if !used[i] {
			t.Errorf("accepted finding %s on %s no longer occurs: remove it from testdata/security-scan.json", a.Rule, a.Resource)
		}
	}
}

// TestScanCanary breaks the default stack on purpose and checks that the
// scan catches each break: the scan can fail.
func TestScanCanary(t *testing.T) {
	def, _, _ := synthesized(t)
	policy := readScanPolicy(t)
	tfsec := tfsecBinary(t, policy.Scanner)
	var doc map[string]any
	if err := json.Unmarshal(def.raw, &doc); err != nil {
		t.Fatal(err)
	}
	res := doc["resource"].(map[string]any)
	pick := func(typ, prefix string) (string, map[string]any) { return pickResource(t, res, typ, prefix) }
	inst, instBody := pick("aws_instance", "compute_instance")
	instBody["metadata_options"].(map[string]any)["http_tokens"] = "optional"
	instBody["root_block_device"].(map[string]any)["encrypted"] = false
	_, pab := pick("aws_s3_bucket_public_access_block", "artifact_")
	pab["block_public_acls"] = false
	sse, _ := pick("aws_s3_bucket_server_side_encryption_configuration", "artifact_")
	delete(res["aws_s3_bucket_server_side_encryption_configuration"].(map[string]any), strings.TrimPrefix(sse, "aws_s3_bucket_server_side_encryption_configuration."))
	artifactBucket, _ := pick("aws_s3_bucket", "artifact_")
	sgID, _ := pick("aws_security_group", "network_web-sg")
	plantSSHFromAnywhere(res, sgID)
	requireCaught(t, tfsec, doc, []string{
		"aws-ec2-enforce-http-token-imds " + inst,
		"aws-ec2-enable-at-rest-encryption " + inst,
		"aws-vpc-no-public-ingress-sgr aws_security_group_rule.ssh-in",
		"aws-s3-block-public-acls ",
		"aws-s3-enable-bucket-encryption " + artifactBucket,
	})
}

// plantSSHFromAnywhere adds a rule opening port 22 to the world on the
// security group at address sg.
func plantSSHFromAnywhere(res map[string]any, sg string) {
	res["aws_security_group_rule"].(map[string]any)["ssh-in"] = map[string]any{
		"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": []any{"0.0.0.0/0"},
		"description": "SSH from anywhere", "security_group_id": "${" + sg + ".id}",
	}
}

// requireCaught scans the broken stack doc and fails the test unless each
// wanted "rule resource-address" prefix is among the failed findings.
func requireCaught(t *testing.T, tfsec string, doc map[string]any, wants []string) {
	t.Helper()
	broken, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range scan(t, tfsec, broken) {
		if f.failed() {
			failed = append(failed, f.Rule+" "+f.Resource)
		}
	}
	for _, want := range wants {
		if !slices.ContainsFunc(failed, func(f string) bool { return strings.HasPrefix(f, want) }) {
			t.Errorf("the scan missed a planted problem: no %q among the failures:\n%s", want, strings.Join(failed, "\n"))
		}
	}
}

// pickResource returns the address and body of the first resource of type
// typ in res (the "resource" object of a decoded cdk.tf.json) whose name
// starts with prefix.
func pickResource(t *testing.T, res map[string]any, typ, prefix string) (string, map[string]any) {
	t.Helper()
	for _, name := range sortedKeys(res[typ].(map[string]any)) {
		if strings.HasPrefix(name, prefix) {
			return typ + "." + name, res[typ].(map[string]any)[name].(map[string]any)
		}
	}
	t.Fatalf("no %s.%s*", typ, prefix)
	return "", nil
}

// TestScanCanaryHA breaks the ha stack with a certificate on purpose and
// checks that the scan catches each break: it reads the launch template's
// nested blocks, the load balancer, both listeners and the instances'
// security group.
func TestScanCanaryHA(t *testing.T) {
	_, variant := haSynthesized(t)
	policy := readScanPolicy(t)
	tfsec := tfsecBinary(t, policy.Scanner)
	var doc map[string]any
	if err := json.Unmarshal(variant.raw, &doc); err != nil {
		t.Fatal(err)
	}
	res := doc["resource"].(map[string]any)
	pick := func(typ, prefix string) (string, map[string]any) { return pickResource(t, res, typ, prefix) }
	lt, ltBody := pick("aws_launch_template", "autoscaling_launch-template")
	ltBody["metadata_options"].(map[string]any)["http_tokens"] = "optional"
	alb, albBody := pick("aws_lb", "load-balancer_alb")
	albBody["drop_invalid_header_fields"] = false
	https, httpsBody := pick("aws_lb_listener", "load-balancer_https")
	httpsBody["ssl_policy"] = "ELBSecurityPolicy-2016-08"
	http, httpBody := pick("aws_lb_listener", "load-balancer_http_")
	tg, _ := pick("aws_lb_target_group", "load-balancer_targets")
	httpBody["default_action"] = []any{map[string]any{"type": "forward", "target_group_arn": "${" + tg + ".arn}"}}
	instSG, _ := pick("aws_security_group", "network_instance-sg")
	plantSSHFromAnywhere(res, instSG)
	requireCaught(t, tfsec, doc, []string{
		"aws-autoscaling-enforce-http-token-imds " + lt,
		"aws-elb-drop-invalid-headers " + alb,
		"aws-elb-use-secure-tls-policy " + https,
		"aws-elb-http-not-used " + http,
		"aws-vpc-no-public-ingress-sgr aws_security_group_rule.ssh-in",
	})
}
