package service

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// corsMaxAge is how long a browser may reuse a preflight answer, in
// seconds: the allowed methods never change while the process runs.
const corsMaxAge = 3600

// corsRequestHeaders are the request headers a cross-origin page may send:
// conditional requests and Basic credentials. Anything else is refused
// in the preflight by not being listed.
var corsRequestHeaders = []string{"Authorization", "If-None-Match"}

// corsExposed are the response headers beyond the safelisted ones a
// cross-origin page may read from a listing: paging and revalidation.
const corsExposed = "Link, ETag"

// corsFileRequestHeaders and corsFileExposed are what a page may send
// to and read from the object route (--serve-objects): ranges and
// conditional requests.
var (
	corsFileRequestHeaders = []string{"Authorization", "If-None-Match", "If-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}
	corsFileExposed        = "ETag, Accept-Ranges, Content-Range, Content-Disposition, Content-Encoding"
)

// corsPolicy answers cross-origin requests for the origins in
// --cors-origins; a nil policy (the default) adds nothing.
type corsPolicy struct {
	any     bool // "*"
	origins []string
	// wild are the origins with a wildcard first label
	// ("https://*.example.com"), split around the "*".
	wild []wildOrigin
	// paths are the routes that answer cross-origin calls, shared by a
	// policy and its forFiles variant.
	paths *corsPaths
	// request are the request headers a preflight allows; expose the
	// response headers a page may read.
	request []string
	expose  string
}

// corsPaths are the paths of the routes that answer cross-origin calls
// (getRoute adds them), so that answers made before routing (a bad
// path's 400) can carry the headers too.
type corsPaths struct{ exact, under []string }

// wildOrigin is "https://*.example.com" as "https://" and ".example.com":
// an origin matches when the "*" stands for exactly one DNS label, as in
// a wildcard certificate. "https://a.b.example.com" and
// "https://example.com" do not match; neither does
// "https://evil-example.com", which lacks the dot.
type wildOrigin struct{ before, after string }

func (w wildOrigin) match(origin string) bool {
	label, ok := strings.CutPrefix(origin, w.before)
	if !ok {
		return false
	}
	label, ok = strings.CutSuffix(label, w.after)
	return ok && isDNSLabel(label)
}

// isDNSLabel reports a host label as browsers send it in Origin:
// lowercase letters, digits and hyphens (IDNs arrive as punycode).
func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func newCORSPolicy(origins []string) *corsPolicy {
	if len(origins) == 0 {
		return nil
	}
	c := &corsPolicy{any: slices.Equal(origins, []string{"*"}), paths: &corsPaths{}, request: corsRequestHeaders, expose: corsExposed}
	for _, o := range origins {
		if before, after, ok := strings.Cut(o, "*"); ok && !c.any {
			c.wild = append(c.wild, wildOrigin{before, after})
			continue
		}
		c.origins = append(c.origins, o)
	}
	return c
}

// forFiles is the policy of the object route: the same origins and
// routes, with the headers of ranges and conditional requests.
func (c *corsPolicy) forFiles() *corsPolicy {
	if c == nil {
		return nil
	}
	f := *c
	f.request, f.expose = corsFileRequestHeaders, corsFileExposed
	return &f
}

func (c *corsPolicy) allowed(origin string) bool {
	if origin == "" {
		return false
	}
	if c.any || slices.Contains(c.origins, origin) {
		return true
	}
	for _, w := range c.wild {
		if w.match(origin) {
			return true
		}
	}
	return false
}

// route records that pattern (a getRoute pattern) answers cross-origin
// calls.
func (c *corsPolicy) route(pattern string) {
	if p, ok := strings.CutSuffix(pattern, "{path...}"); ok {
		c.paths.under = append(c.paths.under, p)
		return
	}
	c.paths.exact = append(c.paths.exact, pattern)
}

// covers reports whether path belongs to a route that answers
// cross-origin calls.
func (c *corsPolicy) covers(path string) bool {
	if c == nil {
		return false
	}
	if slices.Contains(c.paths.exact, path) {
		return true
	}
	for _, p := range c.paths.under {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// allowOrigin marks the answer for an allowed origin; the answer varies by
// Origin either way, so caches keep the variants apart.
func (c *corsPolicy) allowOrigin(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !c.allowed(origin) {
		return false
	}
	if c.any {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		// Named origins may send credentials (Basic auth); "*" may not,
		// which browsers enforce anyway.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	return true
}

// wrap adds the CORS headers to the answers of h.
func (c *corsPolicy) wrap(h http.Handler) http.Handler {
	if c == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.setHeaders(w, r)
		h.ServeHTTP(w, r)
	})
}

// setHeaders adds the headers of an answer (not a preflight) to origin.
func (c *corsPolicy) setHeaders(w http.ResponseWriter, r *http.Request) {
	if c.allowOrigin(w, r) {
		// Let the page read the paging and revalidation headers (on
		// the object route, those of ranges).
		w.Header().Set("Access-Control-Expose-Headers", c.expose)
	}
}

// preflight answers OPTIONS from an allowed origin with 204 and what it may
// do; any other OPTIONS gets the same 405 as every other method.
func (c *corsPolicy) preflight(notAllowed http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Header.Get("Access-Control-Request-Method")
		if method != http.MethodGet && method != http.MethodHead {
			w.Header().Add("Vary", "Origin")
			notAllowed.ServeHTTP(w, r)
			return
		}
		if !c.allowOrigin(w, r) {
			notAllowed.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
		var allow []string
		for _, name := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if slices.Contains(c.request, name) {
				allow = append(allow, name)
			}
		}
		if len(allow) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(allow, ", "))
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
