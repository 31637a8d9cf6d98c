package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bucketls/bucketls/service"
	"github.com/johannesboyne/gofakes3"
)

// A directory's README (issue 22) costs its index page one GET when the
// README is new or changed, and nothing more while it stays: the service
// keeps it rendered by ETag. The probe times the index page of a
// directory of readmeDirLen files with a README.md of a few KiB, as a
// project's would be: without objects served (no README), with the README
// kept, and with the README changed before every request (a GET and a
// render each time).
const readmeDirLen = 100

// readmeText is the README the probe's directory holds: headings, lists,
// a table, code, links and an image, about 6 KiB.
var readmeText = strings.Repeat(`# Release files

These are the **builds** of the project, one directory a release. See the
[changelog](CHANGELOG.md), the [docs](docs/) and the [site](https://example.com/).

![logo](logo.png)

## Verify a download

1. Fetch `+"`SHA256SUMS`"+` and its signature.
2. Check it: `+"`sha256sum -c SHA256SUMS`"+`.
3. Keep the file only if it says *OK*.

`+"```"+`sh
gpg --verify SHA256SUMS.asc SHA256SUMS
sha256sum -c --ignore-missing SHA256SUMS
`+"```"+`

| Platform | File | Notes |
|---|---|---|
| Linux amd64 | tool-linux-amd64.tar.gz | static |
| macOS arm64 | tool-darwin-arm64.tar.gz | notarised |

> Older releases stay here; nothing is ever deleted.

`, 6)

// readmeBackend holds readme/ with readmeDirLen files and README.md. It is
// gofakes3's own in-memory backend: the probe reads objects, which the
// listing backend cannot serve.
func readmeBackend() (*readmeStore, error) {
	keys := make([]string, readmeDirLen)
	for i := range keys {
		keys[i] = fmt.Sprintf("readme/file%03d.tar.gz", i)
	}
	b, err := service.NewMemBackend(benchBucket, keys)
	if err != nil {
		return nil, err
	}
	s := &readmeStore{Backend: b}
	return s, s.put()
}

// readmeStore is the backend with a way to change the README.
type readmeStore struct {
	gofakes3.Backend
	version atomic.Int64
}

// put stores a new version of the README: a new ETag.
func (s *readmeStore) put() error {
	body := fmt.Sprintf("%s\nVersion %d.\n", readmeText, s.version.Add(1))
	_, err := s.PutObject(benchBucket, "readme/README.md", map[string]string{"Content-Type": "text/markdown"}, strings.NewReader(body), int64(len(body)), nil)
	return err
}

// readmeTimes are the index page's times, medians of 31.
type readmeTimes struct {
	without, kept, changed time.Duration
	bytes                  int // of the README
}

// timeReadme times the index page of readme/ one request at a time,
// taking turns.
func timeReadme(r *rig) (readmeTimes, error) {
	store, err := readmeBackend()
	if err != nil {
		return readmeTimes{}, err
	}
	endpoint, err := r.backend("readme", func() gofakes3.Backend { return store })
	if err != nil {
		return readmeTimes{}, err
	}
	plain, err := r.serviceAt(endpoint)
	if err != nil {
		return readmeTimes{}, err
	}
	objects, err := r.serviceAt(endpoint, "BUCKETLS_SERVE_OBJECTS=true")
	if err != nil {
		return readmeTimes{}, err
	}
	const page = "/list-bucket-content/readme/?format=html"
	times, err := medians(31,
		func() error { return fetch(r.walker, plain.base+page) },
		func() error { return fetch(r.walker, objects.base+page) },
		func() error {
			if err := store.put(); err != nil {
				return err
			}
			return fetch(r.walker, objects.base+page)
		},
	)
	if err != nil {
		return readmeTimes{}, err
	}
	return readmeTimes{without: times[0], kept: times[1], changed: times[2], bytes: len(readmeText)}, nil
}

// readmeLine is the README's figures.
func readmeLine(t readmeTimes) string {
	return fmt.Sprintf("index page of %d files with a %.1f KiB README.md (median of 31): without objects served (no README) %s; README kept %s; README changed before each request (one GET and a render) %s",
		readmeDirLen, float64(t.bytes)/1024, ms(t.without), ms(t.kept), ms(t.changed))
}
