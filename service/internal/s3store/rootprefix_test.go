package s3store

import (
	"context"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/bucketls/bucketls/internal/s3name"
)

// TestRootPrefixGuard checks the lowest layer on its own: a call outside
// the root is never sent, and keys outside it in an answer are dropped,
// even from an endpoint that ignores Prefix.
func TestRootPrefixGuard(t *testing.T) {
	t.Parallel()
	api := &fixedS3{keys: []string{"pub", "pub-x", "pub/a", "pub/b", "secret"}}
	l := New(api, testBucket, Options{RootPrefix: "pub"})
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

// FuzzRootKey checks that whatever the root prefix check accepts makes a
// key prefix that a request path can only extend, never leave.
func FuzzRootKey(f *testing.F) {
	for _, s := range []string{"", "pub", "a/b", "/a", "a/", "a//b", "a/../b", "\xff", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if s3name.CheckRootPrefix(p) != nil || p == "" {
			return
		}
		if len(p) > s3name.MaxRootPrefixLen || !utf8.ValidString(p) || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
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
