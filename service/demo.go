package service

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bucketls/bucketls/service/internal/fakes3"
	"github.com/bucketls/bucketls/service/internal/s3store"
	"github.com/johannesboyne/gofakes3"
)

// ReferenceKeys returns the reference tree the demo serves and the
// API docs (README.md, docs/api.md) describe: a zero-byte directory marker, two files in
// a directory and two at the root. A function, not a variable, so no caller
// can change what the next one gets.
func ReferenceKeys() []string { return fakes3.ReferenceKeys() }

// NewMemBackend returns a gofakes3 in-memory backend holding bucket with
// the given keys, each with a short body (empty for keys ending in "/",
// which are directory markers). The demo uses it; so can tests.
func NewMemBackend(bucket string, keys []string) (gofakes3.Backend, error) {
	return fakes3.NewBackend(bucket, keys)
}

// NewStaticS3Client returns the S3 client the demo lists its in-memory
// bucket with (see [s3store.NewStaticClient]): the service's own client
// for an endpoint at endpoint, with fixed region and credentials, untouched
// by the environment. Tests and the benchmark list a [NewMemBackend] with it.
func NewStaticS3Client(endpoint string) *s3.Client { return s3store.NewStaticClient(endpoint) }

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
	backend, err := fakes3.NewBackend(bucket, demoKeys(rootPrefix))
	if err != nil {
		return "", nil, err
	}
	endpoint, stop, err = fakes3.Serve(fakes3.Handler(backend))
	if err != nil {
		return "", nil, fmt.Errorf("demo S3: %w", err)
	}
	return endpoint, stop, nil
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
	if cfg.ServeObjects {
		// A file's bytes, and a range of them (curl -r sends Range).
		files := strings.TrimSuffix(base, listRoot) + fileRoot
		fmt.Fprintf(w, "  curl %s/dir2/file1\n", files)
		fmt.Fprintf(w, "  curl -r 0-6 %s/dir2/file1\n", files)
	}
	fmt.Fprintf(w, "Or open %s/ in a browser for the HTML index.\n", base)
}
