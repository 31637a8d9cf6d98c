package edgefunc

import (
	"reflect"
	"testing"

	"github.com/bucketls/bucketls/internal/cloudfronttest"
)

// header is one header of a CloudFront Functions event: a value, and the
// others in multiValue when the header came more than once.
type header struct {
	Value      string   `json:"value"`
	MultiValue []header `json:"multiValue,omitempty"`
}

// request is the part of the event's request object the function reads
// and writes.
type request struct {
	Method      string            `json:"method"`
	URI         string            `json:"uri"`
	Querystring map[string]header `json:"querystring"`
	Headers     map[string]header `json:"headers"`
}

// result is what handler returned: the request, or a response of its own.
type result struct {
	request
	StatusCode int `json:"statusCode"`
}

// run calls the function on each request under Node.js.
func run(t *testing.T, reqs []request) []result {
	t.Helper()
	events := make([]map[string]any, len(reqs))
	for i, r := range reqs {
		events[i] = map[string]any{"version": "1.0", "context": map[string]any{"eventType": "viewer-request"},
			"viewer": map[string]any{"ip": "198.51.100.7"}, "request": r}
	}
	var results []result
	cloudfronttest.Run(t, "viewer-request.js", events, &results)
	if len(results) != len(reqs) {
		t.Fatalf("%d results for %d events", len(results), len(reqs))
	}
	return results
}

// get is a GET of uri with the given Accept headers (none: no header).
func get(uri string, accept ...string) request {
	r := request{Method: "GET", URI: uri, Querystring: map[string]header{}, Headers: map[string]header{
		"host": {Value: "d111111abcdef8.cloudfront.net"},
	}}
	switch len(accept) {
	case 0:
	case 1:
		r.Headers["accept"] = header{Value: accept[0]}
	default:
		h := header{Value: accept[0]}
		for _, a := range accept {
			h.MultiValue = append(h.MultiValue, header{Value: a})
		}
		r.Headers["accept"] = h
	}
	return r
}

// TestAcceptNormalised: the Accept headers real clients send become
// exactly one of two values, by the service's rule (service/index.go,
// prefersHTML): browsers navigating get the HTML index, everything else
// keeps JSON, and a tie keeps JSON.
func TestAcceptNormalised(t *testing.T) {
	const html, json = "text/html", "application/json"
	tests := []struct {
		name   string
		accept []string // none: no Accept header
		want   string
	}{
		// Page navigations, as the browsers send them.
		{"Chrome and Edge", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"}, html},
		{"Firefox 128", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/png,image/svg+xml,*/*;q=0.8"}, html},
		{"Firefox 90", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8"}, html},
		{"Safari", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, html},
		{"Internet Explorer 11: */* ties with text/html", []string{"text/html, application/xhtml+xml, image/jxr, */*"}, json},
		{"Lynx", []string{"text/html, text/plain, text/sgml, text/css, */*;q=0.01"}, html},
		// Programs.
		{"no Accept header (Go's http.Get)", nil, json},
		{"curl, wget, fetch()", []string{"*/*"}, json},
		{"HTTPie", []string{"application/json, */*;q=0.5"}, json},
		{"an API client", []string{"application/json"}, json},
		{"Chrome fetching an image", []string{"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}, json},
		// The rule's corners.
		{"HTML preferred over JSON by q", []string{"application/json;q=0.5, text/html"}, html},
		{"JSON preferred over HTML by q", []string{"text/html;q=0.5, application/json"}, json},
		{"application/* ranks JSON above */*", []string{"text/html;q=0.8, application/*;q=0.9, */*;q=0.1"}, json},
		{"a specific JSON rank wins over a higher */*", []string{"text/html;q=0.5, application/json;q=0.4, */*"}, html},
		{"HTML refused with q=0", []string{"text/html;q=0"}, json},
		{"case and spaces", []string{"  TEXT/HTML ; Q=0.9 , */* ; q=0.1"}, html},
		{"a q out of range is ignored", []string{"text/html;q=2, application/json;q=0.5"}, html},
		{"a q that is not a number is ignored", []string{"application/json;q=abc, text/html;q=0.9"}, json},
		{"XHTML counts as HTML", []string{"application/xhtml+xml"}, html},
		{"two Accept headers are read together", []string{"application/json;q=0.1", "text/html"}, html},
		{"empty", []string{""}, json},
	}
	reqs := make([]request, len(tests))
	for i, tc := range tests {
		reqs[i] = get("/list-bucket-content", tc.accept...)
		reqs[i].Querystring["limit"] = header{Value: "10"}
	}
	for i, res := range run(t, reqs) {
		tc := tests[i]
		if res.StatusCode != 0 {
			t.Errorf("%s: answered %d itself; want the request passed on", tc.name, res.StatusCode)
			continue
		}
		want := map[string]header{"host": {Value: "d111111abcdef8.cloudfront.net"}, "accept": {Value: tc.want}}
		if !reflect.DeepEqual(res.Headers, want) {
			t.Errorf("%s: Accept %q: headers = %+v, want %+v", tc.name, tc.accept, res.Headers, want)
		}
		if res.URI != "/list-bucket-content" || !reflect.DeepEqual(res.Querystring, map[string]header{"limit": {Value: "10"}}) {
			t.Errorf("%s: uri %q, query %+v changed", tc.name, res.URI, res.Querystring)
		}
	}
}

// TestMetricsNotReachable: /metrics is answered 404 at the edge however
// its path is spelled, and the routes around it pass.
func TestMetricsNotReachable(t *testing.T) {
	tests := []struct {
		uri        string
		wantStatus int // 0: passed on to the origin
	}{
		{"/metrics", 404},
		{"/%6Detrics", 404},
		{"/%6d%65trics", 404},
		{"/metrics/", 404},
		{"/metrics/x", 404},
		{"/metricsx", 0},
		{"/Metrics", 0}, // the service's routes are case-sensitive: its own 404
		{"/list-bucket-content/metrics", 0},
		{"/list-bucket-content", 0},
		{"/healthz", 0},
		{"/%E0%A4%A", 0}, // malformed: the origin refuses it
	}
	reqs := make([]request, len(tests))
	for i, tc := range tests {
		reqs[i] = get(tc.uri, "*/*")
	}
	for i, res := range run(t, reqs) {
		if tc := tests[i]; res.StatusCode != tc.wantStatus {
			t.Errorf("GET %s: status = %d, want %d", tc.uri, res.StatusCode, tc.wantStatus)
		}
	}
}

// TestCodeFitsQuota: CloudFront refuses function code over 10 KB.
func TestCodeFitsQuota(t *testing.T) {
	if len(ViewerRequest) > MaxCodeSize {
		t.Errorf("viewer-request.js is %d bytes, over CloudFront's %d", len(ViewerRequest), MaxCodeSize)
	}
}
