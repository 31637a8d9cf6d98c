package service

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// maxIdleConnsPerHost keeps enough pooled connections to S3 for every
// concurrent request. The SDK's default of 10 makes a busy server open and
// close a connection per call beyond the tenth (and pile up TIME_WAIT
// sockets); each request uses at most one connection at a time, so this
// follows the concurrency we expect, not the directory size.
const maxIdleConnsPerHost = 256

// httpClient is the SDK's HTTP client with a connection pool sized for a
// server rather than a CLI.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = maxIdleConnsPerHost
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
	})
}

// s3Options applies what every bucketls S3 client shares.
func s3Options(endpoint string, pathStyle bool) func(*s3.Options) {
	return func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// S3-compatible servers (MinIO, versitygw, gofakes3) rarely serve
		// bucket-named virtual hosts; path style works everywhere.
		o.UsePathStyle = pathStyle
		// ListObjectsV2 has no payload to checksum and returns no object
		// data to validate: ask for checksums only where S3 requires them,
		// and skip the per-call checksum bookkeeping the defaults add.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
		// The bucket and region never change, so neither does the
		// endpoint: resolve it once instead of twice per call.
		o.EndpointResolverV2 = newFixedEndpoint()
		o.APIOptions = append(o.APIOptions, dropIdleMiddleware)
	}
}

// idleMiddleware is the ListObjectsV2 middleware that does nothing for this
// client, by step. Most of it serves the SDK's legacy (v1) endpoint
// resolution, which a client with an EndpointResolverV2 never uses: each
// one checks that and passes the call on, but every call still builds and
// runs it. TestIdleMiddleware checks each is still in the SDK's stack and
// that a listing sends the same request without them.
var idleMiddleware = map[string][]string{
	"Initialize": {
		"S3Shared:ARNLookup", // finds an ARN in the bucket name for the legacy resolver
	},
	"Serialize": {
		"ResolveEndpoint",                   // the legacy resolver
		"S3:ProcessARNResource",             // legacy: ARN buckets
		"S3:ObjectLambdaEndpoint",           // legacy: Object Lambda access points
		"serializeImmutableHostnameBucket",  // legacy: hostname-immutable endpoints
		"S3:UpdateEndpoint",                 // legacy: path style, accelerate, dual-stack
		"S3:RemoveBucketFromPathMiddleware", // legacy: the bucket in the path
	},
	"Finalize": {
		"disableHTTPS",                   // only with EndpointOptions.DisableHTTPS, never set
		"setLegacyContextSigningOptions", // signing name/region from the legacy resolver
	},
	"Deserialize": {
		"RequestResponseLogger", // only with ClientLogMode, never set
	},
}

// dropIdleMiddleware is an APIOptions entry that removes idleMiddleware
// from ListObjectsV2 calls; other operations (the tests' uploads) keep the
// SDK's whole stack. A middleware the SDK no longer has is skipped, so an
// SDK update can cost speed but never break a listing.
func dropIdleMiddleware(stack *middleware.Stack) error {
	if stack.ID() != "ListObjectsV2" {
		return nil
	}
	for _, id := range idleMiddleware["Initialize"] {
		_, _ = stack.Initialize.Remove(id)
	}
	for _, id := range idleMiddleware["Serialize"] {
		_, _ = stack.Serialize.Remove(id)
	}
	for _, id := range idleMiddleware["Finalize"] {
		_, _ = stack.Finalize.Remove(id)
	}
	for _, id := range idleMiddleware["Deserialize"] {
		_, _ = stack.Deserialize.Remove(id)
	}
	return nil
}

// newS3Client builds the production client. Region and credentials come
// only from the SDK's default chain (environment, shared config files, the
// EC2 instance role through IMDSv2); nothing about an account is written
// here. getenv is Run's view of the environment, used only to notice the
// SDK's own endpoint variables.
func newS3Client(ctx context.Context, cfg Config, getenv func(string) string) (*s3.Client, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient()))
	if err != nil {
		return nil, configErrorf("AWS SDK configuration: %v", err)
	}
	sdkEndpoint := getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
	custom := cfg.S3Endpoint != "" || sdkEndpoint
	if awsCfg.Region == "" {
		if !custom {
			// The SDK does not read the region from instance metadata, so
			// on EC2 too it must come from AWS_REGION (the unit sets it).
			return nil, configErrorf("no AWS region: set AWS_REGION (or region in the shared config)")
		}
		// S3-compatible servers sign with a region but rarely care which.
		awsCfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(awsCfg, s3Options(cfg.S3Endpoint, custom)), nil
}

// newStaticS3Client builds a client for an endpoint we run ourselves (the
// demo): fixed region and credentials, untouched by the environment, so
// --demo works on a machine with no AWS configuration at all.
func newStaticS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("demo", "demo", ""),
		HTTPClient:  httpClient(),
	}, s3Options(endpoint, true))
}
