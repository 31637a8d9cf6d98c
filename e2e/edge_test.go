package e2e

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"

	"github.com/bucketls/bucketls/internal/cloudfronttest"
	"github.com/bucketls/bucketls/service"
)

// The CloudFront Function of the stack's cdn setting
// (stack/internal/edgefunc/viewer-request.js) reduces each viewer's Accept
// header to text/html or application/json before CloudFront looks in its
// cache, by a copy of the rule the service negotiates with. If the copy
// drifted, a browser would get through the distribution another
// representation than from the service itself. The function is JavaScript
// and the rule unexported Go, so this test holds them together by their
// answers: for each Accept header the service's answer to a listing and
// the function's verdict must name the same representation.

// viewerRequestJS is the function's source, as the stack embeds it.
var viewerRequestJS = filepath.Join("..", "stack", "internal", "edgefunc", "viewer-request.js")

// edgeAccepts returns the Accept value the function passes on for each
// header (one Accept header per request).
func edgeAccepts(t *testing.T, accepts []string) []string {
	t.Helper()
	events := make([]any, len(accepts))
	for i, a := range accepts {
		events[i] = map[string]any{"request": map[string]any{
			"method": "GET", "uri": "/list-bucket-content", "querystring": map[string]any{},
			"headers": map[string]any{"accept": map[string]any{"value": a}},
		}}
	}
	var requests []struct {
		Headers struct {
			Accept struct {
				Value string `json:"value"`
			} `json:"accept"`
		} `json:"headers"`
	}
	cloudfronttest.Run(t, viewerRequestJS, events, &requests)
	if len(requests) != len(accepts) {
		t.Fatalf("%d results for %d events", len(requests), len(accepts))
	}
	got := make([]string, len(requests))
	for i, r := range requests {
		got[i] = r.Headers.Accept.Value
	}
	return got
}

// referenceServer is the service over an in-memory bucket holding the
// reference tree.
func referenceServer(t *testing.T) http.Handler {
	t.Helper()
	const bucket = "reference"
	mem, err := service.NewMemBackend(bucket, service.ReferenceKeys())
	if err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(s3srv.Close)
	lister := service.NewS3Lister(service.NewStaticS3Client(s3srv.URL), bucket, service.S3ListerOptions{})
	return service.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), lister, nil, service.Config{})
}

// serviceRepresentation returns the media type of the service's answer to
// a listing asked for with accept.
func serviceRepresentation(t *testing.T, h http.Handler, accept string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/list-bucket-content", nil)
	req.Header.Set("Accept", accept)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET with Accept %q: status = %d, want 200: %s", accept, rec.Code, rec.Body)
	}
	media, _, _ := strings.Cut(rec.Header().Get("Content-Type"), ";")
	return media
}

// TestEdgeAcceptRuleAgrees: for real browsers' and programs' Accept
// headers, and for a few hundred generated ones, the function passes on
// the representation the service itself answers with; and the service,
// given the function's value, answers with that representation.
func TestEdgeAcceptRuleAgrees(t *testing.T) {
	accepts := []string{
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/png,image/svg+xml,*/*;q=0.8",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"text/html, application/xhtml+xml, image/jxr, */*",
		"*/*", "application/json", "application/json, */*;q=0.5", "",
		"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
	}
	// Generated headers mix the media types the rule ranks with others,
	// q values in and out of range, malformed ones, and odd spacing and
	// case; the seed is fixed, so a failure repeats.
	rng := rand.New(rand.NewPCG(23, 1))
	media := []string{"text/html", "TEXT/HTML", "application/xhtml+xml", "application/json", "application/*", "*/*", "text/*", "image/webp", "application/xml"}
	qs := []string{"", ";q=1", ";q=0", ";q=0.5", ";q=0.50", ";q=.9", ";q=1.0", ";q=2", ";q=-1", ";q=abc", "; Q=0.7", ";level=1;q=0.3", ";q=1e-1", ";q="}
	for range 400 {
		var parts []string
		for range 1 + rng.IntN(4) {
			parts = append(parts, strings.Repeat(" ", rng.IntN(2))+media[rng.IntN(len(media))]+qs[rng.IntN(len(qs))])
		}
		accepts = append(accepts, strings.Join(parts, ","))
	}

	h := referenceServer(t)
	edge := edgeAccepts(t, accepts)
	for i, a := range accepts {
		direct := serviceRepresentation(t, h, a)
		if edge[i] != direct {
			t.Errorf("Accept %q: the function passes on %q, the service answers %q", a, edge[i], direct)
		}
		if through := serviceRepresentation(t, h, edge[i]); through != edge[i] {
			t.Errorf("Accept %q normalised to %q: the service answers %q", a, edge[i], through)
		}
	}
	if t.Failed() {
		t.Logf("the rule is service/index.go's prefersHTML, and its copy is in %s", viewerRequestJS)
	}
}
