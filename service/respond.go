package service

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/bucketls/bucketls/service/internal/htpasswd"
)

// errorBody is every error answer: {"error":"..."} with a message safe to
// show a client. The cause goes to the access log instead.
type errorBody struct {
	Error string `json:"error"`
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

// writeError answers err as JSON (an HTML page for browsers) with the status
// statusFor picks, and hands the full error to the access log line.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusFor(err, r)
	noteError(r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	writeErrorMessage(w, r, status, msg)
}

// writeErrorMessage answers msg with status: as a page for a browser
// (errorPage, index.go), as JSON for every other client. Every error
// answer of the service goes out through it, with the Cache-Control a
// listing route without cache settings would send (no-cache for a 404,
// no-store for the rest); on the listing routes cachePolicy.wrap sets the
// configured one in its place as the status goes out.
func writeErrorMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", cachePolicy{}.header(status))
	if errorPage(w, r, status, msg) {
		return
	}
	writeJSON(w, status, errorBody{Error: msg})
}

// statusFor is the one place errors become HTTP statuses and client
// messages. Messages never carry S3 request IDs, ARNs or SDK text.
func statusFor(err error, r *http.Request) (int, string) {
	switch {
	case errors.Is(err, htpasswd.ErrUnauthorized):
		return http.StatusUnauthorized, "authentication required: send a user name and password (HTTP Basic)"
	case errors.Is(err, htpasswd.ErrBusy):
		return http.StatusServiceUnavailable, "too many logins in progress; retry later"
	case isBadPath(err), isQueryError(err):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrBadCursor):
		return http.StatusBadRequest, errBadCursor.Error()
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not found: " + printable(listedPath(r))
	case errors.Is(err, ErrBucketUnavailable):
		return http.StatusBadGateway, "bucket unavailable: it does not exist or access is denied"
	case errors.Is(err, ErrObjectChanged):
		// Only after a first read described the object: a retry gets
		// the new one whole.
		return http.StatusServiceUnavailable, "the object changed while it was read; retry"
	case errors.Is(err, ErrRangeNotSatisfiable):
		return http.StatusRequestedRangeNotSatisfiable, "range not satisfiable"
	case errors.Is(err, ErrThrottled):
		return http.StatusServiceUnavailable, "storage is throttling requests; retry later"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "storage did not answer in time"
	case isClientWriteError(err), errors.Is(err, context.Canceled):
		// The client hung up; nobody reads this. 499 is nginx's "client
		// closed request", kept apart from server errors in logs and metrics.
		return 499, "client closed request"
	default:
		return http.StatusBadGateway, "storage error"
	}
}

func isQueryError(err error) bool {
	var qe *queryError
	return errors.As(err, &qe)
}

func isClientWriteError(err error) bool {
	var ce *clientWriteError
	return errors.As(err, &ce)
}

// listedPath is the listing path as the client wrote it (decoded), for the
// 404 message.
func listedPath(r *http.Request) string {
	if p := r.PathValue("path"); p != "" {
		return p
	}
	return "/"
}
