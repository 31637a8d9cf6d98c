// Package docs holds bucketls's reference pages. Its test keeps every
// relative link and #anchor in README.md, CHANGELOG.md and docs/*.md
// resolving, so a renamed heading or moved page fails CI, not a reader.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// pages are the Markdown files whose links are checked, relative to this
// directory.
func pages(t *testing.T) []string {
	t.Helper()
	found, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"../README.md"}
	if _, err := os.Stat("../CHANGELOG.md"); err == nil {
		out = append(out, "../CHANGELOG.md")
	}
	return append(out, found...)
}

var (
	// inlineLink is [text](target) or ![alt](target), target without spaces.
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// refLink is a reference definition: [label]: target
	refLink     = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*(\S+)`)
	atxHeading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	inlineCode  = regexp.MustCompile("`+[^`]*`+")
	htmlTag     = regexp.MustCompile(`<[^>]+>`)
	mdLinkInHdr = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// prose is the Markdown outside fenced code blocks, line by line.
func prose(md string) []string {
	var out []string
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			fence = t[:3]
			continue
		}
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		out = append(out, line)
	}
	return out
}

// anchors are the ids GitHub gives a page's headings: the heading's text
// lower-cased, punctuation other than "-" and "_" dropped, spaces made
// "-", and "-1", "-2"... after repeats.
func anchors(md string) map[string]bool {
	ids := map[string]bool{}
	seen := map[string]int{}
	for _, line := range prose(md) {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := mdLinkInHdr.ReplaceAllString(m[2], "$1")
		text = htmlTag.ReplaceAllString(text, "")
		text = strings.NewReplacer("`", "", "*", "", "~", "").Replace(text)
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r):
				b.WriteRune(r)
			}
		}
		id := b.String()
		if n := seen[id]; n > 0 {
			ids[id+"-"+itoa(n)] = true
		} else {
			ids[id] = true
		}
		seen[id]++
	}
	return ids
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// links are the link targets of a page, outside code.
func links(md string) []string {
	var out []string
	for _, line := range prose(md) {
		line = inlineCode.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
		for _, m := range refLink.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestLinks checks every relative link and anchor of the project's pages.
func TestLinks(t *testing.T) {
	t.Parallel()
	cache := map[string]map[string]bool{}
	idsOf := func(path string) (map[string]bool, bool) {
		if ids, ok := cache[path]; ok {
			return ids, true
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, false
		}
		cache[path] = anchors(string(data))
		return cache[path], true
	}
	for _, page := range pages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range links(string(data)) {
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s: link %q: no such file %s", page, target, path)
					continue
				}
			}
			if frag == "" {
				continue
			}
			if !strings.HasSuffix(path, ".md") {
				t.Errorf("%s: link %q: an anchor into a file that is not Markdown", page, target)
				continue
			}
			ids, _ := idsOf(path)
			if !ids[frag] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", page, target, path, frag)
			}
		}
	}
}

// TestAnchors checks the anchor rules against headings GitHub renders.
func TestAnchors(t *testing.T) {
	t.Parallel()
	md := "# bucketls\n## A logged-in client behind `--htpasswd`\n## Serve one subtree, behind a password\n" +
		"```\n# not a heading\n```\n## Costs\n## Costs\n### Mode `ha`: load balancer & Auto Scaling group\n## [Linked](x.md) heading\n"
	want := []string{"bucketls", "a-logged-in-client-behind---htpasswd", "serve-one-subtree-behind-a-password",
		"costs", "costs-1", "mode-ha-load-balancer--auto-scaling-group", "linked-heading"}
	got := anchors(md)
	for _, id := range want {
		if !got[id] {
			t.Errorf("anchors lack %q; have %v", id, got)
		}
	}
	if got["not-a-heading"] || len(got) != len(want) {
		t.Errorf("anchors = %v, want exactly %v", got, want)
	}
}
