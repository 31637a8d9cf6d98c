package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPagination lists directories larger than one S3 page (1,000 keys)
// and checks the answer is complete, ordered and without duplicates.
func TestPagination(t *testing.T) {
	t.Parallel()
	files := names("f", 2500)
	subdirs := names("d", 300)
	exact := names("e", 1000)
	f := startFakeS3(t, nil, nil)
	for _, n := range files {
		f.Put(t, "big/"+n)
	}
	f.Put(t, "big/") // marker among 2,500 files: must not be listed
	for _, d := range subdirs {
		// Each sub-directory has a marker and two files: gofakes3 counts
		// them against the page size and repeats a prefix across pages.
		f.Put(t, "tree/"+d+"/", "tree/"+d+"/a", "tree/"+d+"/b")
	}
	for _, n := range exact {
		f.Put(t, "exact/"+n)
	}
	mixed := append(slices.Clone(files[:1200]), subdirs[:200]...)
	for _, n := range files[:1200] {
		f.Put(t, "mixed/"+n)
	}
	for _, d := range subdirs[:200] {
		f.Put(t, "mixed/"+d+"/x")
	}
	slices.Sort(mixed)
	srv := testServer(t, fakeLister(f), Config{})

	tests := []struct {
		name     string
		path     string
		want     []string
		wantETag bool
	}{
		{"2,500 files", "big", files, false},
		{"300 sub-directories", "tree", subdirs, true},
		{"exactly one full page", "exact", exact, true},
		{"files and directories over two pages", "mixed", mixed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := get(t, srv.URL, "/list-bucket-content/"+tt.path)
			if r.status != 200 {
				t.Fatalf("GET %s: status = %d, want 200 (%.200s)", tt.path, r.status, r.body)
			}
			got := contentOf(t, r.body)
			if !slices.Equal(got, tt.want) {
				t.Errorf("GET %s: %d names, want %d; sorted=%v; first diff at %d", tt.path, len(got), len(tt.want), sorted(got), firstDiff(got, tt.want))
			}
			if has := r.header.Get("ETag") != ""; has != tt.wantETag {
				t.Errorf("GET %s: ETag present = %v, want %v (only single-page listings get one)", tt.path, has, tt.wantETag)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s: Content-Type = %q", tt.path, ct)
			}
			h := do(t, nil, "HEAD", srv.URL, "/list-bucket-content/"+tt.path, nil)
			if h.status != 200 || h.body != "" {
				t.Errorf("HEAD %s: %d with %d body bytes, want 200 and none", tt.path, h.status, len(h.body))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestAwkwardNames lists keys with spaces, '+', '%', quotes, emoji and
// other characters that URL and JSON encoding like to mangle, and reaches
// each one by its percent-encoded path (decoded exactly once).
func TestAwkwardNames(t *testing.T) {
	t.Parallel()
	awkward := []string{
		"a b", "a+b", "100%", "%41", "%2e%2e", "quote\"d", "back\\slash", "<tag>&amp;",
		"ümlaut", "日本語", "emoji 🎉", "tab?query#frag", "semi;colon", "=eq", "~tilde", "'single'",
		"\u2028line-sep", "a.b", "...", ".hidden", "-dash", "trailing ",
	}
	f := startFakeS3(t, nil, nil)
	for _, n := range awkward {
		f.Put(t, "odd/"+n, "odd dir+%/"+n)
	}
	f.Put(t, "odd dir+%/sub 🎉/x")
	want := slices.Clone(awkward)
	slices.Sort(want)
	srv := testServer(t, fakeLister(f), Config{})

	r := get(t, srv.URL, "/list-bucket-content/odd")
	if got := contentOf(t, r.body); !slices.Equal(got, want) {
		t.Errorf("GET odd:\n got %q\nwant %q", got, want)
	}
	wantDir := append(slices.Clone(want), "sub 🎉")
	slices.Sort(wantDir)
	r = get(t, srv.URL, "/list-bucket-content/"+url.PathEscape("odd dir+%"))
	if got := contentOf(t, r.body); !slices.Equal(got, wantDir) {
		t.Errorf("GET 'odd dir+%%':\n got %q\nwant %q", got, wantDir)
	}
	if r := get(t, srv.URL, "/list-bucket-content/"+url.PathEscape("odd dir+%")+"/"+url.PathEscape("sub 🎉")); r.body != `{"content":["x"]}` {
		t.Errorf("GET 'odd dir+%%/sub 🎉': %d %s", r.status, r.body)
	}
	for _, n := range awkward {
		path := "/list-bucket-content/odd/" + url.PathEscape(n)
		r := get(t, srv.URL, path)
		if r.status != 200 {
			t.Errorf("GET %s: status = %d, want 200 (%s)", path, r.status, r.body)
			continue
		}
		if got := contentOf(t, r.body); !slices.Equal(got, []string{n}) {
			t.Errorf("GET %s: %q, want [%q]", path, got, n)
		}
	}
	// "%2541" decodes once to the literal key "%41", never twice to "A".
	if r := get(t, srv.URL, "/list-bucket-content/odd/%2541"); r.body != `{"content":["%41"]}` {
		t.Errorf("GET odd/%%2541: %d %s, want the literal %%41", r.status, r.body)
	}
	if r := get(t, srv.URL, "/list-bucket-content/odd/A"); r.status != 404 {
		t.Errorf("GET odd/A: status = %d, want 404", r.status)
	}
}

// TestDedupeAndOrder lists trees where an object and a directory share a
// name, with keys between them in S3's order, against gofakes3.
func TestDedupeAndOrder(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{
		"a", "a!x", "a-b", "a.txt", "a/", "a/child", // object a, then keys between a and a/
		"b/", "b", // marker and object
		"c/x", "c/y", "c/", // directory with marker and children
		"photos.zip", "photos/1.jpg",
		"z",
	}, nil)
	srv := testServer(t, fakeLister(f), Config{})
	want := `{"content":["a","a!x","a-b","a.txt","b","c","photos.zip","photos","z"]}`
	if r := get(t, srv.URL, "/list-bucket-content"); r.body != want {
		t.Errorf("GET root: %s\nwant %s", r.body, want)
	}
	// "a" is both an object and a directory: the directory wins.
	if r := get(t, srv.URL, "/list-bucket-content/a"); r.body != `{"content":["child"]}` {
		t.Errorf("GET a: %s, want the directory", r.body)
	}
	if r := get(t, srv.URL, "/list-bucket-content/c"); r.body != `{"content":["x","y"]}` {
		t.Errorf("GET c: %s", r.body)
	}
}

// loopingS3 answers every ListObjectsV2 with a full page that says more
// follows under the same continuation token, as a broken endpoint might.
type loopingS3 struct{ calls int }

func (l *loopingS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	l.calls++
	return &s3.ListObjectsV2Output{
		Contents:              []types.Object{{Key: aws.String(aws.ToString(in.Prefix) + fmt.Sprintf("k%03d", l.calls)), Size: aws.Int64(1)}},
		KeyCount:              aws.Int32(1),
		IsTruncated:           aws.Bool(true),
		NextContinuationToken: aws.String("same"),
	}, nil
}

// TestRepeatedToken checks a repeated continuation token ends the walk
// with an error rather than a list that looks complete but is not.
func TestRepeatedToken(t *testing.T) {
	t.Parallel()
	api := &loopingS3{}
	l := NewS3Lister(api, testBucket, S3ListerOptions{})
	var got []string
	err := listNames(context.Background(), l, "d", func(names []string, last bool) error {
		got = append(got, names...)
		if last {
			t.Errorf("batch %q marked last", names)
		}
		return nil
	})
	if !errors.Is(err, ErrUpstream) || !strings.Contains(err.Error(), "repeated continuation token") {
		t.Errorf("List = %v, want ErrUpstream about the repeated token", err)
	}
	if api.calls != 2 {
		t.Errorf("%d calls, want 2 (stop at the first repeat)", api.calls)
	}
	// Nothing had reached the client when the walk failed, so it gets the
	// proper status and error, not a cut connection.
	srv := testServer(t, l, Config{})
	r := get(t, srv.URL, "/list-bucket-content/d")
	if r.status != http.StatusBadGateway {
		t.Errorf("GET d over a looping S3: status %d, want 502 (%s)", r.status, r.body)
	}
	checkJSONError(t, r)
}

// TestReference checks every rule of the API table and the path validation
// through real HTTP against gofakes3 holding the reference tree.
func TestReference(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	long := strings.Repeat("a", maxPathLen)
	tests := []struct {
		name       string
		method     string // "" = GET
		path       string // sent exactly as written
		wantStatus int
		wantBody   string // "" = do not check
	}{
		{"root", "", "/list-bucket-content", 200, `{"content":["dir1","dir2","file1","file2"]}`},
		{"root with slash", "", "/list-bucket-content/", 200, `{"content":["dir1","dir2","file1","file2"]}`},
		{"empty directory", "", "/list-bucket-content/dir1", 200, `{"content":[]}`},
		{"empty directory with slash", "", "/list-bucket-content/dir1/", 200, `{"content":[]}`},
		{"directory", "", "/list-bucket-content/dir2", 200, `{"content":["file1","file2"]}`},
		{"directory with slash", "", "/list-bucket-content/dir2/", 200, `{"content":["file1","file2"]}`},
		{"object is listed like ls FILE", "", "/list-bucket-content/dir2/file1", 200, `{"content":["file1"]}`},
		{"object at the root", "", "/list-bucket-content/file2", 200, `{"content":["file2"]}`},
		{"missing path", "", "/list-bucket-content/nope", 404, `{"error":"not found: nope"}`},
		{"missing nested path", "", "/list-bucket-content/dir2/nope", 404, `{"error":"not found: dir2/nope"}`},
		{"object with slash is not a directory", "", "/list-bucket-content/dir2/file1/", 404, ""},
		{"prefix of a name is not a directory", "", "/list-bucket-content/dir", 404, ""},
		{"prefix of an object is not an object", "", "/list-bucket-content/file", 404, ""},
		{"case matters", "", "/list-bucket-content/DIR2", 404, ""},

		{"dot-dot is rejected", "", "/list-bucket-content/a/../b", 400, ""},
		{"dot-dot alone", "", "/list-bucket-content/..", 400, ""},
		{"dot segment", "", "/list-bucket-content/./dir2", 400, ""},
		{"trailing dot", "", "/list-bucket-content/dir2/.", 400, ""},
		{"encoded dot-dot", "", "/list-bucket-content/%2e%2e", 400, ""},
		{"encoded dot-dot upper case", "", "/list-bucket-content/dir2/%2E%2E/x", 400, ""},
		{"empty segment", "", "/list-bucket-content/a//b", 400, `{"error":"invalid path: empty segment"}`},
		{"double slash after route", "", "/list-bucket-content//", 400, ""},
		{"leading double slash", "", "//list-bucket-content", 400, ""},
		{"encoded slashes make an empty segment", "", "/list-bucket-content/a%2F%2Fb", 400, ""},
		{"NUL", "", "/list-bucket-content/a%00b", 400, `{"error":"invalid path: control character"}`},
		{"escape control", "", "/list-bucket-content/%1b[31m", 400, ""},
		{"DEL", "", "/list-bucket-content/%7f", 400, ""},
		{"C1 control", "", "/list-bucket-content/%c2%85", 400, ""},
		{"newline", "", "/list-bucket-content/a%0Ab", 400, ""},
		{"invalid UTF-8", "", "/list-bucket-content/%ff", 400, `{"error":"invalid path: not valid UTF-8"}`},
		{"truncated UTF-8", "", "/list-bucket-content/%e2%82", 400, ""},
		{"1024 bytes is fine", "", "/list-bucket-content/" + long, 404, ""},
		{"1025 bytes is too long", "", "/list-bucket-content/" + long + "a", 400, `{"error":"invalid path: longer than 1024 bytes"}`},
		{"bad path on another route", "", "/healthz/../metrics", 400, ""},

		{"POST listing", "POST", "/list-bucket-content/dir2", 405, ""},
		{"PUT root", "PUT", "/list-bucket-content", 405, ""},
		{"DELETE root slash", "DELETE", "/list-bucket-content/", 405, ""},
		{"PATCH", "PATCH", "/list-bucket-content/dir2/file1", 405, ""},
		{"OPTIONS", "OPTIONS", "/list-bucket-content/dir2", 405, ""},
		{"POST healthz", "POST", "/healthz", 405, ""},
		{"unknown route", "", "/nope", 404, `{"error":"no such route: /nope"}`},
		{"site root", "", "/", 404, ""},
		{"route prefix lookalike", "", "/list-bucket-contents", 404, ""},
		{"healthz with slash", "", "/healthz/", 404, ""},
		{"healthz", "", "/healthz", 200, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method, r := checkAnswer(t, tt.method, srv.URL, tt.path, nil, tt.wantStatus, tt.wantBody)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type = %q, want application/json", method, tt.path, ct)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", method, tt.path, got)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("%s %s: redirected to %q", method, tt.path, r.header.Get("Location"))
			}
			switch {
			case tt.wantStatus == 200 && strings.HasPrefix(tt.path, "/list-bucket-content"):
				contentOf(t, r.body)
			case tt.wantStatus >= 400:
				checkJSONError(t, r)
			}
			if tt.wantStatus == 405 {
				if got := r.header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("%s %s: Allow = %q, want %q", method, tt.path, got, "GET, HEAD")
				}
			}
		})
	}
}

// TestHead checks that HEAD answers like GET, headers included, without a
// body.
func TestHead(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	for _, path := range []string{"/list-bucket-content", "/list-bucket-content/dir1", "/list-bucket-content/dir2/file1", "/list-bucket-content/nope", "/list-bucket-content/..", "/healthz"} {
		g := do(t, nil, http.MethodGet, srv.URL, path, nil)
		h := do(t, nil, http.MethodHead, srv.URL, path, nil)
		if h.status != g.status {
			t.Errorf("HEAD %s: status = %d, want %d (as GET)", path, h.status, g.status)
		}
		if h.body != "" {
			t.Errorf("HEAD %s: body = %q, want none", path, h.body)
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Etag"} {
			if h.header.Get(k) != g.header.Get(k) {
				t.Errorf("HEAD %s: %s = %q, GET has %q", path, k, h.header.Get(k), g.header.Get(k))
			}
		}
	}
}

// TestETag checks conditional GETs on a listing that fits in one page.
func TestETag(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	first := get(t, srv.URL, "/list-bucket-content/dir2")
	etag := first.header.Get("ETag")
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Fatalf("GET dir2: ETag = %q, want a quoted strong validator", etag)
	}
	if other := get(t, srv.URL, "/list-bucket-content").header.Get("ETag"); other == etag {
		t.Errorf("root and dir2 share ETag %s", etag)
	}
	tests := []struct {
		name        string
		method      string
		ifNoneMatch string
		wantStatus  int
	}{
		{"same tag", "GET", etag, 304},
		{"weak form of the tag", "GET", "W/" + etag, 304},
		{"tag in a list", "GET", `"nope", ` + etag, 304},
		{"star", "GET", "*", 304},
		{"other tag", "GET", `"0000000000000000"`, 200},
		{"HEAD with same tag", "HEAD", etag, 304},
	}
	for _, tt := range tests {
		r := do(t, nil, tt.method, srv.URL, "/list-bucket-content/dir2", http.Header{"If-None-Match": {tt.ifNoneMatch}})
		if r.status != tt.wantStatus {
			t.Errorf("%s: %s dir2 with If-None-Match %s: status = %d, want %d", tt.name, tt.method, tt.ifNoneMatch, r.status, tt.wantStatus)
		}
		if r.status == 304 && (r.body != "" || r.header.Get("ETag") != etag) {
			t.Errorf("%s: 304 with body %q and ETag %q, want no body and %s", tt.name, r.body, r.header.Get("ETag"), etag)
		}
		if r.status == 200 && tt.method == "GET" && r.body != first.body {
			t.Errorf("%s: body = %s, want %s", tt.name, r.body, first.body)
		}
	}
}
