package stack

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3object"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// privateBucket is a bucket that only this account's principals can use.
type privateBucket struct {
	name string // a reference: the name is generated from the prefix
	arn  string
	// ready is the bucket's protection: objects depend on it so that none is
	// ever written before the bucket is private and encrypted.
	ready []cdktf.ITerraformDependable
}

// noncurrentVersionDays is how long a replaced or deleted object version is
// kept: long enough to roll back, short enough not to pay for every build.
const noncurrentVersionDays = 30

// bucketOptions are what one bucket adds to the protection every bucket
// gets; the zero value adds nothing.
type bucketOptions struct {
	// expireDays, when positive, deletes each object that many days after
	// it was written (it is kept noncurrentVersionDays more as an old
	// version): for logs, which nobody replaces.
	expireDays int
	// grants returns what the bucket policy allows beside the TLS-only
	// denial, for the bucket's ARN (a reference).
	grants func(bucketARN string) []policyStatement
}

// newPrivateBucket creates a bucket with a generated name and the same
// protection everywhere: all public access blocked, ACLs disabled (bucket
// owner enforced), SSE-S3 encryption by default, versioning, TLS-only access,
// and a lifecycle rule that expires old versions; opts adds to that.
func newPrivateBucket(scope constructs.Construct, id, namePrefix string, opts bucketOptions) privateBucket {
	c := constructs.NewConstruct(scope, jsii.String(id))
	bucket := s3bucket.NewS3Bucket(c, jsii.String("bucket"), &s3bucket.S3BucketConfig{
		// Bucket names are global: a prefix avoids collisions between deployments.
		BucketPrefix: jsii.String(namePrefix),
		// The stack owns everything in it; without this, teardown stops at the
		// first object (or old version) left in the bucket.
		ForceDestroy: jsii.Bool(true),
	})
	pab := s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(c, jsii.String("public-access-block"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Bucket:                bucket.Id(),
		BlockPublicAcls:       jsii.Bool(true),
		BlockPublicPolicy:     jsii.Bool(true),
		IgnorePublicAcls:      jsii.Bool(true),
		RestrictPublicBuckets: jsii.Bool(true),
	})
	ownership := s3bucketownershipcontrols.NewS3BucketOwnershipControls(c, jsii.String("ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Bucket: bucket.Id(),
		// ACLs off: access is decided by IAM and the bucket policy alone.
		Rule: &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: jsii.String("BucketOwnerEnforced")},
	})
	sse := s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(c, jsii.String("encryption"), &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
		Bucket: bucket.Id(),
		Rule: &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
			// SSE-S3 (AES256), not a customer KMS key: a KMS key costs a
			// monthly fee and would need kms:Decrypt in the instance policy,
			// which grants exactly two S3 actions.
			ApplyServerSideEncryptionByDefault: &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
				SseAlgorithm: jsii.String("AES256"),
			},
		}},
	})
	versioning := s3bucketversioning.NewS3BucketVersioningA(c, jsii.String("versioning"), &s3bucketversioning.S3BucketVersioningAConfig{
		Bucket: bucket.Id(),
		// Versions keep overwritten or deleted objects recoverable.
		VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: jsii.String("Enabled")},
	})
	newLifecycle(c, bucket.Id(), versioning, opts.expireDays)
	var grants []policyStatement
	if opts.grants != nil {
		grants = opts.grants(*bucket.Arn())
	}
	policy := s3bucketpolicy.NewS3BucketPolicy(c, jsii.String("tls-only"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: bucket.Id(),
		Policy: jsii.String(tlsOnlyPolicy(*bucket.Arn(), grants...)),
		// AWS rejects a bucket policy while the public access block is
		// being written; order them.
		DependsOn: &[]cdktf.ITerraformDependable{pab},
	})
	return privateBucket{
		name:  *bucket.Bucket(),
		arn:   *bucket.Arn(),
		ready: []cdktf.ITerraformDependable{pab, ownership, sse, versioning, policy},
	}
}

// newLifecycle expires old versions and abandoned multipart uploads in the
// bucket, and with expireDays > 0 the objects themselves.
func newLifecycle(c constructs.Construct, bucketID *string, versioning cdktf.ITerraformDependable, expireDays int) {
	rules := []*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{{
		Id:     jsii.String("expire-old-versions"),
		Status: jsii.String("Enabled"),
		Filter: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{{Prefix: jsii.String("")}},
		NoncurrentVersionExpiration: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration{{
			NoncurrentDays: jsii.Number(noncurrentVersionDays),
		}},
		AbortIncompleteMultipartUpload: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{{
			DaysAfterInitiation: jsii.Number(7),
		}},
	}}
	if expireDays > 0 {
		rules = append(rules, &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{
			Id:         jsii.String("expire-objects"),
			Status:     jsii.String("Enabled"),
			Filter:     &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{{Prefix: jsii.String("")}},
			Expiration: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleExpiration{{Days: jsii.Number(float64(expireDays))}},
		})
	}
	s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(c, jsii.String("lifecycle"), &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
		Bucket: bucketID,
		Rule:   &rules,
		// The rule needs versioning to exist first, or AWS may reject it.
		DependsOn: &[]cdktf.ITerraformDependable{versioning},
	})
}

// tlsOnlyPolicy denies every request to the bucket that does not use TLS,
// and allows the grants (none for most buckets: IAM decides).
func tlsOnlyPolicy(bucketARN string, grants ...policyStatement) string {
	return policyDocument{
		Version: "2012-10-17",
		Statement: append([]policyStatement{{
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: map[string]string{"AWS": "*"},
			Action:    []string{"s3:*"},
			Resource:  []string{bucketARN, bucketARN + "/*"},
			Condition: map[string]map[string]conditionValues{"Bool": {"aws:SecureTransport": {"false"}}},
		}}, grants...),
	}.String()
}

// referenceTree is the seeded content: the listing tree the README and the
// end-to-end tests use. "dir1/" is an empty folder marker. Each object's
// construct ID is a fixed string, as construct IDs must be (an ID built
// from a key would rename the resource when the key changes). The service
// has its own copy (service.ReferenceKeys; the stack does not import the
// service), and e2e/agree_test.go holds the two to each other.
var referenceTree = []struct{ id, key, content string }{
	{"seed-dir1", "dir1/", ""},
	{"seed-dir2-file1", "dir2/file1", "bucketls reference tree: dir2/file1\n"},
	{"seed-dir2-file2", "dir2/file2", "bucketls reference tree: dir2/file2\n"},
	{"seed-file1", "file1", "bucketls reference tree: file1\n"},
	{"seed-file2", "file2", "bucketls reference tree: file2\n"},
}

// ReferenceKeys returns the keys the stack seeds a bucket it creates with
// (see Config.BucketName), in S3's order.
func ReferenceKeys() []string {
	keys := make([]string, len(referenceTree))
	for i, obj := range referenceTree {
		keys[i] = obj.key
	}
	return keys
}

// seedKey is where key of the reference tree is seeded: under rootPrefix
// and a slash, the subtree the service then lists, or at the top.
func seedKey(rootPrefix, key string) string {
	if rootPrefix == "" {
		return key
	}
	return rootPrefix + "/" + key
}

// content is the bucket the service lists, when the stack creates it.
type content struct {
	bucket privateBucket
	// seeded are the reference objects: the instance depends on them so a
	// fresh deploy lists them at its first answer.
	seeded []cdktf.ITerraformDependable
}

// newContent creates a private bucket for the service to list and seeds it
// with the reference tree, under rootPrefix and a slash when rootPrefix is
// set. The construct IDs stay the same with and without a prefix.
func newContent(scope constructs.Construct, id, rootPrefix string) content {
	c := constructs.NewConstruct(scope, jsii.String(id))
	b := newPrivateBucket(c, "bucket", "bucketls-content-", bucketOptions{})
	var seeded []cdktf.ITerraformDependable
	for _, obj := range referenceTree {
		seeded = append(seeded, s3object.NewS3Object(c, jsii.String(obj.id), &s3object.S3ObjectConfig{
			Bucket:      jsii.String(b.name),
			Key:         jsii.String(seedKey(rootPrefix, obj.key)),
			Content:     jsii.String(obj.content),
			ContentType: jsii.String("text/plain; charset=utf-8"),
			DependsOn:   &b.ready,
		}))
	}
	return content{bucket: b, seeded: seeded}
}
