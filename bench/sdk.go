package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// sdkClient is an S3 client for the backend, set up like the service's own
// (path style, pooled connections, checksums only when required), for the
// "fetch its pages directly" baseline: any S3 client has to decode each
// page's XML to follow the continuation token.
func sdkClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		HTTPClient:                 &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// sdkWalk lists prefix with the SDK paginator and checks the entry count.
func sdkWalk(ctx context.Context, client *s3.Client, prefix string, want int) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket:    aws.String(benchBucket),
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
	})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		n += len(out.Contents) + len(out.CommonPrefixes)
	}
	if n != want {
		return fmt.Errorf("listed %d entries under %s, want %d", n, prefix, want)
	}
	return nil
}
