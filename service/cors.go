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

// corsPolicy answers cross-origin requests for the origins in
// --cors-origins; a nil policy (the default) adds nothing.
type corsPolicy struct {
	any     bool // "*"
	origins []string
}

func newCORSPolicy(origins []string) *corsPolicy {
	if len(origins) == 0 {
		return nil
	}
	return &corsPolicy{any: slices.Equal(origins, []string{"*"}), origins: origins}
}

func (c *corsPolicy) allowed(origin string) bool {
	return origin != "" && (c.any || slices.Contains(c.origins, origin))
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
		if c.allowOrigin(w, r) {
			// Let the page read the paging and revalidation headers.
			w.Header().Set("Access-Control-Expose-Headers", "Link, ETag")
		}
		h.ServeHTTP(w, r)
	})
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
			if slices.Contains(corsRequestHeaders, name) {
				allow = append(allow, name)
			}
		}
		if len(allow) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(allow, ", "))
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
