package stack

import (
	"fmt"
	"path/filepath"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// New validates cfg, cross-compiles the service for linux/cfg.Arch into
// <app outdir>/build/, and defines the stack named id under scope (use Name:
// the synthesized files go to <outdir>/stacks/<id>). The caller synthesizes
// with app.Synth(). Configuration and build errors return before anything
// is defined; after any error, do not synthesize the app.
func New(scope constructs.Construct, id string, cfg Config) (cdktf.TerraformStack, error) {
	st, _, err := newStack(scope, id, cfg)
	return st, err
}

// statePath is the local Terraform state, relative to the stack directory
// <outdir>/stacks/bucketls.
const statePath = "../../../terraform." + Name + ".tfstate"

// built is what newStack knows about the artifact it defined.
type built struct {
	artifact artifact
}

func newStack(scope constructs.Construct, id string, cfg Config) (cdktf.TerraformStack, built, error) {
	if err := cfg.Validate(); err != nil {
		return nil, built{}, err
	}
	moduleDir, err := findModuleDir(cfg.ModuleDir)
	if err != nil {
		return nil, built{}, err
	}
	outdir, err := filepath.Abs(*cdktf.App_Of(scope).Outdir())
	if err != nil {
		return nil, built{}, fmt.Errorf("stack %s: %w", id, err)
	}
	// The binary lives in the output directory until synth copies it into
	// the stack's assets, so it goes away with the rest of the output.
	bin, err := buildService(moduleDir, cfg.Arch, filepath.Join(outdir, "build", "linux-"+cfg.Arch, "bucketls"))
	if err != nil {
		return nil, built{}, err
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

	net := newNetwork(st, "network", networkConfig{
		instanceType: cfg.instanceType(),
		allowedCIDRs: cfg.AllowedCIDRs,
		// Port 443 opens where HTTPS is served: on the instance (single,
		// tls) or on the load balancer (ha, certificateArn).
		tls:          cfg.instanceTLS() || cfg.CertificateARN != "",
		loadBalanced: cfg.ha(),
	})

	// The served bucket: an existing one by name, or a new, seeded one.
	servedName := cfg.BucketName
	servedARN := "arn:" + cfg.partition() + ":s3:::" + cfg.BucketName
	var seeded []cdktf.ITerraformDependable
	if cfg.BucketName == "" {
		content := newContent(st, "content")
		servedName, servedARN, seeded = content.bucket.name, content.bucket.arn, content.seeded
	}

	art := newArtifact(st, "artifact", bin)
	who := newIdentity(st, "identity", identityConfig{
		partition:         cfg.partition(),
		servedBucketARN:   servedARN,
		artifactObjectARN: art.objectARN,
		ssm:               cfg.SSM,
	})
	userData, err := bootScript{
		Region:         cfg.Region,
		ArtifactBucket: art.bucketName,
		ArtifactKey:    art.key,
		ArtifactSHA256: art.sha256,
		ServedBucket:   servedName,
		TLS:            cfg.instanceTLS(),
	}.userData()
	if err != nil {
		return nil, built{}, fmt.Errorf("stack %s: %w", id, err)
	}

	// What must exist before an instance boots: the artifact object, the
	// role's permissions and the seeded content.
	deps := append(append([]cdktf.ITerraformDependable{art.object}, who.ready...), seeded...)
	if cfg.ha() {
		alb := newLoadBalancer(st, "load-balancer", loadBalancerConfig{
			vpcID:          net.vpcID,
			subnetIDs:      net.subnetIDs,
			sgID:           net.lbSGID,
			certificateARN: cfg.CertificateARN,
		})
		grp := newAutoScaling(st, "autoscaling", groupConfig{
			arch:           cfg.Arch,
			instanceType:   cfg.instanceType(),
			subnetIDs:      net.subnetIDs,
			sgID:           net.instanceSGID,
			profileName:    who.profileName,
			userData:       userData,
			targetGroupARN: alb.targetGroupARN,
			minSize:        cfg.MinSize,
			maxSize:        cfg.MaxSize,
			desired:        cfg.DesiredCapacity,
			targetCPU:      cfg.TargetCPU,
			dependsOn:      append(deps, alb.listeners...),
		})
		newHAOutputs(st, haOutputValues{
			dnsName:     alb.dnsName,
			groupName:   grp.name,
			bucketName:  servedName,
			artifactURI: art.uri,
			https:       cfg.CertificateARN != "",
		})
		return st, built{artifact: art}, nil
	}

	vm := newCompute(st, "compute", computeConfig{
		arch:         cfg.Arch,
		instanceType: cfg.instanceType(),
		subnetID:     net.subnetIDs[0],
		sgID:         net.webSGID,
		profileName:  who.profileName,
		userData:     userData,
		dependsOn:    deps,
	})

	newOutputs(st, outputValues{
		publicDNS:   vm.publicDNS,
		instanceID:  vm.instanceID,
		bucketName:  servedName,
		artifactURI: art.uri,
		tls:         cfg.TLS,
	})
	return st, built{artifact: art}, nil
}

// defaultTags are on every resource that takes tags: what it belongs to,
// for the bill and the console.
func defaultTags() *map[string]*string {
	return &map[string]*string{"Application": jsii.String("bucketls"), "ManagedBy": jsii.String("cdktf")}
}

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

// Synth does what main.go and `cdktf synth` do, into outdir (created if
// missing; its parent must exist): it checks Node.js, creates an app with
// ContextFlags, calls New with Name and cfg, synthesizes, and returns where
// the results are. The jsii runtime it starts serves one goroutine at a time
// and lives until jsii.Close; call Synth from one goroutine only.
func Synth(outdir string, cfg Config) (res Synthesized, err error) {
	if err := CheckNode(); err != nil {
		return Synthesized{}, err
	}
	outdir, err = filepath.Abs(outdir)
	if err != nil {
		return Synthesized{}, err
	}
	// jsii reports errors inside Node.js as panics; return them instead.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesize %s: %v", Name, r)
		}
	}()
	flags := ContextFlags()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(outdir), Context: &flags})
	_, b, err := newStack(app, Name, cfg)
	if err != nil {
		return Synthesized{}, err
	}
	app.Synth()
	dir := filepath.Join(outdir, "stacks", Name)
	return Synthesized{
		Dir:            dir,
		JSON:           filepath.Join(dir, "cdk.tf.json"),
		Artifact:       filepath.Join(dir, filepath.FromSlash(b.artifact.assetPath)),
		ArtifactKey:    b.artifact.key,
		ArtifactSHA256: b.artifact.sha256,
	}, nil
}
