package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontcachepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontdistribution"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontfunction"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontoriginrequestpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontvpcorigin"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscloudfrontcachepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscloudfrontoriginrequestpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsec2managedprefixlist"

	"github.com/bucketls/bucketls/stack/internal/bootscript"
	"github.com/bucketls/bucketls/stack/internal/edgefunc"
)

// The cdn setting puts a CloudFront distribution in front of the service.
// Its origin is a CloudFront VPC origin: CloudFront reaches the single
// instance, or the internal load balancer of mode "ha", through network
// interfaces it places in their private subnets, so the origin has no
// public address at all and CloudFront is the only way in. Checked
// against AWS's guide, "Restrict access with VPC origins":
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html
// (its requirements are met where the comments cite it: here, in
// network.go and in the checks of the cdn setting).

// Edge cache settings, each with its reason.
const (
	// edgeMinTTL 0: an answer the origin marks no-cache, no-store or
	// private (errors, and every answer behind a password) is not kept; a
	// minimum above 0 would keep it that long regardless.
	// https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyConfig.html
	edgeMinTTL = 0
	// edgeDefaultTTL applies only to an answer without Cache-Control or
	// Expires: a minute of staleness for a listing, modest next to the
	// cost of asking the origin for every request.
	edgeDefaultTTL = 60
	// edgeMaxTTL bounds what a Cache-Control max-age from the origin can
	// ask for: however long cacheTtl is, an edge keeps a listing fresh for
	// at most an hour (CloudFront keeps an object for the smaller of
	// max-age and the maximum TTL). With cacheStale the listings also say
	// stale-while-revalidate and stale-if-error, which CloudFront honours
	// past that TTL (the page's "Serve stale (expired) content"; launched
	// https://aws.amazon.com/about-aws/whats-new/2023/05/amazon-cloudfront-stale-while-revalidate-stale-if-error-cache-control-directives/).
	// The window is the origin's to state: docs/deploy.md counts it on top
	// of this bound rather than within it, so the policy needs no change
	// for it and a deploy without cacheStale keeps the policy it had.
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
	edgeMaxTTL = 3600
	// originFacingPrefixList is AWS's managed prefix list of CloudFront's
	// origin-facing servers: the origin's security group admits it and
	// nothing else. Its weight counts 55 rules of a security group's
	// default quota of 60, so it is named in one rule only (port 80).
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list
	// https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html
	originFacingPrefixList = "com.amazonaws.global.cloudfront.origin-facing"
	// viewerTLSPolicy is the distribution's security policy with a custom
	// domain: TLS 1.2 and 1.3 only, with forward-secret ciphers. On the
	// *.cloudfront.net name CloudFront sets TLSv1 whatever is asked
	// (browsers refuse anything below TLS 1.2 themselves); a domain is
	// what makes the minimum ours to set.
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html
	// https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
	viewerTLSPolicy = "TLSv1.2_2021"
)

// edgeCaching is how the distribution treats the requests of a route.
type edgeCaching int

const (
	// uncached: every request goes to the origin as the viewer sent it
	// (AWS's CachingDisabled with AllViewerExceptHostHeader).
	uncached edgeCaching = iota
	// listing: cached under every query parameter and the normalised
	// Accept, for as long as the service's Cache-Control says (see
	// newListingCachePolicy); uncached behind a password.
	listing
)

// edgeRoutes are the distribution's ordered cache behaviours, one per
// route of the service; CloudFront takes the first pattern that matches,
// and every other path goes to the default behaviour (uncached). /metrics
// has no behaviour: the viewer-request function, which runs on every
// behaviour, answers it 404 at the edge. This is the one place a route
// gets its edge treatment: the object route of serveObjects
// (/files/<key>) becomes one entry here, with a caching kind of its own
// for its TTL.
var edgeRoutes = []struct {
	pattern string
	caching edgeCaching
}{
	// Both patterns, as the service registers both routes.
	{bootscript.ListPath, listing},
	{bootscript.ListPath + "/*", listing},
	// Health must be the origin's answer now, never an edge copy.
	{bootscript.HealthPath, uncached},
	{"/readyz", uncached},
}

// cdnConfig is what the distribution needs.
type cdnConfig struct {
	// originARN is the VPC origin's target: the instance (single) or the
	// internal load balancer (ha); originDomain is its private DNS name.
	originARN, originDomain string
	// nameSuffix makes the account-wide names of the function, the cache
	// policy and the VPC origin unique per deployment (the VPC's ID), so
	// two deployments can live in one account.
	nameSuffix string
	// passwords (htpasswdParameter): nothing is cached at the edge and the
	// Authorization header reaches the origin.
	passwords bool
	// cors (corsOrigins): the answer depends on the Origin header, and the
	// preflight's Access-Control-Request-* headers must reach the origin.
	cors bool
	// domainName and certificateARN (an ACM certificate in us-east-1) give
	// the distribution a custom domain; both "" serve *.cloudfront.net.
	domainName, certificateARN string
}

// distribution is what the outputs and the DNS records need.
type distribution struct {
	id           string
	domainName   string // d111111abcdef8.cloudfront.net
	hostedZoneID string // CloudFront's, for alias records
}

// newCDN creates the viewer-request function, the cache policy of the
// listings, the VPC origin and the distribution.
//
// Decisions, each with its reason:
//   - Viewers: HTTP is redirected to HTTPS, HTTP/2 and HTTP/3 are
//     offered, and IPv6 too. CloudFront's own gzip and Brotli handle
//     Accept-Encoding: it is normalised into the cache key and compressed
//     answers are cached per encoding.
//     https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html
//   - Origin protocol: HTTP on port 80. The origin has no certificate a
//     client would trust (CloudFront requires one for HTTPS to an origin),
//     and the VPC origin's path does not cross the internet: CloudFront
//     sends it over AWS's network into network interfaces in the origin's
//     subnets ("a private, secure connection", in the guide above). A
//     password (Basic authentication) crosses that leg unencrypted, inside
//     AWS's network and the VPC only; viewers' connections carry it over
//     TLS.
//   - No access logs and no WAF (the security scan's AWS-0010 and AWS-0011,
//     accepted in testdata/security-scan.json with their reasons): both are
//     billed per request or by the month, and the service logs every
//     request it receives.
//   - Price class All: a listing popular worldwide is cached on every
//     continent, which is the point; the free tier applies to all.
func newCDN(scope constructs.Construct, id string, cfg cdnConfig) distribution {
	c := constructs.NewConstruct(scope, jsii.String(id))
	fnARN := newViewerRequestFunction(c, cfg)
	treatments := newEdgeTreatments(c, cfg)
	origin := newVPCOrigin(c, cfg)
	aliases, viewerCert := viewerCertificate(cfg)
	d := cloudfrontdistribution.NewCloudfrontDistribution(c, jsii.String("distribution"), &cloudfrontdistribution.CloudfrontDistributionConfig{
		Enabled:       jsii.Bool(true),
		Comment:       jsii.String("bucketls"),
		HttpVersion:   jsii.String("http2and3"),
		IsIpv6Enabled: jsii.Bool(true),
		PriceClass:    jsii.String("PriceClass_All"),
		Aliases:       aliases,
		Origin: &[]*cloudfrontdistribution.CloudfrontDistributionOrigin{{
			OriginId:   jsii.String(cdnOriginID),
			DomainName: jsii.String(cfg.originDomain),
			VpcOriginConfig: &cloudfrontdistribution.CloudfrontDistributionOriginVpcOriginConfig{
				VpcOriginId: origin,
			},
		}},
		DefaultCacheBehavior: &cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehavior{
			TargetOriginId:        jsii.String(cdnOriginID),
			ViewerProtocolPolicy:  jsii.String("redirect-to-https"),
			AllowedMethods:        jsii.Strings("GET", "HEAD", "OPTIONS"),
			CachedMethods:         jsii.Strings("GET", "HEAD"),
			CachePolicyId:         treatments[uncached].cachePolicy,
			OriginRequestPolicyId: treatments[uncached].originRequestPolicy,
			Compress:              jsii.Bool(true),
			FunctionAssociation: &[]*cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation{{
				EventType: jsii.String("viewer-request"), FunctionArn: fnARN,
			}},
		},
		OrderedCacheBehavior: orderedBehaviors(treatments, fnARN),
		Restrictions: &cloudfrontdistribution.CloudfrontDistributionRestrictions{
			GeoRestriction: &cloudfrontdistribution.CloudfrontDistributionRestrictionsGeoRestriction{RestrictionType: jsii.String("none")},
		},
		ViewerCertificate: viewerCert,
		Tags:              &map[string]*string{"Name": jsii.String("bucketls")},
	})
	return distribution{id: *d.Id(), domainName: *d.DomainName(), hostedZoneID: *d.HostedZoneId()}
}

// cdnOriginID names the distribution's one origin, the VPC origin.
const cdnOriginID = "bucketls"

// newViewerRequestFunction creates the CloudFront Function every request
// runs through and returns its ARN. It runs before CloudFront looks in its
// cache, so the normalised Accept is what the cache key holds.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/function-code-choose-purpose.html
func newViewerRequestFunction(c constructs.Construct, cfg cdnConfig) *string {
	return cloudfrontfunction.NewCloudfrontFunction(c, jsii.String("viewer-request"), &cloudfrontfunction.CloudfrontFunctionConfig{
		Name:    jsii.String("bucketls-viewer-request-" + cfg.nameSuffix),
		Runtime: jsii.String(edgefunc.Runtime),
		Comment: jsii.String("bucketls: /metrics is not served; Accept normalised to HTML or JSON"),
		Code:    jsii.String(edgefunc.ViewerRequest),
		// The distribution runs the LIVE stage; publishing moves the code
		// there on every apply.
		Publish: jsii.Bool(true),
	}).Arn()
}

// treatment is how the edge handles one kind of route: what its cache key
// holds and what it forwards to the origin.
type treatment struct{ cachePolicy, originRequestPolicy *string }

// newEdgeTreatments returns the treatment of each edgeCaching, creating
// the listing's own policies where listings are cached.
func newEdgeTreatments(c constructs.Construct, cfg cdnConfig) map[edgeCaching]treatment {
	// AWS's managed policies, by name.
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
	cachingDisabled := dataawscloudfrontcachepolicy.NewDataAwsCloudfrontCachePolicy(c, jsii.String("caching-disabled"), &dataawscloudfrontcachepolicy.DataAwsCloudfrontCachePolicyConfig{
		Name: jsii.String("Managed-CachingDisabled"),
	}).Id()
	// Every header, cookie and query parameter, Authorization included:
	// AWS forwards Authorization through an origin request policy only
	// where caching is disabled, so an answer for one user is never kept
	// for another.
	// https://repost.aws/knowledge-center/cloudfront-authorization-header
	allViewer := dataawscloudfrontoriginrequestpolicy.NewDataAwsCloudfrontOriginRequestPolicy(c, jsii.String("all-viewer"), &dataawscloudfrontoriginrequestpolicy.DataAwsCloudfrontOriginRequestPolicyConfig{
		// Except Host: the origin is asked under its own name; the
		// service builds no URL from Host.
		Name: jsii.String("Managed-AllViewerExceptHostHeader"),
	}).Id()

	treatments := map[edgeCaching]treatment{uncached: {cachingDisabled, allViewer}}
	if cfg.passwords {
		// Behind a password every answer is for one user: nothing is kept
		// at the edge, and Authorization reaches the origin.
		treatments[listing] = treatments[uncached]
	} else {
		treatments[listing] = treatment{newListingCachePolicy(c, cfg), corsPreflightPolicy(c, cfg)}
	}
	return treatments
}

// newVPCOrigin creates the VPC origin that reaches the service (the
// instance or the internal load balancer) and returns its ID.
func newVPCOrigin(c constructs.Construct, cfg cdnConfig) *string {
	return cloudfrontvpcorigin.NewCloudfrontVpcOrigin(c, jsii.String("vpc-origin"), &cloudfrontvpcorigin.CloudfrontVpcOriginConfig{
		VpcOriginEndpointConfig: &[]*cloudfrontvpcorigin.CloudfrontVpcOriginVpcOriginEndpointConfig{{
			Name:                 jsii.String("bucketls-" + cfg.nameSuffix),
			Arn:                  jsii.String(cfg.originARN),
			HttpPort:             jsii.Number(bootscript.HTTPPort),
			OriginProtocolPolicy: jsii.String("http-only"),
			// Required by the API, unused with http-only.
			HttpsPort: jsii.Number(bootscript.HTTPSPort),
			OriginSslProtocols: &[]*cloudfrontvpcorigin.CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols{{
				Items:    jsii.Strings("TLSv1.2"),
				Quantity: jsii.Number(1),
			}},
		}},
		Tags: &map[string]*string{"Name": jsii.String("bucketls")},
	}).Id()
}

// orderedBehaviors are the cache behaviors of edgeRoutes, in their order,
// each with its treatment and the viewer-request function.
func orderedBehaviors(treatments map[edgeCaching]treatment, fnARN *string) *[]*cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior {
	functions := &[]*cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehaviorFunctionAssociation{{
		EventType: jsii.String("viewer-request"), FunctionArn: fnARN,
	}}
	var ordered []*cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior
	for _, r := range edgeRoutes {
		t := treatments[r.caching]
		ordered = append(ordered, &cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior{
			PathPattern:           jsii.String(r.pattern),
			TargetOriginId:        jsii.String(cdnOriginID),
			ViewerProtocolPolicy:  jsii.String("redirect-to-https"),
			AllowedMethods:        jsii.Strings("GET", "HEAD", "OPTIONS"),
			CachedMethods:         jsii.Strings("GET", "HEAD"),
			CachePolicyId:         t.cachePolicy,
			OriginRequestPolicyId: t.originRequestPolicy,
			Compress:              jsii.Bool(true),
			FunctionAssociation:   functions,
		})
	}
	return &ordered
}

// viewerCertificate is the distribution's aliases and certificate:
// CloudFront's own for its *.cloudfront.net name, or, with domainName,
// the ACM certificate for it.
func viewerCertificate(cfg cdnConfig) (*[]*string, *cloudfrontdistribution.CloudfrontDistributionViewerCertificate) {
	if cfg.domainName == "" {
		return nil, &cloudfrontdistribution.CloudfrontDistributionViewerCertificate{CloudfrontDefaultCertificate: jsii.Bool(true)}
	}
	return jsii.Strings(cfg.domainName), &cloudfrontdistribution.CloudfrontDistributionViewerCertificate{
		AcmCertificateArn: jsii.String(cfg.certificateARN),
		// SNI: every browser of the last decade sends it; dedicated IPs
		// bill $600 a month.
		SslSupportMethod:       jsii.String("sni-only"),
		MinimumProtocolVersion: jsii.String(viewerTLSPolicy),
	}
}

// newListingCachePolicy creates the cache policy of the listing routes.
// Its key holds every query parameter, not a list of the ones that change
// the answer today, so a parameter the service adds later can never be
// ignored by accident and answered from another parameter's copy; the
// Accept header, which the viewer-request function has reduced to
// text/html or application/json; and with corsOrigins the Origin header,
// which decides whether the answer carries CORS headers. What is in the
// key is what the origin receives.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cache-key-understand-cache-policy.html
func newListingCachePolicy(scope constructs.Construct, cfg cdnConfig) *string {
	headers := []string{"Accept"}
	if cfg.cors {
		headers = append(headers, "Origin")
	}
	p := cloudfrontcachepolicy.NewCloudfrontCachePolicy(scope, jsii.String("listing-cache"), &cloudfrontcachepolicy.CloudfrontCachePolicyConfig{
		Name:       jsii.String("bucketls-listing-" + cfg.nameSuffix),
		Comment:    jsii.String("bucketls listings: every query parameter and the normalised Accept; TTLs from Cache-Control"),
		MinTtl:     jsii.Number(edgeMinTTL),
		DefaultTtl: jsii.Number(edgeDefaultTTL),
		MaxTtl:     jsii.Number(edgeMaxTTL),
		ParametersInCacheKeyAndForwardedToOrigin: &cloudfrontcachepolicy.CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin{
			QueryStringsConfig: &cloudfrontcachepolicy.CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig{
				QueryStringBehavior: jsii.String("all"),
			},
			HeadersConfig: &cloudfrontcachepolicy.CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig{
				HeaderBehavior: jsii.String("whitelist"),
				Headers: &cloudfrontcachepolicy.CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeaders{
					Items: jsii.Strings(headers...),
				},
			},
			CookiesConfig: &cloudfrontcachepolicy.CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig{
				CookieBehavior: jsii.String("none"),
			},
			EnableAcceptEncodingGzip:   jsii.Bool(true),
			EnableAcceptEncodingBrotli: jsii.Bool(true),
		},
	})
	return p.Id()
}

// corsPreflightPolicy returns, with corsOrigins, an origin request policy
// that forwards what a CORS preflight asks (Access-Control-Request-Method
// and -Headers) to the origin, which answers it; preflights are not
// cached (cached methods are GET and HEAD). Without CORS it returns nil:
// the cache key is all the origin needs.
func corsPreflightPolicy(scope constructs.Construct, cfg cdnConfig) *string {
	if !cfg.cors {
		return nil
	}
	return cloudfrontoriginrequestpolicy.NewCloudfrontOriginRequestPolicy(scope, jsii.String("cors-preflight"), &cloudfrontoriginrequestpolicy.CloudfrontOriginRequestPolicyConfig{
		Name:    jsii.String("bucketls-cors-preflight-" + cfg.nameSuffix),
		Comment: jsii.String("bucketls: the CORS preflight's request headers"),
		HeadersConfig: &cloudfrontoriginrequestpolicy.CloudfrontOriginRequestPolicyHeadersConfig{
			HeaderBehavior: jsii.String("whitelist"),
			Headers: &cloudfrontoriginrequestpolicy.CloudfrontOriginRequestPolicyHeadersConfigHeaders{
				Items: jsii.Strings("Access-Control-Request-Method", "Access-Control-Request-Headers"),
			},
		},
		CookiesConfig:      &cloudfrontoriginrequestpolicy.CloudfrontOriginRequestPolicyCookiesConfig{CookieBehavior: jsii.String("none")},
		QueryStringsConfig: &cloudfrontoriginrequestpolicy.CloudfrontOriginRequestPolicyQueryStringsConfig{QueryStringBehavior: jsii.String("none")},
	}).Id()
}

// newOriginFacingPrefixList looks up the ID of CloudFront's origin-facing
// prefix list (see originFacingPrefixList), for the origin's security
// group.
func newOriginFacingPrefixList(scope constructs.Construct, id string) string {
	return *dataawsec2managedprefixlist.NewDataAwsEc2ManagedPrefixList(scope, jsii.String(id), &dataawsec2managedprefixlist.DataAwsEc2ManagedPrefixListConfig{
		Name: jsii.String(originFacingPrefixList),
	}).Id()
}
