package stack

import (
	"reflect"
	"testing"
)

func TestFlowLogDelivery(t *testing.T) {
	const bucket = "arn:aws:s3:::logs"
	got := flowLogDelivery(bucket, "aws", "eu-west-1", "123456789012")
	delivery := map[string]string{"Service": "delivery.logs.amazonaws.com"}
	sourceARN := map[string]conditionValues{"aws:SourceArn": {"arn:aws:logs:eu-west-1:123456789012:*"}}
	want := []policyStatement{
		{Sid: "FlowLogDeliveryWrite", Effect: "Allow", Principal: delivery, Action: []string{"s3:PutObject"},
			Resource: []string{bucket + "/AWSLogs/123456789012/*"},
			Condition: map[string]map[string]conditionValues{
				"StringEquals": {"aws:SourceAccount": {"123456789012"}, "s3:x-amz-acl": {"bucket-owner-full-control"}},
				"ArnLike":      sourceARN,
			}},
		{Sid: "FlowLogDeliveryCheck", Effect: "Allow", Principal: delivery, Action: []string{"s3:GetBucketAcl", "s3:ListBucket"},
			Resource:  []string{bucket},
			Condition: map[string]map[string]conditionValues{"StringEquals": {"aws:SourceAccount": {"123456789012"}}, "ArnLike": sourceARN}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flow log delivery = %+v\nwant %+v", got, want)
	}
}

// TestFlowLogs checks the four test stacks: flowLogs is off in the
// defaults (nothing is created) and on in the variants: one flow log of
// all the VPC's traffic into its own bucket, whose records expire.
func TestFlowLogs(t *testing.T) {
	allStacks(t, func(t *testing.T, c *synthCase) {
		logs := c.tf.Resource["aws_flow_log"]
		if !c.cfg.FlowLogs {
			if len(logs) != 0 || len(c.tf.Data["aws_caller_identity"]) != 0 {
				t.Errorf("flowLogs off, but flow logs %v", logs)
			}
			return
		}
		name, fl := c.one(t, "aws_flow_log")
		vpcName, _ := c.one(t, "aws_vpc")
		var bucket string
		for n, b := range c.tf.Resource["aws_s3_bucket"] {
			if b["bucket_prefix"] == "bucketls-flow-logs-" {
				bucket = n
			}
		}
		for k, want := range map[string]any{
			"vpc_id":               ref("aws_vpc", vpcName, "id"),
			"traffic_type":         "ALL",
			"log_destination_type": "s3",
			"log_destination":      ref("aws_s3_bucket", bucket, "arn"),
		} {
			if fl[k] != want {
				t.Errorf("flow log %s: %s = %v, want %v", name, k, fl[k], want)
			}
		}
		var rules any
		for _, lc := range c.tf.Resource["aws_s3_bucket_lifecycle_configuration"] {
			if lc["bucket"] == ref("aws_s3_bucket", bucket, "id") {
				rules = lc["rule"]
			}
		}
		rs, _ := rules.([]any)
		if len(rs) != 2 || !reflect.DeepEqual(rs[1].(map[string]any)["expiration"], []any{map[string]any{"days": float64(flowLogDays)}}) {
			t.Errorf("flow log bucket lifecycle rules = %v, want old versions expired and records after %d days", rules, flowLogDays)
		}
	})
}
