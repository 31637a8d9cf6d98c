package service

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names carry the bucketls_ prefix; every collector lives in a
// registry owned by one Server, so tests can run many servers side by side.

// httpMetrics instruments the HTTP side (see logRequests).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	aborted  *prometheus.CounterVec
	rejected *prometheus.CounterVec
	bytes    *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketls_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bucketls_http_request_duration_seconds",
			Help: "Time from request to the end of the response, by route pattern.",
			// From a cached answer (well under a millisecond) to a long
			// streamed walk; the default buckets start at 5 ms.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bucketls_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		aborted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bucketls_http_responses_aborted_total",
			Help: "Responses cut off after their status was sent (also counted in bucketls_http_requests_total under that status), by route and reason: storage, client_gone, client_stalled, request_timeout, shutdown_timeout, panic.",
		}, []string{"route", "reason"}),
	}
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bucketls_http_rejected_total",
		Help: "Connections net/http answered or dropped before any route saw a request, by reason: malformed_request (bad request line or escape, missing Host, unknown version, oversized headers, incomplete request), closed_before_request (TLS handshake failures, plain HTTP on the TLS port, connects without a request).",
	}, []string{"reason"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bucketls_http_response_bytes_total",
		Help: "Response body bytes written to clients, by route pattern (compressed listings count as sent); /files/{path...} is what --serve-objects served.",
	}, []string{"route"})
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.aborted, m.rejected, m.bytes)
	return m
}
