package service

import (
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestListOptions runs every listing parameter and every kind of bad value
// through real HTTP against the reference tree.
func TestListOptions(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	tests := []struct {
		name       string
		target     string
		wantStatus int
		wantBody   string // "" = do not check
		wantErr    string // part of the error message; "" = not an error
	}{
		{"default unchanged", "/list-bucket-content/dir2", 200, `{"content":["file1","file2"]}`, ""},
		{"details=false is the default", "/list-bucket-content/dir2?details=false", 200, `{"content":["file1","file2"]}`, ""},
		{"recursive from the root", "/list-bucket-content?recursive=true", 200, `{"content":["dir1/","dir2/file1","dir2/file2","file1","file2"]}`, ""},
		{"recursive below a directory", "/list-bucket-content/dir2?recursive=true", 200, `{"content":["file1","file2"]}`, ""},
		{"recursive on an object", "/list-bucket-content/file1?recursive=true", 200, `{"content":["file1"]}`, ""},
		{"prefix", "/list-bucket-content?prefix=f", 200, `{"content":["file1","file2"]}`, ""},
		{"prefix matching a directory", "/list-bucket-content?prefix=dir", 200, `{"content":["dir1","dir2"]}`, ""},
		{"prefix matching nothing", "/list-bucket-content/dir2?prefix=zz", 200, `{"content":[]}`, ""},
		{"prefix in a missing directory", "/list-bucket-content/nope?prefix=x", 404, "", "not found: nope"},
		{"prefix and recursive", "/list-bucket-content?prefix=dir2&recursive=true", 200, `{"content":["dir2/file1","dir2/file2"]}`, ""},
		{"limit pages", "/list-bucket-content?limit=4", 200, `{"content":["dir1","dir2","file1","file2"]}`, ""},
		{"format=json", "/list-bucket-content/dir2?format=json", 200, `{"content":["file1","file2"]}`, ""},

		{"unknown parameter", "/list-bucket-content?detail=true", 400, "", `unknown query parameter "detail"; accepted: details, limit, cursor, prefix, recursive, format`},
		{"repeated parameter", "/list-bucket-content?limit=1&limit=2", 400, "", `"limit" given 2 times`},
		{"details not a boolean", "/list-bucket-content?details=1", 400, "", `details="1": use true or false`},
		{"recursive not a boolean", "/list-bucket-content?recursive=yes", 400, "", `recursive="yes": use true or false`},
		{"limit zero", "/list-bucket-content?limit=0", 400, "", `limit="0": use a whole number from 1 to 1000`},
		{"limit too large", "/list-bucket-content?limit=1001", 400, "", "from 1 to 1000"},
		{"limit not a number", "/list-bucket-content?limit=ten", 400, "", `limit="ten"`},
		{"limit negative", "/list-bucket-content?limit=-1", 400, "", `limit="-1"`},
		{"empty prefix", "/list-bucket-content?prefix=", 400, "", "prefix is empty"},
		{"prefix with a slash", "/list-bucket-content?prefix=dir2/f", 400, "", "has a slash"},
		{"prefix with a control char", "/list-bucket-content?prefix=a%00", 400, "", "prefix: control character"},
		{"prefix not UTF-8", "/list-bucket-content?prefix=%ff", 400, "", "prefix: not valid UTF-8"},
		{"prefix U+FFFF", "/list-bucket-content?prefix=a%EF%BF%BF", 400, "", "prefix: U+FFFE or U+FFFF"},
		{"prefix too long", "/list-bucket-content?prefix=" + strings.Repeat("a", 1025), 400, "", "longer than 1024"},
		{"bad format", "/list-bucket-content?format=xml", 400, "", `format="xml": use json or html`},
		{"malformed escape", "/list-bucket-content?prefix=%zz", 400, "", "invalid query string"},
		{"cursor without limit", "/list-bucket-content?cursor=abc", 400, "", "cursor needs the limit"},
		{"cursor garbage", "/list-bucket-content?limit=2&cursor=!!!", 400, "", "cursor is invalid"},
		{"cursor not ours", "/list-bucket-content?limit=2&cursor=" + base64.RawURLEncoding.EncodeToString([]byte("hello world, a long enough cursor")), 400, "", "cursor is invalid"},
		{"unknown parameter echoed safely", "/list-bucket-content?%E2%80%AE=1", 400, "", `unknown query parameter "\\u202e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := get(t, srv.URL, tt.target)
			if r.status != tt.wantStatus {
				t.Fatalf("GET %s: status = %d, want %d (%s)", tt.target, r.status, tt.wantStatus, r.body)
			}
			if tt.wantBody != "" && r.body != tt.wantBody {
				t.Errorf("GET %s: body %s, want %s", tt.target, r.body, tt.wantBody)
			}
			if tt.wantErr != "" {
				if msg := checkJSONError(t, r); !strings.Contains(msg, tt.wantErr) {
					t.Errorf("GET %s: error %q, want it to contain %q", tt.target, msg, tt.wantErr)
				}
			}
		})
	}
}

// TestPrefixDots: prefix is the start of a name, not a path segment, so
// "." and ".." are prefixes like any other (issue 20, point 4).
func TestPrefixDots(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"d/..hidden", "d/.env", "d/.x/y", "d/a", "d/b/.c"}, nil)
	srv := testServer(t, fakeLister(f), Config{})
	for _, tt := range []struct{ target, want string }{
		{"/list-bucket-content/d?prefix=.", `{"content":["..hidden",".env",".x"]}`},
		{"/list-bucket-content/d?prefix=..", `{"content":["..hidden"]}`},
		{"/list-bucket-content/d?prefix=...", `{"content":[]}`},
		{"/list-bucket-content/d?prefix=.&recursive=true", `{"content":["..hidden",".env",".x/y"]}`},
		{"/list-bucket-content/d/b?prefix=.", `{"content":[".c"]}`},
	} {
		if r := get(t, srv.URL, tt.target); r.status != 200 || r.body != tt.want {
			t.Errorf("GET %s: %d %s, want 200 %s", tt.target, r.status, r.body, tt.want)
		}
	}
}

// TestCursorKeyChars: a forged cursor whose key holds a character no S3
// listing can carry is a 400 and never reaches S3 (issue 20, point 3:
// such keys made S3 answers the SDK cannot read, a 502 and an ERROR line
// at will). A key with a tab, which S3 lists, still pages.
func TestCursorKeyChars(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"a/x", "a/y\tz", "a/z"}, nil)
	rec := &recordingS3{next: testS3Client(f.URL())}
	srv := testServer(t, NewS3Lister(rec, testBucket, S3ListerOptions{}), Config{})
	opts := listOptions{limit: 1}
	for _, pos := range []Position{{Key: "\x00"}, {Key: "x\uffff"}, {Key: "\ufffe"}, {Key: "\u0012"}, {Key: "x", Open: []string{"\x01"}}} {
		c := encodeCursor(&pos, opts.binding("a"))
		r := get(t, srv.URL, "/list-bucket-content/a?limit=1&cursor="+url.QueryEscape(c))
		if r.status != 400 {
			t.Errorf("cursor at %+q: status = %d, want 400 (%s)", pos, r.status, r.body)
			continue
		}
		if msg := checkJSONError(t, r); !strings.Contains(msg, "cursor is invalid") {
			t.Errorf("cursor at %+q: error %q", pos, msg)
		}
	}
	for _, in := range rec.calls() {
		if in.StartAfter != nil {
			t.Errorf("S3 was sent StartAfter %+q for a refused cursor", *in.StartAfter)
		}
	}
	// The paths get the same character rules as the cursor keys.
	for _, target := range []string{"/list-bucket-content/a%EF%BF%BF", "/list-bucket-content/%EF%BF%BE/x"} {
		if r := get(t, srv.URL, target); r.status != 400 || !strings.Contains(checkJSONError(t, r), "U+FFFE or U+FFFF") {
			t.Errorf("GET %s: %d %s, want 400 naming U+FFFE or U+FFFF", target, r.status, r.body)
		}
	}
	// A real page ending on a key with a tab hands out a cursor that works.
	var got []string
	target := "/list-bucket-content/a?limit=1"
	for range 4 {
		p := decodePage(t, get(t, srv.URL, target).body, false)
		got = append(got, p.names...)
		if p.next == "" {
			break
		}
		target = "/list-bucket-content/a?limit=1&cursor=" + url.QueryEscape(p.next)
	}
	if strings.Join(got, "|") != "x|y\tz|z" {
		t.Errorf("paging a/ one by one gave %+q, want x, y<tab>z, z", got)
	}
}

// TestCursorBinding checks a cursor works only for the listing it came
// from: another path, another limit, prefix, details or recursive is a 400.
func TestCursorBinding(t *testing.T) {
	t.Parallel()
	srv := refServer(t)
	first := decodePage(t, get(t, srv.URL, "/list-bucket-content?limit=2").body, false)
	if first.next == "" || strings.Join(first.names, ",") != "dir1,dir2" {
		t.Fatalf("first page %+v, want dir1,dir2 and a cursor", first)
	}
	c := url.QueryEscape(first.next)
	ok := get(t, srv.URL, "/list-bucket-content?limit=2&cursor="+c)
	if ok.status != 200 || ok.body != `{"content":["file1","file2"]}` {
		t.Fatalf("second page: %d %s", ok.status, ok.body)
	}
	for _, target := range []string{
		"/list-bucket-content/dir2?limit=2&cursor=" + c,
		"/list-bucket-content?limit=3&cursor=" + c,
		"/list-bucket-content?limit=2&details=true&cursor=" + c,
		"/list-bucket-content?limit=2&recursive=true&cursor=" + c,
		"/list-bucket-content?limit=2&prefix=d&cursor=" + c,
		"/list-bucket-content?limit=2&cursor=" + c[:len(c)-1],
		"/list-bucket-content?limit=2&cursor=" + c + "A",
	} {
		r := get(t, srv.URL, target)
		if r.status != 400 {
			t.Errorf("GET %s: status = %d, want 400 (%s)", target, r.status, r.body)
		}
		checkJSONError(t, r)
	}
}

// TestCursorStaysInPath checks that no crafted cursor reaches a key outside
// the listed directory: every S3 call a cursor causes starts with the
// path's prefix.
func TestCursorStaysInPath(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, []string{"a/x", "a/y", "b/secret", "a-z/secret"}, nil)
	rec := &recordingS3{next: testS3Client(f.URL())}
	srv := testServer(t, NewS3Lister(rec, testBucket, S3ListerOptions{}), Config{})
	opts := listOptions{limit: 5}
	for _, key := range []string{"../b/", "/../../b", "\x00", "zzzz", "a", strings.Repeat("é", 500)} {
		c := encodeCursor(&Position{Key: key, Open: []string{"a"}}, opts.binding("a"))
		r := get(t, srv.URL, "/list-bucket-content/a?limit=5&cursor="+url.QueryEscape(c))
		if strings.Contains(r.body, "secret") {
			t.Errorf("cursor key %q: listing %s reaches outside a/", key, r.body)
		}
	}
	for _, in := range rec.prefixes() {
		if !strings.HasPrefix(in, "a/") {
			t.Errorf("S3 was asked for prefix %q, outside a/", in)
		}
	}
}

// FuzzListOptions checks the query parser never panics, and that what it
// accepts is within bounds.
func FuzzListOptions(f *testing.F) {
	view := listOptions{limit: 2, sort: sortSize, desc: true}
	for _, s := range []string{"", "details=true", "limit=5&cursor=AQ", "prefix=a%00", "limit=1&limit=2", "%zz", "recursive=true&format=html", "prefix=" + strings.Repeat("x", 1100),
		"sort=name", "sort=size&order=desc", "order=asc", "sort=modified&order=", "match=", "match=%C3%A9&recursive=true", "match=a%00", "sort=name&match=x&limit=3&cursor=Ag",
		"sort=size&order=desc&limit=2&cursor=" + encodeViewCursor(&viewPos{value: 5, name: "b"}, view.binding("dir2")),
		"sort=size&order=desc&limit=2&cursor=" + encodeCursor(&Position{Key: "b"}, view.binding("dir2"))} {
		f.Add(s, "dir2")
	}
	f.Fuzz(func(t *testing.T, rawQuery, path string) {
		o, err := parseListOptions(rawQuery, path)
		if err != nil {
			if !isQueryError(err) {
				t.Fatalf("parseListOptions(%q): error %v is not a query error", rawQuery, err)
			}
			return
		}
		if o.limit < 0 || o.limit > maxLimit || (o.cursor != nil && o.limit == 0) {
			t.Fatalf("parseListOptions(%q) = %+v: out of bounds", rawQuery, o)
		}
		if checkNamePrefix(o.prefix) != nil && o.prefix != "" {
			t.Fatalf("parseListOptions(%q) accepted prefix %q", rawQuery, o.prefix)
		}
		if o.sort < sortNone || int(o.sort) >= len(sortNames) || (o.desc && o.sort == sortNone) {
			t.Fatalf("parseListOptions(%q) = sort %d, desc %v", rawQuery, o.sort, o.desc)
		}
		if o.match != "" && (len(o.match) > maxPathLen || checkChars(o.match) != nil) {
			t.Fatalf("parseListOptions(%q) accepted match %q", rawQuery, o.match)
		}
		if o.after != nil && (!o.isView() || o.limit == 0 || o.cursor != nil || !validKey(o.after.name)) {
			t.Fatalf("parseListOptions(%q) = %+v: a view cursor outside a view", rawQuery, o)
		}
		if !o.isView() && strings.Contains(o.binding(path), "view") && !strings.Contains(path+o.prefix, "view") {
			t.Fatalf("parseListOptions(%q): a plain listing's binding %q changed", rawQuery, o.binding(path))
		}
	})
}

// FuzzCursor checks decoding never panics and encoding round-trips.
func FuzzCursor(f *testing.F) {
	f.Add("", "dir2/", "a")
	f.Add("AQ", "x", "")
	f.Add(encodeCursor(&Position{Key: "sub/", Open: []string{"s", "su"}}, "b"), "é", "é!")
	f.Fuzz(func(t *testing.T, raw, key, open string) {
		if p, err := decodeCursor(raw, "b"); err == nil {
			if !validKey(p.Key) {
				t.Fatalf("decodeCursor(%q) accepted key %q", raw, p.Key)
			}
		}
		pos := &Position{Key: key}
		if open != "" && !strings.HasSuffix(open, "/") {
			pos.Open = []string{open}
		}
		if !validKey(key) || (open != "" && !validKey(open)) {
			return
		}
		got, err := decodeCursor(encodeCursor(pos, "b"), "b")
		if err != nil || got.Key != pos.Key || strings.Join(got.Open, "|") != strings.Join(pos.Open, "|") {
			t.Fatalf("round trip of %+v: %+v, %v", pos, got, err)
		}
		if _, err := decodeCursor(encodeCursor(pos, "b"), "c"); err == nil {
			t.Fatalf("cursor for listing b accepted for listing c")
		}
		// A view's cursor: the same checks, and never one for the other.
		if p, err := decodeViewCursor(raw, "b"); err == nil && !validKey(p.name) {
			t.Fatalf("decodeViewCursor(%q) accepted name %q", raw, p.name)
		}
		vp := &viewPos{dir: len(open)%2 == 1, value: int64(len(raw)) - 3, name: key}
		got2, err := decodeViewCursor(encodeViewCursor(vp, "b"), "b")
		if err != nil || *got2 != *vp {
			t.Fatalf("round trip of %+v: %+v, %v", vp, got2, err)
		}
		if _, err := decodeCursor(encodeViewCursor(vp, "b"), "b"); err == nil {
			t.Fatalf("a view's cursor was read as a key-order cursor")
		}
		if _, err := decodeViewCursor(encodeCursor(pos, "b"), "b"); err == nil {
			t.Fatalf("a key-order cursor was read as a view's cursor")
		}
	})
}

// recordingS3 passes calls through and remembers every input.
type recordingS3 struct {
	next s3.ListObjectsV2APIClient
	mu   sync.Mutex
	ins  []s3.ListObjectsV2Input
}

func (r *recordingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	r.mu.Lock()
	r.ins = append(r.ins, *in)
	r.mu.Unlock()
	return r.next.ListObjectsV2(ctx, in, opts...)
}

// calls is every input seen so far.
func (r *recordingS3) calls() []s3.ListObjectsV2Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ins)
}

// prefixes is every Prefix and StartAfter seen so far.
func (r *recordingS3) prefixes() []string {
	var seen []string
	for _, in := range r.calls() {
		seen = append(seen, aws.ToString(in.Prefix))
		if in.StartAfter != nil {
			seen = append(seen, aws.ToString(in.StartAfter))
		}
	}
	return seen
}

// TestCursorOnMissingPath: a cursor does not make a path exist. Anyone can
// write one for any path (the binding is a checksum, not a secret), so a
// page after a cursor that finds nothing asks whether the directory exists
// and answers 404 when it does not, as without a cursor; an existing
// directory's empty last page stays 200. Issue 20, point 14.
func TestCursorOnMissingPath(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	rec := &recordingS3{next: testS3Client(f.URL())}
	srv := testServer(t, NewS3Lister(rec, testBucket, S3ListerOptions{}), Config{})
	forged := func(path, key string, opts listOptions) string {
		return url.QueryEscape(encodeCursor(&Position{Key: key}, opts.binding(path)))
	}
	one := listOptions{limit: 1}
	for _, tt := range []struct {
		target     string
		wantStatus int
		wantBody   string
	}{
		{"/list-bucket-content/nope?limit=1&cursor=" + forged("nope", "a", one), 404, `{"error":"not found: nope"}`},
		{"/list-bucket-content/nope/?limit=1&cursor=" + forged("nope/", "a", one), 404, `{"error":"not found: nope/"}`},
		{"/list-bucket-content/dir2/nope?limit=1&cursor=" + forged("dir2/nope", "a", one), 404, ""},
		{"/list-bucket-content/nope?limit=1&recursive=true&cursor=" + forged("nope", "a", listOptions{limit: 1, recursive: true}), 404, ""},
		{"/list-bucket-content/nope?limit=1&prefix=x&cursor=" + forged("nope", "x", listOptions{limit: 1, prefix: "x"}), 404, ""},
		// An object has no second page.
		{"/list-bucket-content/file1?limit=1&cursor=" + forged("file1", "a", one), 404, ""},
		// Existing directories: past their end, and in the middle.
		{"/list-bucket-content/dir2?limit=1&cursor=" + forged("dir2", "zzz", one), 200, `{"content":[]}`},
		{"/list-bucket-content/dir1?limit=1&cursor=" + forged("dir1", "a", one), 200, `{"content":[]}`},
		{"/list-bucket-content/dir2?limit=1&cursor=" + forged("dir2", "file1", one), 200, `{"content":["file2"]}`},
		{"/list-bucket-content?limit=1&cursor=" + forged("", "zzz", one), 200, `{"content":[]}`},
	} {
		r := get(t, srv.URL, tt.target)
		if r.status != tt.wantStatus || (tt.wantBody != "" && r.body != tt.wantBody) {
			t.Errorf("GET %s: %d %s, want %d %s", tt.target, r.status, r.body, tt.wantStatus, tt.wantBody)
		}
	}
	// A page after a cursor that holds entries costs one S3 call, as before.
	before := len(rec.calls())
	get(t, srv.URL, "/list-bucket-content/dir2?limit=1&cursor="+forged("dir2", "file1", one))
	if n := len(rec.calls()) - before; n != 1 {
		t.Errorf("a second page with entries made %d S3 calls, want 1", n)
	}
}
