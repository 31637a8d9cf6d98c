package s3store

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/fakes3"
	"github.com/bucketls/bucketls/service/internal/listing"
)

// TestMain keeps the SDK away from anything a developer has configured
// and from instance metadata.
func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

const testBucket = "test-bucket"

// referenceKeys is the tree every layer's tests list (service.ReferenceKeys).
var referenceKeys = fakes3.ReferenceKeys

// startFakeS3 serves bucket testBucket holding keys (see fakes3.Start).
func startFakeS3(t testing.TB, keys []string, wrap func(http.Handler) http.Handler) *fakes3.Server {
	t.Helper()
	return fakes3.Start(t, testBucket, keys, wrap)
}

// testS3Client talks to endpoint with test credentials and fast retries
// (the SDK's real backoff would make throttling tests take seconds).
func testS3Client(endpoint string) *s3.Client {
	return NewEndpointClient(endpoint, "test", FastRetries)
}

// names returns n names prefix00000, prefix00001, ...
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

// listNames walks path with l and hands the names of each batch to page.
func listNames(ctx context.Context, l *Lister, path string, page func(names []string, last bool) error) error {
	_, err := l.List(ctx, listing.Request{Path: path}, func(entries []listing.Entry, last bool) error {
		return page(entryNames(entries), last)
	})
	return err
}

// entryNames is the names of entries, in order.
func entryNames(entries []listing.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name
	}
	return out
}

// ls is every name of the listing of path, or the walk's error.
func ls(t testing.TB, l *Lister, path string) ([]string, error) {
	t.Helper()
	var all []string
	err := listNames(context.Background(), l, path, func(names []string, _ bool) error {
		all = append(all, names...)
		return nil
	})
	return all, err
}
