// Package hidden is the --hide rule that bucketls's service applies and
// its stack (setting hide) validates: glob patterns naming keys the index
// and the API leave out. It is a leaf: it imports neither side, so the two
// never disagree about what a pattern means or which patterns are valid.
//
// Hiding is presentation, not access control: a hidden key is still in
// the bucket, readable by anyone with the bucket's credentials, and its
// name still reaches S3 in every listing call. To keep keys from the
// service itself, confine it with --root-prefix (rootPrefix) and IAM.
package hidden

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPatterns and MaxPatternLen bound a set: every listed name is matched
// against every pattern.
const (
	MaxPatterns   = 64
	MaxPatternLen = 256
)

// Set is a parsed list of patterns. The nil Set hides nothing.
//
// A pattern without a slash is matched (path.Match: *, ?, [...], \) against
// every segment of a path: ".*" hides dotfiles and dot-directories at any
// depth, with everything below them. A pattern with slashes is matched
// against the path from the listing root, segment for segment: "private/*"
// hides what private/ holds at the root, "*/drafts" every drafts/ one
// level down; what is below a hidden directory is hidden too.
type Set struct {
	names []string  // patterns without a slash
	paths []pattern // patterns with one
}

type pattern struct {
	glob  string
	depth int // segments
}

// Parse checks every pattern and returns the set; no patterns is nil.
func Parse(patterns []string) (*Set, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	if len(patterns) > MaxPatterns {
		return nil, fmt.Errorf("%d patterns, more than %d", len(patterns), MaxPatterns)
	}
	s := &Set{}
	for _, p := range patterns {
		if err := Check(p); err != nil {
			return nil, err
		}
		if strings.Contains(p, "/") {
			s.paths = append(s.paths, pattern{glob: p, depth: strings.Count(p, "/") + 1})
		} else {
			s.names = append(s.names, p)
		}
	}
	return s, nil
}

// Check reports what is wrong with one pattern, naming it.
func Check(p string) error {
	bad := func(why string) error { return fmt.Errorf("pattern %q %s", p, why) }
	switch {
	case p == "":
		return errors.New("an empty pattern; leave it out")
	case len(p) > MaxPatternLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxPatternLen))
	case !utf8.ValidString(p):
		return bad("is not valid UTF-8")
	case strings.ContainsFunc(p, unicode.IsControl):
		return bad("has a control character")
	case strings.Contains(p, ","):
		// The environment and the unit separate patterns with commas.
		return bad("has a comma, which separates patterns; match it with ?")
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//"):
		return bad("has a slash at an end or an empty segment; write name patterns like .* or paths from the root like private/*")
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return bad("has a . or .. segment; paths are matched as they are, never resolved")
		}
	}
	if _, err := path.Match(p, ""); err != nil {
		return bad("is not a glob pattern (*, ?, [a-z], \\ to escape): " + err.Error())
	}
	return nil
}

// Hidden reports whether the path (slash-separated from the listing root,
// a trailing slash allowed) is hidden: one of its segments matches a name
// pattern, or the path up to one of its segments matches a path pattern.
// The root ("") never is.
func (s *Set) Hidden(p string) bool {
	p = strings.TrimSuffix(p, "/")
	if s == nil || p == "" {
		return false // the listing root is never hidden
	}
	start, depth := 0, 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		depth++
		if s.matchName(p[start:i]) {
			return true
		}
		for _, pp := range s.paths {
			if pp.depth == depth {
				if ok, _ := path.Match(pp.glob, p[:i]); ok {
					return true
				}
			}
		}
		start = i + 1
	}
	return false
}

func (s *Set) matchName(seg string) bool {
	for _, n := range s.names {
		if ok, _ := path.Match(n, seg); ok {
			return true
		}
	}
	return false
}

// Under returns the test for names listed in dir (relative to it, a
// trailing slash allowed), for a directory that is not hidden itself; nil
// when the set hides nothing, so a listing without --hide does no work.
func (s *Set) Under(dir string) func(name string) bool {
	if s == nil {
		return nil
	}
	dir = strings.TrimSuffix(dir, "/")
	if len(s.paths) == 0 {
		// Name patterns only: the segments of the name are all that can
		// match, and no path needs building.
		return func(name string) bool {
			name = strings.TrimSuffix(name, "/")
			for seg := range strings.SplitSeq(name, "/") {
				if s.matchName(seg) {
					return true
				}
			}
			return false
		}
	}
	if dir == "" {
		return s.Hidden
	}
	return func(name string) bool { return s.Hidden(dir + "/" + name) }
}
