package service

import (
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestLimitedPageAsksOnlyWhatItNeeds checks the S3 calls of a limited
// page: one call, for the limit and one more (at most S3's 1,000); a page
// that fills up at an S3 page boundary takes S3's "more follows" for its
// answer instead of asking again.
func TestLimitedPageAsksOnlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	f.put(t, names("big/f", 2600)...)
	for _, tt := range []struct {
		limit   int
		maxKeys []int32 // of each call, in order
	}{
		{1000, []int32{1000}},
		{999, []int32{1000}},
		{10, []int32{11}},
	} {
		rec := &recordingS3{next: testS3Client(f.URL())}
		srv := testServer(t, NewS3Lister(rec, testBucket, S3ListerOptions{}), Config{})
		p := decodePage(t, get(t, srv.URL, "/list-bucket-content/big?limit="+strconv.Itoa(tt.limit)).body, false)
		if len(p.names) != tt.limit || p.next == "" {
			t.Fatalf("limit=%d: %d names, next %q", tt.limit, len(p.names), p.next)
		}
		var got []int32
		for _, in := range rec.calls() {
			got = append(got, aws.ToInt32(in.MaxKeys))
		}
		if !slices.Equal(got, tt.maxKeys) {
			t.Errorf("limit=%d: MaxKeys of the S3 calls %v, want %v", tt.limit, got, tt.maxKeys)
		}
	}
}
