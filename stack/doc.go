// Package stack is the CDK for Terraform (Go) stack that ships bucketls to AWS.
//
// It builds the service binary (./service/cmd/bucketls) for linux/<arch> at
// synth time, uploads it as an S3 object whose key carries its SHA-256, and
// boots EC2 instances whose user data downloads that object, verifies the
// checksum, installs the binary and starts it as a hardened systemd service.
//
// Config.Mode chooses the compute. "single" (the default) boots one
// instance. "ha" runs the same instances (same AMI lookup, identity,
// artifact and boot script, without the instance's own TLS) from a launch
// template in an Auto Scaling group across both zones, behind an
// Application Load Balancer, scaled on CPU and rolled to each new build by
// an instance refresh that keeps full capacity.
//
// Config.CDN, in either mode, puts a CloudFront distribution in front: its
// origin is a CloudFront VPC origin on the instance or on an internal load
// balancer, in private subnets, and listings are cached at the edge.
// Config.DomainName serves the distribution, or the load balancer of mode
// "ha", under a custom domain with an ACM certificate the stack requests.
//
// One file per concern (docs/development.md's layout lists the same
// files, and a test holds both lists to the directory):
//
//	doc.go           this overview
//	stack.go         Synth, the one entry point: validate, build, wire the constructs together
//	config.go        Config, DefaultConfig, ConfigError, LoadConfig, Validate (pure Go)
//	settings.go      every setting declared once: key, variable, default, parser, check
//	validate.go      the checks the settings declare (pure Go)
//	context.go       Name, and the CDKTF context flags every app sets
//	node.go          CheckNode: the Node.js that synthesis needs
//	build.go         the reproducible cross-compile and its SHA-256 (pure Go)
//	tftemplate/      Terraform template strings: Escape; Render and References as Terraform reads them
//	internal/        bootscript: the boot script and the systemd unit (pure Go, no jsii), its ports
//	                 and paths; tfhcl: cdk.tf.json rendered as HCL for the security scanner (tests only);
//	                 edgefunc: the CloudFront Function of cdn (JavaScript, its tests run it under Node.js)
//	network.go       VPC, two public (with cdn private) subnets, internet gateway, S3 gateway endpoint,
//	                 security groups
//	buckets.go       the private-bucket hardening shared by every bucket, the seeded content
//	artifact.go      the artifact bucket, the TerraformAsset and the S3 object
//	flowlogs.go      flowLogs: the VPC's flow logs and their bucket
//	iam.go           the instance role and profile; its policy and the S3 endpoint's (pure Go)
//	compute.go       the AMI lookup, the shared instance hardening, the single instance
//	loadbalancer.go  ha: the load balancer, its target group and listeners
//	autoscaling.go   ha: the launch template, the Auto Scaling group, the scaling policy
//	cdn.go           cdn: the CloudFront distribution, its VPC origin, cache policy and edge function
//	certificate.go   domainName: the ACM certificate, its DNS validation, the alias records
//	userdata.go      the instances' user data: the boot script filled from Config, its launch template form
//	outputs.go       the outputs of each mode: url, https_url, bucket_name, artifact_uri,
//	                 and instance_id (single) or autoscaling_group_name (ha)
//
// Construct IDs name the resources: cdktf derives each resource's
// Terraform name from its construct path, and Terraform knows a resource
// by that name, so renaming an ID, or moving a construct under another
// parent, destroys the resource and creates a new one. IDs are therefore
// fixed lowercase kebab strings, never built from configuration values,
// and the existing ones stay as they are, including those made by joining
// a prefix to a name (newInstanceEgress's idPrefix, each subnet's
// "<subnet>-routes", the Session Manager endpoints' "<service>-endpoint").
// New code scopes its IDs with sub-constructs instead, as the AWS CDK
// guidelines do: one constructs.NewConstruct(scope, "<concern>") per
// constructor (newNetwork's "network", newLoadBalancer's
// "load-balancer"), and plain IDs inside it ("vpc", "alb"), so the path
// says where a resource belongs and two concerns may use the same ID.
//
// Each file's tests are in its _test.go twin (network_test.go tests
// network.go, mode "ha" included). stack_test.go holds the synthesized
// stacks they all read, each synthesized once per test binary, and the
// tests of the stack as a whole; golden_test.go and scan_test.go hold the
// whole cdk.tf.json to the golden files and to the security scanner.
//
// The package imports nothing from service/: the two share only the leaf
// packages under internal/ (gobuild, the one build definition; s3name, the
// bucket-name and root-prefix rules), and the stack meets the service only
// as the bytes of `go build ./service/cmd/bucketls`.
//
// Synthesis runs the jsii runtime on Node.js, which serves one goroutine at a
// time: call Synth from one goroutine only, and call jsii.Close (from
// github.com/aws/jsii-runtime-go) before the process exits.
package stack
