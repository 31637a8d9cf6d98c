package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// ReferenceKeys returns the reference tree the demo serves and the
// README's API table describes: a zero-byte directory marker, two files in
// a directory and two at the root. A function, not a variable, so no caller
// can change what the next one gets.
func ReferenceKeys() []string {
	return []string{"dir1/", "dir2/file1", "dir2/file2", "file1", "file2"}
}

// NewMemBackend returns a gofakes3 in-memory backend holding bucket with
// the given keys, each with a short body (empty for keys ending in "/",
// which are directory markers). The demo uses it; so can tests.
func NewMemBackend(bucket string, keys []string) (gofakes3.Backend, error) {
	b := s3mem.New()
	if err := b.CreateBucket(bucket); err != nil {
		return nil, fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	for _, k := range keys {
		body := ""
		if !strings.HasSuffix(k, "/") {
			body = "content of " + k + "\n"
		}
		if _, err := b.PutObject(bucket, k, nil, strings.NewReader(body), int64(len(body)), nil); err != nil {
			return nil, fmt.Errorf("put %q: %w", k, err)
		}
	}
	return b, nil
}

// demoKeys is what the demo bucket holds: the reference tree, under
// rootPrefix+"/" when one is set, beside decoys that --root-prefix must
// keep out of every listing (an object named exactly the prefix, keys that
// share its first characters, a secret at the bucket root).
func demoKeys(rootPrefix string) []string {
	if rootPrefix == "" {
		return ReferenceKeys()
	}
	keys := []string{rootPrefix, rootPrefix + "-other/secret", rootPrefix + "x/secret", "secret"}
	for _, k := range ReferenceKeys() {
		keys = append(keys, rootPrefix+"/"+k)
	}
	return keys
}

// startDemoS3 serves an in-memory S3 with the reference tree (see
// demoKeys) on a free loopback port and returns its endpoint URL and a
// function that stops it. It goes through real HTTP and the real SDK
// client so the demo exercises exactly the code path production uses.
func startDemoS3(bucket, rootPrefix string) (endpoint string, stop func(), err error) {
	backend, err := NewMemBackend(bucket, demoKeys(rootPrefix))
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo S3: %w", err)
	}
	srv := &http.Server{
		Handler:           gofakes3.New(backend).Server(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("demo S3 stopped: %v", err)) // loopback server of our own; cannot happen
		}
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// printDemoHelp tells a person what to try, on stderr so the JSON logs on
// stdout stay machine-readable.
func printDemoHelp(w io.Writer, addr net.Addr, cfg Config) {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	base := "http://" + net.JoinHostPort(host, port) + "/list-bucket-content"
	fmt.Fprintf(w, "bucketls demo: serving in-memory bucket %q with keys %s", cfg.Bucket, strings.Join(ReferenceKeys(), ", "))
	if cfg.RootPrefix != "" {
		fmt.Fprintf(w, " under --root-prefix %q (and keys outside it that are never listed)", cfg.RootPrefix)
	}
	if cfg.Htpasswd != "" {
		fmt.Fprintf(w, "\nListings need a user of --htpasswd %s: add -u USER to each curl (it asks for the password)", cfg.Htpasswd)
	}
	fmt.Fprint(w, "\nTry:\n")
	for _, p := range []string{"", "/dir1", "/dir2", "/dir2/file1", "/nope"} {
		fmt.Fprintf(w, "  curl %s%s\n", base, p)
	}
	// The listing options, paging included: with limit=2 the root is two
	// pages, and the first page's "next" is the cursor of the second.
	for _, q := range []string{"/dir2?details=true", "?limit=2", "?recursive=true", "?prefix=file"} {
		fmt.Fprintf(w, "  curl '%s%s'\n", base, q)
	}
	fmt.Fprintf(w, "Or open %s/ in a browser for the HTML index.\n", base)
}
