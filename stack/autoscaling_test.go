package stack

import (
	"fmt"
	"reflect"
	"testing"
)

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
		if !c.hasResource(t, "aws_launch_template", want) {
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
