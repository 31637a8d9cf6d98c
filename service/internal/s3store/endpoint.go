package s3store

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// fixedEndpoint is an s3.EndpointResolverV2 for a client that always
// talks to one bucket in one region: it asks the SDK's own resolver once
// and hands out copies of that answer while the parameters stay the same.
//
// The SDK evaluates its S3 endpoint rules (bucket name checks, ARN parsing,
// partition lookup) twice per call, once to pick the auth scheme and once
// for the URL, and for a service that lists one bucket the answer never
// changes. Asking the default resolver, rather than writing the URL here,
// keeps virtual-host or path style, the region, FIPS and dual-stack exactly
// as the SDK would choose them; only the parameters the rules never read
// (the key and prefix of the call) are left out of the comparison.
type fixedEndpoint struct {
	next s3.EndpointResolverV2
	last atomic.Pointer[resolvedEndpoint]
}

type resolvedEndpoint struct {
	params   endpointParams
	endpoint smithyendpoints.Endpoint
}

func newFixedEndpoint() *fixedEndpoint {
	return &fixedEndpoint{next: s3.NewDefaultEndpointResolverV2()}
}

// ResolveEndpoint implements s3.EndpointResolverV2.
func (r *fixedEndpoint) ResolveEndpoint(ctx context.Context, params s3.EndpointParameters) (smithyendpoints.Endpoint, error) {
	key := paramsOf(params)
	if last := r.last.Load(); last != nil && last.params == key {
		return copyEndpoint(last.endpoint), nil
	}
	ep, err := r.next.ResolveEndpoint(ctx, params)
	if err != nil {
		return ep, err
	}
	r.last.Store(&resolvedEndpoint{params: key, endpoint: copyEndpoint(ep)})
	return ep, nil
}

// copyEndpoint returns ep with its own property set and auth options: the
// SDK's auth resolver rewrites the options it finds in an endpoint's
// properties, so concurrent calls must not share them.
func copyEndpoint(ep smithyendpoints.Endpoint) smithyendpoints.Endpoint {
	var props smithy.Properties
	props.SetAll(&ep.Properties)
	if opts, ok := smithyauth.GetAuthOptions(&ep.Properties); ok {
		own := make([]*smithyauth.Option, len(opts))
		for i, o := range opts {
			c := &smithyauth.Option{SchemeID: o.SchemeID}
			c.IdentityProperties.SetAll(&o.IdentityProperties)
			c.SignerProperties.SetAll(&o.SignerProperties)
			own[i] = c
		}
		smithyauth.SetAuthOptions(&props, own)
	}
	return smithyendpoints.Endpoint{URI: ep.URI, Headers: ep.Headers.Clone(), Properties: props}
}

// endpointParams is s3.EndpointParameters by value, comparable, without
// the per-call Key, Prefix and CopySource, which S3's endpoint rules do not
// read (TestFixedEndpointParams keeps this list honest when the SDK adds a
// parameter).
type endpointParams struct {
	bucket, region, endpoint                                               optString
	useFIPS, useDualStack, forcePathStyle, accelerate                      optBool
	useGlobalEndpoint, useObjectLambdaEndpoint                             optBool
	disableAccessPoints, disableMultiRegionAccessPoints                    optBool
	useArnRegion, useS3ExpressControlEndpoint, disableS3ExpressSessionAuth optBool
}

type optString struct {
	set bool
	v   string
}

type optBool struct {
	set, v bool
}

func optS(p *string) optString { return optString{p != nil, aws.ToString(p)} }
func optB(p *bool) optBool     { return optBool{p != nil, aws.ToBool(p)} }

func paramsOf(p s3.EndpointParameters) endpointParams {
	return endpointParams{
		bucket:                         optS(p.Bucket),
		region:                         optS(p.Region),
		endpoint:                       optS(p.Endpoint),
		useFIPS:                        optB(p.UseFIPS),
		useDualStack:                   optB(p.UseDualStack),
		forcePathStyle:                 optB(p.ForcePathStyle),
		accelerate:                     optB(p.Accelerate),
		useGlobalEndpoint:              optB(p.UseGlobalEndpoint),
		useObjectLambdaEndpoint:        optB(p.UseObjectLambdaEndpoint),
		disableAccessPoints:            optB(p.DisableAccessPoints),
		disableMultiRegionAccessPoints: optB(p.DisableMultiRegionAccessPoints),
		useArnRegion:                   optB(p.UseArnRegion),
		useS3ExpressControlEndpoint:    optB(p.UseS3ExpressControlEndpoint),
		disableS3ExpressSessionAuth:    optB(p.DisableS3ExpressSessionAuth),
	}
}
