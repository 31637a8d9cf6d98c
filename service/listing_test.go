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
		f.put(t, "big/"+n)
	}
	f.put(t, "big/") // marker among 2,500 files: must not be listed
	for _, d := range subdirs {
		// Each sub-directory has a marker and two files: gofakes3 counts
		// them against the page size and repeats a prefix across pages.
		f.put(t, "tree/"+d+"/", "tree/"+d+"/a", "tree/"+d+"/b")
	}
	for _, n := range exact {
		f.put(t, "exact/"+n)
	}
	mixed := append(slices.Clone(files[:1200]), subdirs[:200]...)
	for _, n := range files[:1200] {
		f.put(t, "mixed/"+n)
	}
	for _, d := range subdirs[:200] {
		f.put(t, "mixed/"+d+"/x")
	}
	slices.Sort(mixed)
	srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{}), Config{})

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
			got := listing(t, r.body)
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
		f.put(t, "odd/"+n, "odd dir+%/"+n)
	}
	f.put(t, "odd dir+%/sub 🎉/x")
	want := slices.Clone(awkward)
	slices.Sort(want)
	srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{}), Config{})

	r := get(t, srv.URL, "/list-bucket-content/odd")
	if got := listing(t, r.body); !slices.Equal(got, want) {
		t.Errorf("GET odd:\n got %q\nwant %q", got, want)
	}
	wantDir := append(slices.Clone(want), "sub 🎉")
	slices.Sort(wantDir)
	r = get(t, srv.URL, "/list-bucket-content/"+url.PathEscape("odd dir+%"))
	if got := listing(t, r.body); !slices.Equal(got, wantDir) {
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
		if got := listing(t, r.body); !slices.Equal(got, []string{n}) {
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
	srv := testServer(t, NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{}), Config{})
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

// TestDedupeUnit drives dedupe with the page shapes real S3 and gofakes3
// produce, including duplicates across page boundaries.
func TestDedupeUnit(t *testing.T) {
	obj := func(keys ...string) []types.Object {
		var out []types.Object
		for _, k := range keys {
			out = append(out, types.Object{Key: aws.String(k), Size: aws.Int64(0)})
		}
		return out
	}
	pre := func(keys ...string) []types.CommonPrefix {
		var out []types.CommonPrefix
		for _, k := range keys {
			out = append(out, types.CommonPrefix{Prefix: aws.String(k)})
		}
		return out
	}
	type page struct {
		objs     []types.Object
		prefixes []types.CommonPrefix
	}
	tests := []struct {
		name   string
		prefix string
		pages  []page
		want   [][]string
	}{
		{"S3 shape: marker as prefix", "", []page{{obj("file1"), pre("dir1/", "dir2/")}}, [][]string{{"dir1", "dir2", "file1"}}},
		{"gofakes3 shape: marker as object", "", []page{{obj("dir1/", "file1"), pre("dir2/")}}, [][]string{{"dir1", "dir2", "file1"}}},
		{"marker object and prefix together", "", []page{{obj("d/"), pre("d/")}}, [][]string{{"d"}}},
		{"own marker skipped", "p/", []page{{obj("p/", "p/a"), nil}}, [][]string{{"a"}}},
		{"object then directory, keys between", "", []page{{obj("a", "a!", "a-b"), pre("a/")}}, [][]string{{"a", "a!", "a-b"}}},
		{"object and directory on different pages", "", []page{{obj("a", "a!"), nil}, {nil, pre("a!/", "a/")}}, [][]string{{"a", "a!"}, {}}},
		{"prefix repeated across pages", "", []page{{nil, pre("x/", "y/")}, {nil, pre("y/", "z/")}}, [][]string{{"x", "y"}, {"z"}}},
		{"empty-named directory dropped", "p/", []page{{nil, pre("p//", "p/a/")}}, [][]string{{"a"}}},
		{"key outside prefix dropped", "p/", []page{{obj("p/a", "q"), nil}}, [][]string{{"a"}}},
		{"names past the open object expire", "", []page{{obj("a", "b"), pre("b/", "c/")}}, [][]string{{"a", "b", "c"}}},
	}
	for _, tt := range tests {
		var handed [][]Entry
		w := &walk{l: NewS3Lister(nil, testBucket, S3ListerOptions{}), prefix: tt.prefix, page: func(e []Entry, _ bool) error {
			handed = append(handed, e)
			return nil
		}}
		for i, p := range tt.pages {
			before := w.count
			if _, _, err := w.take(context.Background(), pageFromOutput(&s3.ListObjectsV2Output{Contents: p.objs, CommonPrefixes: p.prefixes})); err != nil {
				t.Fatalf("%s: page %d: %v", tt.name, i, err)
			}
			got := []string{}
			switch {
			case w.count == before:
			case w.held: // the first batch, held back
				got = entryNames(w.pending)
			default: // handed out at once
				got = entryNames(handed[len(handed)-1])
			}
			if !slices.Equal(got, tt.want[i]) {
				t.Errorf("%s: page %d = %q, want %q", tt.name, i, got, tt.want[i])
			}
		}
	}
}

// TestSlashedLess checks the allocation-free name+"/" < key comparison
// against the obvious one.
func TestSlashedLess(t *testing.T) {
	words := []string{"", "a", "a!", "a/", "a/b", "a0", "ab", "b", "a//", "/", "é", "a\x00"}
	for _, n := range words {
		for _, k := range words {
			if got, want := slashedLess(n, k), n+"/" < k; got != want {
				t.Errorf("slashedLess(%q, %q) = %v, want %v", n, k, got, want)
			}
		}
	}
}

// TestStreamingBatches checks the S3 lister hands out a large directory in
// page-sized batches, the last one marked, rather than all at once.
func TestStreamingBatches(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	for _, n := range names("f", 2100) {
		f.put(t, "big/"+n)
	}
	l := NewS3Lister(testS3Client(f.URL()), testBucket, S3ListerOptions{})
	var sizes []int
	var lasts []bool
	err := listNames(context.Background(), l, "big", func(names []string, last bool) error {
		sizes = append(sizes, len(names))
		lasts = append(lasts, last)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first batch waits for the second (is it the whole listing?);
	// later ones go out at once, and an empty batch ends the listing.
	if fmt.Sprint(sizes) != "[1000 1000 100 0]" || fmt.Sprint(lasts) != "[false false false true]" {
		t.Errorf("batches %v last %v, want [1000 1000 100 0] [false false false true]", sizes, lasts)
	}
	if l.api.store.bytes() != 0 {
		t.Errorf("cache holds pages with TTL 0")
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
