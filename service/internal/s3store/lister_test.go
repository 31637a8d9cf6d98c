package s3store

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// TestLimitedPageAsksOnlyWhatItNeeds checks the S3 calls of a limited
// page: one call, for the limit and one more (at most S3's 1,000); a page
// that fills up at an S3 page boundary takes S3's "more follows" for its
// answer instead of asking again.
func TestLimitedPageAsksOnlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	f.Put(t, names("big/f", 2600)...)
	for _, tt := range []struct {
		limit   int
		maxKeys []int32 // of each call, in order
	}{
		{1000, []int32{1000}},
		{999, []int32{1000}},
		{10, []int32{11}},
	} {
		rec := &maxKeysS3{next: testS3Client(f.URL())}
		n := 0
		next, err := New(rec, testBucket, Options{}).List(context.Background(), listing.Request{Path: "big", Limit: tt.limit}, func(e []listing.Entry, _ bool) error {
			n += len(e)
			return nil
		})
		if err != nil || n != tt.limit || next == nil {
			t.Fatalf("limit=%d: %d names, next %v, %v", tt.limit, n, next, err)
		}
		if got := rec.maxKeys; !slices.Equal(got, tt.maxKeys) {
			t.Errorf("limit=%d: MaxKeys of the S3 calls %v, want %v", tt.limit, got, tt.maxKeys)
		}
	}
}

// maxKeysS3 records the MaxKeys of each call it passes on.
type maxKeysS3 struct {
	next    s3.ListObjectsV2APIClient
	maxKeys []int32
}

func (r *maxKeysS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	r.maxKeys = append(r.maxKeys, aws.ToInt32(in.MaxKeys))
	return r.next.ListObjectsV2(ctx, in, opts...)
}
