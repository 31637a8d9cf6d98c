package service

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// listOptions is a listing request's query, parsed once and strictly: an
// unknown parameter or a bad value is a 400 that names it, because a typo
// must never silently give a different listing. Handlers and the lister
// take this typed value, never r.URL.Query().
type listOptions struct {
	details   bool
	recursive bool
	limit     int       // 0: no paging
	prefix    string    // name prefix inside the listed directory
	cursor    *Position // a key-order position (also a view's, past its cap)
	format    format

	// A view (view.go): sorted or filtered, read whole up to the cap.
	sort  sortKey
	desc  bool
	match string   // "" keeps every name
	after *viewPos // where the previous page of a view ended
	// fileLinks links files to their bytes (--serve-objects): set by
	// the handler from the configuration, not from the query, and so
	// not part of a cursor's binding (a cursor is about which entries).
	fileLinks bool
}

// format is the representation a client asked for.
type format int

const (
	formatAuto format = iota // by Accept: JSON unless a browser asks for HTML
	formatJSON
	formatHTML
)

// maxLimit is the largest page a client may ask for: one S3 page.
const maxLimit = 1000

// queryParams names every parameter the listing routes accept, in the
// order error messages list them.
var queryParams = []string{"details", "limit", "cursor", "prefix", "recursive", "format", "sort", "order", "match"}

// queryError is a bad query parameter (answered with 400).
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func queryErrorf(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

// parseListOptions reads the raw query of a listing request for the
// listing of path (already validated). The raw query is parsed here, not by
// r.URL.Query(), so a malformed escape is an error instead of a dropped
// parameter.
func parseListOptions(rawQuery, path string) (listOptions, error) {
	var o listOptions
	q, err := parseQuery(rawQuery)
	if err != nil {
		return o, err
	}
	if o.details, err = boolParam(q, "details"); err != nil {
		return o, err
	}
	if o.recursive, err = boolParam(q, "recursive"); err != nil {
		return o, err
	}
	if err := o.parseShape(q); err != nil {
		return o, err
	}
	if err := o.parseView(q); err != nil {
		return o, err
	}
	if v, ok := q["cursor"]; ok {
		if err := o.parseCursor(v[0], path); err != nil {
			return o, err
		}
	}
	return o, nil
}

// parseQuery parses the raw query and refuses unknown and repeated
// parameters, naming them.
func parseQuery(rawQuery string) (url.Values, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, queryErrorf("invalid query string: %s", printable(err.Error()))
	}
	for name, vs := range q {
		if !isQueryParam(name) {
			return nil, queryErrorf("unknown query parameter %q; accepted: %s", printable(name), strings.Join(queryParams, ", "))
		}
		if len(vs) > 1 {
			return nil, queryErrorf("query parameter %q given %d times; give it once", name, len(vs))
		}
	}
	return q, nil
}

// parseShape reads limit, prefix and format: how much of the listing,
// which names, and which representation.
func (o *listOptions) parseShape(q url.Values) error {
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxLimit {
			return queryErrorf("limit=%q: use a whole number from 1 to %d", printable(v[0]), maxLimit)
		}
		o.limit = n
	}
	if v, ok := q["prefix"]; ok {
		if err := checkNamePrefix(v[0]); err != nil {
			return err
		}
		o.prefix = v[0]
	}
	if v, ok := q["format"]; ok {
		switch v[0] {
		case "json":
			o.format = formatJSON
		case "html":
			o.format = formatHTML
		default:
			return queryErrorf("format=%q: use json or html", printable(v[0]))
		}
	}
	return nil
}

// parseCursor decodes a cursor against the listing it must belong to: a
// view's cursor for a sorted or filtered view, else a key-order one.
func (o *listOptions) parseCursor(v, path string) error {
	if o.limit == 0 {
		return queryErrorf("cursor needs the limit it was given with")
	}
	var err error
	if o.isView() && isViewCursor(v) {
		o.after, err = decodeViewCursor(v, o.binding(path))
	} else {
		o.cursor, err = decodeCursor(v, o.binding(path))
	}
	return err
}

// parseView reads sort, order and match. An empty match is no filter, so
// the index's search form, submitted empty, lists everything again.
func (o *listOptions) parseView(q url.Values) error {
	if v, ok := q["sort"]; ok {
		k := slices.Index(sortNames, v[0])
		if k <= 0 {
			return queryErrorf("sort=%q: use name, size or modified", printable(v[0]))
		}
		o.sort = sortKey(k)
	}
	if v, ok := q["order"]; ok {
		switch {
		case o.sort == sortNone:
			return queryErrorf("order needs sort (name, size or modified); without it a listing is in key order")
		case v[0] == "desc":
			o.desc = true
		case v[0] != "asc":
			return queryErrorf("order=%q: use asc or desc", printable(v[0]))
		}
	}
	if v, ok := q["match"]; ok && v[0] != "" {
		if len(v[0]) > maxPathLen {
			return queryErrorf("match is longer than %d bytes", maxPathLen)
		}
		if err := checkChars(v[0]); err != nil {
			return queryErrorf("match: %s", strings.TrimPrefix(err.Error(), "invalid path: "))
		}
		o.match = v[0]
	}
	return nil
}

func isQueryParam(name string) bool {
	for _, p := range queryParams {
		if p == name {
			return true
		}
	}
	return false
}

// boolParam reads true or false; anything else is an error naming it.
func boolParam(q url.Values, name string) (bool, error) {
	v, ok := q[name]
	if !ok {
		return false, nil
	}
	switch v[0] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, queryErrorf("%s=%q: use true or false", name, printable(v[0]))
}

// checkNamePrefix applies the character rules of a path to a name prefix.
// It names the start of one entry, so it has no slash; it is not a path
// segment, so "." and ".." are fine: they start ".env" and "..hidden", and
// reach S3 only as the tail of a key prefix, which S3 never resolves.
func checkNamePrefix(p string) error {
	switch {
	case p == "":
		return queryErrorf("prefix is empty; leave it out to list everything")
	case len(p) > maxPathLen:
		return queryErrorf("prefix is longer than %d bytes", maxPathLen)
	case strings.Contains(p, "/"):
		return queryErrorf("prefix %q has a slash; put directories in the path", printable(p))
	}
	if err := checkChars(p); err != nil {
		return queryErrorf("prefix: %s", strings.TrimPrefix(err.Error(), "invalid path: "))
	}
	return nil
}

// request is the Lister's view of these options for path.
func (o listOptions) request(path string) ListRequest {
	return ListRequest{
		Path:       path,
		NamePrefix: o.prefix,
		Recursive:  o.recursive,
		Details:    o.details,
		Limit:      o.limit,
		After:      o.cursor,
	}
}

// binding is what a cursor is bound to: the directory and every option
// that changes which entries a page holds. "dir2" and "dir2/" list the
// same, so they share cursors; the format does not change the entries, so
// the HTML index and JSON share them too. A view's options are added only
// for a view, so every cursor handed out before views existed still works.
func (o listOptions) binding(path string) string {
	parts := []string{
		strings.TrimSuffix(path, "/"),
		o.prefix,
		strconv.FormatBool(o.recursive),
		strconv.FormatBool(o.details),
		strconv.Itoa(o.limit),
	}
	if o.isView() {
		parts = append(parts, "view", sortNames[o.sort], strconv.FormatBool(o.desc), o.match)
	}
	return strings.Join(parts, "\x00")
}
