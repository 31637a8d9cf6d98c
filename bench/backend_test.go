package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/bucketls/bucketls/service"
	"github.com/johannesboyne/gofakes3"
)

// TestSortedBackend checks the seeking backend lists exactly like
// gofakes3's own in-memory backend, through the service's S3 lister, so the
// benchmark measures the same answers the tests check.
func TestSortedBackend(t *testing.T) {
	keys := []string{"dir1/", "dir2/file1", "dir2/file2", "file1", "file2", "a", "a!x", "a/b", "a/c/d"}
	for i := range 2500 {
		keys = append(keys, "big/"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
	}
	for i := range 1200 {
		keys = append(keys, "tree/d"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+"/x", "tree/d"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+"/y")
	}
	mem, err := service.NewMemBackend(benchBucket, keys)
	if err != nil {
		t.Fatal(err)
	}
	listers := map[string]*service.S3Lister{}
	for name, b := range map[string]gofakes3.Backend{"s3mem": mem, "sorted": newSortedBackend(benchBucket, keys)} {
		srv := httptest.NewServer(gofakes3.New(b).Server())
		t.Cleanup(srv.Close)
		listers[name] = service.NewS3Lister(service.NewStaticS3Client(srv.URL), benchBucket, service.S3ListerOptions{})
	}
	list := func(l *service.S3Lister, path string) []string {
		var out []string
		_, err := l.List(context.Background(), service.ListRequest{Path: path}, func(entries []service.Entry, last bool) error {
			for _, e := range entries {
				out = append(out, e.Name)
			}
			return nil
		})
		if err != nil {
			return []string{"error: " + err.Error()}
		}
		return out
	}
	for _, path := range []string{"", "dir1", "dir2", "dir2/file1", "a", "big", "tree", "tree/dab", "nope"} {
		want, got := list(listers["s3mem"], path), list(listers["sorted"], path)
		if failed := len(got) == 1 && strings.HasPrefix(got[0], "error: "); failed != (path == "nope") {
			t.Errorf("list %q: %q", path, got)
		}
		if !slices.Equal(got, want) {
			t.Errorf("list %q: sorted backend gives %d names, s3mem %d (%.80q vs %.80q)", path, len(got), len(want), got, want)
		}
	}
	if n := len(list(listers["sorted"], "tree")); n != 676 {
		t.Errorf("tree: %d sub-directories, want 676", n)
	}
}

// TestParseWrk checks the parser against a real wrk 4.2 report.
func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://127.0.0.1:8080/list-bucket-content/dir2
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.70ms    2.49ms  40.33ms   79.05%
    Req/Sec     8.91k     1.01k   11.07k    70.00%
  Latency Distribution
     50%    3.21ms
     75%    4.71ms
     90%    6.56ms
     99%   12.33ms
  88662 requests in 5.00s, 17.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  17720.64
Transfer/sec:      3.50MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 17720.64 || r.p50.Microseconds() != 3210 || r.p99.Microseconds() != 12330 || r.non2xx != 7 || r.errors != 3 || r.requests != 88662 {
		t.Errorf("parseWrk = %+v", r)
	}
}
