package corsorigin

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bucketls/bucketls/internal/corsorigin/corsorigintest"
)

// TestParse: the examples both sides check, accepted as browsers send
// them or refused with the entry and the reason.
func TestParse(t *testing.T) {
	for _, ex := range corsorigintest.Examples() {
		got, err := Parse(ex.Origins)
		if ex.Want != nil {
			if err != nil || !slices.Equal(got, ex.Want) {
				t.Errorf("Parse(%q) = %q, %v; want %q", ex.Origins, got, err, ex.Want)
			}
			continue
		}
		var errs Errors
		if !errors.As(err, &errs) || errs[0].Origin != ex.Bad || !strings.Contains(errs[0].Problem, ex.Problem) || got != nil {
			t.Errorf("Parse(%q) = %q, %v; want an error for %q saying %q", ex.Origins, got, err, ex.Bad, ex.Problem)
		}
	}
}

// TestParseReportsEveryEntry: one error per bad entry, in order, the
// message naming the first; blank entries are refused, not skipped.
func TestParseReportsEveryEntry(t *testing.T) {
	_, err := Parse([]string{"https://a.example/x", "https://ok.example", "", "ftp://b.example"})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("Parse = %v, want 3 errors", err)
	}
	for i, want := range []string{"https://a.example/x", "", "ftp://b.example"} {
		if errs[i].Origin != want || errs[i].Fix == "" {
			t.Errorf("error %d = %+v, want one for %q with a fix", i, errs[i], want)
		}
	}
	if msg := err.Error(); !strings.HasPrefix(msg, `"https://a.example/x" has a path`) || !strings.HasSuffix(msg, "(and 2 more)") {
		t.Errorf("message %q", msg)
	}
	if got, err := Parse(nil); got != nil || err != nil {
		t.Errorf("Parse(nil) = %q, %v", got, err)
	}
	if got, err := Parse([]string{" https://a.example "}); err != nil || !slices.Equal(got, []string{"https://a.example"}) {
		t.Errorf("spaces around an entry: %q, %v", got, err)
	}
}

// FuzzParse: what Parse accepts is written as browsers send it (Parse
// keeps it as it is), in the characters the stack writes into its unit
// unquoted, with no comma to split it, and a "*" only as "*" alone or as
// a whole first label.
func FuzzParse(f *testing.F) {
	for _, ex := range corsorigintest.Examples() {
		f.Add(strings.Join(ex.Origins, "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(strings.Split(s, "\n"))
		if err != nil {
			return
		}
		again, err := Parse(got)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("Parse(%q) = %q, which parses to %q, %v", s, got, again, err)
		}
		for _, o := range got {
			if strings.Trim(o, "abcdefghijklmnopqrstuvwxyz0123456789-._:/[]*") != "" {
				t.Fatalf("Parse(%q) gives %q", s, o)
			}
			if o == Any {
				continue
			}
			if _, after, ok := strings.Cut(o, "*"); ok && (!strings.Contains(o, "://*.") || strings.Contains(after, "*")) {
				t.Fatalf("Parse(%q) gives %q", s, o)
			}
		}
	})
}
