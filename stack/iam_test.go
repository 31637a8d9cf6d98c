package stack

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// parsePolicy decodes a policy document strictly: unknown fields fail.
func parsePolicy(t *testing.T, doc string) policyDocument {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	var p policyDocument
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("policy is not a policy document: %v\n%s", err, doc)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("policy Version = %q, want 2012-10-17", p.Version)
	}
	return p
}

func TestInstancePolicy(t *testing.T) {
	const served = "arn:aws:s3:::served"
	const object = "arn:aws:s3:::artifacts/bucketls/abc/bucketls-linux-amd64"
	const vpce = "vpce-0123456789abcdef0"
	doc := instancePolicy(served, object, vpce)
	p := parsePolicy(t, doc)
	viaEndpoint := map[string]map[string]string{"StringEquals": {"aws:SourceVpce": vpce}}
	want := []policyStatement{
		{Sid: "ListServedBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{served}, Condition: viaEndpoint},
		{Sid: "ReadArtifact", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{object}, Condition: viaEndpoint},
	}
	if !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("instance policy statements = %+v\nwant %+v", p.Statement, want)
	}
	if strings.Contains(doc, "*") {
		t.Errorf("instance policy has a wildcard:\n%s", doc)
	}
}

func TestS3EndpointPolicy(t *testing.T) {
	const served = "arn:aws-cn:s3:::served"
	const object = "arn:aws-cn:s3:::artifacts/bucketls/abc/bucketls-linux-arm64"
	p := parsePolicy(t, s3EndpointPolicy("aws-cn", "cn-north-1", served, object))
	anyone := map[string]string{"AWS": "*"}
	want := []policyStatement{
		{Sid: "ListServedBucket", Effect: "Allow", Principal: anyone, Action: []string{"s3:ListBucket"}, Resource: []string{served}},
		{Sid: "ReadArtifact", Effect: "Allow", Principal: anyone, Action: []string{"s3:GetObject"}, Resource: []string{object}},
		// dnf's repositories, read-only: nothing else of S3 is reachable.
		{Sid: "ReadAmazonLinuxRepositories", Effect: "Allow", Principal: anyone, Action: []string{"s3:GetObject"},
			Resource: []string{"arn:aws-cn:s3:::al2023-repos-cn-north-1-*/*"}},
	}
	if !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("endpoint policy statements = %+v\nwant %+v", p.Statement, want)
	}
}

func TestS3ServiceName(t *testing.T) {
	for _, tc := range []struct{ partition, region, want string }{
		{"aws", "eu-west-1", "com.amazonaws.eu-west-1.s3"},
		{"aws-us-gov", "us-gov-west-1", "com.amazonaws.us-gov-west-1.s3"},
		{"aws-cn", "cn-north-1", "cn.com.amazonaws.cn-north-1.s3"},
	} {
		if got := s3ServiceName(tc.partition, tc.region); got != tc.want {
			t.Errorf("s3ServiceName(%q, %q) = %q, want %q", tc.partition, tc.region, got, tc.want)
		}
	}
}

func TestAssumeRolePolicy(t *testing.T) {
	for partition, service := range map[string]string{"aws": "ec2.amazonaws.com", "aws-cn": "ec2.amazonaws.com.cn"} {
		p := parsePolicy(t, assumeRolePolicy(partition))
		want := []policyStatement{{Effect: "Allow", Principal: map[string]string{"Service": service}, Action: []string{"sts:AssumeRole"}}}
		if !reflect.DeepEqual(p.Statement, want) {
			t.Errorf("assume-role policy (%s) = %+v, want %+v", partition, p.Statement, want)
		}
	}
}

func TestTLSOnlyPolicy(t *testing.T) {
	const bucket = "arn:aws:s3:::b"
	p := parsePolicy(t, tlsOnlyPolicy(bucket))
	want := []policyStatement{{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: map[string]string{"AWS": "*"},
		Action: []string{"s3:*"}, Resource: []string{bucket, bucket + "/*"},
		Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
	}}
	if !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("TLS-only policy = %+v, want %+v", p.Statement, want)
	}
}

func TestSSMManagedPolicyARN(t *testing.T) {
	if got, want := ssmManagedPolicyARN("aws-us-gov"), "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"; got != want {
		t.Errorf("ssmManagedPolicyARN = %q, want %q", got, want)
	}
}
