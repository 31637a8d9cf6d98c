package s3store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/bucketls/bucketls/service/internal/listing"
)

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
		var handed [][]listing.Entry
		w := &walk{l: New(nil, testBucket, Options{}), prefix: tt.prefix, emit: func(e []listing.Entry, _ bool) error {
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
	f.Put(t, names("big/f", 2100)...)
	l := New(testS3Client(f.URL()), testBucket, Options{})
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
