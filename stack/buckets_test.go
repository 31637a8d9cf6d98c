package stack

import (
	"reflect"
	"sort"
	"testing"
)

func TestBucketsArePrivate(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		// Each bucket has exactly one of each protection, and it says what it should.
		for name, b := range c.tf.Resource["aws_s3_bucket"] {
			if b["force_destroy"] != true {
				t.Errorf("bucket %s: force_destroy = %v, want true so teardown empties it", name, b["force_destroy"])
			}
			id := ref("aws_s3_bucket", name, "id")
			for typ, want := range map[string]map[string]any{
				"aws_s3_bucket_public_access_block": {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true},
				"aws_s3_bucket_ownership_controls":  {"rule": map[string]any{"object_ownership": "BucketOwnerEnforced"}},
				"aws_s3_bucket_server_side_encryption_configuration": {
					"rule": []any{map[string]any{"apply_server_side_encryption_by_default": map[string]any{"sse_algorithm": "AES256"}}},
				},
				"aws_s3_bucket_versioning": {"versioning_configuration": map[string]any{"status": "Enabled"}},
			} {
				var found []map[string]any
				for _, r := range c.tf.Resource[typ] {
					if r["bucket"] == id {
						found = append(found, r)
					}
				}
				if len(found) != 1 {
					t.Errorf("bucket %s has %d %s, want 1", name, len(found), typ)
					continue
				}
				for k, v := range want {
					if !reflect.DeepEqual(found[0][k], v) {
						t.Errorf("bucket %s: %s.%s = %v, want %v", name, typ, k, found[0][k], v)
					}
				}
			}
			var policies []string
			for _, p := range c.tf.Resource["aws_s3_bucket_policy"] {
				if p["bucket"] == id {
					policies = append(policies, p["policy"].(string))
				}
			}
			if want := c.wantBucketPolicy(t, name); len(policies) != 1 || policies[0] != want {
				t.Errorf("bucket %s policies = %q, want only %s", name, policies, want)
			}
		}
	})
}

func TestSeededContent(t *testing.T) {
	def, _, variant := synthesized(t)
	_, content := def.bucketNames(t)
	var keys []string
	for _, o := range def.tf.Resource["aws_s3_object"] {
		if o["bucket"] == ref("aws_s3_bucket", content, "bucket") {
			keys = append(keys, o["key"].(string))
			if o["key"] == "dir1/" && o["content"] != "" {
				t.Errorf("dir1/ marker has content %q", o["content"])
			}
		}
	}
	sort.Strings(keys)
	if want := []string{"dir1/", "dir2/file1", "dir2/file2", "file1", "file2"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("seeded keys = %q, want %q", keys, want)
	}
	if _, c := variant.bucketNames(t); c != "" {
		t.Errorf("variant serves an existing bucket but creates a content bucket %s", c)
	}
}

// wantBucketPolicy is the policy the bucket named name must have: TLS
// only, and for the flow log bucket the log delivery grants.
func (c *synthCase) wantBucketPolicy(t *testing.T, name string) string {
	t.Helper()
	arn := ref("aws_s3_bucket", name, "arn")
	if c.tf.Resource["aws_s3_bucket"][name]["bucket_prefix"] != "bucketls-flow-logs-" {
		return tlsOnlyPolicy(arn)
	}
	account := "${data.aws_caller_identity." + only(t, c.tf.Data["aws_caller_identity"]) + ".account_id}"
	return tlsOnlyPolicy(arn, flowLogDelivery(arn, "aws", c.cfg.Region, account)...)
}

func TestTLSOnlyPolicy(t *testing.T) {
	const bucket = "arn:aws:s3:::b"
	p := parsePolicy(t, tlsOnlyPolicy(bucket))
	want := []policyStatement{{
		Sid: "DenyInsecureTransport", Effect: "Deny", Principal: map[string]string{"AWS": "*"},
		Action: []string{"s3:*"}, Resource: []string{bucket, bucket + "/*"},
		Condition: map[string]map[string]conditionValues{"Bool": {"aws:SecureTransport": {"false"}}},
	}}
	if !reflect.DeepEqual(p.Statement, want) {
		t.Errorf("TLS-only policy = %+v, want %+v", p.Statement, want)
	}
}
