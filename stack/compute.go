package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsssmparameter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/instance"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// amiParameter is the public SSM parameter that names the latest standard
// Amazon Linux 2023 AMI of an arch. Standard, not minimal: the minimal AMI
// has no AWS CLI, which the boot script uses.
func amiParameter(arch string) string {
	cpu := "x86_64"
	if arch == "arm64" {
		cpu = "arm64"
	}
	return "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + cpu
}

// newAMI looks up the latest Amazon Linux 2023 AMI for arch through its
// public SSM parameter (no golden AMI to maintain) and returns its ID.
func newAMI(scope constructs.Construct, id, arch string) string {
	p := dataawsssmparameter.NewDataAwsSsmParameter(scope, jsii.String(id), &dataawsssmparameter.DataAwsSsmParameterConfig{
		Name: jsii.String(amiParameter(arch)),
	})
	// insecure_value: the AMI ID is public, and the (sensitive) value would
	// hide it in every plan.
	return *p.InsecureValue()
}

// Settings every bucketls instance gets, the single one and those the
// launch template of mode "ha" starts, so both are hardened alike.
const (
	// IMDSv2 only: a token PUT first defeats SSRF-style credential theft.
	imdsTokens = "required"
	// Hop limit 1: the token cannot leave the instance (no container or
	// forwarded request can fetch the role's credentials). Behind a load
	// balancer this still holds and costs nothing: the load balancer
	// proxies HTTP to the service and never talks to IMDS; the service and
	// the AWS CLI call IMDS from the instance itself, one hop.
	imdsHopLimit = 1
	// gp3: cheaper than gp2 at the same size, with a 3000 IOPS baseline.
	// The volume is also encrypted at rest with the account's default EBS
	// key and deleted with its instance (set beside each use).
	rootVolumeType = "gp3"
)

// burstable reports whether instanceType is a burstable (T family) type,
// which has CPU credits to configure: "t" and a generation digit, so that
// trn1 (Trainium) and other families starting with "t" are not taken for one.
func burstable(instanceType string) bool {
	return len(instanceType) > 1 && instanceType[0] == 't' && instanceType[1] >= '0' && instanceType[1] <= '9'
}

// computeConfig is what the instance needs.
type computeConfig struct {
	arch, instanceType string
	subnetID, sgID     string
	profileName        string
	userData           string
	// private (cdn): no public address; CloudFront reaches the instance
	// through its VPC origin.
	private bool
	// dependsOn must exist before the instance boots: the artifact object,
	// the role's permissions and the seeded content.
	dependsOn []cdktf.ITerraformDependable
}

// compute is the running instance.
type compute struct {
	instanceID string
	publicDNS  string // "" when private
	// arn and privateDNS are the VPC origin's target, with cdn.
	arn, privateDNS string
}

// newCompute creates the instance that runs bucketls.
func newCompute(scope constructs.Construct, id string, cfg computeConfig) compute {
	c := constructs.NewConstruct(scope, jsii.String(id))
	ami := newAMI(c, "ami", cfg.arch)
	conf := &instance.InstanceConfig{
		Ami:                 jsii.String(ami),
		InstanceType:        jsii.String(cfg.instanceType),
		SubnetId:            jsii.String(cfg.subnetID),
		VpcSecurityGroupIds: jsii.Strings(cfg.sgID),
		// The subnets assign no public IPs; this instance asks for one, and
		// its public DNS name is the url output. Not with cdn: the instance
		// is in a private subnet, and CloudFront its only way in.
		AssociatePublicIpAddress: jsii.Bool(!cfg.private),
		IamInstanceProfile:       jsii.String(cfg.profileName),
		// No key pair: no SSH. Shell access is through SSM Session Manager.
		MetadataOptions: &instance.InstanceMetadataOptions{
			HttpEndpoint:            jsii.String("enabled"),
			HttpTokens:              jsii.String(imdsTokens),
			HttpPutResponseHopLimit: jsii.Number(imdsHopLimit),
			InstanceMetadataTags:    jsii.String("disabled"),
		},
		RootBlockDevice: &instance.InstanceRootBlockDevice{
			VolumeType:          jsii.String(rootVolumeType),
			Encrypted:           jsii.Bool(true),
			DeleteOnTermination: jsii.Bool(true),
		},
		// Plain text, read by cloud-init; the rehearsal reads it from cdk.tf.json.
		UserData: jsii.String(cfg.userData),
		// Since AWS provider v4 a changed user_data only restarts the
		// instance, and cloud-init does not run it again: replacing the
		// instance is what makes a new artifact take effect.
		UserDataReplaceOnChange: jsii.Bool(true),
		DependsOn:               &cfg.dependsOn,
		Lifecycle: &cdktf.TerraformResourceLifecycle{
			// A newer AMI alone does not replace a running instance; the
			// next artifact change (a new instance) picks it up.
			IgnoreChanges: &[]*string{jsii.String("ami")},
		},
		Tags: &map[string]*string{"Name": jsii.String("bucketls")},
	}
	if burstable(cfg.instanceType) {
		// Burstable types default to "unlimited" credits, which bills extra
		// for sustained CPU; "standard" keeps the monthly cost fixed.
		conf.CreditSpecification = &instance.InstanceCreditSpecification{CpuCredits: jsii.String("standard")}
	}
	inst := instance.NewInstance(c, jsii.String("instance"), conf)
	return compute{instanceID: *inst.Id(), publicDNS: *inst.PublicDns(), arn: *inst.Arn(), privateDNS: *inst.PrivateDns()}
}
