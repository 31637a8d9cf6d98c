package service

import (
	"net/http"

	"github.com/bucketls/bucketls/internal/hidden"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routeDeps is what the handlers are made from.
type routeDeps struct {
	lister   Lister
	ready    *readiness
	gatherer prometheus.Gatherer
	limits   listLimits
	views    *viewer
	hide     *hidden.Set // nil: nothing hidden
	cors     *corsPolicy // nil: no cross-origin access
	caching  cachePolicy // Cache-Control of the listing routes
	access   access
	objects  ObjectReader // nil: --serve-objects is off, and /files does not exist
	readmes  *readmes     // nil: no READMEs above the index (they need objects)
}

// addRoutes registers every endpoint of the service; this is the one place
// to find them. A route is one line. A handler that needs a logged-in user
// is wrapped in access.users (see newAccess: identity without --htpasswd);
// /healthz and /readyz stay public, load balancers must reach them. CORS
// is outermost, so a browser can read a 401 too; the caching policy sits
// outside the password check, so its 401 says no-store too.
func addRoutes(mux *http.ServeMux, d routeDeps) {
	gzip := compress() // one compressor configuration for every route that compresses
	list := d.cors.wrap(gzip(d.caching.wrap(d.access.users(handleList(d.lister, d.views, d.hide, d.ready, d.limits, d.objects != nil, d.readmes)))))
	// Both patterns: without the bare one, the mux answers
	// /list-bucket-content with a redirect to /list-bucket-content/.
	getRoute(mux, "/list-bucket-content", list, d.cors)
	getRoute(mux, "/list-bucket-content/{path...}", list, d.cors)
	if d.objects != nil {
		// An object's bytes, never compressed (a stored Content-Encoding
		// passes through as it is). /files is the root: a directory.
		files := d.cors.forFiles()
		file := files.wrap(d.caching.wrap(d.access.users(handleFile(d.objects, d.hide, d.ready, d.limits.stall))))
		getRoute(mux, fileRoot, file, files)
		getRoute(mux, fileRoot+"/{path...}", file, files)
	}
	getRoute(mux, "/openapi.json", d.cors.wrap(gzip(handleOpenAPI())), d.cors)
	getRoute(mux, "/healthz", handleHealthz(), nil)
	getRoute(mux, "/readyz", handleReadyz(d.ready), nil)
	getRoute(mux, "/metrics", d.access.metrics(promhttp.HandlerFor(d.gatherer, promhttp.HandlerOpts{})), nil)
	mux.Handle("/", handleNotFound())
}

// getRoute registers h for GET (and so HEAD, which net/http answers without
// a body) on pattern, a CORS preflight for OPTIONS when cors allows
// cross-origin calls, and a JSON 405 for every other method on the same
// path. A pattern with a method is more specific, so GET, HEAD and OPTIONS
// still reach their handlers; the mux's own 405 would have a plain-text
// body.
func getRoute(mux *http.ServeMux, pattern string, h http.Handler, cors *corsPolicy) {
	notAllowed := methodNotAllowed("GET, HEAD")
	mux.Handle("GET "+pattern, h)
	if cors != nil {
		cors.route(pattern)
		mux.Handle("OPTIONS "+pattern, cors.preflight(notAllowed))
	}
	// Every answer of a CORS route carries the headers, a 405 too: a
	// page can then read why its call failed.
	mux.Handle(pattern, cors.wrap(notAllowed))
}

// handleNotFound answers every unknown route with 404 JSON.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The path as the client wrote it: "/list-bucket-content%2Fdir2"
		// decodes to a route that exists, and naming that would mislead.
		writeErrorMessage(w, r, http.StatusNotFound, "no such route: "+printable(clip(r.URL.EscapedPath())))
	})
}

// methodNotAllowed answers 405 JSON with an Allow header; the mux's own 405
// has a plain-text body.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method " + r.Method + " not allowed; use " + allow})
	})
}
