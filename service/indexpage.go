package service

import (
	"bytes"
	"strconv"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The index pages are built as trees of golang.org/x/net/html nodes and
// written by html.Render, which escapes every text and attribute value:
// no markup is ever put together from strings, and no value can leave its
// text or attribute. Links are made only by listHref and indexHref (paths
// under listRoot, each segment escaped by url.PathEscape), so no key can
// become a javascript: or other-scheme URL. The stylesheet is our own
// embedded file, allowed by its hash in the CSP, and the page runs no
// script at all.
//
// Not html/template: executing a template reaches reflect's MethodByName,
// and a binary that can call that must keep every exported method of
// every type it has, in case a template names it. With the AWS SDK in
// the binary that was a third of its size, and as much more of it resident
// in every process (docs/browser.md).

// renderIndexPage writes the page for one page of a listing.
func renderIndexPage(p indexPage) ([]byte, error) {
	main := el(atom.Main, nil)
	if p.Readme != nil {
		main.AppendChild(readmeNodes(p.Readme))
	}
	main.AppendChild(searchNode(p.Search))
	if p.OverCap > 0 {
		main.AppendChild(el(atom.P, attrs("class", "note", "role", "status"), text(
			"This directory has more than "+groupDigits(p.OverCap)+" entries, the most a sorted or filtered view reads, "+
				"so it is listed in key order, unsorted and unfiltered. Names starting with a text (prefix= in the URL) "+
				"are found by S3 itself, at any size.")))
	}
	if p.paged() {
		main.AppendChild(el(atom.Div, attrs("class", "bar"), pagerNodes(p)...))
	}
	tbody := el(atom.Tbody, nil)
	for _, e := range p.Entries {
		tbody.AppendChild(entryRow(e))
	}
	if len(p.Entries) == 0 {
		msg := "This directory is empty."
		if p.First != "" {
			msg = "No more entries."
		}
		tbody.AppendChild(el(atom.Tr, nil, el(atom.Td, attrs("class", "empty", "colspan", "4"), text(msg))))
	}
	head := el(atom.Tr, nil)
	for _, c := range p.Columns {
		head.AppendChild(columnHead(c))
	}
	main.AppendChild(el(atom.Table, attrs("class", "ls"), el(atom.Thead, nil, head), tbody))
	main.AppendChild(el(atom.Footer, nil, pagerNodes(p)...))
	return renderDocument(p, main)
}

// columnHead is one heading: a link to the listing sorted by it, marked
// with the way it is sorted now.
func columnHead(c column) *html.Node {
	if c.Href == "" {
		return el(atom.Th, attrs("scope", "col"), text(c.Name))
	}
	a := attrs("scope", "col")
	label := c.Name
	switch c.Sorted {
	case "ascending":
		a, label = append(a, html.Attribute{Key: "aria-sort", Val: c.Sorted}), label+" ▲"
	case "descending":
		a, label = append(a, html.Attribute{Key: "aria-sort", Val: c.Sorted}), label+" ▼"
	}
	return el(atom.Th, a, el(atom.A, attrs("href", c.Href), text(label)))
}

// searchNode is the filter form: a plain GET, no script.
func searchNode(f search) *html.Node {
	form := el(atom.Form, attrs("class", "search", "role", "search", "method", "get", "action", f.Action))
	for _, h := range f.Hidden {
		form.AppendChild(el(atom.Input, attrs("type", "hidden", "name", h[0], "value", h[1])))
	}
	form.AppendChild(el(atom.Input, attrs("type", "search", "name", "match", "value", f.Match,
		"placeholder", "Names containing…", "aria-label", "Show only names containing", "maxlength", "1024")))
	box := attrs("type", "checkbox", "name", "recursive", "value", "true")
	if f.Recursive {
		box = append(box, html.Attribute{Key: "checked"})
	}
	form.AppendChild(el(atom.Label, nil, el(atom.Input, box), text(" in subdirectories")))
	form.AppendChild(el(atom.Button, attrs("type", "submit"), text("Filter")))
	return form
}

// groupDigits writes n with thousands separated by commas: 10,000.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// entryRow is one row of the table: name (a link, or text with a title
// saying why not), type, size and date.
func entryRow(e indexEntry) *html.Node {
	tag, a, name, kind := atom.A, attrs("href", e.Href), e.Name, "file"
	if e.NoLink != "" {
		tag, a = atom.Span, attrs("title", e.NoLink)
	}
	if e.Dir {
		a, name, kind = append(a, html.Attribute{Key: "class", Val: "d"}), e.Name+"/", "directory"
	}
	link := el(tag, a, text(name))
	var sizeAttrs []html.Attribute
	if e.Exact {
		sizeAttrs = attrs("title", strconv.FormatInt(e.Bytes, 10)+" bytes")
	}
	modified := el(atom.Td, nil)
	if m := e.Modified; m != nil {
		// A phone hides the clock (the stylesheet hides the span).
		modified.AppendChild(text(m.Day))
		modified.AppendChild(el(atom.Span, nil, text(" "+m.Clock)))
	}
	return el(atom.Tr, nil,
		el(atom.Td, nil, link),
		el(atom.Td, nil, text(kind)),
		el(atom.Td, sizeAttrs, text(e.Size)),
		modified)
}

// pagerNodes are the entry count and, on a paged listing, the links to
// the first and the next page.
func pagerNodes(p indexPage) []*html.Node {
	noun := "entries"
	if p.Count == 1 {
		noun = "entry"
	}
	count := el(atom.Span, attrs("class", "count"), text(strconv.Itoa(p.Count)+" "+noun))
	if p.paged() {
		count.AppendChild(text(" on this page"))
	}
	if p.Prefix != "" {
		count.AppendChild(text(", names starting with “"))
		count.AppendChild(el(atom.Q, nil, text(p.Prefix)))
		count.AppendChild(text("”"))
	}
	if p.Match != "" && p.OverCap == 0 {
		count.AppendChild(text(", names containing “"))
		count.AppendChild(el(atom.Q, nil, text(p.Match)))
		count.AppendChild(text("”"))
	}
	out := []*html.Node{count}
	if p.paged() {
		nav := el(atom.Nav, attrs("class", "pages", "aria-label", "Pages"))
		if p.First != "" {
			nav.AppendChild(el(atom.A, attrs("href", p.First), text("First page")))
		}
		if p.Next != "" {
			nav.AppendChild(el(atom.A, attrs("href", p.Next, "rel", "next"), text("Next page →")))
		}
		out = append(out, nav)
	}
	return out
}

// paged reports whether the listing has more than this one page.
func (p indexPage) paged() bool { return p.Next != "" || p.First != "" }

// renderErrorPage writes an error as a page.
func renderErrorPage(p indexPage) ([]byte, error) {
	main := el(atom.Main, nil,
		el(atom.P, attrs("class", "error"),
			el(atom.Strong, nil, text(strconv.Itoa(p.Status)+" "+p.StatusText)),
			el(atom.Br, nil),
			text(p.Message)),
		el(atom.Footer, nil, el(atom.A, attrs("href", listRoot+"/"), text("Back to the bucket root"))))
	return renderDocument(p, main)
}

// favicon is a folder, inline (the CSP allows data: images only).
const favicon = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath fill='%23d4a72c' d='M1 3h5l2 2h7v9H1z'/%3E%3C/svg%3E"

// renderDocument wraps main in the page every index and error page
// shares: head, stylesheet and the heading with the path's crumbs.
func renderDocument(p indexPage, main *html.Node) ([]byte, error) {
	nav := el(atom.Nav, attrs("aria-label", "Path"))
	for i, c := range p.Crumbs {
		if i > 1 {
			nav.AppendChild(el(atom.Span, attrs("class", "sep"), text("/")))
		}
		a := attrs("href", c.Href)
		if c.Current {
			a = append(a, html.Attribute{Key: "aria-current", Val: "page"})
		}
		nav.AppendChild(el(atom.A, a, text(c.Name)))
	}
	if p.DirSlash {
		nav.AppendChild(el(atom.Span, attrs("class", "sep"), text("/")))
	}
	doc := &html.Node{Type: html.DocumentNode}
	doc.AppendChild(&html.Node{Type: html.DoctypeNode, Data: "html"})
	doc.AppendChild(el(atom.Html, attrs("lang", "en"),
		el(atom.Head, nil,
			el(atom.Meta, attrs("charset", "utf-8")),
			el(atom.Meta, attrs("name", "viewport", "content", "width=device-width, initial-scale=1")),
			el(atom.Meta, attrs("name", "color-scheme", "content", "light dark")),
			el(atom.Title, nil, text(p.Title+" · bucketls")),
			el(atom.Link, attrs("rel", "icon", "href", favicon)),
			// Raw text: Render writes a style element's text as it is,
			// so the bytes are the ones the CSP hash allows.
			el(atom.Style, nil, text(indexCSS))),
		el(atom.Body, nil,
			el(atom.Header, nil,
				el(atom.P, attrs("class", "app"), text("bucketls")),
				el(atom.H1, nil, nav)),
			main)))
	var buf bytes.Buffer
	buf.Grow(2048 + 200*len(p.Entries))
	if err := html.Render(&buf, doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// el is an element with its attributes and children.
func el(tag atom.Atom, attrs []html.Attribute, children ...*html.Node) *html.Node {
	n := &html.Node{Type: html.ElementNode, DataAtom: tag, Data: tag.String(), Attr: attrs}
	for _, c := range children {
		n.AppendChild(c)
	}
	return n
}

// text is a text node; Render escapes it.
func text(s string) *html.Node { return &html.Node{Type: html.TextNode, Data: s} }

// attrs makes attributes from name, value pairs.
func attrs(kv ...string) []html.Attribute {
	out := make([]html.Attribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, html.Attribute{Key: kv[i], Val: kv[i+1]})
	}
	return out
}
