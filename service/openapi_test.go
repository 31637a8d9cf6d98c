package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// specRouter loads and validates the served OpenAPI document once.
func specRouter(t testing.TB) routers.Router {
	t.Helper()
	spec.once.Do(func() {
		// The HTML index is documented as a string; check its status
		// and headers, not its markup (the browser test does that).
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		spec.doc, spec.err = loader.LoadFromData(openAPIDocument)
		if spec.err == nil {
			spec.err = spec.doc.Validate(context.Background())
		}
		if spec.err == nil {
			spec.router, spec.err = gorillamux.NewRouter(spec.doc)
		}
	})
	if spec.err != nil {
		t.Fatalf("api/openapi.json: %v", spec.err)
	}
	return spec.router
}

// conformingTo wraps h so every complete JSON answer it gives is checked
// against the OpenAPI document: status, headers and body. Every handler
// test that goes through testServer is therefore also a contract test.
func conformingTo(t testing.TB, h http.Handler) http.Handler {
	router := specRouter(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r) // an aborted transfer panics past this: nothing to check
		if r.Method != http.MethodGet || tw.truncated {
			return
		}
		if err := checkAgainstSpec(router, r, tw.status, w.Header(), tw.body.Bytes()); err != nil {
			t.Errorf("GET %s: %d answer does not match api/openapi.json: %v", r.URL, tw.status, err)
		}
	})
}

func checkAgainstSpec(router routers.Router, r *http.Request, status int, header http.Header, body []byte) error {
	fr, route, params, ok := specRoute(router, r)
	if !ok {
		return nil // not a documented route: the 404 catch-all
	}
	if status == http.StatusPermanentRedirect || status == http.StatusNotModified {
		// openapi3filter passes these unchecked: check that the
		// operation at least documents them.
		if route.Operation.Responses.Status(status) == nil {
			return fmt.Errorf("status %d is not documented for %s", status, route.Path)
		}
		return nil
	}
	u := fr.URL
	if enc := header.Get("Content-Encoding"); enc != "" {
		return nil // compressed: the plain twin of this answer is checked
	}
	// An object's bytes are whatever the bucket holds: check their
	// status and headers; error answers are JSON and checked whole.
	bytesOfObject := strings.HasPrefix(u.Path, fileRoot+"/") && header.Get("Content-Type") != "application/json"
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: fr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{ExcludeRequestBody: true, IncludeResponseStatus: true},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: bytesOfObject},
	}
	return openapi3filter.ValidateResponse(r.Context(), in)
}

// specRoute finds the documented operation of r. The document's {path}
// is one parameter; the mux's {path...} spans segments, so the route is
// found with a one-segment stand-in, on the clone of r it returns.
func specRoute(router routers.Router, r *http.Request) (*http.Request, *routers.Route, map[string]string, bool) {
	u := *r.URL
	if strings.HasPrefix(u.Path, "/list-bucket-content/") && len(u.Path) > len("/list-bucket-content/") {
		u.Path, u.RawPath = "/list-bucket-content/x", ""
	}
	if u.Path == "/list-bucket-content/" {
		u.Path = "/list-bucket-content"
	}
	if strings.HasPrefix(u.Path, fileRoot+"/") && len(u.Path) > len(fileRoot+"/") {
		u.Path, u.RawPath = fileRoot+"/x", ""
	}
	fr := r.Clone(r.Context())
	fr.URL = &u
	fr.RequestURI = ""
	route, params, err := router.FindRoute(fr)
	return fr, route, params, err == nil
}

// teeWriter keeps a copy of the answer (up to a bound) for the check.
type teeWriter struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	truncated bool
}

const teeMax = 32 << 20

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body.Len()+len(p) > teeMax {
		w.truncated = true
	} else {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestOpenAPIDocument checks the document is valid OpenAPI 3.1, is served
// as is at /openapi.json, and lists every route and listing parameter
// the code accepts.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	specRouter(t)
	srv := refServer(t)
	r := get(t, srv.URL, "/openapi.json")
	if r.status != 200 || r.body != string(openAPIDocument) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Ref string `json:"$ref"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/list-bucket-content", "/list-bucket-content/{path}", "/files/{path}", "/openapi.json", "/healthz", "/readyz", "/metrics"} {
		if _, ok := doc.Paths[p]["get"]; !ok {
			t.Errorf("api/openapi.json has no GET %s", p)
		}
	}
	for _, op := range []string{"/list-bucket-content", "/list-bucket-content/{path}"} {
		var got []string
		for _, p := range doc.Paths[op]["get"].Parameters {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				got = append(got, name)
			}
		}
		if strings.Join(got, ",") != strings.Join(queryParams, ",") {
			t.Errorf("GET %s documents query parameters %q, the code accepts %q", op, got, queryParams)
		}
	}
	// A wrong answer is caught: the check is not a formality.
	req, _ := http.NewRequest("GET", "http://x/list-bucket-content/dir2?details=true", nil)
	bad := map[string]string{
		`{"content":[{"name":"a","type":"file","size":-1}]}`: "negative size",
		`{"content":["a"],"extra":1}`:                        "unknown field",
		`{"error":""}`:                                       "empty error",
	}
	for body, why := range bad {
		status := 200
		if strings.HasPrefix(body, `{"error"`) {
			status = 404
		}
		if err := checkAgainstSpec(specRouter(t), req, status, http.Header{"Content-Type": {"application/json"}}, []byte(body)); err == nil {
			t.Errorf("%s: %s passes the check", why, body)
		}
	}
	if err := checkAgainstSpec(specRouter(t), req, 418, http.Header{"Content-Type": {"application/json"}}, []byte(`{"error":"x"}`)); err == nil {
		t.Errorf("an undocumented status passes the check")
	}
	// The object route is checked too: its statuses, and its error bodies.
	freq, _ := http.NewRequest("GET", "http://x/files/a/b", nil)
	if err := checkAgainstSpec(specRouter(t), freq, 418, http.Header{"Content-Type": {"text/plain"}}, []byte("x")); err == nil {
		t.Errorf("an undocumented status of /files passes the check")
	}
	if err := checkAgainstSpec(specRouter(t), freq, 404, http.Header{"Content-Type": {"application/json"}}, []byte(`{"error":""}`)); err == nil {
		t.Errorf("an empty error from /files passes the check")
	}
	if err := checkAgainstSpec(specRouter(t), freq, 206, http.Header{"Content-Type": {"image/png"}, "Content-Range": {"bytes 0-0/1"}}, []byte("x")); err != nil {
		t.Errorf("a range of an image fails the check: %v", err)
	}
	_ = url.PathEscape
}
