package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestFixedEndpointMatchesTheSDK: for real AWS (virtual-host style, every
// partition, FIPS, dual-stack, a bucket name that forces path style) and for
// S3-compatible endpoints (path and virtual-host style), the fixed resolver
// answers exactly what the SDK's default resolver answers, on the first call
// and on the cached ones with other prefixes.
func TestFixedEndpointMatchesTheSDK(t *testing.T) {
	on := aws.Bool(true)
	tests := []struct {
		name   string
		params s3.EndpointParameters
	}{
		{"aws us-east-1", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("us-east-1")}},
		{"aws eu-west-1", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("eu-west-1")}},
		{"aws china", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("cn-north-1")}},
		{"aws govcloud fips", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("us-gov-west-1"), UseFIPS: on}},
		{"aws dual-stack", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("ap-southeast-2"), UseDualStack: on}},
		{"aws dotted bucket", s3.EndpointParameters{Bucket: aws.String("my.bucket.example"), Region: aws.String("us-west-2")}},
		{"aws forced path style", s3.EndpointParameters{Bucket: aws.String("my-bucket"), Region: aws.String("us-west-2"), ForcePathStyle: on}},
		{"custom path style", s3.EndpointParameters{Bucket: aws.String(testBucket), Region: aws.String("us-east-1"), Endpoint: aws.String("http://127.0.0.1:9000"), ForcePathStyle: on}},
		{"custom virtual host", s3.EndpointParameters{Bucket: aws.String(testBucket), Region: aws.String("us-east-1"), Endpoint: aws.String("https://s3.example.com")}},
	}
	ctx := context.Background()
	stock := s3.NewDefaultEndpointResolverV2()
	for _, tt := range tests {
		fixed := newFixedEndpoint()
		for _, prefix := range []*string{nil, aws.String("dir2/"), aws.String("many/d0001/")} {
			p := tt.params
			p.Prefix = prefix
			want, err := stock.ResolveEndpoint(ctx, p)
			if err != nil {
				t.Fatalf("%s: default resolver: %v", tt.name, err)
			}
			got, err := fixed.ResolveEndpoint(ctx, p)
			if err != nil {
				t.Fatalf("%s: fixed resolver: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, prefix %q: fixed resolver = %s %+v, default = %s %+v", tt.name, aws.ToString(prefix), got.URI.String(), got.Properties.Values(), want.URI.String(), want.Properties.Values())
			}
		}
	}
}

// TestFixedEndpointParams fails when the SDK grows an endpoint parameter
// that the fixed resolver's comparison does not know: every parameter must
// change the comparison, except those S3's rules never read.
func TestFixedEndpointParams(t *testing.T) {
	ignored := map[string]bool{"Key": true, "Prefix": true, "CopySource": true}
	typ := reflect.TypeFor[s3.EndpointParameters]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var p s3.EndpointParameters
		v := reflect.ValueOf(&p).Elem().Field(i)
		switch f.Type {
		case reflect.TypeFor[*string]():
			v.Set(reflect.ValueOf(aws.String("x")))
		case reflect.TypeFor[*bool]():
			v.Set(reflect.ValueOf(aws.Bool(false)))
		default:
			t.Errorf("endpoint parameter %s has type %s; teach paramsOf about it", f.Name, f.Type)
			continue
		}
		if changed := paramsOf(p) != paramsOf(s3.EndpointParameters{}); changed == ignored[f.Name] {
			t.Errorf("endpoint parameter %s: counted in the comparison = %v, want %v", f.Name, changed, !ignored[f.Name])
		}
	}
}

// recordingHTTP answers every request with an empty one-page listing and
// keeps the requests it saw.
type recordingHTTP struct{ reqs []*http.Request }

func (h *recordingHTTP) Do(r *http.Request) (*http.Response, error) {
	h.reqs = append(h.reqs, r)
	body := `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// wire is a request as S3 sees it, without what differs on every call
// (the signature, the date it covers, the invocation ID).
func wire(r *http.Request) string {
	h := r.Header.Clone()
	auth, _, _ := strings.Cut(h.Get("Authorization"), "Signature=")
	h.Set("Authorization", auth)
	for _, k := range []string{"X-Amz-Date", "Amz-Sdk-Invocation-Id"} {
		if h.Get(k) == "" {
			return fmt.Sprintf("no %s header", k)
		}
		h.Del(k)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\nHost: %s\n", r.Method, r.URL.String(), r.Host)
	_ = h.Write(&b)
	return b.String()
}

// TestTunedClientSendsTheSameRequest: the service's client (fixed endpoint,
// idle middleware dropped) sends byte for byte the request a stock client
// sends, for real AWS (virtual-host style) and for an S3-compatible
// endpoint (path style), for a first page and a continuation.
func TestTunedClientSendsTheSameRequest(t *testing.T) {
	for _, tt := range []struct {
		name      string
		region    string
		endpoint  string
		pathStyle bool
	}{
		{"aws", "eu-west-1", "", false},
		{"aws us-east-1", "us-east-1", "", false},
		{"s3-compatible", "us-east-1", "http://127.0.0.1:9000", true},
	} {
		var got, want recordingHTTP
		base := s3.Options{
			Region:      tt.region,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		}
		stock := s3.New(base, func(o *s3.Options) {
			o.HTTPClient = &want
			if tt.endpoint != "" {
				o.BaseEndpoint = aws.String(tt.endpoint)
			}
			o.UsePathStyle = tt.pathStyle
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		})
		tuned := s3.New(base, ClientOptions(tt.endpoint, tt.pathStyle), func(o *s3.Options) { o.HTTPClient = &got })
		inputs := []*s3.ListObjectsV2Input{
			{Bucket: aws.String("my-bucket"), Delimiter: aws.String("/"), Prefix: aws.String("dir2/")},
			{Bucket: aws.String("my-bucket"), Delimiter: aws.String("/"), Prefix: aws.String("a b+c/%/é/"), ContinuationToken: aws.String("tok/+=="), MaxKeys: aws.Int32(1)},
		}
		for _, in := range inputs {
			for _, c := range []*s3.Client{stock, tuned} {
				if _, err := c.ListObjectsV2(context.Background(), in); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
			}
		}
		for i := range inputs {
			if g, w := wire(got.reqs[i]), wire(want.reqs[i]); g != w {
				t.Errorf("%s, call %d: the service's client sends\n%s\nthe stock client sends\n%s", tt.name, i, g, w)
			}
		}
	}
}

// TestIdleMiddleware: every middleware the service drops is still in the
// SDK's ListObjectsV2 stack (so the list stays true across SDK updates),
// and none is left after dropIdleMiddleware.
func TestIdleMiddleware(t *testing.T) {
	var before, after string
	errStop := errors.New("stop")
	c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	_, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("b")}, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			before = s.String()
			if err := dropIdleMiddleware(s); err != nil {
				return err
			}
			after = s.String()
			return errStop
		})
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("ListObjectsV2 = %v, want the test's stop", err)
	}
	for step, ids := range idleMiddleware {
		for _, id := range ids {
			if !slices.Contains(strings.Fields(before), id) {
				t.Errorf("%s middleware %q is no longer in the SDK's ListObjectsV2 stack: drop it from idleMiddleware", step, id)
			}
			if slices.Contains(strings.Fields(after), id) {
				t.Errorf("%s middleware %q is still there after dropIdleMiddleware", step, id)
			}
		}
	}
}

// TestFast200Error: the service's 200-error check gives the SDK's verdict
// (status, error) and leaves the same body to read (all of it, except
// where the SDK's own check consumes a body without an element), for S3's
// answers and for heads it cannot decide by itself.
func TestFast200Error(t *testing.T) {
	var sdk middleware.DeserializeMiddleware
	errStop := errors.New("stop")
	c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	_, _ = c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("b")}, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			sdk, _ = s.Deserialize.Get(sdk200ErrorID)
			return errStop
		})
	})
	if sdk == nil {
		t.Fatalf("no %s in the SDK's ListObjectsV2 stack", sdk200ErrorID)
	}
	long := strings.Repeat("x", 300)
	bodies := []string{
		s3XMLDecl + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name></ListBucketResult>`,
		s3XMLDecl + "\n" + `<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`,
		`<Error><Code>SlowDown</Code></Error>`,
		`<error/>`,
		`<ERROR >x</ERROR>`,
		`<ErrorX>x</ErrorX>`,
		`<Errors><Error/></Errors>`,
		s3XMLDecl + `<!-- note --><Error/>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><Error/>`,
		`<?xml version="1.0"?><Error/>`,
		` <?xml version="1.0" encoding="UTF-8"?><Error/>`,
		`<s3:Error xmlns:s3="x"/>`,
		`<` + long + `/>`,
		`<Error` + long + `/>`,
		"",
		"garbage",
		"<",
		"<Error",
		"\xef\xbb\xbf<Error/>",
	}
	for i, body := range bodies[:3] {
		resp := &smithyhttp.Response{Response: &http.Response{Body: io.NopCloser(strings.NewReader(body))}}
		if isError, ok := peekRootIsError(resp); !ok || isError != (i > 0) {
			t.Errorf("body %.60q: peekRootIsError = %v, %v; want %v, true (S3's answers take the fast path)", body, isError, ok, i > 0)
		}
	}
	for _, body := range bodies {
		run := func(m middleware.DeserializeMiddleware) (status int, rest string, err error) {
			resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}}
			out, _, err := m.HandleDeserialize(context.Background(), middleware.DeserializeInput{}, middleware.DeserializeHandlerFunc(
				func(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
					return middleware.DeserializeOutput{RawResponse: resp}, middleware.Metadata{}, nil
				}))
			b, rerr := io.ReadAll(out.RawResponse.(*smithyhttp.Response).Body)
			if rerr != nil {
				t.Fatalf("body %.40q: reading it after the check: %v", body, rerr)
			}
			return resp.StatusCode, string(b), err
		}
		wantStatus, wantRest, wantErr := run(sdk)
		gotStatus, gotRest, gotErr := run(&fast200Error{sdk: sdk})
		if gotStatus != wantStatus || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || gotRest != wantRest {
			t.Errorf("body %.60q: fast check gives status %d, err %v; the SDK's gives %d, %v (body intact: %v)", body, gotStatus, gotErr, wantStatus, wantErr, gotRest == body)
		}
	}
}
