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
	}
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
