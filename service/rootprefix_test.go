package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// rootTestKeys is the reference tree and a directory-wins case under
// "pub/", beside keys the root prefix must hide: an object named exactly
// "pub", prefixes that share its first letters (sorting just before and
// just after "pub/"), and names that would collide with the tree's.
var rootTestKeys = []string{
	"pub/dir1/", "pub/dir2/file1", "pub/dir2/file2", "pub/file1", "pub/file2",
	"pub/dw/a", "pub/dw/a-b", "pub/dw/a/x",
	"pub", "pub-other/x", "pubx/y", "dir2/hidden", "secret", "file1", "zzz",
}

// TestRootPrefix lists a bucket through --root-prefix over real HTTP and
// gofakes3, tries every way out of the subtree, and then checks every
// ListObjectsV2 call the lister sent, the readiness probe included, stayed
// under "pub/".
func TestRootPrefix(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, rootTestKeys, nil)
	rec := &recordingS3{next: testS3Client(f.URL())}
	srv := NewServer(discard, NewS3Lister(rec, testBucket, S3ListerOptions{RootPrefix: "pub"}), Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	if err := srv.CheckBucket(context.Background()); err != nil {
		t.Fatalf("CheckBucket: %v", err)
	}

	root := listOptions{limit: 2}.binding("")
	crafted := func(key string, open ...string) string {
		return encodeCursor(&Position{Key: key, Open: open}, root)
	}
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string // "" = do not check
	}{
		{"root", "/list-bucket-content", 200, `{"content":["dir1","dir2","dw","file1","file2"]}`},
		{"root with slash", "/list-bucket-content/", 200, `{"content":["dir1","dir2","dw","file1","file2"]}`},
		{"directory", "/list-bucket-content/dir2", 200, `{"content":["file1","file2"]}`},
		{"empty directory", "/list-bucket-content/dir1", 200, `{"content":[]}`},
		{"object check", "/list-bucket-content/dir2/file1", 200, `{"content":["file1"]}`},
		{"object at the root", "/list-bucket-content/file2", 200, `{"content":["file2"]}`},
		{"name prefix", "/list-bucket-content?prefix=file", 200, `{"content":["file1","file2"]}`},
		{"name prefix matching nothing", "/list-bucket-content/dir2?prefix=hid", 200, `{"content":[]}`},
		{"recursive root", "/list-bucket-content?recursive=true", 200,
			`{"content":["dir1/","dir2/file1","dir2/file2","dw/a","dw/a-b","dw/a/x","file1","file2"]}`},
		{"directory wins, with the lookahead", "/list-bucket-content/dw?details=true&limit=1", 200, ""},

		{"bucket-root key beside the tree", "/list-bucket-content/dir2/hidden", 404, ""},
		{"bucket-root secret", "/list-bucket-content/secret", 404, ""},
		{"bucket-root key named like a tree key", "/list-bucket-content/zzz", 404, ""},
		{"dot-dot", "/list-bucket-content/../secret", 400, ""},
		{"encoded dot-dot", "/list-bucket-content/%2e%2e/secret", 400, ""},
		{"dot-dot in a directory", "/list-bucket-content/dir2/%2E%2E/%2E%2E/secret", 400, ""},
		{"encoded slashes", "/list-bucket-content/%2F%2Fsecret", 400, ""},
		{"encoded slash then dot-dot", "/list-bucket-content/dir2%2F..%2F..%2Fsecret", 400, ""},
		{"dot segment", "/list-bucket-content/./secret", 400, ""},
		{"prefix with a slash", "/list-bucket-content?prefix=..%2Fsecret", 400, ""},
		// A name start, not a path segment: S3 gets Prefix "pub/..".
		{"prefix dot-dot", "/list-bucket-content?prefix=..", 200, `{"content":[]}`},
		{"recursive prefix with a slash", "/list-bucket-content?recursive=true&prefix=%2F", 400, ""},
		{"sibling prefix as a path", "/list-bucket-content/..%2Fpub-other", 400, ""},

		{"crafted cursor with dot-dots", "/list-bucket-content?limit=2&cursor=" + crafted("../../secret"), 200, `{"content":["dir1","dir2"],"next":"` + crafted("dir2/") + `"}`},
		{"crafted cursor past the end", "/list-bucket-content?limit=2&cursor=" + crafted("\U0010ffff"), 200, `{"content":[]}`},
		{"crafted cursor with a leading slash", "/list-bucket-content?limit=2&cursor=" + crafted("/secret"), 200, ""},
		{"crafted cursor with open names", "/list-bucket-content?limit=2&cursor=" + crafted("file1", "f", "file1"), 200, `{"content":["file2"]}`},
		{"crafted cursor, recursive", "/list-bucket-content?recursive=true&limit=2&cursor=" +
			encodeCursor(&Position{Key: "../pubx/"}, listOptions{limit: 2, recursive: true}.binding("")), 200, ""},
		{"cursor of another directory", "/list-bucket-content?limit=2&cursor=" +
			encodeCursor(&Position{Key: "x"}, listOptions{limit: 2}.binding("../pub-other")), 400, ""},
	}
	inside := map[string]bool{}
	for _, k := range rootTestKeys {
		if rel, ok := strings.CutPrefix(k, "pub/"); ok {
			for p := range strings.SplitSeq(strings.TrimSuffix(rel, "/"), "/") {
				inside[p] = true
			}
		}
	}
	for _, tt := range tests {
		r := get(t, hs.URL, tt.path)
		if r.status != tt.wantStatus {
			t.Errorf("%s: GET %s: status = %d, want %d (body %.300q)", tt.name, tt.path, r.status, tt.wantStatus, r.body)
			continue
		}
		if tt.wantBody != "" && r.body != tt.wantBody {
			t.Errorf("%s: GET %s: body %s, want %s", tt.name, tt.path, r.body, tt.wantBody)
		}
		for _, leak := range []string{"secret", "hidden", "pub-other", "pubx", "zzz", `"pub"`} {
			if strings.Contains(r.body, leak) && !strings.Contains(tt.path, leak) {
				t.Errorf("%s: GET %s: body %s names %s, which is outside the root prefix", tt.name, tt.path, r.body, leak)
			}
		}
	}
	if r := get(t, hs.URL, "/list-bucket-content/dw?details=true&limit=1"); !strings.HasPrefix(r.body, `{"content":[{"name":"a","type":"directory"}],"next":`) {
		t.Errorf("directory-wins listing: %s", r.body)
	}

	var lookahead, probe, object, startAfter bool
	for _, in := range rec.calls() {
		p, sa := aws.ToString(in.Prefix), in.StartAfter
		if !strings.HasPrefix(p, "pub/") {
			t.Errorf("ListObjectsV2 with Prefix %q: outside the root prefix pub/", p)
		}
		if sa != nil && !strings.HasPrefix(*sa, "pub/") {
			t.Errorf("ListObjectsV2 with StartAfter %q: outside the root prefix pub/", *sa)
		}
		lookahead = lookahead || (p == "pub/dw/a/" && aws.ToInt32(in.MaxKeys) == 1)
		probe = probe || (p == "pub/" && aws.ToString(in.Delimiter) == "/")
		object = object || p == "pub/dir2/file1"
		startAfter = startAfter || sa != nil
	}
	if !lookahead || !probe || !object || !startAfter {
		t.Errorf("the calls did not cover every kind: lookahead %v, probe %v, object check %v, StartAfter %v", lookahead, probe, object, startAfter)
	}
}

// fixedS3 answers every ListObjectsV2 with the same keys, whatever the
// prefix: an endpoint that ignores Prefix.
type fixedS3 struct {
	keys []string
	n    int
}

func (f *fixedS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.n++
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	for _, k := range f.keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(1)})
	}
	out.CommonPrefixes = append(out.CommonPrefixes, types.CommonPrefix{Prefix: aws.String("other/")})
	return out, nil
}

// TestRootPrefixGuard checks the lowest layer on its own: a call outside
// the root is never sent, and keys outside it in an answer are dropped,
// even from an endpoint that ignores Prefix.
func TestRootPrefixGuard(t *testing.T) {
	t.Parallel()
	api := &fixedS3{keys: []string{"pub", "pub-x", "pub/a", "pub/b", "secret"}}
	l := NewS3Lister(api, testBucket, S3ListerOptions{RootPrefix: "pub"})
	ctx := context.Background()
	for _, in := range []*s3.ListObjectsV2Input{
		{Bucket: aws.String(testBucket)},
		{Bucket: aws.String(testBucket), Prefix: aws.String("pu")},
		{Bucket: aws.String(testBucket), Prefix: aws.String("pub/"), StartAfter: aws.String("a")},
	} {
		if _, err := l.list(ctx, in); err == nil || !strings.Contains(err.Error(), errOutsideRoot.Error()) {
			t.Errorf("list(Prefix %q, StartAfter %q) = %v, want it refused", aws.ToString(in.Prefix), aws.ToString(in.StartAfter), err)
		}
	}
	if api.n != 0 {
		t.Errorf("%d calls reached storage, want none", api.n)
	}
	p, err := l.list(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("pub/")})
	if err != nil || len(p.objects) != 2 || p.objects[0].key != "pub/a" || p.objects[1].key != "pub/b" || len(p.prefixes) != 0 {
		t.Errorf("page from an endpoint that ignores Prefix = %+v, %v; want only pub/a and pub/b", p, err)
	}
	var got []string
	if err := listNames(ctx, l, "", func(n []string, _ bool) error { got = append(got, n...); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("root listing from an endpoint that ignores Prefix = %q, want [a b]", got)
	}
}

// TestCheckRootPrefix covers the --root-prefix rules and their message.
func TestCheckRootPrefix(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "pub", "team/2024", "a b", "ünïcode/ok", "..a", "a.", strings.Repeat("a", maxRootPrefixLen)} {
		if err := checkRootPrefix(ok); err != nil {
			t.Errorf("checkRootPrefix(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"/pub", "pub/", "/", "a//b", ".", "..", "a/./b", "a/..", "a\x00b", "a\nb", "\xff", "a\u0085", strings.Repeat("a", maxRootPrefixLen+1)} {
		_, err := parseConfig([]string{"--bucket", "bkt", "--root-prefix", bad}, envFunc())
		if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), "--root-prefix") || !strings.Contains(err.Error(), "like reports") || strings.Contains(err.Error(), "\n") {
			t.Errorf("--root-prefix %q: %v, want one line naming the flag and the fix", bad, err)
		}
	}
	cfg, err := parseConfig(nil, envFunc("BUCKETLS_BUCKET", "bkt", "BUCKETLS_ROOT_PREFIX", "team/2024"))
	if err != nil || cfg.RootPrefix != "team/2024" {
		t.Errorf("BUCKETLS_ROOT_PREFIX: %+v, %v", cfg, err)
	}
}

// FuzzCheckRootPrefix checks that whatever the check accepts makes a key
// prefix that a request path can only extend, never leave.
func FuzzCheckRootPrefix(f *testing.F) {
	for _, s := range []string{"", "pub", "a/b", "/a", "a/", "a//b", "a/../b", "\xff", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if checkRootPrefix(p) != nil || p == "" {
			return
		}
		if len(p) > maxRootPrefixLen || !utf8.ValidString(p) || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			t.Fatalf("accepted %q", p)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
		if strings.ContainsFunc(p, unicode.IsControl) {
			t.Fatalf("accepted %q with a control character", p)
		}
		if k := rootKey(p); strings.Count(k, "/") != strings.Count(p, "/")+1 || !strings.HasSuffix(k, "/") {
			t.Fatalf("rootKey(%q) = %q", p, k)
		}
	})
}

// TestRunDemoRootPrefix runs --demo with and without --root-prefix: the
// same reference tree either way, and the decoys seeded outside the root
// never show up.
func TestRunDemoRootPrefix(t *testing.T) {
	t.Parallel()
	for _, root := range []string{"", "team/pub"} {
		base, _, _, _, _ := startRun(t, []string{"--demo", "--addr", "127.0.0.1:0", "--root-prefix", root})
		waitReady(t, http.DefaultClient, base, 5*time.Second)
		if r := get(t, base, "/list-bucket-content"); r.body != `{"content":["dir1","dir2","file1","file2"]}` {
			t.Errorf("root %q: GET root: %d %s", root, r.status, r.body)
		}
		if r := get(t, base, "/list-bucket-content?recursive=true"); r.body != `{"content":["dir1/","dir2/file1","dir2/file2","file1","file2"]}` {
			t.Errorf("root %q: GET root recursively: %d %s", root, r.status, r.body)
		}
		if r := get(t, base, "/list-bucket-content/secret"); r.status != 404 {
			t.Errorf("root %q: GET secret: %d %s", root, r.status, r.body)
		}
	}
}
