package hidden

import (
	"strings"
	"testing"
)

func TestHidden(t *testing.T) {
	s, err := Parse([]string{".*", "*.bak", "private/*", "*/drafts", `a\*b`})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"", false},
		{".env", true},
		{"dir/.git/", true},
		{"dir/.git/config", true},
		{"dir/file", false},
		{"x.bak", true},
		{"d/x.bak.txt", false},
		{"private", false},
		{"private/", false},
		{"private/a", true},
		{"private/a/b", true},
		{"team/private/a", false},
		{"team/drafts", true},
		{"team/drafts/x", true},
		{"drafts", false},
		{"a/b/drafts", false},
		{"a*b", true},
		{"axb", false},
	} {
		if got := s.Hidden(tt.path); got != tt.want {
			t.Errorf("Hidden(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	// Under agrees with Hidden, with and without path patterns.
	names, _ := Parse([]string{".*", "*.bak"})
	for _, set := range []*Set{s, names} {
		for _, tt := range []struct{ dir, name string }{
			{"", ".env"}, {"", "private/"}, {"private", "a"}, {"team/", "drafts/"}, {"team", "drafts/x"},
			{"d", "x.bak"}, {"d/e", "f/.g/h"}, {"d", "ok"}, {"", "a*b"},
		} {
			full := strings.TrimSuffix(tt.dir, "/")
			if full != "" {
				full += "/"
			}
			if got, want := set.Under(tt.dir)(tt.name), set.Hidden(full+tt.name); got != want {
				t.Errorf("Under(%q)(%q) = %v, Hidden = %v", tt.dir, tt.name, got, want)
			}
		}
	}
	var none *Set
	if none.Hidden(".env") || none.Under("") != nil {
		t.Error("the nil Set hides")
	}
}

func TestCheck(t *testing.T) {
	for _, p := range []string{".*", "*.bak", "private/*", "a/b/c", "[a-z]*", `\*`, "名前*", "with space"} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%q) = %v, want nil", p, err)
		}
	}
	for _, tt := range []struct{ p, want string }{
		{"", "empty"},
		{"/abs", "slash at an end"},
		{"dir/", "slash at an end"},
		{"a//b", "empty segment"},
		{"a/../b", ". or .."},
		{".", ". or .."},
		{"[", "not a glob"},
		{`x\`, "not a glob"},
		{"a,b", "comma"},
		{"a\nb", "control"},
		{"\xff", "UTF-8"},
		{strings.Repeat("a", 257), "longer"},
	} {
		if err := Check(tt.p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%q) = %v, want it to say %q", tt.p, err, tt.want)
		}
	}
	if _, err := Parse(make([]string, 65)); err == nil {
		t.Error("Parse took 65 patterns")
	}
}

func FuzzHidden(f *testing.F) {
	f.Add(".*", "a/.b/c")
	f.Add("x/*", "x/y")
	f.Fuzz(func(t *testing.T, pat, p string) {
		s, err := Parse([]string{pat})
		if err != nil {
			return
		}
		got := s.Hidden(p)
		// Whatever is below a hidden path is hidden.
		if got && !s.Hidden(strings.TrimSuffix(p, "/")+"/child") {
			t.Fatalf("%q hides %q but not what is below it", pat, p)
		}
	})
}
