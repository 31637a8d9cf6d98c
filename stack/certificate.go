package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificatevalidation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// A custom domain (domainName and hostedZoneId) is served with an ACM
// certificate that the stack requests and validates through DNS in the
// given Route 53 zone, and an alias record that points the domain at
// whatever serves it: the distribution with cdn, the load balancer in
// mode "ha" without it. ACM renews a DNS-validated certificate by itself
// for as long as the validation record stays in place.
// https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html

// certificateRegion is where CloudFront takes its certificates from.
// https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
const certificateRegion = "us-east-1"

// validationRecordTTL is the TTL of the DNS validation record, in seconds:
// ACM looks it up soon after the record is made, so a short TTL keeps a
// wrong first answer from being cached for long.
const validationRecordTTL = 300

// newCertificateProvider creates the AWS provider alias for certificates
// CloudFront uses (certificateRegion), with the default provider's tags.
func newCertificateProvider(scope constructs.Construct) cdktf.TerraformProvider {
	return provider.NewAwsProvider(scope, jsii.String("aws-certificates"), &provider.AwsProviderConfig{
		Alias:       jsii.String(certificateRegion),
		Region:      jsii.String(certificateRegion),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{Tags: defaultTags()}},
	})
}

// certificateConfig is what a certificate needs.
type certificateConfig struct {
	domainName, hostedZoneID string
	// provider is the AWS provider of the certificate's region: nil for
	// the stack's region (a load balancer's), newCertificateProvider's
	// for CloudFront.
	provider cdktf.TerraformProvider
}

// newCertificate requests an ACM certificate for the one name
// cfg.domainName, creates its DNS validation record in cfg.hostedZoneID
// and waits for ACM to issue it. It returns the certificate's ARN as the
// validation reports it, so what uses the ARN waits for the certificate
// to be issued.
func newCertificate(scope constructs.Construct, id string, cfg certificateConfig) string {
	c := constructs.NewConstruct(scope, jsii.String(id))
	cert := acmcertificate.NewAcmCertificate(c, jsii.String("certificate"), &acmcertificate.AcmCertificateConfig{
		DomainName:       jsii.String(cfg.domainName),
		ValidationMethod: jsii.String("DNS"),
		Provider:         cfg.provider,
		Tags:             &map[string]*string{"Name": jsii.String("bucketls")},
		// A replacement (a new domain) must be issued and in use before
		// the old certificate goes: ACM refuses to delete one in use.
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})
	// One name, so one validation option; the record ACM asks for.
	option := cert.DomainValidationOptions().Get(jsii.Number(0))
	record := route53record.NewRoute53Record(c, jsii.String("validation-record"), &route53record.Route53RecordConfig{
		ZoneId:  jsii.String(cfg.hostedZoneID),
		Name:    option.ResourceRecordName(),
		Type:    option.ResourceRecordType(),
		Records: &[]*string{option.ResourceRecordValue()},
		Ttl:     jsii.Number(validationRecordTTL),
		// The same record serves every certificate of this name in the
		// account (ACM derives it from the name): another deployment's, or
		// this one's previous certificate, may have made it already.
		AllowOverwrite: jsii.Bool(true),
	})
	v := acmcertificatevalidation.NewAcmCertificateValidation(c, jsii.String("validation"), &acmcertificatevalidation.AcmCertificateValidationConfig{
		CertificateArn:        cert.Arn(),
		ValidationRecordFqdns: &[]*string{record.Fqdn()},
		Provider:              cfg.provider,
	})
	return *v.CertificateArn()
}

// aliasTarget is what an alias record points at.
type aliasTarget struct {
	dnsName, hostedZoneID string
	// ipv6 adds an AAAA record beside the A record.
	ipv6 bool
}

// newAliasRecords points domainName, in the zone hostedZoneID, at target
// with Route 53 alias records: an alias answers with the target's current
// addresses, costs nothing per query, and unlike a CNAME can sit at the
// zone's apex.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-cloudfront-distribution.html
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html
func newAliasRecords(scope constructs.Construct, id, hostedZoneID, domainName string, target aliasTarget) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	types := []string{"A"}
	if target.ipv6 {
		types = append(types, "AAAA")
	}
	for _, typ := range types {
		route53record.NewRoute53Record(c, jsii.String(typ), &route53record.Route53RecordConfig{
			ZoneId: jsii.String(hostedZoneID),
			Name:   jsii.String(domainName),
			Type:   jsii.String(typ),
			Alias: &route53record.Route53RecordAlias{
				Name:   jsii.String(target.dnsName),
				ZoneId: jsii.String(target.hostedZoneID),
				// CloudFront does not support target health; a load
				// balancer's is what its own health checks decide.
				EvaluateTargetHealth: jsii.Bool(false),
			},
		})
	}
}
