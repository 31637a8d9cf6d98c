package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// outputValues are the stack's outputs. Their names are a contract: the
// README, the Terratest deploy test and users' scripts read them.
type outputValues struct {
	publicDNS   string
	instanceID  string
	bucketName  string
	artifactURI string
	tls         bool
}

// newOutputs declares url, https_url (with TLS only), instance_id,
// bucket_name and artifact_uri.
func newOutputs(scope constructs.Construct, v outputValues) {
	out := func(name, description, value string) { newOutput(scope, name, description, value) }
	out("url", "The listing endpoint: curl it.", "http://"+v.publicDNS+"/list-bucket-content")
	if v.tls {
		out("https_url", "The listing endpoint over HTTPS (self-signed certificate: curl -k).", "https://"+v.publicDNS+"/list-bucket-content")
	}
	out("instance_id", "The EC2 instance; open a shell with: aws ssm start-session --target <id>.", v.instanceID)
	out("bucket_name", "The bucket the service lists.", v.bucketName)
	out("artifact_uri", "The S3 URI of the deployed binary; its key contains the binary's SHA-256.", v.artifactURI)
}

// newOutput declares one output, named exactly as given.
func newOutput(scope constructs.Construct, name, description, value string) {
	cdktf.NewTerraformOutput(scope, jsii.String(name), &cdktf.TerraformOutputConfig{
		Value:       jsii.String(value),
		Description: jsii.String(description),
		// Named exactly as given, not after the construct path.
		StaticId: jsii.Bool(true),
	})
}
