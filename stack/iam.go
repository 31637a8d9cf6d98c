package stack

import (
	"bytes"
	"encoding/json"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// policyDocument is an IAM policy document. It is built as plain Go values
// and marshalled to JSON, so reviewers and scanners read the exact document.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string            `json:"Sid,omitempty"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
	// Condition maps an operator to keys and values, e.g. {"Bool": {"aws:SecureTransport": "false"}}.
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

func (d policyDocument) String() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic(err) // only strings: cannot fail
	}
	return b.String()
}

// instancePolicy returns the instance role's only own permissions: list the
// served bucket (all the service does) and read the one artifact object
// (all the boot script does). No wildcards, no other action: a stolen
// instance credential can read nothing else. The ARNs may hold Terraform
// references.
func instancePolicy(servedBucketARN, artifactObjectARN string) string {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{
			{Sid: "ListServedBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{servedBucketARN}},
			{Sid: "ReadArtifact", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{artifactObjectARN}},
		},
	}.String()
}

// assumeRolePolicy lets EC2 instances, and nothing else, take the role.
func assumeRolePolicy(partition string) string {
	service := "ec2.amazonaws.com"
	if partition == "aws-cn" {
		service = "ec2.amazonaws.com.cn"
	}
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{
			{Effect: "Allow", Principal: map[string]string{"Service": service}, Action: []string{"sts:AssumeRole"}},
		},
	}.String()
}

// ssmManagedPolicyARN is the AWS-managed policy that lets the SSM agent
// register the instance for Session Manager.
func ssmManagedPolicyARN(partition string) string {
	return "arn:" + partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore"
}

// identityConfig is what the instance identity needs.
type identityConfig struct {
	partition         string
	servedBucketARN   string
	artifactObjectARN string
	ssm               bool // attach the managed SSM core policy
}

// identity is the instance profile and what must exist before an instance
// uses it.
type identity struct {
	profileName string
	// ready are the role's permissions: an instance must depend on them, or
	// it can boot before it may read its artifact.
	ready []cdktf.ITerraformDependable
}

// newIdentity creates the instance role with its inline policy, the SSM
// attachment when cfg.ssm, and the instance profile.
func newIdentity(scope constructs.Construct, id string, cfg identityConfig) identity {
	c := constructs.NewConstruct(scope, jsii.String(id))
	role := iamrole.NewIamRole(c, jsii.String("instance-role"), &iamrole.IamRoleConfig{
		// A prefix, not a name: role names are global to the account, and
		// two deployments (say, two regions) must not collide.
		NamePrefix:       jsii.String("bucketls-instance-"),
		Description:      jsii.String("bucketls instance: list the served bucket, read the artifact"),
		AssumeRolePolicy: jsii.String(assumeRolePolicy(cfg.partition)),
	})
	policy := iamrolepolicy.NewIamRolePolicy(c, jsii.String("instance-policy"), &iamrolepolicy.IamRolePolicyConfig{
		Name:   jsii.String("bucketls-instance"),
		Role:   role.Id(),
		Policy: jsii.String(instancePolicy(cfg.servedBucketARN, cfg.artifactObjectARN)),
	})
	ready := []cdktf.ITerraformDependable{policy}
	if cfg.ssm {
		ready = append(ready, iamrolepolicyattachment.NewIamRolePolicyAttachment(c, jsii.String("ssm-core"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
			Role:      role.Name(),
			PolicyArn: jsii.String(ssmManagedPolicyARN(cfg.partition)),
		}))
	}
	profile := iaminstanceprofile.NewIamInstanceProfile(c, jsii.String("instance-profile"), &iaminstanceprofile.IamInstanceProfileConfig{
		NamePrefix: jsii.String("bucketls-instance-"),
		Role:       role.Name(),
	})
	return identity{profileName: *profile.Name(), ready: ready}
}
