package service

import (
	"context"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/s3store"
)

// These benchmarks are for profiling the per-listing CPU cost, not for
// figures (the benchmark command prints those):
//
//	go test ./service -run '^$' -bench 'UncachedListing|ListObjectsV2' -cpuprofile /tmp/cpu.out
//	go tool pprof -top -nodecount 40 service.test /tmp/cpu.out
//
// S3 is a canned one-page answer on 127.0.0.1, so the profile is the
// client's and the handler's work, not a fake S3's.

// cannedS3 answers every ListObjectsV2 with two objects under the asked
// prefix.
func cannedS3(b *testing.B) string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := html.EscapeString(r.URL.Query().Get("prefix"))
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><Contents><Key>%sfile1</Key><LastModified>2026-11-26T10:00:00.000Z</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>%sfile2</Key><LastModified>2026-11-26T10:00:00.000Z</LastModified><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`,
			testBucket, prefix, prefix, prefix)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkUncachedListing serves distinct one-page listings through the
// whole handler (access log to a JSON handler, metrics, path checks, JSON)
// and the production S3 client, as the "1000 dirs" benchmark rows do.
func BenchmarkUncachedListing(b *testing.B) {
	endpoint := cannedS3(b)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil)) // formatted as in production
	srv := NewServer(logger, NewS3Lister(s3store.NewStaticClient(endpoint), testBucket, S3ListerOptions{}), nil, Config{})
	var n atomic.Int64
	b.ReportAllocs()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/list-bucket-content/many/d%04d", n.Add(1)%1000), nil)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "file2") {
				b.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
			}
		}
	})
}

// BenchmarkListObjectsV2 is one ListObjectsV2 call with a stock client (the
// SDK's defaults, path style, checksums when required) and with the
// service's.
func BenchmarkListObjectsV2(b *testing.B) {
	endpoint := cannedS3(b)
	clients := map[string]*s3.Client{
		"stock": s3.New(s3.Options{
			Region:                     "us-east-1",
			Credentials:                credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint:               aws.String(endpoint),
			UsePathStyle:               true,
			HTTPClient:                 s3store.HTTPClient(),
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
			ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		}),
		"service": s3store.NewStaticClient(endpoint),
	}
	for _, name := range []string{"stock", "service"} {
		client := clients[name]
		b.Run(name, func(b *testing.B) {
			var n atomic.Int64
			b.ReportAllocs()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
						Bucket:    aws.String(testBucket),
						Prefix:    aws.String(fmt.Sprintf("many/d%04d/", n.Add(1)%1000)),
						Delimiter: aws.String("/"),
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// reportCPU reports the process CPU (user and system, the canned S3
// included) per operation, which a busy machine does not skew the way it
// skews ns/op. Use: defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	start := processCPU(b)
	return func() {
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// viewEntries are n files with sizes and dates spread as the benchmark's
// view directories have them.
func viewEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		name := fmt.Sprintf("file%05d.dat", i)
		h := fnv.New32a()
		_, _ = h.Write([]byte(name))
		out[i] = Entry{Name: name, Size: int64(h.Sum32() % (16 << 20)), Modified: time.Unix(int64(h.Sum32()), 0), ETag: `"d41d8cd98f00b204e9800998ecf8427e"`}
	}
	return out
}

// BenchmarkSortView is a view's sort of 10,000 entries, for profiling:
//
//	go test ./service -run '^$' -bench 'SortView|ViewHandler' -cpuprofile /tmp/cpu.out
func BenchmarkSortView(b *testing.B) {
	src := viewEntries(10_000)
	for _, q := range []listOptions{{sort: sortSize, desc: true}, {sort: sortName}, {sort: sortModified}} {
		b.Run(sortNames[q.sort], func(b *testing.B) {
			e := make([]Entry, len(src))
			for b.Loop() {
				copy(e, src)
				sortView(e, q)
			}
		})
	}
}

// BenchmarkViewHandler is the handler's whole work for a 10,000-entry
// directory, plain, sorted and filtered, without S3: what a view costs
// on top of the walk when the page cache is warm.
func BenchmarkViewHandler(b *testing.B) {
	h := NewServer(discard, &entriesLister{batch: 1000, entries: viewEntries(10_000)}, nil, Config{})
	for _, q := range []string{"", "?sort=size&order=desc", "?match=7"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/list-bucket-content/d"+q, nil))
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
