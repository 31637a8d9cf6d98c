package service

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errorBody is every error answer: {"error":"..."} with a message safe to
// show a client. The cause goes to the access log instead.
type errorBody struct {
	Error string `json:"error"`
}

// listBody is a listing that fits in one S3 page, sent in one piece.
type listBody struct {
	Content []string `json:"content"`
}

// retryAfterSeconds is what a throttled client is told to wait. S3 asks for
// backoff on the order of a second; longer would idle clients needlessly.
const retryAfterSeconds = "1"

// writeJSON sends v as the whole body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types reach here; they always marshal.
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers err as JSON with the status statusFor picks, and hands
// the full error to the access log line.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusFor(err, r)
	noteError(r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	writeJSON(w, status, errorBody{Error: msg})
}

// statusFor is the one place errors become HTTP statuses and client
// messages. Messages never carry S3 request IDs, ARNs or SDK text.
func statusFor(err error, r *http.Request) (int, string) {
	switch {
	case isBadPath(err):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not found: " + listedPath(r)
	case errors.Is(err, ErrBucketUnavailable):
		return http.StatusBadGateway, "bucket unavailable: it does not exist or access is denied"
	case errors.Is(err, ErrThrottled):
		return http.StatusServiceUnavailable, "storage is throttling requests; retry later"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "storage did not answer in time"
	case errors.Is(err, context.Canceled):
		// The client hung up; nobody reads this. 499 is nginx's "client
		// closed request", kept apart from server errors in logs and metrics.
		return 499, "client closed request"
	default:
		return http.StatusBadGateway, "storage error"
	}
}

// listedPath is the listing path as the client wrote it (decoded), for the
// 404 message.
func listedPath(r *http.Request) string {
	if p := r.PathValue("path"); p != "" {
		return p
	}
	return "/"
}

// errStopWalk ends a listing early on purpose: HEAD, 304 and the readiness
// probe need the first page only.
var errStopWalk = errors.New("stop walk")

// handleList serves GET and HEAD /list-bucket-content[/{path...}].
// timeout bounds the S3 work of one request (all pages).
func handleList(lister Lister, ready *readiness, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, err := parseListPath(r.PathValue("path"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		lw := &listWriter{w: w, r: r}
		err = lister.List(ctx, path, lw.page)
		switch {
		case err == nil || errors.Is(err, errStopWalk):
			ready.answered()
			return
		case errors.Is(err, ErrNotFound):
			ready.answered() // storage did answer
		}
		if lw.started {
			// Headers and part of the list are out: the only honest thing
			// left is to break the transfer (logRequests logs and re-panics).
			noteError(r, err)
			panic(http.ErrAbortHandler)
		}
		writeError(w, r, err)
	})
}

// listWriter writes a listing as the Lister hands it over: in one piece
// with an ETag when the first batch is also the last, otherwise streamed
// batch by batch so memory stays flat however large the directory.
type listWriter struct {
	w       http.ResponseWriter
	r       *http.Request
	started bool // the streamed body has begun
	wrote   bool // at least one name streamed (a comma is due before the next)
}

func (lw *listWriter) page(names []string, last bool) error {
	if !lw.started && last {
		return lw.whole(names)
	}
	if !lw.started {
		h := lw.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-cache")
		if ifNoneMatch(lw.r, "") {
			lw.w.WriteHeader(http.StatusNotModified)
			return errStopWalk
		}
		lw.w.WriteHeader(http.StatusOK)
		if lw.r.Method == http.MethodHead {
			return errStopWalk // same headers as GET, no need to walk on
		}
		lw.started = true
		if _, err := io.WriteString(lw.w, `{"content":[`); err != nil {
			return err
		}
	}
	if len(names) > 0 {
		b, err := json.Marshal(names)
		if err != nil {
			return err
		}
		b = b[1 : len(b)-1] // drop the brackets: this batch joins a longer array
		if lw.wrote {
			if _, err := io.WriteString(lw.w, ","); err != nil {
				return err
			}
		}
		if _, err := lw.w.Write(b); err != nil {
			return err
		}
		lw.wrote = true
	}
	if last {
		_, err := io.WriteString(lw.w, "]}")
		return err
	}
	return nil
}

// whole sends a listing that fit in one S3 page, with a strong ETag over the
// exact bytes so clients can revalidate with If-None-Match. Larger listings
// stream and never see their last byte before their first, so they get none.
func (lw *listWriter) whole(names []string) error {
	body, err := json.Marshal(listBody{Content: names})
	if err != nil {
		return err
	}
	etag := etagOf(body)
	h := lw.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache") // revalidate every time: the bucket may change
	h.Set("ETag", etag)
	if ifNoneMatch(lw.r, etag) {
		lw.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	lw.w.WriteHeader(http.StatusOK)
	if lw.r.Method == http.MethodHead {
		return nil
	}
	_, err = lw.w.Write(body)
	return err
}

// etagOf is a strong validator over the body bytes; FNV-64a is plenty to
// tell two listings of one path apart and costs nanoseconds.
func etagOf(body []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(body)
	var sum [8]byte
	return `"` + hex.EncodeToString(h.Sum(sum[:0])) + `"`
}

// ifNoneMatch reports whether the request's If-None-Match matches etag
// (weak comparison, as RFC 9110 asks for this header) or is "*" (the
// listing exists, which is the case whenever this is asked).
func ifNoneMatch(r *http.Request, etag string) bool {
	v := r.Header.Get("If-None-Match")
	if v == "" {
		return false
	}
	for tag := range strings.SplitSeq(v, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if etag != "" && strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// handleHealthz answers 200 while the process runs: liveness only, it never
// touches S3, so a storage outage does not get the process restarted.
func handleHealthz() http.Handler {
	body := []byte(`{"status":"ok"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// handleReadyz answers 200 when the bucket answered recently and the
// process is not shutting down, 503 otherwise.
func handleReadyz(ready *readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, why := ready.check(); !ok {
			w.Header().Set("Retry-After", retryAfterSeconds)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": why})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// handleNotFound answers every unknown route with 404 JSON.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such route: " + clip(r.URL.Path)})
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
