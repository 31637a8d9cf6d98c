package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/bucketls/bucketls/service"
)

// S3 is an S3-compatible server on host loopback that stands in for Amazon
// S3 in the rehearsal.
type S3 struct {
	URL    string // http://127.0.0.1:<port>
	Client *s3.Client
	server *http.Server
	ln     net.Listener

	mu    sync.Mutex
	lists []string
}

// StartS3 serves an empty in-memory S3 on 127.0.0.1 until Close.
func StartS3() (*S3, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the S3 server: %w", err)
	}
	faker := gofakes3.New(s3mem.New()).Server()
	s := &S3{ln: ln}
	s.server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.recordList(r)
		faker.ServeHTTP(w, r)
	})}
	go func() { _ = s.server.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("rehearsal", "rehearsal", ""),
	})
	s.URL, s.Client = url, client
	return s, nil
}

// recordList notes the bucket and prefix of a listing request (a GET of
// a bucket, path-style, with listing parameters).
func (s *S3) recordList(r *http.Request) {
	q := r.URL.Query()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || bucket == "" || key != "" || !(q.Has("list-type") || q.Has("prefix") || q.Has("delimiter")) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, bucket+" prefix="+q.Get("prefix"))
}

// Lists returns "<bucket> prefix=<prefix>" for each listing request so far.
func (s *S3) Lists() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lists...)
}

// Close stops the server.
func (s *S3) Close() error { return s.server.Close() }

// Put creates bucket if needed and stores body under key. It goes through
// HTTP rather than the backend so objects carry Last-Modified, which the AWS
// CLI requires.
func (s *S3) Put(ctx context.Context, bucket, key string, body []byte) error {
	if err := s.ensureBucket(ctx, bucket); err != nil {
		return err
	}
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// Seed creates bucket holding the service's reference tree
// (service.ReferenceKeys), the one every deploy is checked against, under
// prefix (none when ""); the files hold their own key.
func (s *S3) Seed(ctx context.Context, bucket, prefix string) error {
	for _, key := range service.ReferenceKeys() {
		if prefix != "" {
			key = prefix + "/" + key
		}
		body := []byte(key)
		if key[len(key)-1] == '/' {
			body = nil // a directory marker is a zero-byte object
		}
		if err := s.Put(ctx, bucket, key, body); err != nil {
			return err
		}
	}
	return nil
}

func (s *S3) ensureBucket(ctx context.Context, bucket string) error {
	if _, err := s.Client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	return nil
}
