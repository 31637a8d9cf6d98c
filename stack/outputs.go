package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
)

// outputValues are the stack's outputs. Their names are a contract: the
// README, the Terratest deploy test and users' scripts read them.
type outputValues struct {
	publicDNS   string
	instanceID  string
	bucketName  string
	artifactURI string
	tls         bool
	front       front // with cdn
}

// front is what clients reach instead of the instance or the load
// balancer: the distribution of cdn, under its own name or a custom
// domain.
type front struct {
	host           string // the custom domain, or the distribution's *.cloudfront.net name
	distributionID string // "" without cdn
}

// newFrontOutputs declares url and https_url, both the HTTPS URL on f.host,
// and with cdn distribution_id.
func newFrontOutputs(scope constructs.Construct, f front) {
	url := "https://" + f.host + bootscript.ListPath
	if f.distributionID == "" {
		newOutput(scope, "url", "The listing endpoint on your domain (HTTP redirects here).", url)
		newOutput(scope, "https_url", "The listing endpoint over HTTPS, with the certificate the stack requested for your domain.", url)
		return
	}
	newOutput(scope, "url", "The listing endpoint, through CloudFront (HTTP redirects here).", url)
	newOutput(scope, "https_url", "The listing endpoint over HTTPS, through CloudFront.", url)
	newOutput(scope, "distribution_id", "The CloudFront distribution; drop its cached answers with: "+
		"aws cloudfront create-invalidation --paths '/*' --distribution-id <id>.", f.distributionID)
}

// newOutputs declares url, https_url (with TLS, or cdn), instance_id,
// bucket_name and artifact_uri, and with cdn distribution_id.
func newOutputs(scope constructs.Construct, v outputValues) {
	out := func(name, description, value string) { newOutput(scope, name, description, value) }
	if v.front.host != "" {
		newFrontOutputs(scope, v.front)
	} else {
		out("url", "The listing endpoint: curl it.", "http://"+v.publicDNS+bootscript.ListPath)
		if v.tls {
			out("https_url", "The listing endpoint over HTTPS (self-signed certificate: curl -k).", "https://"+v.publicDNS+bootscript.ListPath)
		}
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

// haOutputValues are the outputs of mode "ha".
type haOutputValues struct {
	dnsName     string // the load balancer's
	groupName   string
	bucketName  string
	artifactURI string
	https       bool  // the load balancer serves HTTPS (certificateArn)
	front       front // cdn, or a custom domain on the load balancer
}

// newHAOutputs declares the outputs of mode "ha": url (HTTPS with a
// certificate), https_url (with a certificate only), autoscaling_group_name,
// bucket_name and artifact_uri, and with cdn distribution_id. There is no
// instance_id: instances come and go with scaling and deploys; the group's
// name finds the current ones.
func newHAOutputs(scope constructs.Construct, v haOutputValues) {
	switch {
	case v.front.host != "":
		newFrontOutputs(scope, v.front)
	case v.https:
		url := "https://" + v.dnsName + bootscript.ListPath
		newOutput(scope, "url", "The listing endpoint, on the load balancer (HTTP redirects here). "+
			"The certificate names your domain, not this host: point the domain at it (CNAME or alias) and use it.", url)
		newOutput(scope, "https_url", "The listing endpoint over HTTPS, with the certificate of certificateArn.", url)
	default:
		newOutput(scope, "url", "The listing endpoint, on the load balancer: curl it.", "http://"+v.dnsName+bootscript.ListPath)
	}
	newOutput(scope, "autoscaling_group_name", "The Auto Scaling group; list its instances with: "+
		"aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names <name>.", v.groupName)
	newOutput(scope, "bucket_name", "The bucket the service lists.", v.bucketName)
	newOutput(scope, "artifact_uri", "The S3 URI of the deployed binary; its key contains the binary's SHA-256.", v.artifactURI)
}
