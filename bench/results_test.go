package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMissingResultIsAnError: a check must never read a run that did not
// happen as zeros that pass.
func TestMissingResultIsAnError(t *testing.T) {
	ran, renamed := "service  dir2", "service dir2"
	rs := results{{ran, 64}: {rps: 1, peakKiB: 10}}
	if _, err := rs.get(ran, 64); err != nil {
		t.Errorf("get(%q, 64) = %v, want the run", ran, err)
	}
	for _, tc := range []struct {
		row   string
		conns int
	}{{renamed, 64}, {ran, 8}} {
		if _, err := rs.get(tc.row, tc.conns); err == nil {
			t.Errorf("get(%q, %d) found a run that never happened", tc.row, tc.conns)
		}
	}
	if _, err := rs.maxPeakKiB(8); err == nil {
		t.Error("maxPeakKiB(8) with no run at 8 connections: no error")
	}
}

func TestSumReadsPrometheusText(t *testing.T) {
	text := `# HELP bucketls_http_requests_total HTTP requests answered.
# TYPE bucketls_http_requests_total counter
bucketls_http_requests_total{code="200",route="/list-bucket-content/{path...}"} 7
bucketls_http_requests_total{code="404",route="/list-bucket-content"} 2
bucketls_http_requests_total{code="200",route="/metrics"} 100
# TYPE go_memstats_heap_alloc_bytes gauge
go_memstats_heap_alloc_bytes 2.097152e+06
`
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got, err := sum(families, "bucketls_http_requests_total", func(l map[string]string) bool {
		return strings.HasPrefix(l["route"], "/list-bucket-content")
	})
	if err != nil || got != 9 {
		t.Errorf("listing requests = %v, %v; want 9", got, err)
	}
	if got, err := sum(families, "go_memstats_heap_alloc_bytes", nil); err != nil || got != 2<<20 {
		t.Errorf("heap = %v, %v; want %d", got, err, 2<<20)
	}
	if _, err := sum(families, "bucketls_s3_requests_total", nil); err == nil {
		t.Error("a missing metric family summed to zero without an error")
	}
}

func TestProcessCPU(t *testing.T) {
	self, err := processCPU()
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
	}
	viaProc, err := pidCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self <= 0 || viaProc <= 0 {
		t.Errorf("CPU used so far: getrusage %s, /proc %s; want both above zero", self, viaProc)
	}
}
