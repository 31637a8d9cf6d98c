package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/s3store"
)

// envVersityGW opts in to TestVersityGW: the path of a versitygw binary,
// e.g. after GOBIN=/tmp/tools go install github.com/versity/versitygw/cmd/versitygw@v1.8.0.
const envVersityGW = "BUCKETLS_VERSITYGW"

// TestVersityGW checks the lister against a real S3 implementation rather
// than gofakes3: versitygw's posix backend behaves like S3 where gofakes3
// does not (a "dir/" marker at the parent level is a common prefix, a full
// last page says it is the last), and client paging and prefix= are
// checked against it too. It needs a versitygw binary, so it is opt-in
// (.ci/run installs one); once opted in, a missing binary fails the test
// instead of skipping it.
func TestVersityGW(t *testing.T) {
	endpoint, client := versityBucket(t)
	var keys []string
	keys = append(keys, ReferenceKeys()...)
	files := names("f", 2600) // over two S3 pages and a half
	for _, n := range files {
		keys = append(keys, "big/"+n)
	}
	subdirs := names("d", 300)
	for _, d := range subdirs {
		keys = append(keys, "tree/"+d+"/a")
	}
	awkward := []string{"a b", "a+b", "100%", "%41", "emoji 🎉", "ümlaut"}
	for _, n := range awkward {
		keys = append(keys, "odd/"+n)
	}
	slices.Sort(awkward)
	// Names that sort between "a" and "a/" around a directory a/, with
	// its marker, so a page boundary falls inside the run that dedupe
	// watches.
	keys = append(keys, "mixed/a!", "mixed/a-b", "mixed/a.b", "mixed/a/", "mixed/a/x", "mixed/a0", "mixed/b")
	putAll(t, client, keys)

	srv := testServer(t, NewS3Lister(testS3Client(endpoint), testBucket, S3ListerOptions{}), Config{})
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/list-bucket-content", 200, `{"content":["big","dir1","dir2","file1","file2","mixed","odd","tree"]}`},
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
		{"mixed", []string{"a!", "a-b", "a.b", "a", "a0", "b"}}, // a directory sorts as "a/"
	} {
		r := get(t, srv.URL, "/list-bucket-content/"+tt.path)
		if got := contentOf(t, r.body); !slices.Equal(got, tt.want) {
			t.Errorf("GET %s: %d names, want %d; first diff at %d", tt.path, len(got), len(tt.want), firstDiff(got, tt.want))
		}
	}
	for _, n := range awkward {
		if r := get(t, srv.URL, "/list-bucket-content/odd/"+url.PathEscape(n)); r.status != 200 || !slices.Equal(contentOf(t, r.body), []string{n}) {
			t.Errorf("GET odd/%s: %d %s", n, r.status, r.body)
		}
	}
	checkVersityPaging(t, srv.URL)
	checkObjectAndDirectory(t, client, srv.URL)
	wrong := testServer(t, NewS3Lister(testS3Client(endpoint), "no-such-bucket", S3ListerOptions{}), Config{})
	if r := get(t, wrong.URL, "/list-bucket-content"); r.status != 502 {
		t.Errorf("GET on a missing bucket: %d %s, want 502", r.status, r.body)
	}
}

// versityBucket starts versitygw (see startVersityGW) with the bucket
// testBucket and returns its endpoint and a client to fill it with.
func versityBucket(t *testing.T) (string, *s3.Client) {
	t.Helper()
	endpoint := startVersityGW(t)
	client := s3.New(s3.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, s3store.ClientOptions(endpoint, true))
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	return endpoint, client
}

// startVersityGW starts the versitygw binary named by envVersityGW with a
// posix backend in a temporary directory, on 127.0.0.1, stopped with the
// test, and returns its endpoint. It skips the test when envVersityGW is
// not set.
func startVersityGW(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(envVersityGW)
	if bin == "" {
		t.Skipf("set %s to a versitygw binary to run (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)", envVersityGW)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", envVersityGW, bin, err)
	}
	addr := freeAddr(t)
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
	return "http://" + addr
}

// putAll uploads keys, eight at a time (one at a time, the 3,000 keys
// take most of the test's time); keys ending in "/" are empty markers.
func putAll(t *testing.T, client *s3.Client, keys []string) {
	t.Helper()
	ctx := context.Background()
	work := make(chan string)
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for key := range work {
				body := "x"
				if strings.HasSuffix(key, "/") {
					body = ""
				}
				if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
					errs <- fmt.Errorf("put %q: %w", key, err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkVersityPaging follows next with a few limits, for names and
// details, and checks that the pages put together are exactly the unpaged
// listing; and that prefix= equals filtering the full listing. The limits
// put page boundaries inside and at the end of S3's 1,000-key pages, and
// inside the run of names between "a" and "a/" in mixed.
func checkVersityPaging(t *testing.T, base string) {
	t.Helper()
	for _, tt := range []struct {
		dir    string
		limits []int
	}{
		{"", []int{1, 3, 1000}},
		{"big", []int{999, 1000}},
		{"tree", []int{64, 1000}},
		{"odd", []int{1, 4}},
		{"mixed", []int{1, 2, 3}},
		{"dir1", []int{1}},
	} {
		path := "/list-bucket-content"
		if tt.dir != "" {
			path += "/" + tt.dir
		}
		for _, details := range []bool{false, true} {
			opt := ""
			if details {
				opt = "&details=true"
			}
			full := decodePage(t, get(t, base, path+"?"+strings.TrimPrefix(opt, "&")).body, details)
			if len(full.names) == 0 && tt.dir != "dir1" {
				t.Fatalf("GET %s%s: empty listing", path, opt)
			}
			for _, limit := range tt.limits {
				got := pageThrough(t, base, path, fmt.Sprintf("limit=%d%s", limit, opt), limit, details)
				if !slices.Equal(got.names, full.names) {
					t.Errorf("GET %s?limit=%d%s, all pages: %d names, want %d; first diff at %d", path, limit, opt, len(got.names), len(full.names), firstDiff(got.names, full.names))
				}
				if details && !slices.EqualFunc(got.details, full.details, sameDetail) {
					t.Errorf("GET %s?limit=%d%s, all pages: details differ from the unpaged listing", path, limit, opt)
				}
			}
			for _, p := range namePrefixes(full.names) {
				want := page{names: []string{}, details: []detailEntry{}}
				for i, n := range full.names {
					if strings.HasPrefix(n, p) {
						want.names = append(want.names, n)
						if details {
							want.details = append(want.details, full.details[i])
						}
					}
				}
				q := "prefix=" + url.QueryEscape(p) + opt
				r := get(t, base, path+"?"+q)
				if r.status != 200 {
					t.Errorf("GET %s?%s: %d %s", path, q, r.status, r.body)
					continue
				}
				got := decodePage(t, r.body, details)
				if !slices.Equal(got.names, want.names) && len(got.names)+len(want.names) > 0 {
					t.Errorf("GET %s?%s: %q, want %q", path, q, got.names, want.names)
				}
				if details && !slices.EqualFunc(got.details, want.details, sameDetail) {
					t.Errorf("GET %s?%s: details differ from the full listing's", path, q)
				}
			}
		}
	}
	// A prefix and a limit together: the pages of a prefix listing.
	var want []string
	for _, n := range names("f", 2600) {
		if strings.HasPrefix(n, "f01") {
			want = append(want, n)
		}
	}
	if got := pageThrough(t, base, "/list-bucket-content/big", "limit=300&prefix=f01", 300, false); !slices.Equal(got.names, want) {
		t.Errorf("GET big?limit=300&prefix=f01, all pages: %d names, want %d; first diff at %d", len(got.names), len(want), firstDiff(got.names, want))
	}
}

// pageThrough follows next from path?query until it is absent and returns
// every page's entries in order. Each page must hold at most limit
// entries, all but the last exactly limit, and carry a Link header exactly
// when it has a next.
func pageThrough(t *testing.T, base, path, query string, limit int, details bool) page {
	t.Helper()
	var all page
	q := query
	for pages := 1; ; pages++ {
		if pages > 10_000 {
			t.Fatalf("GET %s?%s: paging does not end", path, query)
		}
		r := get(t, base, path+"?"+q)
		if r.status != 200 {
			t.Fatalf("GET %s?%s: %d %s", path, q, r.status, r.body)
		}
		p := decodePage(t, r.body, details)
		if len(p.names) > limit || (p.next != "" && len(p.names) != limit) {
			t.Fatalf("GET %s?%s: %d entries with next %q, limit %d", path, q, len(p.names), p.next, limit)
		}
		if link := r.header.Get("Link"); (link != "") != (p.next != "") {
			t.Fatalf("GET %s?%s: Link %q with next %q", path, q, link, p.next)
		}
		all.names = append(all.names, p.names...)
		all.details = append(all.details, p.details...)
		if p.next == "" {
			return all
		}
		q = query + "&cursor=" + p.next
	}
}

// sameDetail compares two details entries by value.
func sameDetail(a, b detailEntry) bool {
	sa, sb := a.Size != nil, b.Size != nil
	if sa != sb || (sa && *a.Size != *b.Size) {
		return false
	}
	a.Size, b.Size = nil, nil
	return a == b
}

// checkObjectAndDirectory covers an object and a directory of one name
// where versitygw can store them. Its posix backend maps keys to files and
// directories, so it refuses the second key (409 ObjectParentIsFile) and
// the case stays with the gofakes3 tests (TestPagingProperties), which
// hold both; if a versitygw ever accepts it, the directory must win.
func checkObjectAndDirectory(t *testing.T, client *s3.Client, base string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []string{"both/x", "both/x/y"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Logf("versitygw cannot hold an object and a directory of one name (put %q: %v); TestPagingProperties covers it on gofakes3", k, err)
			return
		}
	}
	for _, q := range []string{"", "?limit=1", "?details=true", "?details=true&limit=1"} {
		r := get(t, base, "/list-bucket-content/both"+q)
		want := `{"content":["x"]}`
		if strings.Contains(q, "details") {
			want = `{"content":[{"name":"x","type":"directory"}]}`
		}
		if r.status != 200 || r.body != want {
			t.Errorf("GET both%s: %d %s, want 200 %s", q, r.status, r.body, want)
		}
	}
}

// TestVersityGWFiles checks --serve-objects against a real S3
// implementation: its ranges, its 416 and its If-Match are S3's, not
// gofakes3's (which ignores If-Match), and a large object is streamed
// with its SHA-256 checked.
func TestVersityGWFiles(t *testing.T) {
	endpoint, client := versityBucket(t)
	ctx := context.Background()
	const big = 8 << 20
	bigBody, err := io.ReadAll(&generated{size: big})
	if err != nil {
		t.Fatal(err)
	}
	gz := "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xcbH\xcd\xc9\xc9\xd7Q(\xcf/\xcaIQ\xe4\x02\x00\xe1\xb5\x7f\xa2\r\x00\x00\x00"
	for _, o := range []struct{ key, ctype, encoding, body string }{
		{"f/hello.txt", "text/plain", "", "hello, world\n"},
		{"f/page.html", "text/html", "", "<script>alert(1)</script>"},
		{"f/hello.txt.gz", "text/plain", "gzip", gz},
		{"f/empty", "text/plain", "", ""},
		{"f/dir/", "", "", ""},
		{"f/big.bin", "application/octet-stream", "", string(bigBody)},
	} {
		in := &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(o.key), Body: strings.NewReader(o.body)}
		if o.ctype != "" {
			in.ContentType = aws.String(o.ctype)
		}
		if o.encoding != "" {
			in.ContentEncoding = aws.String(o.encoding)
		}
		if _, err := client.PutObject(ctx, in); err != nil {
			t.Fatalf("put %q: %v", o.key, err)
		}
	}
	lister := NewS3Lister(testS3Client(endpoint), testBucket, S3ListerOptions{})
	srv := testServer(t, lister, Config{ServeObjects: true}).URL
	etag := etagOfObject(t, srv, "/files/f/hello.txt")
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tt := range []struct {
		name   string
		method string
		path   string
		header http.Header
		status int
		body   string
		want   map[string]string
	}{
		{"whole", "GET", "/files/f/hello.txt", nil, 200, "hello, world\n", map[string]string{
			"Content-Type": "text/plain", "Content-Length": "13", "ETag": etag, "Content-Disposition": `inline; filename="hello.txt"`}},
		{"HEAD", "HEAD", "/files/f/hello.txt", nil, 200, "", map[string]string{"Content-Length": "13", "ETag": etag}},
		{"first byte", "GET", "/files/f/hello.txt", hdr("Range", "bytes=0-0"), 206, "h", map[string]string{"Content-Range": "bytes 0-0/13"}},
		{"middle", "GET", "/files/f/hello.txt", hdr("Range", "bytes=7-11"), 206, "world", nil},
		{"suffix", "GET", "/files/f/hello.txt", hdr("Range", "bytes=-6"), 206, "world\n", map[string]string{"Content-Range": "bytes 7-12/13"}},
		{"end past the end", "GET", "/files/f/hello.txt", hdr("Range", "bytes=7-99"), 206, "world\n", nil},
		// gofakes3 refuses this one (416); S3 sends the whole object.
		{"suffix longer than the object", "GET", "/files/f/hello.txt", hdr("Range", "bytes=-99"), 206, "hello, world\n", map[string]string{"Content-Range": "bytes 0-12/13"}},
		{"past the end", "GET", "/files/f/hello.txt", hdr("Range", "bytes=13-"), 416, "", map[string]string{"Content-Range": "bytes */13"}},
		{"range of an empty object", "GET", "/files/f/empty", hdr("Range", "bytes=0-0"), 200, "", nil},
		{"If-None-Match", "GET", "/files/f/hello.txt", hdr("If-None-Match", etag), 304, "", nil},
		{"If-Modified-Since", "GET", "/files/f/hello.txt", hdr("If-Modified-Since", future), 304, "", nil},
		{"If-Match", "GET", "/files/f/hello.txt", http.Header{"If-Match": {etag}, "Range": {"bytes=0-4"}}, 206, "hello", nil},
		{"If-Match, another", "GET", "/files/f/hello.txt", hdr("If-Match", `"other"`), 412, "", nil},
		{"If-Range, another", "GET", "/files/f/hello.txt", http.Header{"If-Range": {`"other"`}, "Range": {"bytes=0-4"}}, 200, "hello, world\n", nil},
		{"HTML", "GET", "/files/f/page.html", nil, 200, "<script>alert(1)</script>", map[string]string{
			"Content-Disposition": `attachment; filename="page.html"`, "Content-Security-Policy": objectCSP}},
		{"stored gzip", "GET", "/files/f/hello.txt.gz", nil, 200, gz, map[string]string{"Content-Encoding": "gzip", "Content-Length": strconv.Itoa(len(gz))}},
		{"stored gzip, a range", "GET", "/files/f/hello.txt.gz", hdr("Range", "bytes=0-1"), 206, gz[:2], map[string]string{"Content-Encoding": "gzip", "Content-Length": "2"}},
		{"missing", "GET", "/files/f/nope", nil, 404, "", nil},
		{"a directory", "GET", "/files/f/dir/", nil, 404, "", nil},
		{"a directory's name", "GET", "/files/f/dir", nil, 404, "", nil},
	} {
		// No transparent decompression: the stored bytes are the answer.
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		r := do(t, client, tt.method, srv, tt.path, tt.header)
		if r.status != tt.status || (r.status < 300 && r.body != tt.body) {
			t.Errorf("%s: %s %s: %d %q, want %d %q", tt.name, tt.method, tt.path, r.status, r.body, tt.status, tt.body)
		}
		for k, v := range tt.want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, got, v)
			}
		}
	}
	resp, err := http.Get(srv + "/files/f/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	n, err := io.Copy(sum, resp.Body)
	resp.Body.Close()
	if want := sha256.Sum256(bigBody); err != nil || n != big || !bytes.Equal(sum.Sum(nil), want[:]) {
		t.Errorf("GET big.bin: %d bytes, %v, SHA-256 %x, want %x", n, err, sum.Sum(nil), want)
	}
	// A read that continues an answer carries the ETag it announced:
	// versitygw, as S3, refuses it once the object is another.
	if _, _, err := lister.ReadObject(ctx, ObjectRead{Path: "f/hello.txt", Offset: 1, IfMatch: `"0123456789abcdef0123456789abcdef"`}); !errors.Is(err, ErrObjectChanged) {
		t.Errorf("ReadObject with a stale ETag: %v, want ErrObjectChanged", err)
	}
	if _, _, err := lister.ReadObject(ctx, ObjectRead{Path: "f/hello.txt", Offset: 13}); !errors.Is(err, ErrRangeNotSatisfiable) {
		t.Errorf("ReadObject past the end: %v, want ErrRangeNotSatisfiable", err)
	}
}
