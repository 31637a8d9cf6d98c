package service

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bucketls/bucketls/internal/hidden"
)

// hideKeys has hidden names at several depths, a root directory whose
// children a path pattern hides and a directory of the same name deeper
// that it does not.
var hideKeys = []string{
	".env", "h/.env", "h/.git/config", "h/a", "h/b.bak", "h/private/x", "h/sub/.hidden", "h/sub/c",
	"private/secret", "readme",
}

func hideServer(t testing.TB, patterns ...string) string {
	t.Helper()
	f := startFakeS3(t, hideKeys, nil)
	return testServer(t, fakeLister(f), Config{Hide: patterns}).URL
}

// TestHide: hidden names leave listings, recursive ones, views and paged
// answers alike, and a hidden path answers exactly as a missing one.
func TestHide(t *testing.T) {
	t.Parallel()
	srv := hideServer(t, ".*", "*.bak", "private/*")
	for _, tt := range []struct{ target, want string }{
		{"/list-bucket-content", `{"content":["h","private","readme"]}`},
		{"/list-bucket-content/h", `{"content":["a","private","sub"]}`},
		{"/list-bucket-content/h/private", `{"content":["x"]}`},
		{"/list-bucket-content/private/", `{"content":[]}`},
		{"/list-bucket-content/h?recursive=true", `{"content":["a","private/x","sub/c"]}`},
		{"/list-bucket-content?recursive=true", `{"content":["h/a","h/private/x","h/sub/c","readme"]}`},
		{"/list-bucket-content/h?sort=name&order=desc", `{"content":["sub","private","a"]}`},
		{"/list-bucket-content/h?match=b", `{"content":["sub"]}`},
		{"/list-bucket-content/h?prefix=.", `{"content":[]}`},
	} {
		if r := get(t, srv, tt.target); r.status != 200 || r.body != tt.want {
			t.Errorf("GET %s: %d %s, want 200 %s", tt.target, r.status, r.body, tt.want)
		}
	}
	for _, p := range []string{"/.env", "/h/.env", "/h/.git", "/h/.git/", "/h/.git/config", "/h/b.bak", "/private/secret", "/h/sub/.hidden"} {
		r := get(t, srv, "/list-bucket-content"+p)
		if want := "not found: " + strings.TrimPrefix(p, "/"); r.status != 404 || checkJSONError(t, r) != want {
			t.Errorf("GET %s: %d %s, want 404 %q", p, r.status, r.body, want)
		}
		if r := get(t, srv, "/list-bucket-content"+p+"?sort=name"); r.status != 404 {
			t.Errorf("GET %s sorted: %d, want 404", p, r.status)
		}
	}
	// The answers for a hidden and for a missing path are the same bytes.
	hiddenAns, missing := get(t, srv, "/list-bucket-content/h/.env"), get(t, srv, "/list-bucket-content/h/.enw")
	if strings.Replace(hiddenAns.body, ".env", ".enw", 1) != missing.body {
		t.Errorf("hidden %s, missing %s", hiddenAns.body, missing.body)
	}
	// Pages fill from the entries that are shown: every one once.
	for _, limit := range []string{"1", "2"} {
		var got []string
		cursor := ""
		for range 10 {
			target := "/list-bucket-content/h?limit=" + limit
			if cursor != "" {
				target += "&cursor=" + url.QueryEscape(cursor)
			}
			p := decodePage(t, get(t, srv, target).body, false)
			got = append(got, p.names...)
			if cursor = p.next; cursor == "" {
				break
			}
		}
		if want := []string{"a", "private", "sub"}; !slices.Equal(got, want) {
			t.Errorf("h in pages of %s: %q, want %q", limit, got, want)
		}
	}
}

// TestHideEverything: "*" hides every name, but the root itself still
// lists (empty), and without patterns nothing changes.
func TestHideEverything(t *testing.T) {
	t.Parallel()
	if r := get(t, hideServer(t, "*"), "/list-bucket-content"); r.status != 200 || r.body != `{"content":[]}` {
		t.Errorf("--hide '*': root %d %s", r.status, r.body)
	}
	if r := get(t, hideServer(t), "/list-bucket-content/h"); r.body != `{"content":[".env",".git","a","b.bak","private","sub"]}` {
		t.Errorf("no --hide: %s", r.body)
	}
}

// TestHideIndex: the index has no row and no link for a hidden name.
func TestHideIndex(t *testing.T) {
	t.Parallel()
	r := do(t, nil, "GET", hideServer(t, ".*"), "/list-bucket-content/h/", accept(acceptChrome))
	if r.status != 200 || strings.Contains(r.body, ".env") || strings.Contains(r.body, ".git") || !strings.Contains(r.body, ">b.bak<") {
		t.Errorf("index of h with .* hidden: %d %s", r.status, r.body)
	}
}

// hiddenFor parses patterns for a test.
func hiddenFor(patterns ...string) (*hidden.Set, error) { return hidden.Parse(patterns) }
