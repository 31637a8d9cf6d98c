package service

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultsOn answers the paths named in faults with their error, "boom" with a
// panic, and every other path from next.
func faultsOn(next Lister) Lister {
	faults := map[string]error{
		"throttled": fmt.Errorf("list: %w", ErrThrottled),
		"slow":      fmt.Errorf("list: %w", ErrTimeout),
		"gone":      fmt.Errorf("list: %w", ErrBucketUnavailable),
	}
	return listerFunc(func(ctx context.Context, req ListRequest, emit func([]Entry, bool) error) (*Position, error) {
		if req.Path == "boom" {
			panic("lister bug")
		}
		if err, ok := faults[req.Path]; ok {
			return nil, err
		}
		return next.List(ctx, req, emit)
	})
}

// listerFunc adapts a function to Lister.
type listerFunc func(ctx context.Context, req ListRequest, emit func([]Entry, bool) error) (*Position, error)

func (f listerFunc) List(ctx context.Context, req ListRequest, emit func([]Entry, bool) error) (*Position, error) {
	return f(ctx, req, emit)
}

// TestCacheControl checks the Cache-Control and Vary of every kind of
// listing answer, under each caching setting and with a password, through
// real HTTP: the table in cachecontrol.go and the README's Caching.
func TestCacheControl(t *testing.T) {
	t.Parallel()
	f := startFakeS3(t, ReferenceKeys(), nil)
	f.Put(t, names("big/f", 2500)...) // streamed: more than one S3 page
	lister := faultsOn(fakeLister(f))
	serve := func(users *Users, cfg Config) string {
		hs := httptest.NewServer(conformingTo(t, NewServer(discard, lister, users, cfg)))
		t.Cleanup(hs.Close)
		return hs.URL
	}
	const (
		fresh2   = "public, max-age=2, stale-while-revalidate=2, stale-if-error=2"
		noStore  = "no-store"
		noCache  = "no-cache"
		private  = "private, no-cache"
		html     = "html"
		loggedIn = "alice"
	)
	servers := map[string]string{
		"defaults":             serve(nil, Config{}),
		"max-age 2s, stale 2s": serve(nil, Config{CacheMaxAge: 2 * time.Second, CacheStale: 2 * time.Second}),
		"max-age 1h, stale 0":  serve(nil, Config{CacheMaxAge: time.Hour}),
		"htpasswd":             serve(testUsers(t), Config{CacheMaxAge: 2 * time.Second, CacheStale: 2 * time.Second}),
	}
	tests := []struct {
		server      string
		method      string
		path        string
		as          string // "html": a browser's Accept; "alice": her credentials; both joined by +
		conditional bool   // send If-None-Match with the ETag of a GET first
		wantStatus  int
		want        string
	}{
		// The defaults send what every listing always said.
		{"defaults", "GET", "/list-bucket-content/dir2", "", false, 200, noCache},
		{"defaults", "GET", "/list-bucket-content/dir2", html, false, 200, noCache},
		{"defaults", "GET", "/list-bucket-content/big", "", false, 200, noCache},
		{"defaults", "HEAD", "/list-bucket-content/dir2", "", false, 200, noCache},
		{"defaults", "GET", "/list-bucket-content/dir2", "", true, 304, noCache},
		{"defaults", "GET", "/list-bucket-content/nope", "", false, 404, noCache},
		{"defaults", "GET", "/list-bucket-content/nope", html, false, 404, noCache},
		{"defaults", "GET", "/list-bucket-content/dir2?limit=x", "", false, 400, noStore},
		{"defaults", "GET", "/list-bucket-content/throttled", "", false, 503, noStore},

		{"max-age 2s, stale 2s", "GET", "/list-bucket-content", "", false, 200, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2", "", false, 200, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2", html, false, 200, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/big", "", false, 200, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/big", html, false, 200, fresh2},
		{"max-age 2s, stale 2s", "HEAD", "/list-bucket-content/dir2", "", false, 200, fresh2},
		{"max-age 2s, stale 2s", "HEAD", "/list-bucket-content/big", "", false, 200, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2", "", true, 304, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2", html, true, 304, fresh2},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/nope", "", false, 404, "public, max-age=2"},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/nope", html, false, 404, "public, max-age=2"},
		{"max-age 2s, stale 2s", "HEAD", "/list-bucket-content/nope", "", false, 404, "public, max-age=2"},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2?limit=x", "", false, 400, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/dir2?limit=x", html, false, 400, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/a//b", "", false, 400, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/throttled", "", false, 503, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/throttled", html, false, 503, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/slow", "", false, 504, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/gone", "", false, 502, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/boom", "", false, 500, noStore},
		{"max-age 2s, stale 2s", "GET", "/list-bucket-content/boom", html, false, 500, noStore},

		{"max-age 1h, stale 0", "GET", "/list-bucket-content/dir2", "", false, 200, "public, max-age=3600"},
		{"max-age 1h, stale 0", "GET", "/list-bucket-content/nope", "", false, 404, "public, max-age=10"},

		{"htpasswd", "GET", "/list-bucket-content/dir2", loggedIn, false, 200, private},
		{"htpasswd", "GET", "/list-bucket-content/dir2", html + "+" + loggedIn, false, 200, private},
		{"htpasswd", "GET", "/list-bucket-content/big", loggedIn, false, 200, private},
		{"htpasswd", "HEAD", "/list-bucket-content/dir2", loggedIn, false, 200, private},
		{"htpasswd", "GET", "/list-bucket-content/dir2", loggedIn, true, 304, private},
		{"htpasswd", "GET", "/list-bucket-content/nope", loggedIn, false, 404, private},
		{"htpasswd", "GET", "/list-bucket-content/dir2", "", false, 401, noStore},
		{"htpasswd", "GET", "/list-bucket-content/dir2", html, false, 401, noStore},
		{"htpasswd", "GET", "/list-bucket-content/dir2?limit=x", loggedIn, false, 400, noStore},
		{"htpasswd", "GET", "/list-bucket-content/throttled", loggedIn, false, 503, noStore},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s: %s %s %s", tt.server, tt.method, tt.path, tt.as)
		if tt.conditional {
			name += " If-None-Match"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := servers[tt.server]
			h := http.Header{}
			for _, as := range strings.Split(tt.as, "+") {
				switch as {
				case html:
					h.Set("Accept", acceptChrome)
				case loggedIn:
					h = mergeHeader(h, basic("alice", "correct horse"))
				}
			}
			if tt.conditional {
				first := do(t, nil, http.MethodGet, base, tt.path, h)
				etag := first.header.Get("ETag")
				if etag == "" {
					t.Fatalf("GET %s: no ETag to revalidate with", tt.path)
				}
				h.Set("If-None-Match", etag)
			}
			r := do(t, nil, tt.method, base, tt.path, h)
			if r.status != tt.wantStatus {
				t.Fatalf("%s %s: status = %d, want %d (%.200s)", tt.method, tt.path, r.status, tt.wantStatus, r.body)
			}
			if got := r.header.Values("Cache-Control"); len(got) != 1 || got[0] != tt.want {
				t.Errorf("%s %s: Cache-Control = %q, want %q", tt.method, tt.path, got, tt.want)
			}
			if tt.wantStatus == 200 || tt.wantStatus == 304 || tt.wantStatus == 404 {
				// The HTML index and the JSON share URLs; bodies of 1 KiB
				// or more are compressed.
				vary := strings.Split(strings.ReplaceAll(strings.Join(r.header.Values("Vary"), ","), " ", ""), ",")
				if !slices.Contains(vary, "Accept") || !slices.Contains(vary, "Accept-Encoding") {
					t.Errorf("%s %s: Vary = %q, want Accept and Accept-Encoding", tt.method, tt.path, r.header.Values("Vary"))
				}
			}
		})
	}
}

// mergeHeader is a with the fields of b added.
func mergeHeader(a, b http.Header) http.Header {
	for k, vs := range b {
		for _, v := range vs {
			a.Add(k, v)
		}
	}
	return a
}

// TestCacheControlOtherRoutes checks the errors of the other routes say
// how long to keep them too: an unknown route's 404 revalidates, a failure
// is never stored; /openapi.json keeps its own.
func TestCacheControlOtherRoutes(t *testing.T) {
	t.Parallel()
	srv := testServer(t, funcLister(nil), Config{CacheMaxAge: time.Hour, CacheStale: time.Hour})
	for _, tt := range []struct {
		path, accept string
		wantStatus   int
		want         string
	}{
		{"/nope", "", 404, "no-cache"},
		{"/nope", acceptChrome, 404, "no-cache"},
		{"/openapi.json", "", 200, "max-age=300"},
	} {
		r := do(t, nil, http.MethodGet, srv.URL, tt.path, accept(tt.accept))
		if r.status != tt.wantStatus || r.header.Get("Cache-Control") != tt.want {
			t.Errorf("GET %s (Accept %q): %d, Cache-Control %q; want %d, %q", tt.path, tt.accept, r.status, r.header.Get("Cache-Control"), tt.wantStatus, tt.want)
		}
	}
}
