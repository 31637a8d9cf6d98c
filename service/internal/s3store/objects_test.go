package s3store

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bucketls/bucketls/service/internal/listing"
)

// TestReadObject: each shape of read asks S3 for its bytes and reports
// where they sit in the object.
func TestReadObject(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, referenceKeys(), nil)
	l := New(testS3Client(f.URL()), testBucket, Options{})
	const body = "content of dir2/file1\n" // 22 bytes
	for _, tt := range []struct {
		name           string
		req            listing.ObjectRead
		offset, length int64
	}{
		{"whole", listing.ObjectRead{}, 0, 22},
		{"first byte", listing.ObjectRead{Length: 1}, 0, 1},
		{"middle", listing.ObjectRead{Offset: 11, Length: 4}, 11, 4},
		{"to the end", listing.ObjectRead{Offset: 16}, 16, 6},
		{"past the end", listing.ObjectRead{Offset: 16, Length: 100}, 16, 6},
		{"suffix", listing.ObjectRead{Suffix: 6}, 16, 6},
	} {
		tt.req.Path = "dir2/file1"
		obj, rc, err := l.ReadObject(context.Background(), tt.req)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		want := body[tt.offset : tt.offset+tt.length]
		if err != nil || string(b) != want || obj.Offset != tt.offset || obj.Length != tt.length || obj.Size != 22 || obj.ETag == "" || obj.ContentType != "text/plain; charset=utf-8" {
			t.Errorf("%s: %+v, %q, %v; want bytes %d+%d of 22, %q", tt.name, obj, b, err, tt.offset, tt.length, want)
		}
	}
	head, err := l.StatObject(context.Background(), "dir2/file1")
	if err != nil || head.Size != 22 || head.ETag == "" || head.Modified.IsZero() {
		t.Errorf("StatObject: %+v, %v", head, err)
	}
	for _, tt := range []struct {
		path string
		req  listing.ObjectRead
		want error
	}{
		{"nope", listing.ObjectRead{}, listing.ErrNotFound},
		{"dir1/", listing.ObjectRead{}, listing.ErrNotFound},
		{"", listing.ObjectRead{}, listing.ErrNotFound},
		{"dir2", listing.ObjectRead{}, listing.ErrNotFound},
		{"dir2/file1", listing.ObjectRead{Offset: 22}, listing.ErrRangeNotSatisfiable},
	} {
		tt.req.Path = tt.path
		if _, _, err := l.ReadObject(context.Background(), tt.req); !errors.Is(err, tt.want) {
			t.Errorf("ReadObject(%+v) = %v, want %v", tt.req, err, tt.want)
		}
		if tt.req.Offset == 0 {
			if _, err := l.StatObject(context.Background(), tt.path); !errors.Is(err, tt.want) {
				t.Errorf("StatObject(%q) = %v, want %v", tt.path, err, tt.want)
			}
		}
	}
	// Under a root prefix, a path is relative to it and nothing else is
	// reachable.
	pf := startFakeS3(t, []string{"pub/a", "secret", "pubx/secret"}, nil)
	pl := New(testS3Client(pf.URL()), testBucket, Options{RootPrefix: "pub"})
	if _, rc, err := pl.ReadObject(context.Background(), listing.ObjectRead{Path: "a"}); err != nil {
		t.Errorf("ReadObject a under pub: %v", err)
	} else {
		rc.Close()
	}
	for _, p := range []string{"secret", "../secret", "x/secret"} {
		if _, err := pl.StatObject(context.Background(), p); !errors.Is(err, listing.ErrNotFound) {
			t.Errorf("StatObject(%q) under pub = %v, want not found", p, err)
		}
	}
}

// TestParseContentRange: only a Content-Range that agrees with the body
// is taken.
func TestParseContentRange(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cr           string
		length       int64
		offset, size int64
		ok           bool
	}{
		{"bytes 0-0/5", 1, 0, 5, true},
		{"bytes 4-4/5", 1, 4, 5, true},
		{"bytes 2-9/10", 8, 2, 10, true},
		{"bytes 2-9/10", 7, 0, 0, false},
		{"bytes 0-5/5", 6, 0, 0, false},
		{"bytes */5", 0, 0, 0, false},
		{"bytes 3-2/5", 0, 0, 0, false},
		{"bytes -1-2/5", 4, 0, 0, false},
		{"items 0-0/5", 1, 0, 0, false},
		{"bytes 0-0/x", 1, 0, 0, false},
	} {
		offset, size, err := parseContentRange(tt.cr, tt.length)
		if (err == nil) != tt.ok || offset != tt.offset || size != tt.size {
			t.Errorf("parseContentRange(%q, %d) = %d, %d, %v", tt.cr, tt.length, offset, size, err)
		}
	}
}

// TestObjectReadTimeouts: S3 gets the call timeout for the headers and
// again for each read of the body; a body that stops is a timeout, one
// that ends early an error, never a short object.
func TestObjectReadTimeouts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	f := startFakeS3(t, referenceKeys(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/slow-body"):
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(200)
				w.Write([]byte(strings.Repeat("x", 50)))
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
				}
			case strings.HasSuffix(r.URL.Path, "/short-body"):
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(200)
				w.Write([]byte(strings.Repeat("x", 50)))
			case strings.HasSuffix(r.URL.Path, "/no-headers"):
				select {
				case <-release:
				case <-r.Context().Done():
				}
			default:
				next.ServeHTTP(w, r)
			}
		})
	})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for its handlers
	l := New(testS3Client(f.URL()), testBucket, Options{CallTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, rc, err := l.ReadObject(context.Background(), listing.ObjectRead{Path: "slow-body"})
	if err != nil {
		t.Fatal(err)
	}
	// Slower than the call timeout in all, but each read in time.
	time.Sleep(150 * time.Millisecond)
	b := make([]byte, 50)
	if _, err := io.ReadFull(rc, b); err != nil {
		t.Fatalf("first 50 bytes: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err = rc.Read(b)
	rc.Close()
	if !errors.Is(err, listing.ErrTimeout) || time.Since(start) > 2*time.Second {
		t.Errorf("a body that stops: %v after %s, want a timeout", err, time.Since(start))
	}
	_, rc, err = l.ReadObject(context.Background(), listing.ObjectRead{Path: "short-body"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, listing.ErrUpstream) {
		t.Errorf("a body that ends early: %v, want a storage error", err)
	}
	if _, _, err := l.ReadObject(context.Background(), listing.ObjectRead{Path: "no-headers"}); !errors.Is(err, listing.ErrTimeout) {
		t.Errorf("no headers in the call timeout: %v, want a timeout", err)
	}
}

// TestObjectsPassTheGate: objects are not read through the decode gate,
// which has a few slots per core; downloads that take long must not
// queue behind each other (or behind listings).
func TestObjectsPassTheGate(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, nil, nil)
	f.PutFile(t, "big", "application/octet-stream", strings.Repeat("x", 2*gatedBytes))
	l := New(testS3Client(f.URL()), testBucket, Options{})
	n := decodesPerCore*runtime.GOMAXPROCS(0) + 2
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range n {
		_, rc, err := l.ReadObject(ctx, listing.ObjectRead{Path: "big"})
		if err != nil {
			t.Fatalf("download %d of %d open at once: %v", i+1, n, err)
		}
		defer rc.Close()
	}
}
