package stack

import (
	"encoding/base64"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
	"github.com/bucketls/bucketls/stack/internal/bootscript/scripttest"
)

// The tests of mode "ha" synthesize two more stacks, once per test binary
// and in the same jsii runtime as the single-mode stacks, behind their own
// sync.Once so a run of single-mode tests alone does not pay for them.

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
		CORSOrigins:     []string{"*"},
		RootPrefix:      "ünïcode prefix/with 'quotes' and %",
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

// names returns the logical names of the resources of type typ, sorted.
func (c *synthCase) names(typ string) []string {
	var out []string
	for name := range c.tf.Resource[typ] {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
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

// TestHASecurityGroups checks every rule of both groups: the load balancer
// admits exactly allowedCidrs on 80 (and 443 with a certificate) and may
// only reach the instances on 80; the instances admit port 80 from the
// load balancer's group and nothing else, and reach out on 443 only: to
// S3's prefix list, and with ssm to the internet (see wantEgress).
func TestHASecurityGroups(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		lbSG, instSG := ref("aws_security_group", p.lbSG, "id"), ref("aws_security_group", p.instanceSG, "id")
		for name, sg := range c.tf.Resource["aws_security_group"] {
			if sg["ingress"] != nil || sg["egress"] != nil {
				t.Errorf("security group %s has inline rules: %v", name, sg)
			}
			if desc, _ := sg["description"].(string); desc == "" {
				t.Errorf("security group %s has no description", name)
			}
		}
		type rule struct {
			group, kind string
			port        float64
			peer        string // CIDRs or a security group reference
		}
		var got []rule
		for name, r := range c.tf.Resource["aws_security_group_rule"] {
			from, to := r["from_port"].(float64), r["to_port"].(float64)
			if r["protocol"] != "tcp" || from != to {
				t.Errorf("rule %s = %v, want one TCP port", name, r)
			}
			if desc, _ := r["description"].(string); desc == "" {
				t.Errorf("rule %s has no description", name)
			}
			for _, k := range []string{"ipv6_cidr_blocks", "self"} {
				if _, ok := r[k]; ok {
					t.Errorf("rule %s sets %s", name, k)
				}
			}
			group := map[any]string{lbSG: "lb", instSG: "instance"}[r["security_group_id"]]
			if group == "" {
				t.Errorf("rule %s is on %v, not on one of the two groups", name, r["security_group_id"])
			}
			peer := c.rulePeer(t, name, r)
			if src, ok := r["source_security_group_id"].(string); ok {
				peer = map[string]string{lbSG: "lb", instSG: "instance"}[src]
			}
			got = append(got, rule{group, fmt.Sprint(r["type"]), from, peer})
		}
		cidrs := fmt.Sprint(toAny(c.cfg.AllowedCIDRs))
		want := []rule{
			{"lb", "ingress", 80, cidrs},
			{"lb", "egress", 80, "instance"},
			{"instance", "ingress", 80, "lb"},
		}
		for _, peer := range wantEgress(c.cfg) {
			want = append(want, rule{"instance", "egress", 443, peer})
		}
		if c.cfg.CertificateARN != "" {
			want = append(want, rule{"lb", "ingress", 443, cidrs})
		}
		key := func(r rule) string { return fmt.Sprint(r) }
		slices.SortFunc(got, func(a, b rule) int { return strings.Compare(key(a), key(b)) })
		slices.SortFunc(want, func(a, b rule) int { return strings.Compare(key(a), key(b)) })
		if !reflect.DeepEqual(got, want) {
			t.Errorf("security group rules = %+v\nwant exactly %+v", got, want)
		}
	})
}

func TestHALoadBalancer(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		_, alb := c.one(t, "aws_lb")
		for k, v := range map[string]any{
			"load_balancer_type":         "application",
			"internal":                   false,
			"drop_invalid_header_fields": true,
			"enable_deletion_protection": false,
			"idle_timeout":               float64(idleTimeout),
			"security_groups":            []any{ref("aws_security_group", p.lbSG, "id")},
			"subnets":                    toAny(p.subnets),
		} {
			if !reflect.DeepEqual(alb[k], v) {
				t.Errorf("load balancer %s = %v, want %v", k, alb[k], v)
			}
		}
		if _, ok := alb["access_logs"]; ok {
			t.Errorf("load balancer has access_logs %v; the decision is no access logs (see newLoadBalancer)", alb["access_logs"])
		}
		if n, _ := alb["name_prefix"].(string); n == "" || len(n) > 6 {
			t.Errorf("load balancer name_prefix = %q, want a prefix of at most 6 characters", n)
		}

		_, tg := c.one(t, "aws_lb_target_group")
		vpc, _ := c.one(t, "aws_vpc")
		for k, v := range map[string]any{
			"port": float64(80), "protocol": "HTTP", "target_type": "instance",
			"vpc_id": ref("aws_vpc", vpc, "id"), "deregistration_delay": "30",
			"lifecycle": map[string]any{"create_before_destroy": true},
			"health_check": map[string]any{
				"enabled": true, "protocol": "HTTP", "port": "traffic-port", "path": "/healthz", "matcher": "200",
				"interval": float64(10), "timeout": float64(5), "healthy_threshold": float64(2), "unhealthy_threshold": float64(3),
			},
		} {
			if !reflect.DeepEqual(tg[k], v) {
				t.Errorf("target group %s = %v, want %v", k, tg[k], v)
			}
		}
	})
}

// TestHAListeners: HTTP only without a certificate; with one, HTTP
// redirects to HTTPS, served with the certificate and a TLS 1.2+ policy.
func TestHAListeners(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		forward := []any{map[string]any{"type": "forward", "target_group_arn": ref("aws_lb_target_group", p.targets, "arn")}}
		byPort := map[float64]map[string]any{}
		for name, l := range c.tf.Resource["aws_lb_listener"] {
			if l["load_balancer_arn"] != ref("aws_lb", p.lb, "arn") {
				t.Errorf("listener %s is on %v", name, l["load_balancer_arn"])
			}
			byPort[l["port"].(float64)] = l
		}
		http := byPort[80]
		if http == nil || http["protocol"] != "HTTP" {
			t.Fatalf("no HTTP listener on 80: %v", byPort)
		}
		for _, k := range []string{"certificate_arn", "ssl_policy"} {
			if _, ok := http[k]; ok {
				t.Errorf("HTTP listener sets %s", k)
			}
		}
		if c.cfg.CertificateARN == "" {
			if len(byPort) != 1 {
				t.Errorf("listeners on ports %v, want 80 only without certificateArn", slices.Sorted(maps.Keys(byPort)))
			}
			if !reflect.DeepEqual(http["default_action"], forward) {
				t.Errorf("HTTP listener default_action = %v, want %v", http["default_action"], forward)
			}
			return
		}
		redirect := []any{map[string]any{"type": "redirect", "redirect": map[string]any{
			"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301",
		}}}
		if !reflect.DeepEqual(http["default_action"], redirect) {
			t.Errorf("HTTP listener default_action = %v, want %v", http["default_action"], redirect)
		}
		https := byPort[443]
		if len(byPort) != 2 || https == nil {
			t.Fatalf("listeners on ports %v, want 80 and 443 with certificateArn", slices.Sorted(maps.Keys(byPort)))
		}
		for k, v := range map[string]any{
			"protocol":        "HTTPS",
			"certificate_arn": c.cfg.CertificateARN,
			"ssl_policy":      "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
			"default_action":  forward,
		} {
			if !reflect.DeepEqual(https[k], v) {
				t.Errorf("HTTPS listener %s = %v, want %v", k, https[k], v)
			}
		}
	})
}

func TestHALaunchTemplate(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		want := map[string]any{
			"instance_type": c.cfg.instanceType(),
			"metadata_options": map[string]any{
				"http_endpoint":               "enabled",
				"http_tokens":                 "required",
				"http_put_response_hop_limit": 1,
				"instance_metadata_tags":      "disabled",
			},
			"block_device_mappings": []any{map[string]any{
				"device_name": "/dev/xvda",
				"ebs":         map[string]any{"volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
			}},
			"network_interfaces": []any{map[string]any{
				"device_index":                0,
				"associate_public_ip_address": fmt.Sprint(usesSSMAPI(c.cfg) && !c.cfg.SSMEndpoints),
				"delete_on_termination":       "true",
				"security_groups":             []any{ref("aws_security_group", p.instanceSG, "id")},
			}},
			"monitoring":             map[string]any{"enabled": true},
			"update_default_version": true,
		}
		if !*cdktf.Testing_ToHaveResourceWithProperties(jsii.String(string(c.raw)), jsii.String("aws_launch_template"), &want) {
			c.showJSON(t)
			t.Error("aws_launch_template lacks IMDSv2 with hop limit 1, an encrypted gp3 root, the instance group on a public-IP interface, monitoring or update_default_version")
		}
		_, lt := c.one(t, "aws_launch_template")
		// The interface carries the security group: a template may not set
		// both. No key pair, no plain user data.
		for _, k := range []string{"key_name", "vpc_security_group_ids", "security_group_names", "lifecycle"} {
			if _, ok := lt[k]; ok {
				t.Errorf("launch template sets %s = %v", k, lt[k])
			}
		}
		ami := only(t, c.tf.Data["aws_ssm_parameter"])
		if lt["image_id"] != "${data.aws_ssm_parameter."+ami+".insecure_value}" {
			t.Errorf("image_id = %v, want the SSM parameter's value", lt["image_id"])
		}
		if got, want := c.tf.Data["aws_ssm_parameter"][ami]["name"], amiParameter(c.cfg.Arch); got != want {
			t.Errorf("AMI parameter = %v, want %v", got, want)
		}
		profile, _ := c.one(t, "aws_iam_instance_profile")
		if want := map[string]any{"name": ref("aws_iam_instance_profile", profile, "name")}; !reflect.DeepEqual(lt["iam_instance_profile"], want) {
			t.Errorf("iam_instance_profile = %v, want %v", lt["iam_instance_profile"], want)
		}
		credits, hasCredits := lt["credit_specification"]
		if burstable(c.cfg.instanceType()) {
			if want := map[string]any{"cpu_credits": "unlimited"}; !reflect.DeepEqual(credits, want) {
				t.Errorf("credit_specification = %v, want %v (CPU scaling needs unthrottled metrics)", credits, want)
			}
		} else if hasCredits {
			t.Errorf("%s is not burstable, but credit_specification = %v", c.cfg.instanceType(), credits)
		}
		tags := map[string]any{"Name": "bucketls", "Application": "bucketls", "ManagedBy": "cdktf"}
		wantSpecs := []any{map[string]any{"resource_type": "instance", "tags": tags}, map[string]any{"resource_type": "volume", "tags": tags}}
		if !reflect.DeepEqual(lt["tag_specifications"], wantSpecs) {
			t.Errorf("tag_specifications = %v, want %v", lt["tag_specifications"], wantSpecs)
		}
	})
}

// TestHAUserData evaluates the launch template's user_data the way
// Terraform does (HCL's JSON syntax, with the bucket references filled in
// and base64encode), decodes it, and compares it with the boot script of
// the same values without TLS: the single instance's script, because the
// load balancer terminates TLS.
func TestHAUserData(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		artifactBucket, content := c.bucketNames(t)
		names := map[string]string{artifactBucket: "bucketls-artifacts-20260101000000000000000001"}
		if content != "" {
			names[content] = "bucketls-content-20260101000000000000000002"
		}
		encoded := evalResourceAttr(t, c, "aws_launch_template", p.lt, "user_data", names)
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatalf("user_data is not base64: %v", err)
		}
		script := string(raw)
		b := bootscript.Script{
			Region:            c.cfg.Region,
			ArtifactBucket:    names[artifactBucket],
			ArtifactKey:       c.res.ArtifactKey,
			ArtifactSHA256:    c.res.ArtifactSHA256,
			ServedBucket:      c.cfg.BucketName,
			TLS:               false,
			CacheTTL:          c.cfg.CacheTTL,
			CORSOrigins:       c.cfg.CORSOrigins,
			RootPrefix:        c.cfg.RootPrefix,
			HTPasswdParameter: c.cfg.HTPasswdParameter,
		}
		if content != "" {
			b.ServedBucket = names[content]
		}
		want, err := b.Bash()
		if err != nil {
			t.Fatal(err)
		}
		if script != want {
			t.Errorf("user data decodes to\n%s\nwant\n%s", script, want)
		}
		if !strings.Contains(script, `echo "`+c.res.ArtifactSHA256+`  $work/bucketls" | sha256sum -c`) {
			t.Errorf("user data does not check the artifact's SHA-256 %s", c.res.ArtifactSHA256)
		}
		checkServiceSettings(t, c, script)
		// TLS is on in both configs, and the instances must serve no HTTPS.
		if !c.cfg.TLS || strings.Contains(script, "BUCKETLS_TLS") || strings.Contains(script, ":443") {
			t.Errorf("user data of mode ha sets up TLS on the instance (tls = %v)", c.cfg.TLS)
		}
		scripttest.BashSyntax(t, script)
		if len(script) > bootscript.MaxUserData {
			t.Errorf("user data is %d bytes, EC2 takes %d", len(script), bootscript.MaxUserData)
		}
	})
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

func TestHAAutoScalingGroup(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		_, asg := c.one(t, "aws_autoscaling_group")
		for k, v := range map[string]any{
			"min_size":                  float64(c.cfg.MinSize),
			"max_size":                  float64(c.cfg.MaxSize),
			"desired_capacity":          float64(c.cfg.DesiredCapacity),
			"min_elb_capacity":          float64(c.cfg.MinSize),
			"vpc_zone_identifier":       toAny(p.subnets),
			"target_group_arns":         []any{ref("aws_lb_target_group", p.targets, "arn")},
			"health_check_type":         "ELB",
			"health_check_grace_period": float64(300),
			"default_instance_warmup":   float64(60),
			"launch_template": map[string]any{
				"id":      ref("aws_launch_template", p.lt, "id"),
				"version": ref("aws_launch_template", p.lt, "latest_version"),
			},
			"instance_refresh": map[string]any{
				"strategy": "Rolling",
				"preferences": map[string]any{
					"min_healthy_percentage": float64(100),
					"max_healthy_percentage": float64(200),
					"skip_matching":          true,
					"auto_rollback":          false,
				},
			},
			"lifecycle": map[string]any{"ignore_changes": []any{"desired_capacity"}},
		} {
			if !reflect.DeepEqual(asg[k], v) {
				t.Errorf("group %s = %v, want %v", k, asg[k], v)
			}
		}
		if len(p.subnets) != 2 {
			t.Errorf("group spans %d subnets, want 2 (two zones)", len(p.subnets))
		}
		// No instance boots before its artifact, its permissions, the
		// seeded content and the listeners exist.
		var want []string
		for _, typ := range []string{"aws_s3_object", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_lb_listener"} {
			for _, n := range c.names(typ) {
				want = append(want, typ+"."+n)
			}
		}
		var got []string
		for _, d := range asg["depends_on"].([]any) {
			got = append(got, d.(string))
		}
		if !sameElements(got, want) {
			t.Errorf("group depends_on = %q, want %q", got, want)
		}
	})
}

func TestHAScalingPolicy(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		_, policy := c.one(t, "aws_autoscaling_policy")
		want := map[string]any{
			"name":                   "bucketls-cpu-target",
			"autoscaling_group_name": ref("aws_autoscaling_group", p.asg, "name"),
			"policy_type":            "TargetTrackingScaling",
			"target_tracking_configuration": map[string]any{
				"predefined_metric_specification": map[string]any{"predefined_metric_type": "ASGAverageCPUUtilization"},
				"target_value":                    float64(c.cfg.TargetCPU),
			},
		}
		delete(policy, "//")
		if !reflect.DeepEqual(policy, want) {
			t.Errorf("scaling policy = %v\nwant %v", policy, want)
		}
	})
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

func TestHAOutputs(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		artifactBucket, content := c.bucketNames(t)
		bucket := c.cfg.BucketName
		if content != "" {
			bucket = ref("aws_s3_bucket", content, "bucket")
		}
		dns := ref("aws_lb", p.lb, "dns_name")
		want := map[string]string{
			"url":                    "http://" + dns + "/list-bucket-content",
			"autoscaling_group_name": ref("aws_autoscaling_group", p.asg, "name"),
			"bucket_name":            bucket,
			"artifact_uri":           "s3://" + ref("aws_s3_bucket", artifactBucket, "bucket") + "/" + c.res.ArtifactKey,
		}
		if c.cfg.CertificateARN != "" {
			want["url"] = "https://" + dns + "/list-bucket-content"
			want["https_url"] = want["url"]
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
