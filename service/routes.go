package service

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes registers every endpoint of the service; this is the one place
// to find them. A route is one line. A handler that needs a logged-in user
// is wrapped in access.users (see newAccess: identity without --htpasswd);
// /healthz and /readyz stay public, load balancers must reach them.
func addRoutes(mux *http.ServeMux, lister Lister, ready *readiness, gatherer prometheus.Gatherer, limits listLimits, access access) {
	list := access.users(handleList(lister, ready, limits))
	// Both patterns: without the bare one, the mux answers
	// /list-bucket-content with a redirect to /list-bucket-content/.
	getRoute(mux, "/list-bucket-content", list)
	getRoute(mux, "/list-bucket-content/{path...}", list)
	getRoute(mux, "/healthz", handleHealthz())
	getRoute(mux, "/readyz", handleReadyz(ready))
	getRoute(mux, "/metrics", access.metrics(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})))
	mux.Handle("/", handleNotFound())
}

// getRoute registers h for GET (and so HEAD, which net/http answers without a
// body) on pattern, and a JSON 405 for every other method on the same
// path. The pattern with a method is more specific, so GET and HEAD still
// reach h; the mux's own 405 would have a plain-text body.
func getRoute(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.Handle("GET "+pattern, h)
	mux.Handle(pattern, methodNotAllowed("GET, HEAD"))
}
