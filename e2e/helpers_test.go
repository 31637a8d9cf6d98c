package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bucketls/bucketls/service"
)

func TestRenderUserData(t *testing.T) {
	values := map[string]string{
		"aws_s3_bucket.served.bucket":   "served-bucket",
		"aws_s3_bucket.artifact.bucket": "artifact-bucket",
	}
	tests := []struct {
		name     string
		in       string
		want     string
		wantSubs int
		wantErr  string
	}{
		{"literal", "echo hi\n", "echo hi\n", 0, ""},
		{"bash braces are escaped", `echo "$${HOME:-none}" $$x`, `echo "${HOME:-none}" $$x`, 0, ""},
		{"percent escape", `printf '%%{x}'`, `printf '%{x}'`, 0, ""},
		{"one reference twice", "B=${aws_s3_bucket.served.bucket}; echo ${aws_s3_bucket.served.bucket}", "B=served-bucket; echo served-bucket", 1, ""},
		{"two references", "s3://${aws_s3_bucket.artifact.bucket}/k ${aws_s3_bucket.served.bucket}", "s3://artifact-bucket/k served-bucket", 2, ""},
		{"non-ASCII kept", "echo 'ünïcode ✓'", "echo 'ünïcode ✓'", 0, ""},
		{"unknown reference", "${var.region}", "", 0, "has no rehearsal value"},
		{"directive", "%{ if true }x%{ endif }", "", 0, "template directive"},
		{"unterminated", "${aws_s3_bucket.served.bucket", "", 0, "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, subs, err := RenderUserData(tt.in, values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("RenderUserData(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("RenderUserData(%q): %v", tt.in, err)
			}
			if got != tt.want || len(subs) != tt.wantSubs {
				t.Errorf("RenderUserData(%q) = %q, %d substitutions; want %q, %d", tt.in, got, len(subs), tt.want, tt.wantSubs)
			}
		})
	}
}

func TestBucketReferences(t *testing.T) {
	in := "a=${aws_s3_bucket.x.bucket} b=$${aws_s3_bucket.not.ref} c=${aws_s3_bucket.y.id} d=${aws_s3_bucket.x.bucket}"
	got := strings.Join(BucketReferences(in), " ")
	if want := "aws_s3_bucket.x.bucket aws_s3_bucket.y.id"; got != want {
		t.Errorf("BucketReferences = %q, want %q", got, want)
	}
}

// The seed must carry the script byte for byte, non-ASCII included.
func TestCloudInitMIMERoundTrip(t *testing.T) {
	script := []byte("#!/bin/bash\nset -euo pipefail\necho 'ünïcode ✓ " + strings.Repeat("long line ", 30) + "'\n")
	msg, err := CloudInitMIME(script)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	_, params, err := mime.ParseMediaType(strings.TrimPrefix(strings.Split(string(head), "\r\n")[0], "Content-Type: "))
	if err != nil {
		t.Fatalf("parse header %q: %v", head, err)
	}
	part, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if ct := part.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/x-shellscript") {
		t.Errorf("part Content-Type = %q", ct)
	}
	enc, _ := io.ReadAll(part)
	got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(enc), "\n", ""))
	if err != nil || !bytes.Equal(got, script) {
		t.Errorf("decoded part = %q (%v), want %q", got, err, script)
	}
}

// The double must satisfy the AWS SDK's own IMDS and instance-role clients,
// the ones the service uses on EC2, and insist on IMDSv2 tokens.
func TestIMDSServesTheSDK(t *testing.T) {
	double := NewIMDS("eu-west-1", "bucketls-instance")
	srv := httptest.NewServer(double)
	defer srv.Close()
	ctx := context.Background()
	client := imds.New(imds.Options{Endpoint: srv.URL})

	region, err := client.GetRegion(ctx, nil)
	if err != nil || region.Region != "eu-west-1" {
		t.Fatalf("GetRegion = %v, %v; want eu-west-1", region, err)
	}
	creds, err := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client }).Retrieve(ctx)
	if err != nil || creds.AccessKeyID == "" || creds.SessionToken == "" || !creds.CanExpire {
		t.Fatalf("instance-role credentials = %+v, %v", creds, err)
	}

	resp, err := srv.Client().Get(srv.URL + "/latest/meta-data/placement/region")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("GET without a token: status = %d, want 401 (IMDSv2 only)", resp.StatusCode)
	}
}

func TestS3Seed(t *testing.T) {
	world, err := StartS3()
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	ctx := context.Background()
	if err := world.Seed(ctx, "reference", ""); err != nil {
		t.Fatal(err)
	}
	out, err := world.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("reference")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
		if o.LastModified == nil {
			t.Errorf("%s has no Last-Modified; the AWS CLI needs it", aws.ToString(o.Key))
		}
	}
	if got, want := strings.Join(keys, " "), strings.Join(service.ReferenceKeys(), " "); got != want {
		t.Errorf("seeded keys = %q, want %q", got, want)
	}
}

// The Parameter Store double answers GetParameter as the AWS CLI asks it,
// and gives the plain value only with decryption.
func TestSSMGetParameter(t *testing.T) {
	double := NewSSM("eu-west-1")
	double.PutSecureString("/bucketls/htpasswd", "alice:$2y$05$x\n")
	srv := httptest.NewServer(double)
	defer srv.Close()
	for _, tc := range []struct {
		body       string
		wantStatus int
		wantValue  string
	}{
		{`{"Name":"/bucketls/htpasswd","WithDecryption":true}`, 200, "alice:$2y$05$x\n"},
		{`{"Name":"/bucketls/htpasswd"}`, 200, "AQICAHg-rehearsal-ciphertext-not-a-password-file"},
		{`{"Name":"/nope","WithDecryption":true}`, 400, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
		req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Parameter struct{ Value, Type string } }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || out.Parameter.Value != tc.wantValue {
			t.Errorf("GetParameter %s: %d %q, want %d %q", tc.body, resp.StatusCode, out.Parameter.Value, tc.wantStatus, tc.wantValue)
		}
	}
	if got := strings.Join(double.Requests(), "; "); !strings.Contains(got, "AmazonSSM.GetParameter /bucketls/htpasswd decrypt=true") {
		t.Errorf("requests = %q", got)
	}
}
