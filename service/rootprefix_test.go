package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/bucketls/bucketls/internal/s3name"
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
	srv := NewServer(discard, NewS3Lister(rec, testBucket, S3ListerOptions{RootPrefix: "pub"}), nil, Config{})
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

// TestCheckRootPrefix covers the --root-prefix rules and their message.
func TestCheckRootPrefix(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "pub", "team/2024", "a b", "ünïcode/ok", "..a", "a.", strings.Repeat("a", s3name.MaxRootPrefixLen)} {
		if err := s3name.CheckRootPrefix(ok); err != nil {
			t.Errorf("CheckRootPrefix(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"/pub", "pub/", "/", "a//b", ".", "..", "a/./b", "a/..", "a\x00b", "a\nb", "\xff", "a\u0085", strings.Repeat("a", s3name.MaxRootPrefixLen+1)} {
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
