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

	"github.com/bucketls/bucketls/stack/internal/tfhcl"
)

// scanPolicy is testdata/security-scan.json.
type scanPolicy struct {
	Scanner  string   `json:"scanner"` // module path of the trivy command @ version
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

// finding is one result of a Trivy misconfiguration check (JSON output).
// Trivy names the resource of a failure only; a pass says that the check
// ran and found nothing, which is why the canaries below break what the
// checks look at.
type finding struct {
	Rule          string `json:"ID"` // e.g. AWS-0104
	Title         string `json:"Title"`
	Severity      string `json:"Severity"`
	Status        string `json:"Status"` // PASS or FAIL
	CauseMetadata struct {
		Resource string `json:"Resource"`
	} `json:"CauseMetadata"`
}

func (f finding) failed() bool { return f.Status != "PASS" }

func (f finding) resource() string { return f.CauseMetadata.Resource }

func (f finding) String() string {
	return fmt.Sprintf("%s %s on %s: %s", f.Severity, f.Rule, f.resource(), f.Title)
}

// trivyBinary returns a Trivy of the version the policy pins:
// $BUCKETLS_TRIVY if set, else <user cache>/bucketls/tools/trivy-<version>/trivy.
// It checks the module and version recorded in the binary. Trivy takes
// about 10 minutes to build, so the test does not build it: .ci/run
// installs it, and without it the scan skips with the command that does
// (under CI it fails instead, so CI always scans).
func trivyBinary(t *testing.T, scanner string) string {
	t.Helper()
	module, version, ok := strings.Cut(scanner, "@")
	if !ok {
		t.Fatalf("scanner %q is not module@version", scanner)
	}
	bin := os.Getenv("BUCKETLS_TRIVY")
	if bin == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(cache, "bucketls", "tools", "trivy-"+version)
		bin = filepath.Join(dir, "trivy")
		if _, err := os.Stat(bin); err != nil {
			msg := fmt.Sprintf("security scan needs Trivy %s, which is not installed (about 10 minutes to build on 2 cores); "+
				"install it with: GOEXPERIMENT=jsonv2 GOBIN=%s go install %s (or set BUCKETLS_TRIVY to a trivy %s binary); .ci/run does this",
				version, dir, scanner, version)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("trivy at %s: %v", bin, err)
	}
	if bi.Main.Path != strings.TrimSuffix(module, "/cmd/trivy") || bi.Main.Version != version {
		t.Fatalf("trivy at %s is %s@%s, want %s", bin, bi.Main.Path, bi.Main.Version, scanner)
	}
	return bin
}

// scan runs Trivy over a Terraform JSON configuration, converted to native
// syntax first (see package tfhcl: Trivy misreads nested blocks in JSON),
// and returns every result, passed ones too. It runs offline, on the
// checks built into the binary, and touches no cache outside the test.
func scan(t *testing.T, trivy string, tfJSON []byte) []finding {
	t.Helper()
	hcl, err := tfhcl.FromJSON(tfJSON)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), hcl, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(trivy, "config", "--format", "json", "--include-non-failures", "--quiet",
		"--skip-check-update", "--skip-version-check", "--disable-telemetry", "--cache-dir", t.TempDir(), dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("trivy: %v\n%s", err, stderr.String())
	}
	var out struct {
		Results []struct {
			Misconfigurations []finding `json:"Misconfigurations"`
		} `json:"Results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("trivy output: %v\n%s", err, stdout.String())
	}
	var results []finding
	for _, r := range out.Results {
		results = append(results, r.Misconfigurations...)
	}
	if !slices.ContainsFunc(results, func(f finding) bool { return f.resource() != "" }) {
		t.Fatalf("trivy named no resource: it did not read the configuration\n%s\n%s", stderr.String(), hcl)
	}
	return results
}

// mustPass are Trivy checks every stack is built to pass: reported as run
// and passed, with no failure. The canaries below prove that Trivy reads
// the resources and nested blocks they look at.
var mustPass = []string{
	"AWS-0086", // S3 public access block: block public ACLs
	"AWS-0087", // ... block public policy
	"AWS-0090", // S3 versioning (versioning_configuration)
	"AWS-0091", // ... ignore public ACLs
	"AWS-0092", // no public ACL
	"AWS-0093", // ... restrict public buckets
	"AWS-0094", // every bucket has a public access block
	"AWS-0099", // security groups have a description
	"AWS-0124", // security group rules have a description
	"AWS-0345", // no unrestricted S3 permissions in IAM policies
}

// mustPassSingle are checks of the single instance.
var mustPassSingle = []string{
	"AWS-0028", // IMDSv2 required (metadata_options)
	"AWS-0131", // encrypted root volume (root_block_device)
	"AWS-0029", // no secrets in user data
}

// mustPassHA are checks of the launch template and the load balancer.
var mustPassHA = []string{
	"AWS-0130", // the launch template requires IMDSv2 (metadata_options)
	"AWS-0129", // no secrets in the launch template's user data
	"AWS-0052", // the load balancer drops invalid headers
}

// mustPassHTTPS are checks of the HTTPS listener, with certificateArn.
var mustPassHTTPS = []string{
	"AWS-0047", // a TLS 1.2+ policy
	"AWS-0054", // no plain HTTP listener (port 80 only redirects)
}

// mustPassNoSSM: without ssm the instances' only egress is S3's prefix
// list, and with ssmEndpoints that and the endpoints' group: no rule
// opens egress to the internet.
var mustPassNoSSM = []string{
	"AWS-0104",
}

// mustPassFlowLogs: with flowLogs the VPC has flow logs.
var mustPassFlowLogs = []string{
	"AWS-0178",
}

// mustPassCDN are checks of the distribution of cdn.
var mustPassCDN = []string{
	"AWS-0012", // no behaviour serves plain HTTP (redirect-to-https)
}

// mustPassCDNDomain: with a custom domain the distribution's security
// policy is ours to set, and is TLS 1.2 at least. (On *.cloudfront.net
// CloudFront fixes it, and the check does not apply.)
var mustPassCDNDomain = []string{
	"AWS-0013",
}

// mustPassHACDN: with cdn the load balancer is internal.
var mustPassHACDN = []string{
	"AWS-0053",
}

// mustPassFor returns the checks the stack of cfg must pass.
func mustPassFor(cfg Config) []string {
	rules := slices.Clone(mustPass)
	if !usesSSMAPI(cfg) || cfg.SSMEndpoints {
		rules = append(rules, mustPassNoSSM...)
	}
	if cfg.FlowLogs {
		rules = append(rules, mustPassFlowLogs...)
	}
	if cfg.CDN {
		rules = append(rules, mustPassCDN...)
		if cfg.DomainName != "" {
			rules = append(rules, mustPassCDNDomain...)
		}
	}
	if !cfg.ha() {
		return append(rules, mustPassSingle...)
	}
	rules = append(rules, mustPassHA...)
	if cfg.loadBalancerTLS() {
		rules = append(rules, mustPassHTTPS...)
	}
	if cfg.CDN {
		rules = append(rules, mustPassHACDN...)
	}
	return rules
}

// TestSecurityScan scans the four test stacks: single and ha, each in its
// default and its variant configuration; both with ssmEndpoints; and cdn
// in both modes, cdn with a custom domain, and a custom domain on the
// load balancer.
func TestSecurityScan(t *testing.T) {
	policy := readScanPolicy(t)
	trivy := trivyBinary(t, policy.Scanner)
	def, _, variant := synthesized(t)
	haDef, haVariant := haSynthesized(t)
	used := map[int]bool{}
	endpoints, haEndpoints := ssmEndpointsSynthesized(t)
	cdn, haCDN, cdnDomain, _, haDomain := cdnSynthesized(t)
	for _, c := range []*synthCase{def, variant, haDef, haVariant, endpoints, haEndpoints, cdn, haCDN, cdnDomain, haDomain} {
		results := scan(t, trivy, c.raw)
		passed, failed := map[string]bool{}, map[string]bool{}
		for _, f := range results {
			if !f.failed() {
				passed[f.Rule] = true
				continue
			}
			failed[f.Rule] = true
			// An acceptance may name a finding below failOn too, to give
			// the reason where a reader of the policy looks for it.
			i := slices.IndexFunc(policy.Accepted, func(a struct {
				Rule     string `json:"rule"`
				Resource string `json:"resource"`
				Reason   string `json:"reason"`
			}) bool {
				return a.Rule == f.Rule && a.Resource == f.resource()
			})
			switch {
			case i >= 0:
				used[i] = true
			case !slices.Contains(policy.FailOn, f.Severity):
				t.Logf("%s: %v (below %v)", c.res.Dir, f, policy.FailOn)
			default:
				t.Errorf("%s: %v\n\tfix it, or accept it in testdata/security-scan.json with a reason", c.res.Dir, f)
			}
		}
		for _, rule := range mustPassFor(c.cfg) {
			if !passed[rule] || failed[rule] {
				t.Errorf("%s: check %s passed = %v, failed = %v; want it run and passed", c.res.Dir, rule, passed[rule], failed[rule])
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
// scan catches each break: the scan can fail, and it reads the nested
// blocks (metadata_options, root_block_device, versioning_configuration).
func TestScanCanary(t *testing.T) {
	trivy := trivyBinary(t, readScanPolicy(t).Scanner)
	def, _, _ := synthesized(t)
	b := newBreakable(t, def)
	inst, instBody := b.pick(t, "aws_instance", "compute_instance")
	instBody["metadata_options"].(map[string]any)["http_tokens"] = "optional"
	instBody["root_block_device"].(map[string]any)["encrypted"] = false
	_, pab := b.pick(t, "aws_s3_bucket_public_access_block", "artifact_")
	pab["block_public_acls"] = false
	versioningID, versioning := b.pick(t, "aws_s3_bucket_versioning", "artifact_")
	versioning["versioning_configuration"].(map[string]any)["status"] = "Suspended"
	sgID, _ := b.pick(t, "aws_security_group", "network_web-sg")
	plantSSHFromAnywhere(b.res, sgID)
	plantEgressToAnywhere(b.res, sgID)
	requireCaught(t, trivy, b.doc, []string{
		"AWS-0028 " + inst,
		"AWS-0131 " + inst,
		"AWS-0107 aws_security_group_rule.ssh-in",
		"AWS-0104 aws_security_group_rule.all-out",
		"AWS-0086 ",
		"AWS-0090 " + versioningID,
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

// plantEgressToAnywhere adds a rule opening all egress to the world on
// the security group at address sg.
func plantEgressToAnywhere(res map[string]any, sg string) {
	res["aws_security_group_rule"].(map[string]any)["all-out"] = map[string]any{
		"type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": []any{"0.0.0.0/0"},
		"description": "everything to anywhere", "security_group_id": "${" + sg + ".id}",
	}
}

// requireCaught scans the broken stack doc and fails the test unless each
// wanted "rule resource-address" prefix is among the failed findings.
func requireCaught(t *testing.T, trivy string, doc map[string]any, wants []string) {
	t.Helper()
	broken, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range scan(t, trivy, broken) {
		if f.failed() {
			failed = append(failed, f.Rule+" "+f.resource())
		}
	}
	for _, want := range wants {
		if !slices.ContainsFunc(failed, func(f string) bool { return strings.HasPrefix(f, want) }) {
			t.Errorf("the scan missed a planted problem: no %q among the failures:\n%s", want, strings.Join(failed, "\n"))
		}
	}
}

// breakable is a stack's cdk.tf.json decoded for a scan canary to break.
type breakable struct {
	doc map[string]any // the whole configuration, to scan
	res map[string]any // its "resource" object, to break
}

// newBreakable decodes the cdk.tf.json of c.
func newBreakable(t *testing.T, c *synthCase) breakable {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(c.raw, &doc); err != nil {
		t.Fatal(err)
	}
	return breakable{doc: doc, res: doc["resource"].(map[string]any)}
}

// pick returns the address and body of the first resource of type typ
// whose name starts with prefix.
func (b breakable) pick(t *testing.T, typ, prefix string) (string, map[string]any) {
	t.Helper()
	for _, name := range sortedKeys(b.res[typ].(map[string]any)) {
		if strings.HasPrefix(name, prefix) {
			return typ + "." + name, b.res[typ].(map[string]any)[name].(map[string]any)
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
	trivy := trivyBinary(t, readScanPolicy(t).Scanner)
	_, variant := haSynthesized(t)
	b := newBreakable(t, variant)
	lt, ltBody := b.pick(t, "aws_launch_template", "autoscaling_launch-template")
	ltBody["metadata_options"].(map[string]any)["http_tokens"] = "optional"
	alb, albBody := b.pick(t, "aws_lb", "load-balancer_alb")
	albBody["drop_invalid_header_fields"] = false
	https, httpsBody := b.pick(t, "aws_lb_listener", "load-balancer_https")
	httpsBody["ssl_policy"] = "ELBSecurityPolicy-2016-08"
	http, httpBody := b.pick(t, "aws_lb_listener", "load-balancer_http_")
	tg, _ := b.pick(t, "aws_lb_target_group", "load-balancer_targets")
	httpBody["default_action"] = []any{map[string]any{"type": "forward", "target_group_arn": "${" + tg + ".arn}"}}
	instSG, _ := b.pick(t, "aws_security_group", "network_instance-sg")
	plantSSHFromAnywhere(b.res, instSG)
	requireCaught(t, trivy, b.doc, []string{
		"AWS-0130 " + lt,
		"AWS-0052 " + alb,
		"AWS-0047 " + https,
		"AWS-0054 " + http,
		"AWS-0107 aws_security_group_rule.ssh-in",
	})
}

// TestScanCanaryCDN breaks the distribution of cdn with a custom domain on
// purpose and checks that the scan catches each break: it reads the
// distribution's behaviours and its viewer certificate.
func TestScanCanaryCDN(t *testing.T) {
	trivy := trivyBinary(t, readScanPolicy(t).Scanner)
	_, _, domain, _, _ := cdnSynthesized(t)
	b := newBreakable(t, domain)
	dist, body := b.pick(t, "aws_cloudfront_distribution", "cdn_distribution")
	body["default_cache_behavior"].(map[string]any)["viewer_protocol_policy"] = "allow-all"
	body["viewer_certificate"].(map[string]any)["minimum_protocol_version"] = "TLSv1"
	requireCaught(t, trivy, b.doc, []string{
		"AWS-0012 " + dist,
		"AWS-0013 " + dist,
	})
}
