package stack

import (
	"fmt"
	"strings"
	"testing"
)

func TestInstance(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		if !c.hasResource(t, "aws_instance", map[string]any{
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
