package stack

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
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
	// Condition maps an operator to keys and their values, e.g.
	// {"Bool": {"aws:SecureTransport": {"false"}}}.
	Condition map[string]map[string]conditionValues `json:"Condition,omitempty"`
}

// conditionValues are the values of one condition key. One value is
// written as a string, as IAM documents usually are; more as a list.
type conditionValues []string

// MarshalJSON writes a single value as a string, more as a list.
func (v conditionValues) MarshalJSON() ([]byte, error) {
	if len(v) == 1 {
		return json.Marshal(v[0])
	}
	return json.Marshal([]string(v))
}

// UnmarshalJSON reads a string or a list of strings.
func (v *conditionValues) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = conditionValues{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(v))
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

// servedAccess is what the instances may do with the served bucket. The
// ARN may hold a Terraform reference.
type servedAccess struct {
	bucketARN  string
	rootPrefix string // Config.RootPrefix: "" serves the whole bucket
	objects    bool   // Config.ServeObjects: read the served keys too
}

// instanceS3Statements are the S3 permissions bucketls instances need:
// list the served bucket (all the service does by default) and read the
// one artifact object (all the boot script does). The instance policy and
// the S3 endpoint policy both start from them. The ARNs may hold Terraform
// references.
//
// With a root prefix, listing carries a condition on s3:prefix: only
// requests for the prefix's subtree, "P/" and below, are allowed, so even
// a bug in the service cannot list the rest of the bucket (a request
// without a prefix has no s3:prefix and is denied too). The bare "P" is
// not allowed: the service never asks for it, since the listing root is
// always the directory "P/", and an object check (is "dir2/file1" an
// object?) asks for "P/dir2/file1", inside the subtree.
//
// With serveObjects the service reads the served objects too (GetObject,
// and HeadObject, which needs the same permission): s3:GetObject on the
// served keys, the bucket's "/*" or "P/*". This is the one wildcard in the
// role's policy, and it is the served subtree itself: the keys the service
// lists are the keys it may read, nothing outside the root prefix.
func instanceS3Statements(served servedAccess, artifactObjectARN string) []policyStatement {
	list := policyStatement{Sid: "ListServedBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{served.bucketARN}}
	if served.rootPrefix != "" {
		list.Condition = map[string]map[string]conditionValues{
			"StringLike": {"s3:prefix": {served.rootPrefix + "/", served.rootPrefix + "/*"}},
		}
	}
	statements := []policyStatement{list}
	if served.objects {
		keys := served.bucketARN + "/*"
		if served.rootPrefix != "" {
			keys = served.bucketARN + "/" + served.rootPrefix + "/*"
		}
		statements = append(statements, policyStatement{Sid: "ReadServedObjects", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{keys}})
	}
	return append(statements,
		policyStatement{Sid: "ReadArtifact", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{artifactObjectARN}})
}

// instanceAccess is what the instance role may reach. The ARNs may hold
// Terraform references.
type instanceAccess struct {
	served            servedAccess
	artifactObjectARN string
	s3EndpointID      string // the role's S3 permissions hold only through it
	// htpasswdParameterARN is the SSM parameter holding the htpasswd
	// file; "" when the service asks for no password.
	htpasswdParameterARN string
}

// instancePolicy returns the instance role's only own permissions: the
// instanceS3Statements, each allowed only through the VPC's S3 gateway
// endpoint, and with a password, reading the one htpasswd parameter (the
// boot script, once). No other action and no wildcard in any resource: a
// stolen instance credential can read nothing else, and from outside the
// VPC nothing in S3 at all, since IAM itself refuses it. Being the role's
// policy, this holds for an existing bucketName too, and it leaves the
// deploying principal (Terraform uploads the artifact from outside the
// VPC) untouched.
//
// The parameter needs no kms:Decrypt: a SecureString under the default
// key, aws/ssm, is decrypted by Parameter Store on the caller's behalf,
// and that AWS-managed key's policy allows any principal of the account
// that may call Parameter Store. A parameter under a customer-managed key
// would also need kms:Decrypt on that key, which this stack does not grant.
func instancePolicy(a instanceAccess) string {
	statements := instanceS3Statements(a.served, a.artifactObjectARN)
	for i := range statements {
		if statements[i].Condition == nil {
			statements[i].Condition = map[string]map[string]conditionValues{}
		}
		statements[i].Condition["StringEquals"] = map[string]conditionValues{"aws:SourceVpce": {a.s3EndpointID}}
	}
	if a.htpasswdParameterARN != "" {
		statements = append(statements, policyStatement{Sid: "ReadHtpasswd", Effect: "Allow",
			Action: []string{"ssm:GetParameter"}, Resource: []string{a.htpasswdParameterARN}})
	}
	return policyDocument{Version: "2012-10-17", Statement: statements}.String()
}

// s3EndpointPolicy returns the policy of the S3 gateway endpoint: the
// most any principal in the VPC may do in S3 through it. It allows the
// instanceS3Statements and one more thing: reading objects of the
// region's Amazon Linux 2023 package repositories, which are S3 buckets
// named al2023-repos-<region>-<suffix> that dnf reads anonymously over
// HTTPS. Without that statement dnf on the instances fails (security
// updates, and anything an operator installs over Session Manager), since
// the route table sends all of the region's S3 traffic to the endpoint.
// The suffix is AWS's, not documented as fixed: a wildcard stands for it,
// and a read-only action on public repository content is what it admits.
// The SSM agent's own buckets (agent updates, Run Command documents,
// patch baselines) are left out: the stack uses Session Manager only, and
// the agent is updated with dnf like every other package.
func s3EndpointPolicy(partition, region string, served servedAccess, artifactObjectARN string) string {
	statements := append(instanceS3Statements(served, artifactObjectARN), policyStatement{
		Sid: "ReadAmazonLinuxRepositories", Effect: "Allow", Action: []string{"s3:GetObject"},
		Resource: []string{al2023RepositoryObjects(partition, region)},
	})
	for i := range statements {
		// An endpoint policy names its principals; who may act is decided
		// by their own policies (see instancePolicy).
		statements[i].Principal = map[string]string{"AWS": "*"}
	}
	return policyDocument{Version: "2012-10-17", Statement: statements}.String()
}

// al2023RepositoryObjects is the ARN pattern of the objects in region's
// Amazon Linux 2023 repository buckets.
func al2023RepositoryObjects(partition, region string) string {
	return "arn:" + partition + ":s3:::al2023-repos-" + region + "-*/*"
}

// ssmParameterARN is the ARN of the parameter named name in region and
// account; a name with a leading slash (a hierarchy) loses it in the ARN.
func ssmParameterARN(partition, region, account, name string) string {
	return "arn:" + partition + ":ssm:" + region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
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
	partition, region string
	served            servedAccess
	artifactObjectARN string
	s3EndpointID      string // the role's S3 permissions hold only through it
	htpasswdParameter string // a parameter name, "" for none
	ssm               bool   // attach the managed SSM core policy
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
	access := instanceAccess{served: cfg.served, artifactObjectARN: cfg.artifactObjectARN, s3EndpointID: cfg.s3EndpointID}
	if cfg.htpasswdParameter != "" {
		// The parameter's ARN names the account, known only at apply.
		account := dataawscalleridentity.NewDataAwsCallerIdentity(c, jsii.String("account"), &dataawscalleridentity.DataAwsCallerIdentityConfig{})
		access.htpasswdParameterARN = ssmParameterARN(cfg.partition, cfg.region, *account.AccountId(), cfg.htpasswdParameter)
	}
	policy := iamrolepolicy.NewIamRolePolicy(c, jsii.String("instance-policy"), &iamrolepolicy.IamRolePolicyConfig{
		Name:   jsii.String("bucketls-instance"),
		Role:   role.Id(),
		Policy: jsii.String(instancePolicy(access)),
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
