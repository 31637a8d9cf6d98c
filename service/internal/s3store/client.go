package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxIdleConnsPerHost keeps enough pooled connections to S3 for every
// concurrent request. The SDK's default of 10 makes a busy server open and
// close a connection per call beyond the tenth (and pile up TIME_WAIT
// sockets); each request uses at most one connection at a time, so this
// follows the concurrency we expect, not the directory size.
const maxIdleConnsPerHost = 256

// HTTPClient is the SDK's HTTP client with a connection pool sized for a
// server rather than a CLI.
func HTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = maxIdleConnsPerHost
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
	})
}

// ClientOptions applies what every bucketls S3 client shares: endpoint
// (empty for AWS), path-style addressing for S3-compatible servers, the
// fixed endpoint resolver and the trimmed middleware stack.
func ClientOptions(endpoint string, pathStyle bool) func(*s3.Options) {
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
		o.HTTPClient = newDecodeGate(o.HTTPClient)
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
	if sdk, ok := stack.Deserialize.Get(sdk200ErrorID); ok {
		_, _ = stack.Deserialize.Swap(sdk200ErrorID, &fast200Error{sdk: sdk})
	}
	return nil
}

// sdk200ErrorID is the SDK's check for S3's "200 OK with an <Error>
// document" answers, which it then treats as a 500.
const sdk200ErrorID = "S3:ProcessResponseFor200Error"

// fast200Error makes the SDK's 200-error check without an XML decoder per
// answer (a tenth of a listing's client CPU went there): when the head of
// the body is S3's own XML declaration and a plain root start tag, the
// tag's name decides. Any other head (none, a comment, another encoding, a
// name with a namespace prefix) goes through the SDK's middleware as before.
// TestFast200Error holds the two to the same verdicts.
type fast200Error struct {
	sdk middleware.DeserializeMiddleware
}

// ID keeps the SDK's ID, so the stack's order and lookups are unchanged.
func (*fast200Error) ID() string { return sdk200ErrorID }

// HandleDeserialize implements middleware.DeserializeMiddleware.
func (m *fast200Error) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	var verdict *bool
	out, md, err := m.sdk.HandleDeserialize(ctx, in, middleware.DeserializeHandlerFunc(
		func(ctx context.Context, in middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
				return out, md, err
			}
			isError, ok := peekRootIsError(resp)
			if ok {
				verdict = &isError
				// Hide the answer from the SDK's check, which then
				// returns at once without reading the body.
				resp.StatusCode = -resp.StatusCode
			}
			return out, md, err
		}))
	if verdict != nil {
		resp := out.RawResponse.(*smithyhttp.Response)
		resp.StatusCode = -resp.StatusCode
		if *verdict {
			resp.StatusCode = 500 // as the SDK does: like a 5xx, retried
		}
	}
	return out, md, err
}

// s3XMLDecl is the XML declaration S3 starts every answer with.
const s3XMLDecl = `<?xml version="1.0" encoding="UTF-8"?>`

// peekRootIsError reads the head of resp's body (and puts it back) and
// reports whether its root element is named Error (in any case, as the SDK
// compares), and whether the head was plain enough to tell.
func peekRootIsError(resp *smithyhttp.Response) (isError, ok bool) {
	head := make([]byte, 128)
	n, err := io.ReadFull(resp.Body, head)
	head = head[:n]
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	if err != nil && err != io.ErrUnexpectedEOF {
		return false, false
	}
	b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte(s3XMLDecl)), " \t\r\n")
	if len(b) < 2 || b[0] != '<' || !isNameStart(b[1]) {
		return false, false
	}
	i := 2
	for i < len(b) && isNameByte(b[i]) {
		i++
	}
	if i == len(b) {
		return false, false // the name may go on past the head
	}
	switch b[i] {
	case ' ', '\t', '\r', '\n', '>', '/':
		return bytes.EqualFold(b[1:i], []byte("Error")), true
	}
	return false, false // a namespace prefix or anything unusual
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameByte(c byte) bool {
	return isNameStart(c) || c == '-' || c == '.' || ('0' <= c && c <= '9')
}

// replayBody is a body whose head was read and is read again first.
type replayBody struct {
	io.Reader
	io.Closer
}

// NewClient builds the production client. Region and credentials come
// only from the SDK's default chain (environment, shared config files, the
// EC2 instance role through IMDSv2); nothing about an account is written
// here. endpoint is --s3-endpoint ("" for AWS); getenv is the caller's view
// of the environment, used only to notice the SDK's own endpoint variables.
// Every error is a configuration problem.
func NewClient(ctx context.Context, endpoint string, getenv func(string) string) (*s3.Client, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(HTTPClient()))
	if err != nil {
		return nil, fmt.Errorf("AWS SDK configuration: %v", err)
	}
	sdkEndpoint := getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
	custom := endpoint != "" || sdkEndpoint
	if awsCfg.Region == "" {
		if !custom {
			// The SDK does not read the region from instance metadata, so
			// on EC2 too it must come from AWS_REGION (the unit sets it).
			return nil, errors.New("no AWS region: set AWS_REGION (or region in the shared config)")
		}
		// S3-compatible servers sign with a region but rarely care which.
		awsCfg.Region = "us-east-1"
	}
	return s3.NewFromConfig(awsCfg, ClientOptions(endpoint, custom)), nil
}

// NewStaticClient builds a client for an endpoint we run ourselves (the
// demo): fixed region and credentials, untouched by the environment, so
// --demo works on a machine with no AWS configuration at all.
func NewStaticClient(endpoint string) *s3.Client {
	return NewEndpointClient(endpoint, "demo")
}

// NewEndpointClient builds a client for an S3-compatible server at
// endpoint that signs with key as both access key and secret (servers we
// run ourselves: the demo's, the tests'). optFns adjust it further, as a
// test's fast retryer does.
func NewEndpointClient(endpoint, key string, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, key, ""),
		HTTPClient:  HTTPClient(),
	}, append([]func(*s3.Options){ClientOptions(endpoint, true)}, optFns...)...)
}

// FastRetries makes the SDK's backoff between retries at most 5 ms, so
// tests of throttling and failing servers take milliseconds, not seconds.
func FastRetries(o *s3.Options) {
	o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
}
