package service

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes registers every endpoint of the service; this is the one place
// to find them.
func addRoutes(mux *http.ServeMux, lister Lister, ready *readiness, gatherer prometheus.Gatherer, timeout time.Duration) {
	list := handleList(lister, ready, timeout)
	// Both patterns: without the bare one, the mux answers
	// /list-bucket-content with a redirect to /list-bucket-content/.
	// "GET" patterns also match HEAD, which net/http answers without a body.
	mux.Handle("GET /list-bucket-content", list)
	mux.Handle("GET /list-bucket-content/{path...}", list)
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(ready))
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))

	// The same paths without a method catch every other method. A pattern
	// with a method is more specific, so GET and HEAD still reach the
	// handlers above; the rest get a JSON 405 instead of the mux's text one.
	for _, p := range []string{"/list-bucket-content", "/list-bucket-content/{path...}", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, methodNotAllowed("GET, HEAD"))
	}
	mux.Handle("/", handleNotFound())
}
