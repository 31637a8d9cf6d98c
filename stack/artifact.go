package stack

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3object"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// artifact is the service binary as an S3 object.
type artifact struct {
	bucketName string // a reference: the bucket's name is generated
	bucketARN  string
	key        string // contains the binary's SHA-256
	objectARN  string
	uri        string // s3://bucket/key
	sha256     string
	// assetPath is where synth copies the binary, relative to the stack
	// directory (assets/<asset id>/<content hash>/bucketls).
	assetPath string
	// object is the S3 object: an instance must depend on it, or it can boot
	// before its artifact is there.
	object cdktf.ITerraformDependable
}

// artifactKey is the S3 key of a build. It contains the SHA-256, so every
// build is a new object and a new key in the user data, which replaces the
// instance (user_data_replace_on_change).
func artifactKey(bin binary) string {
	return fmt.Sprintf("bucketls/%s/bucketls-linux-%s", bin.sha256, bin.arch)
}

// newArtifact creates the private artifact bucket and uploads bin into it.
func newArtifact(scope constructs.Construct, id string, bin binary) artifact {
	c := constructs.NewConstruct(scope, jsii.String(id))
	bucket := newPrivateBucket(c, "bucket", "bucketls-artifacts-", bucketOptions{})
	// A single-file asset, not an archive: zip timestamps would change the
	// hash on every build. The path is absolute, so it does not depend on
	// where cdktf.json is.
	asset := cdktf.NewTerraformAsset(c, jsii.String("binary"), &cdktf.TerraformAssetConfig{
		Path: jsii.String(bin.path),
		Type: cdktf.AssetType_FILE,
	})
	key := artifactKey(bin)
	object := s3object.NewS3Object(c, jsii.String("object"), &s3object.S3ObjectConfig{
		Bucket:      jsii.String(bucket.name),
		Key:         jsii.String(key),
		Source:      asset.Path(),
		ContentType: jsii.String("application/octet-stream"),
		// source_hash, not etag: an etag is not the content MD5 for
		// encrypted or multipart objects. It carries the SHA-256 that the
		// key and the user data carry too.
		SourceHash: jsii.String(bin.sha256),
		DependsOn:  &bucket.ready,
	})
	return artifact{
		bucketName: bucket.name,
		bucketARN:  bucket.arn,
		key:        key,
		objectARN:  bucket.arn + "/" + key,
		uri:        "s3://" + bucket.name + "/" + key,
		sha256:     bin.sha256,
		assetPath:  *asset.Path(),
		object:     object,
	}
}
