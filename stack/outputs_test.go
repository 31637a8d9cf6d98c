package stack

import (
	"fmt"
	"reflect"
	"testing"
)

func TestOutputs(t *testing.T) {
	both(t, func(t *testing.T, c *synthCase) {
		artifactBucket, content := c.bucketNames(t)
		inst, _ := c.one(t, "aws_instance")
		dns := ref("aws_instance", inst, "public_dns")
		bucket := c.cfg.BucketName
		if content != "" {
			bucket = ref("aws_s3_bucket", content, "bucket")
		}
		want := map[string]string{
			"url":          "http://" + dns + "/list-bucket-content",
			"instance_id":  ref("aws_instance", inst, "id"),
			"bucket_name":  bucket,
			"artifact_uri": "s3://" + ref("aws_s3_bucket", artifactBucket, "bucket") + "/" + c.res.ArtifactKey,
		}
		if c.cfg.TLS {
			want["https_url"] = "https://" + dns + "/list-bucket-content"
		}
		got := map[string]string{}
		for name, o := range c.tf.Output {
			got[name] = fmt.Sprint(o["value"])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("outputs = %v\nwant %v", got, want)
		}
	})
}

func TestHAOutputs(t *testing.T) {
	bothHA(t, func(t *testing.T, c *synthCase) {
		p := c.haParts(t)
		artifactBucket, content := c.bucketNames(t)
		bucket := c.cfg.BucketName
		if content != "" {
			bucket = ref("aws_s3_bucket", content, "bucket")
		}
		dns := ref("aws_lb", p.lb, "dns_name")
		want := map[string]string{
			"url":                    "http://" + dns + "/list-bucket-content",
			"autoscaling_group_name": ref("aws_autoscaling_group", p.asg, "name"),
			"bucket_name":            bucket,
			"artifact_uri":           "s3://" + ref("aws_s3_bucket", artifactBucket, "bucket") + "/" + c.res.ArtifactKey,
		}
		if c.cfg.CertificateARN != "" {
			want["url"] = "https://" + dns + "/list-bucket-content"
			want["https_url"] = want["url"]
		}
		got := map[string]string{}
		for name, o := range c.tf.Output {
			got[name] = fmt.Sprint(o["value"])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("outputs = %v\nwant %v", got, want)
		}
	})
}
