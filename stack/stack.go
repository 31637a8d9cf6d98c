package stack

import (
	"fmt"
	"path/filepath"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// Synthesized tells where Synth wrote the stack and what it deploys.
type Synthesized struct {
	// Dir is <outdir>/stacks/bucketls: run terraform here.
	Dir string
	// JSON is the Terraform configuration, Dir/cdk.tf.json.
	JSON string
	// Artifact is the service binary as synth copied it under Dir/assets/:
	// the file the S3 object uploads.
	Artifact string
	// ArtifactKey is the S3 key of the artifact; it contains ArtifactSHA256.
	ArtifactKey string
	// ArtifactSHA256 is the lowercase hex SHA-256 of Artifact, as the boot
	// script checks it.
	ArtifactSHA256 string
}

// Synth is the one way to synthesize the stack; main.go (and so `cdktf
// synth`), the tests and the boot rehearsal all call it. It checks
// Node.js, creates an app with ContextFlags, validates cfg, cross-compiles
// the service for linux/cfg.Arch into <outdir>/build/, defines the stack
// named Name, synthesizes it into outdir and returns where the results
// are. An empty outdir means the CDKTF CLI's default: $CDKTF_OUTDIR when
// `cdktf synth` runs the app, else cdktf.out. A given outdir is created if
// missing (its parent must exist). Errors that jsii reports as panics are
// returned as errors. The jsii runtime it starts serves one goroutine at a
// time and lives until jsii.Close; call Synth from one goroutine only.
func Synth(outdir string, cfg Config) (res Synthesized, err error) {
	if err := CheckNode(); err != nil {
		return Synthesized{}, err
	}
	// jsii reports errors inside Node.js as panics; return them instead.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesize %s: %v", Name, r)
		}
	}()
	flags := ContextFlags()
	appConfig := &cdktf.AppConfig{Context: &flags}
	if outdir != "" {
		abs, err := filepath.Abs(outdir)
		if err != nil {
			return Synthesized{}, err
		}
		appConfig.Outdir = jsii.String(abs)
	}
	app := cdktf.NewApp(appConfig)
	art, err := newStack(app, Name, cfg)
	if err != nil {
		return Synthesized{}, err
	}
	app.Synth()
	dir := filepath.Join(*app.Outdir(), "stacks", Name)
	if dir, err = filepath.Abs(dir); err != nil {
		return Synthesized{}, err
	}
	return Synthesized{
		Dir:            dir,
		JSON:           filepath.Join(dir, "cdk.tf.json"),
		Artifact:       filepath.Join(dir, filepath.FromSlash(art.assetPath)),
		ArtifactKey:    art.key,
		ArtifactSHA256: art.sha256,
	}, nil
}

// statePath is the local Terraform state, relative to the stack directory
// <outdir>/stacks/bucketls.
const statePath = "../../../terraform." + Name + ".tfstate"

// newStack validates cfg, builds the binary and defines the stack named id
// under scope: what both modes share, then the compute of cfg.Mode. It
// returns the artifact it defined. Configuration and build errors return
// before anything is defined.
func newStack(scope constructs.Construct, id string, cfg Config) (artifact, error) {
	if err := cfg.Validate(); err != nil {
		return artifact{}, err
	}
	bin, err := buildFor(scope, id, cfg)
	if err != nil {
		return artifact{}, err
	}

	st := cdktf.NewTerraformStack(scope, jsii.String(id))
	// Local state beside the output directory: for cdktf.out that is the
	// project root, where cdktf keeps it by default, but written relative to
	// the stack directory (where terraform runs) so the configuration is the
	// same on every machine and checkout, and survives rm -rf cdktf.out.
	cdktf.NewLocalBackend(st, &cdktf.LocalBackendConfig{Path: jsii.String(statePath)})
	provider.NewAwsProvider(st, jsii.String("aws"), &provider.AwsProviderConfig{
		Region: jsii.String(cfg.Region),
		// Every resource says what it belongs to, for the bill and the console.
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{Tags: defaultTags()}},
	})

	inst, art, err := newShared(st, cfg, bin)
	if err != nil {
		return artifact{}, fmt.Errorf("stack %s: %w", id, err)
	}
	if cfg.ha() {
		newHA(st, cfg, inst)
	} else {
		newSingle(st, cfg, inst)
	}
	return art, nil
}

// newShared defines what both modes share: the served bucket, the
// artifact of bin, the network (and its flow logs), the instances'
// identity and their user data. It returns what the compute of either
// mode needs, and the artifact. The IDs given here are the top of each
// concern's construct path: fixed, and scoped below by the concern's own
// construct (doc.go says why and how new IDs are made).
func newShared(scope constructs.Construct, cfg Config, bin binary) (instances, artifact, error) {
	served := newServedBucket(scope, cfg)
	access := servedAccess{bucketARN: served.arn, rootPrefix: cfg.RootPrefix, objects: cfg.ServeObjects}
	art := newArtifact(scope, "artifact", bin)
	net := newNetwork(scope, "network", networkConfig{
		instanceType: cfg.instanceType(),
		allowedCIDRs: cfg.AllowedCIDRs,
		// HTTPS opens where it is served: on the instance (single, tls)
		// or on the load balancer (ha, certificateArn).
		tls:          cfg.clientTLS(),
		loadBalanced: cfg.ha(),
		region:       cfg.Region,
		partition:    cfg.partition(),
		// Parameter Store, for the htpasswd fetch, sits behind the same
		// public HTTPS endpoints as Session Manager.
		ssm:              cfg.SSM || cfg.HTPasswdParameter != "",
		ssmEndpoints:     cfg.SSMEndpoints,
		s3EndpointPolicy: s3EndpointPolicy(cfg.partition(), cfg.Region, access, art.objectARN),
		cdn:              cfg.CDN,
	})
	if cfg.FlowLogs {
		newFlowLogs(scope, "flow-logs", flowLogsConfig{vpcID: net.vpcID, partition: cfg.partition(), region: cfg.Region})
	}
	who := newIdentity(scope, "identity", identityConfig{
		partition:         cfg.partition(),
		region:            cfg.Region,
		served:            access,
		artifactObjectARN: art.objectARN,
		s3EndpointID:      net.s3EndpointID,
		htpasswdParameter: cfg.HTPasswdParameter,
		ssm:               cfg.SSM,
	})
	ud, err := userData(cfg, art, served)
	if err != nil {
		return instances{}, artifact{}, err
	}
	return instances{
		net:         net,
		profileName: who.profileName,
		userData:    ud,
		bucketName:  served.name,
		artifactURI: art.uri,
		// What must exist before an instance boots: the artifact object,
		// the role's permissions and the seeded content.
		dependsOn: append(append([]cdktf.ITerraformDependable{art.object}, who.ready...), served.seeded...),
	}, art, nil
}

// buildFor cross-compiles the service for the stack id under scope into
// <app outdir>/build/. The binary lives in the output directory until
// synth copies it into the stack's assets, so it goes away with the rest
// of the output.
func buildFor(scope constructs.Construct, id string, cfg Config) (binary, error) {
	moduleDir, err := findModuleDir(cfg.ModuleDir)
	if err != nil {
		return binary{}, err
	}
	outdir, err := filepath.Abs(*cdktf.App_Of(scope).Outdir())
	if err != nil {
		return binary{}, fmt.Errorf("stack %s: %w", id, err)
	}
	return buildService(moduleDir, cfg.Arch, filepath.Join(outdir, "build", "linux-"+cfg.Arch, "bucketls"))
}

// servedBucket is the bucket the service lists.
type servedBucket struct {
	name, arn string // literal for an existing bucket, references for a created one
	// seeded are the objects the stack put in it (none for an existing
	// bucket): instances depend on them.
	seeded []cdktf.ITerraformDependable
}

// newServedBucket chooses the served bucket: the existing one of
// cfg.BucketName, or, when that is empty, a new bucket seeded with the
// reference tree (under cfg.RootPrefix, so the subtree lists it).
func newServedBucket(scope constructs.Construct, cfg Config) servedBucket {
	if cfg.BucketName != "" {
		return servedBucket{name: cfg.BucketName, arn: "arn:" + cfg.partition() + ":s3:::" + cfg.BucketName}
	}
	content := newContent(scope, "content", cfg.RootPrefix)
	return servedBucket{name: content.bucket.name, arn: content.bucket.arn, seeded: content.seeded}
}

// instances is what every bucketls instance needs, in either mode.
type instances struct {
	net         network
	profileName string
	userData    string
	bucketName  string // the served bucket, for the outputs
	artifactURI string
	dependsOn   []cdktf.ITerraformDependable
}

// newSingle defines mode "single": one instance in the first subnet, and
// its outputs.
func newSingle(scope constructs.Construct, cfg Config, in instances) {
	vm := newCompute(scope, "compute", computeConfig{
		arch:         cfg.Arch,
		instanceType: cfg.instanceType(),
		subnetID:     in.net.subnetIDs[0],
		sgID:         in.net.webSGID,
		profileName:  in.profileName,
		userData:     in.userData,
		private:      cfg.CDN,
		dependsOn:    in.dependsOn,
	})
	var fr front
	if cfg.CDN {
		fr = newFront(scope, cfg, cdnConfig{originARN: vm.arn, originDomain: vm.privateDNS, nameSuffix: in.net.vpcID})
	}
	newOutputs(scope, outputValues{
		publicDNS:   vm.publicDNS,
		instanceID:  vm.instanceID,
		bucketName:  in.bucketName,
		artifactURI: in.artifactURI,
		tls:         cfg.TLS,
		front:       fr,
	})
}

// newHA defines mode "ha": the load balancer, the Auto Scaling group
// behind it across both subnets, and their outputs.
func newHA(scope constructs.Construct, cfg Config, in instances) {
	certificateARN := cfg.CertificateARN
	if cfg.DomainName != "" && !cfg.CDN {
		certificateARN = newCertificate(scope, "certificate", certificateConfig{domainName: cfg.DomainName, hostedZoneID: cfg.HostedZoneID})
	}
	alb := newLoadBalancer(scope, "load-balancer", loadBalancerConfig{
		vpcID:          in.net.vpcID,
		subnetIDs:      in.net.subnetIDs,
		sgID:           in.net.lbSGID,
		certificateARN: certificateARN,
		internal:       cfg.CDN,
	})
	var fr front
	switch {
	case cfg.CDN:
		fr = newFront(scope, cfg, cdnConfig{originARN: alb.arn, originDomain: alb.dnsName, nameSuffix: in.net.vpcID})
	case cfg.DomainName != "":
		newAliasRecords(scope, "dns", cfg.HostedZoneID, cfg.DomainName, aliasTarget{dnsName: alb.dnsName, hostedZoneID: alb.zoneID})
		fr = front{host: cfg.DomainName}
	}
	grp := newAutoScaling(scope, "autoscaling", groupConfig{
		arch:           cfg.Arch,
		instanceType:   cfg.instanceType(),
		subnetIDs:      in.net.subnetIDs,
		sgID:           in.net.instanceSGID,
		profileName:    in.profileName,
		userData:       in.userData,
		targetGroupARN: alb.targetGroupARN,
		publicIP:       in.net.internetEgress,
		minSize:        cfg.MinSize,
		maxSize:        cfg.MaxSize,
		desired:        cfg.DesiredCapacity,
		targetCPU:      cfg.TargetCPU,
		dependsOn:      append(in.dependsOn, alb.listeners...),
	})
	newHAOutputs(scope, haOutputValues{
		dnsName:     alb.dnsName,
		groupName:   grp.name,
		bucketName:  in.bucketName,
		artifactURI: in.artifactURI,
		https:       cfg.CertificateARN != "",
		front:       fr,
	})
}

// newFront puts the distribution of cdn in front of the origin of c, with
// the custom domain of cfg when it has one: a certificate in
// certificateRegion (through a provider of its own) and alias records.
func newFront(scope constructs.Construct, cfg Config, c cdnConfig) front {
	c.passwords = cfg.HTPasswdParameter != ""
	c.cors = len(cfg.CORSOrigins) > 0
	if cfg.DomainName != "" {
		c.domainName = cfg.DomainName
		c.certificateARN = newCertificate(scope, "certificate", certificateConfig{
			domainName: cfg.DomainName, hostedZoneID: cfg.HostedZoneID, provider: newCertificateProvider(scope),
		})
	}
	d := newCDN(scope, "cdn", c)
	if cfg.DomainName == "" {
		return front{host: d.domainName, distributionID: d.id}
	}
	newAliasRecords(scope, "dns", cfg.HostedZoneID, cfg.DomainName, aliasTarget{dnsName: d.domainName, hostedZoneID: d.hostedZoneID, ipv6: true})
	return front{host: cfg.DomainName, distributionID: d.id}
}

// defaultTags are on every resource that takes tags: what it belongs to,
// for the bill and the console.
func defaultTags() *map[string]*string {
	return &map[string]*string{"Application": jsii.String("bucketls"), "ManagedBy": jsii.String("cdktf")}
}
