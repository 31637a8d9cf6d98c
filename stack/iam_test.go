package stack

import (
	"encoding/json"
	"path/filepath"
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
	doc := instancePolicy(instanceAccess{served: servedAccess{bucketARN: served}, artifactObjectARN: object, s3EndpointID: vpce})
	p := parsePolicy(t, doc)
	viaEndpoint := map[string]map[string]conditionValues{"StringEquals": {"aws:SourceVpce": {vpce}}}
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
	p := parsePolicy(t, s3EndpointPolicy("aws-cn", "cn-north-1", servedAccess{bucketARN: served}, object))
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

func TestAssumeRolePolicy(t *testing.T) {
	for partition, service := range map[string]string{"aws": "ec2.amazonaws.com", "aws-cn": "ec2.amazonaws.com.cn"} {
		p := parsePolicy(t, assumeRolePolicy(partition))
		want := []policyStatement{{Effect: "Allow", Principal: map[string]string{"Service": service}, Action: []string{"sts:AssumeRole"}}}
		if !reflect.DeepEqual(p.Statement, want) {
			t.Errorf("assume-role policy (%s) = %+v, want %+v", partition, p.Statement, want)
		}
	}
}

func TestSSMManagedPolicyARN(t *testing.T) {
	if got, want := ssmManagedPolicyARN("aws-us-gov"), "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"; got != want {
		t.Errorf("ssmManagedPolicyARN = %q, want %q", got, want)
	}
}

// TestPolicyDocuments pins policy documents byte for byte, in
// testdata/policies: no policy evaluator that runs here evaluates s3:prefix
// conditions (see TestRootPrefixPolicyEvaluated), so the exact text is what
// the tests can hold. With a root prefix the listing is conditioned on it;
// serveObjects adds s3:GetObject on the served keys and nothing more,
// through the endpoint only, and under a root prefix on its keys only.
// After an intended change: go test ./stack -run TestPolicyDocuments -update,
// and review the diff.
func TestPolicyDocuments(t *testing.T) {
	const artifact = "arn:aws:s3:::artifacts/bucketls/abc/bucketls-linux-amd64"
	const vpce = "vpce-0123456789abcdef0"
	whole := servedAccess{bucketARN: "arn:aws:s3:::served"}
	sub := servedAccess{bucketARN: "arn:aws:s3:::served", rootPrefix: "team/reports"}
	wholeObjects, subObjects := whole, sub
	wholeObjects.objects, subObjects.objects = true, true
	for _, tc := range []struct {
		name string
		doc  string
	}{
		{"instance-root-prefix-password", instancePolicy(instanceAccess{served: sub, artifactObjectARN: artifact, s3EndpointID: vpce,
			htpasswdParameterARN: ssmParameterARN("aws", "eu-west-1", "123456789012", "/bucketls/htpasswd")})},
		{"instance-serve-objects", instancePolicy(instanceAccess{served: wholeObjects, artifactObjectARN: artifact, s3EndpointID: vpce})},
		{"instance-serve-objects-root-prefix", instancePolicy(instanceAccess{served: subObjects, artifactObjectARN: artifact, s3EndpointID: vpce})},
		{"endpoint-serve-objects-root-prefix", s3EndpointPolicy("aws", "eu-west-1", subObjects, artifact)},
	} {
		checkGoldenFile(t, filepath.Join("testdata", "policies", tc.name+".json"), []byte(tc.doc))
	}
	// Without serveObjects, not a word more.
	off := instancePolicy(instanceAccess{served: sub, artifactObjectARN: artifact, s3EndpointID: vpce})
	if strings.Contains(off, "ReadServedObjects") || strings.Contains(s3EndpointPolicy("aws", "eu-west-1", whole, artifact), "ReadServedObjects") {
		t.Errorf("serveObjects off, but a policy reads the served objects:\n%s", off)
	}
}

// TestSSMParameterARN: a parameter name with a hierarchy starts with a
// slash, which the ARN has once; a plain name gets one.
func TestSSMParameterARN(t *testing.T) {
	if got := ssmParameterARN("aws", "eu-west-1", "123456789012", "/bucketls/htpasswd"); got != "arn:aws:ssm:eu-west-1:123456789012:parameter/bucketls/htpasswd" {
		t.Errorf("ARN of a name with a hierarchy = %s", got)
	}
	if got := ssmParameterARN("aws-cn", "cn-north-1", "123456789012", "plain-name"); got != "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/plain-name" {
		t.Errorf("ARN of a name without a hierarchy = %s", got)
	}
}

// TestRootPrefixPolicyEvaluated would show the s3:prefix condition at work
// in a real policy evaluator: a listing inside the prefix allowed, one
// outside denied. None that runs here evaluates it, so it says why and
// skips; TestPolicyDocuments asserts the documents.
func TestRootPrefixPolicyEvaluated(t *testing.T) {
	t.Skip("no policy evaluator here evaluates s3:prefix conditions: moto 5.2.1 (moto_server with INITIAL_NO_AUTH_ACTION_COUNT) " +
		"enforces IAM identity policies but evaluates only StringEquals, and only on sts:ExternalId (moto/iam/policy_conditions.py, " +
		"moto/iam/utils.py format_incoming_conditional_values); it ignores StringLike and never sees s3:prefix. Measured: with " +
		"enforcement on (ListBuckets denied), a user holding only this statement listed Prefix other/ as freely as P/. TestPolicyDocuments asserts the policy documents exactly instead")
}

func TestInstanceRole(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, contentBucket := c.bucketNames(t)
		roleName, role := c.one(t, "aws_iam_role")
		parsePolicy(t, role["assume_role_policy"].(string))
		if role["assume_role_policy"] != assumeRolePolicy("aws") {
			t.Errorf("assume role policy = %v", role["assume_role_policy"])
		}
		_, policy := c.one(t, "aws_iam_role_policy")
		if policy["role"] != ref("aws_iam_role", roleName, "id") {
			t.Errorf("inline policy is on %v, want the instance role", policy["role"])
		}
		servedARN := "arn:aws:s3:::" + c.cfg.BucketName
		if contentBucket != "" {
			servedARN = ref("aws_s3_bucket", contentBucket, "arn")
		}
		objectARN := ref("aws_s3_bucket", artifactBucket, "arn") + "/" + c.res.ArtifactKey
		c.checkInstancePolicy(t, policy["policy"].(string), servedARN, objectARN)
		attachments := c.tf.Resource["aws_iam_role_policy_attachment"]
		if c.cfg.SSM {
			_, a := c.one(t, "aws_iam_role_policy_attachment")
			if a["policy_arn"] != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" || a["role"] != ref("aws_iam_role", roleName, "name") {
				t.Errorf("SSM attachment = %v", a)
			}
		} else if len(attachments) != 0 {
			t.Errorf("ssm off, but the role has attachments: %v", attachments)
		}
		_, profile := c.one(t, "aws_iam_instance_profile")
		if profile["role"] != ref("aws_iam_role", roleName, "name") {
			t.Errorf("instance profile role = %v", profile["role"])
		}
	})
}

// wantInstanceStatements is the instance policy c must have: list the
// served bucket (under the root prefix only, when set) and read the
// artifact, both only through the S3 endpoint, and read the htpasswd
// parameter when set.
func (c *synthCase) wantInstanceStatements(t *testing.T, servedARN, objectARN string) []policyStatement {
	t.Helper()
	viaEndpoint := map[string]conditionValues{"aws:SourceVpce": {ref("aws_vpc_endpoint", c.s3Endpoint(t), "id")}}
	list := policyStatement{Sid: "ListServedBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{servedARN},
		Condition: map[string]map[string]conditionValues{"StringEquals": viaEndpoint}}
	if p := c.cfg.RootPrefix; p != "" {
		list.Condition["StringLike"] = map[string]conditionValues{"s3:prefix": {p + "/", p + "/*"}}
	}
	want := []policyStatement{list}
	if c.cfg.ServeObjects {
		want = append(want, policyStatement{Sid: "ReadServedObjects", Effect: "Allow", Action: []string{"s3:GetObject"},
			Resource: []string{servedKeysARN(servedARN, c.cfg.RootPrefix)}, Condition: map[string]map[string]conditionValues{"StringEquals": viaEndpoint}})
	}
	want = append(want, policyStatement{Sid: "ReadArtifact", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{objectARN},
		Condition: map[string]map[string]conditionValues{"StringEquals": viaEndpoint}})
	if name := c.cfg.HTPasswdParameter; name != "" {
		account := "${data.aws_caller_identity." + only(t, c.tf.Data["aws_caller_identity"]) + ".account_id}"
		want = append(want, policyStatement{Sid: "ReadHtpasswd", Effect: "Allow", Action: []string{"ssm:GetParameter"},
			Resource: []string{"arn:aws:ssm:" + c.cfg.Region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")}})
	}
	return want
}

// checkInstancePolicy checks the instance role's policy doc statement by
// statement, conditions included.
func (c *synthCase) checkInstancePolicy(t *testing.T, doc, servedARN, objectARN string) {
	t.Helper()
	want := c.wantInstanceStatements(t, servedARN, objectARN) // with root prefix and password, if set
	if p := parsePolicy(t, doc); !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("instance policy = %+v\nwant exactly %+v", p.Statement, want)
	}
}

// servedKeysARN is the ARN of the keys serveObjects lets the service
// read: the bucket's, or the root prefix's.
func servedKeysARN(bucketARN, rootPrefix string) string {
	if rootPrefix == "" {
		return bucketARN + "/*"
	}
	return bucketARN + "/" + rootPrefix + "/*"
}
