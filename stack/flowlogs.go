package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/flowlog"
)

// flowLogDays is how long flow log records are kept: long enough to look
// back at an incident noticed weeks later, short enough that storage stays
// cents for a small service.
const flowLogDays = 90

// flowLogsConfig is what the flow logs need.
type flowLogsConfig struct {
	vpcID     string
	partition string
	region    string
}

// newFlowLogs records all traffic of the VPC (accepted and rejected, every
// interface: instances and load balancer) as VPC flow logs, delivered to a
// private bucket of their own that deletes records after flowLogDays. An
// operator investigating an incident finds there who talked to what, and
// what the security groups refused.
func newFlowLogs(scope constructs.Construct, id string, cfg flowLogsConfig) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	account := *dataawscalleridentity.NewDataAwsCallerIdentity(c, jsii.String("account"), &dataawscalleridentity.DataAwsCallerIdentityConfig{}).AccountId()
	bucket := newPrivateBucket(c, "bucket", "bucketls-flow-logs-", bucketOptions{
		expireDays: flowLogDays,
		grants: func(bucketARN string) []policyStatement {
			return flowLogDelivery(bucketARN, cfg.partition, cfg.region, account)
		},
	})
	flowlog.NewFlowLog(c, jsii.String("vpc"), &flowlog.FlowLogConfig{
		VpcId:              jsii.String(cfg.vpcID),
		TrafficType:        jsii.String("ALL"),
		LogDestinationType: jsii.String("s3"),
		LogDestination:     jsii.String(bucket.arn),
		Tags:               &map[string]*string{"Name": jsii.String("bucketls")},
		// Delivery checks the bucket policy when the flow log is created.
		DependsOn: &bucket.ready,
	})
}

// flowLogDelivery is what the bucket policy of the flow log bucket at
// bucketARN allows: the log delivery service of this account and region
// (AWS's documented statements) may check the bucket and write under
// AWSLogs/<account>/, and nothing else. Written here rather than left to
// AWS, which would add them to the bucket policy itself and fight with
// Terraform over it. account may be a reference.
func flowLogDelivery(bucketARN, partition, region, account string) []policyStatement {
	delivery := map[string]string{"Service": "delivery.logs.amazonaws.com"}
	fromUs := map[string]conditionValues{"aws:SourceAccount": {account}}
	sourceARN := map[string]conditionValues{"aws:SourceArn": {"arn:" + partition + ":logs:" + region + ":" + account + ":*"}}
	return []policyStatement{
		{
			Sid: "FlowLogDeliveryWrite", Effect: "Allow", Principal: delivery, Action: []string{"s3:PutObject"},
			Resource: []string{bucketARN + "/AWSLogs/" + account + "/*"},
			Condition: map[string]map[string]conditionValues{
				"StringEquals": {"aws:SourceAccount": {account}, "s3:x-amz-acl": {"bucket-owner-full-control"}},
				"ArnLike":      sourceARN,
			},
		},
		{
			Sid: "FlowLogDeliveryCheck", Effect: "Allow", Principal: delivery, Action: []string{"s3:GetBucketAcl", "s3:ListBucket"},
			Resource:  []string{bucketARN},
			Condition: map[string]map[string]conditionValues{"StringEquals": fromUs, "ArnLike": sourceARN},
		},
	}
}
