package s3store

import (
	"context"
	"errors"
	"time"

	"github.com/bucketls/bucketls/service/internal/listing"
	"github.com/prometheus/client_golang/prometheus"
)

// s3Metrics instruments the S3 lister; Lister exposes it as a
// prometheus.Collector so it registers wherever the lister is used.
type s3Metrics struct {
	calls     *prometheus.CounterVec
	duration  prometheus.Histogram
	cacheHits prometheus.Counter
	staleHits prometheus.Counter // of cacheHits, those answered stale
	refreshes prometheus.Counter // background calls started for stale pages
	// refreshesSkipped counts stale answers that started no refresh
	// because the page's last one failed too recently (refreshBackoff).
	refreshesSkipped prometheus.Counter
	coalesced        prometheus.Counter
	// paginationErrors counts walks ended because S3's pages did not form
	// a sequence: a repeated token, keys going backwards, too many pages.
	paginationErrors *prometheus.CounterVec
	// objectCalls counts the HeadObject and GetObject calls of
	// --serve-objects, apart from the listing calls above.
	objectCalls *prometheus.CounterVec
}

func newS3Metrics() *s3Metrics {
	m := &s3Metrics{
		calls: counterVec("bucketls_s3_requests_total", "ListObjectsV2 calls sent to S3 (SDK retries included in one call), by result: ok, bucket_unavailable, throttled, timeout, canceled, error.", "result"),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bucketls_s3_request_duration_seconds",
			Help:    "Duration of ListObjectsV2 calls to S3, SDK retries included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		cacheHits:        counter("bucketls_s3_cache_hits_total", "ListObjectsV2 pages served from the --cache-ttl cache."),
		staleHits:        counter("bucketls_s3_cache_stale_hits_total", "Cache hits answered with a page past its --cache-ttl, within --cache-stale, while one call refreshed it."),
		refreshes:        counter("bucketls_s3_cache_refreshes_total", "Background ListObjectsV2 calls started to refresh a page answered stale (one per page at a time; also counted in bucketls_s3_requests_total)."),
		refreshesSkipped: counter("bucketls_s3_cache_refreshes_skipped_total", "Stale answers that started no refresh because the page's last refresh failed moments ago (a page backs off up to 100 ms after one failed refresh, twice as long after each more in a row, at most the lesser of --cache-ttl and 5 s, jittered; a success resets it)."),
		coalesced:        counter("bucketls_s3_coalesced_total", "ListObjectsV2 pages a request got from an identical call already in flight."),
		paginationErrors: counterVec("bucketls_s3_pagination_errors_total", "Listings ended because S3's pages did not form a sequence, by reason: repeated_token, backwards, too_many_pages.", "reason"),
		objectCalls:      counterVec("bucketls_s3_object_requests_total", "HeadObject (head) and GetObject (get) calls sent to S3 for --serve-objects, SDK retries included in one call, by result: ok, not_found, bucket_unavailable, throttled, timeout, canceled, error.", "operation", "result"),
	}
	// Exposed from the start, at 0: a counter that appears only with the
	// first call reads as missing, not as none, to whoever scrapes it.
	m.objectCalls.WithLabelValues("get", "ok")
	m.objectCalls.WithLabelValues("head", "ok")
	return m
}

// observeObject counts one object call; a GetObject counts when its
// headers are in, however its body ends.
func (m *s3Metrics) observeObject(op string, err error) {
	result := "ok"
	if err != nil {
		result = resultLabel(err)
		if errors.Is(classifyObject(err), listing.ErrNotFound) {
			result = "not_found"
		}
	}
	m.objectCalls.WithLabelValues(op, result).Inc()
}

func (m *s3Metrics) observe(d time.Duration, err error) {
	m.duration.Observe(d.Seconds())
	m.calls.WithLabelValues(resultLabel(err)).Inc()
}

// resultLabel names an S3 error's class with a fixed set of values, so the
// label never carries error text.
func resultLabel(err error) string {
	if err == nil {
		return "ok"
	}
	switch kind := classify(err); {
	case errors.Is(kind, listing.ErrBucketUnavailable):
		return "bucket_unavailable"
	case errors.Is(kind, listing.ErrThrottled):
		return "throttled"
	case errors.Is(kind, listing.ErrTimeout):
		return "timeout"
	case errors.Is(kind, context.Canceled):
		return "canceled"
	default:
		return "error"
	}
}

// counter is a metric that counts, declared by its name and help.
func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// counterVec is a counter by labels, declared by its name, help and labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// collectors is every metric of m, for describe and collect.
func (m *s3Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.duration, m.cacheHits, m.staleHits, m.refreshes, m.refreshesSkipped, m.coalesced, m.paginationErrors, m.objectCalls}
}

func (m *s3Metrics) describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

func (m *s3Metrics) collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}
