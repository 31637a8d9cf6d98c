package service

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// envVersityGW opts in to TestVersityGW: the path of a versitygw binary,
// e.g. after GOBIN=/tmp/tools go install github.com/versity/versitygw/cmd/versitygw@v1.8.0.
const envVersityGW = "BUCKETLS_VERSITYGW"

// TestVersityGW checks the lister against a real S3 implementation rather
// than gofakes3: versitygw's posix backend behaves like S3 where gofakes3
// does not (a "dir/" marker at the parent level is a common prefix, a full
// last page says it is the last). It needs a versitygw binary, so it is
// opt-in; once opted in, a missing binary fails the test instead of
// skipping it.
func TestVersityGW(t *testing.T) {
	bin := os.Getenv(envVersityGW)
	if bin == "" {
		t.Skipf("set %s to a versitygw binary to run (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)", envVersityGW)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", envVersityGW, bin, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root := t.TempDir()
	cmd := exec.Command(bin, "--access", "test", "--secret", "test", "--port", addr, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	endpoint := "http://" + addr
	ctx := context.Background()
	client := s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, s3Options(endpoint, true))
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		body := "x"
		if strings.HasSuffix(key, "/") {
			body = ""
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
	}
	for _, k := range ReferenceKeys() {
		put(k)
	}
	files := names("f", 2500)
	for _, n := range files {
		put("big/" + n)
	}
	subdirs := names("d", 300)
	for _, d := range subdirs {
		put("tree/" + d + "/a")
	}
	awkward := []string{"a b", "a+b", "100%", "%41", "emoji 🎉", "ümlaut"}
	for _, n := range awkward {
		put("odd/" + n)
	}
	slices.Sort(awkward)

	srv := testServer(t, NewS3Lister(testS3Client(endpoint), testBucket, S3ListerOptions{}), Config{})
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/list-bucket-content", 200, `{"content":["big","dir1","dir2","file1","file2","odd","tree"]}`},
		{"/list-bucket-content/dir1", 200, `{"content":[]}`},
		{"/list-bucket-content/dir2", 200, `{"content":["file1","file2"]}`},
		{"/list-bucket-content/dir2/", 200, `{"content":["file1","file2"]}`},
		{"/list-bucket-content/dir2/file1", 200, `{"content":["file1"]}`},
		{"/list-bucket-content/nope", 404, `{"error":"not found: nope"}`},
		{"/list-bucket-content/dir2/file1/", 404, ""},
	} {
		r := get(t, srv.URL, tt.path)
		if r.status != tt.status || (tt.body != "" && r.body != tt.body) {
			t.Errorf("GET %s: %d %s; want %d %s", tt.path, r.status, r.body, tt.status, tt.body)
		}
	}
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"big", files},
		{"tree", subdirs},
		{"odd", awkward},
	} {
		r := get(t, srv.URL, "/list-bucket-content/"+tt.path)
		if got := listing(t, r.body); !slices.Equal(got, tt.want) {
			t.Errorf("GET %s: %d names, want %d; first diff at %d", tt.path, len(got), len(tt.want), firstDiff(got, tt.want))
		}
	}
	for _, n := range awkward {
		if r := get(t, srv.URL, "/list-bucket-content/odd/"+url.PathEscape(n)); r.status != 200 || !slices.Equal(listing(t, r.body), []string{n}) {
			t.Errorf("GET odd/%s: %d %s", n, r.status, r.body)
		}
	}
	wrong := testServer(t, NewS3Lister(testS3Client(endpoint), "no-such-bucket", S3ListerOptions{}), Config{})
	if r := get(t, wrong.URL, "/list-bucket-content"); r.status != 502 {
		t.Errorf("GET on a missing bucket: %d %s, want 502", r.status, r.body)
	}
}
