package stack

import (
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalinggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalingpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// Auto Scaling settings of mode "ha", each with its reason.
const (
	// rootDeviceName is the root device of the Amazon Linux 2023 AMIs (both
	// arches). The launch template's volume settings apply to the root
	// volume only under this name; under another they would add a second,
	// empty volume and leave the root as the AMI made it.
	rootDeviceName = "/dev/xvda"
	// healthCheckGracePeriod covers a boot: cloud-init, the artifact
	// download with its retries for IAM propagation (84 s at most), and the
	// boot script's wait for the health path (60 s at most, bootscript's
	// healthWaitSeconds). Until it ends,
	// failed load balancer health checks do not replace the instance.
	healthCheckGracePeriod = 300
	// instanceWarmup is how long after it is in service a new instance's
	// CPU stays out of the group's average (boot work is not load), and
	// how long an instance refresh waits before counting it healthy.
	instanceWarmup = 60
	// minHealthyPercentage and maxHealthyPercentage shape a deploy (an
	// instance refresh): never fewer healthy instances than desired, and
	// room to start a full second set before the old one goes. So a
	// deploy starts the new instances, waits until the load balancer finds
	// them healthy, then drains and terminates the old ones: no capacity
	// lost, and a build that never gets healthy never takes traffic. The
	// price is paying for up to twice the instances for a few minutes.
	minHealthyPercentage = 100
	maxHealthyPercentage = 200
)

// groupConfig is what the Auto Scaling group needs.
type groupConfig struct {
	arch, instanceType string
	subnetIDs          []string // the group spreads its instances over these zones
	sgID               string
	profileName        string
	// userData is the boot script (see userData in userdata.go): plain
	// text, with Terraform references for the bucket names, and no TLS of
	// the instance's own; the launch template base64-encodes it.
	userData       string
	targetGroupARN string
	// publicIP gives each instance a public address, for egress to the
	// internet without a NAT gateway; without internet egress (see
	// network.internetEgress) it stays off and the instances have no
	// address on the internet at all.
	publicIP  bool
	minSize   int
	maxSize   int
	desired   int
	targetCPU int
	// dependsOn must exist before the first instance boots: the artifact
	// object, the role's permissions, the seeded content, and the
	// listeners (without them, the target group checks no instance and
	// the group would wait for healthy instances in vain).
	dependsOn []cdktf.ITerraformDependable
}

// group is the Auto Scaling group.
type group struct {
	name string
}

// newAutoScaling creates the launch template, the Auto Scaling group and
// its target-tracking scaling policy.
//
// The instances run in the public subnets, not in private subnets behind
// a NAT gateway. They need outbound HTTPS (S3 and the package repositories
// through the S3 gateway endpoint; with ssm, Session Manager on the
// internet, which needs a public IP each unless ssmEndpoints puts it in
// the VPC) and nothing inbound except from the load balancer, which their
// security group enforces (port 80 from the load balancer's group only).
// A public IPv4 address per instance costs a fraction of a NAT gateway,
// which bills by the hour and by the gigabyte before any traffic, and would
// be needed in each zone for the zone independence this mode exists for
// (docs/deploy.md's cost table has the figures). Private subnets would add a
// second line of defence the security group already draws, at several
// times the price.
func newAutoScaling(scope constructs.Construct, id string, cfg groupConfig) group {
	c := constructs.NewConstruct(scope, jsii.String(id))
	lt := newLaunchTemplate(c, cfg)
	asg := newGroup(c, cfg, lt)
	newCPUTargetPolicy(c, cfg, asg)
	return group{name: *asg.Name()}
}

// newLaunchTemplate creates the template the group launches instances
// from: the hardened instance of single mode, on the group's subnets.
func newLaunchTemplate(c constructs.Construct, cfg groupConfig) launchtemplate.LaunchTemplate {
	ami := newAMI(c, "ami", cfg.arch)
	ltConf := &launchtemplate.LaunchTemplateConfig{
		NamePrefix:  jsii.String("bucketls-"),
		Description: jsii.String("bucketls instances of the Auto Scaling group"),
		// The same AMI lookup as the single instance, without its
		// ignore_changes: here a new Amazon Linux release makes a new
		// template version, which the next apply rolls out with no
		// downtime, so instances do not keep an old AMI for months.
		ImageId:      jsii.String(ami),
		InstanceType: jsii.String(cfg.instanceType),
		IamInstanceProfile: &launchtemplate.LaunchTemplateIamInstanceProfile{
			Name: jsii.String(cfg.profileName),
		},
		// No key pair: no SSH. Shell access is through SSM Session Manager.
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint:            jsii.String("enabled"),
			HttpTokens:              jsii.String(imdsTokens),
			HttpPutResponseHopLimit: jsii.Number(imdsHopLimit),
			InstanceMetadataTags:    jsii.String("disabled"),
		},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: jsii.String(rootDeviceName),
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				VolumeType:          jsii.String(rootVolumeType),
				Encrypted:           jsii.String("true"),
				DeleteOnTermination: jsii.String("true"),
			},
		}},
		NetworkInterfaces: &[]*launchtemplate.LaunchTemplateNetworkInterfaces{{
			DeviceIndex: jsii.Number(0),
			// Public IPs for egress without a NAT gateway (see above), only
			// where something must go to the internet; the security group
			// admits only the load balancer either way.
			AssociatePublicIpAddress: jsii.String(strconv.FormatBool(cfg.publicIP)),
			SecurityGroups:           jsii.Strings(cfg.sgID),
			DeleteOnTermination:      jsii.String("true"),
		}},
		// One-minute CPU metrics (billed per metric, see docs/deploy.md's
		// costs): target tracking on the default five-minute metrics would
		// notice load ten to fifteen minutes late.
		Monitoring: &launchtemplate.LaunchTemplateMonitoring{Enabled: jsii.Bool(true)},
		// Launch templates take user data base64-encoded. The script holds
		// bucket references, so Terraform encodes it after filling them in. The artifact's SHA-256 is in
		// it: a new build is a new template version, which starts an
		// instance refresh.
		UserData:             jsii.String(base64Expression(cfg.userData)),
		UpdateDefaultVersion: jsii.Bool(true),
		// The provider's default_tags do not reach what the group
		// launches: tag the instances and their volumes here.
		TagSpecifications: &[]*launchtemplate.LaunchTemplateTagSpecifications{
			{ResourceType: jsii.String("instance"), Tags: instanceTags()},
			{ResourceType: jsii.String("volume"), Tags: instanceTags()},
		},
	}
	if burstable(cfg.instanceType) {
		// Unlike the single instance, "unlimited": with "standard" credits
		// an instance out of credits is held at its baseline (10 % for a
		// t3.micro), so the CPU average never reaches the target and the
		// group does not scale out exactly when it should. Below the
		// baseline this costs nothing extra; above it, surplus credits are
		// billed per vCPU-hour. For sustained load, choose a
		// non-burstable instanceType.
		ltConf.CreditSpecification = &launchtemplate.LaunchTemplateCreditSpecification{CpuCredits: jsii.String("unlimited")}
	}
	return launchtemplate.NewLaunchTemplate(c, jsii.String("launch-template"), ltConf)
}

// newGroup creates the Auto Scaling group behind the load balancer's
// target group, rolled by instance refresh when the template changes.
func newGroup(c constructs.Construct, cfg groupConfig, lt launchtemplate.LaunchTemplate) autoscalinggroup.AutoscalingGroup {
	return autoscalinggroup.NewAutoscalingGroup(c, jsii.String("group"), &autoscalinggroup.AutoscalingGroupConfig{
		NamePrefix:        jsii.String("bucketls-"),
		VpcZoneIdentifier: jsii.Strings(cfg.subnetIDs...),
		MinSize:           jsii.Number(float64(cfg.minSize)),
		MaxSize:           jsii.Number(float64(cfg.maxSize)),
		DesiredCapacity:   jsii.Number(float64(cfg.desired)),
		LaunchTemplate: &autoscalinggroup.AutoscalingGroupLaunchTemplate{
			Id: lt.Id(),
			// The version number, not "$Latest": a new version then
			// changes the group, and that change starts the refresh.
			Version: cdktf.Token_AsString(lt.LatestVersion(), nil),
		},
		TargetGroupArns: jsii.Strings(cfg.targetGroupARN),
		// ELB health: an instance whose service stops answering its health path is
		// replaced, not only one whose hardware fails.
		HealthCheckType:        jsii.String("ELB"),
		HealthCheckGracePeriod: jsii.Number(healthCheckGracePeriod),
		DefaultInstanceWarmup:  jsii.Number(instanceWarmup),
		// On creation, the apply waits (up to 10 minutes) until minSize
		// instances are healthy behind the load balancer, so the url
		// answers when the apply returns.
		MinElbCapacity: jsii.Number(float64(cfg.minSize)),
		InstanceRefresh: &autoscalinggroup.AutoscalingGroupInstanceRefresh{
			Strategy: jsii.String("Rolling"),
			Preferences: &autoscalinggroup.AutoscalingGroupInstanceRefreshPreferences{
				MinHealthyPercentage: jsii.Number(minHealthyPercentage),
				MaxHealthyPercentage: jsii.Number(maxHealthyPercentage),
				// Replace only instances on an older template version.
				SkipMatching: jsii.Bool(true),
				// No auto_rollback: the provider points the group at the
				// new version before it starts the refresh, so a "rollback"
				// rolls back to the same broken version, over and over
				// (hashicorp/terraform-provider-aws#34189). A broken build
				// never takes traffic anyway: its instances fail the
				// health check while the old ones keep serving.
				AutoRollback: jsii.Bool(false),
			},
		},
		Lifecycle: &cdktf.TerraformResourceLifecycle{
			// desiredCapacity is where the group starts; after that the
			// scaling policy owns it, and an apply (a deploy) must not
			// shrink a group that scaled out under load.
			IgnoreChanges: &[]*string{jsii.String("desired_capacity")},
		},
		DependsOn: &cfg.dependsOn,
	})
}

// newCPUTargetPolicy scales the group to hold its average CPU at the
// target.
func newCPUTargetPolicy(c constructs.Construct, cfg groupConfig, asg autoscalinggroup.AutoscalingGroup) {
	autoscalingpolicy.NewAutoscalingPolicy(c, jsii.String("cpu-target"), &autoscalingpolicy.AutoscalingPolicyConfig{
		Name:                 jsii.String("bucketls-cpu-target"),
		AutoscalingGroupName: asg.Name(),
		PolicyType:           jsii.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &autoscalingpolicy.AutoscalingPolicyTargetTrackingConfiguration{
			PredefinedMetricSpecification: &autoscalingpolicy.AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification{
				PredefinedMetricType: jsii.String("ASGAverageCPUUtilization"),
			},
			TargetValue: jsii.Number(float64(cfg.targetCPU)),
		},
	})
}

// instanceTags are the tags of every instance the group launches and of
// its volume: the provider's default tags, and a Name for the console.
func instanceTags() *map[string]*string {
	tags := *defaultTags()
	tags["Name"] = jsii.String("bucketls")
	return &tags
}
