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
