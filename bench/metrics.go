package main

import (
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads a service's /metrics with the Prometheus text parser.
func scrape(client *http.Client, base string) (map[string]*dto.MetricFamily, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: status %d", base, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s/metrics: %w", base, err)
	}
	return families, nil
}

// sum adds up the values of every series of family name whose labels pass
// keep (nil keeps all). A family that is missing is an error: a renamed
// metric must not read as zero.
func sum(families map[string]*dto.MetricFamily, name string, keep func(labels map[string]string) bool) (float64, error) {
	mf, ok := families[name]
	if !ok {
		return 0, fmt.Errorf("no %s in /metrics", name)
	}
	var total float64
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if keep != nil && !keep(labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		default:
			return 0, fmt.Errorf("%s is a %s, not a number", name, mf.GetType())
		}
	}
	return total, nil
}

// counts are the service's listing requests and S3 call totals: calls,
// the background refreshes of stale pages among them, and the pages
// requests got from a call already in flight.
type counts struct{ http, s3, objects, refreshes, coalesced float64 }

// waits is how many requests waited for an S3 call between before and c:
// each call made on a request's behalf (every call but the background
// refreshes) and each request that joined one in flight. The readiness
// probe's calls (one per 10 s at most) count too.
func (c counts) waits(before counts) float64 {
	return (c.s3 - before.s3) - (c.refreshes - before.refreshes) + (c.coalesced - before.coalesced)
}

func readCounts(client *http.Client, base string) (counts, error) {
	families, err := scrape(client, base)
	if err != nil {
		return counts{}, err
	}
	// Listings and, with --serve-objects, files: what a row requests.
	listings, err := sum(families, "bucketls_http_requests_total", func(l map[string]string) bool {
		return strings.HasPrefix(l["route"], "/list-bucket-content") || strings.HasPrefix(l["route"], "/files")
	})
	if err != nil {
		return counts{}, err
	}
	c := counts{http: listings}
	for _, f := range []struct {
		name string
		to   *float64
	}{
		{"bucketls_s3_requests_total", &c.s3},
		{"bucketls_s3_object_requests_total", &c.objects},
		{"bucketls_s3_cache_refreshes_total", &c.refreshes},
		{"bucketls_s3_coalesced_total", &c.coalesced},
	} {
		if *f.to, err = sum(families, f.name, nil); err != nil {
			return counts{}, err
		}
	}
	return c, nil
}

// heapAlloc reads go_memstats_heap_alloc_bytes from /metrics, in MiB.
func heapAlloc(client *http.Client, base string) (float64, error) {
	families, err := scrape(client, base)
	if err != nil {
		return 0, err
	}
	b, err := sum(families, "go_memstats_heap_alloc_bytes", nil)
	return b / (1 << 20), err
}
