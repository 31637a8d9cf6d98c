package service

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// requestInfo collects what the access log line needs from deeper layers:
// the error behind a failed answer and the S3 calls made for the request.
type requestInfo struct {
	s3Calls atomic.Int32 // atomic: a coalesced S3 call may finish after the request
	err     error
}

type infoKey struct{}

// countS3Call records one S3 call made on behalf of the request in ctx.
func countS3Call(ctx context.Context) {
	if info, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		info.s3Calls.Add(1)
	}
}

// noteError hands err to the access log line of the request.
func noteError(r *http.Request, err error) {
	if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		info.err = err
	}
}

// rejectBadPaths answers 400 JSON for a malformed path before the mux can
// redirect it (the mux answers ".", ".." and "//" with a 307 and HTML).
func rejectBadPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequestPath(r.URL.Path); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxLoggedPath caps the path in a log line; the URL itself is only capped
// by the header size limit.
const maxLoggedPath = 2048

// logRequests writes one JSON access line per request, counts it in the
// metrics, and turns a panic into a 500 JSON answer (or an aborted response
// when the body had already started) so one bad request cannot take the
// process down or leave a valid-looking partial body.
func logRequests(logger *slog.Logger, m *httpMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		rw := &responseWriter{ResponseWriter: w}
		// Every body is JSON (or Prometheus text); never let a browser
		// guess otherwise.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		aborted := false
		defer func() {
			rec := recover()
			if rec != nil {
				aborted = true
				if rec != http.ErrAbortHandler {
					logger.Error("panic", "method", r.Method, "path", clip(r.URL.Path), "panic", rec, "stack", string(debug.Stack()))
				}
				if rec != http.ErrAbortHandler && !rw.wroteHeader {
					aborted = false
					writeJSON(rw, http.StatusInternalServerError, errorBody{Error: "internal error"})
				}
			}
			m.inFlight.Dec()
			d := time.Since(start)
			status := rw.status
			if status == 0 {
				status = http.StatusOK // handler wrote nothing: net/http sends 200
			}
			route := routeLabel(r.Pattern)
			m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(route).Observe(d.Seconds())

			level := slog.LevelInfo
			if status >= 500 || (aborted && r.Context().Err() == nil) {
				// A transfer we broke on purpose is a server-side failure;
				// one the client walked away from is not.
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", clip(r.URL.Path)),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int64("bytes", rw.bytes),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.Int("s3_calls", int(info.s3Calls.Load())),
			}
			if info.err != nil {
				attrs = append(attrs, slog.String("err", info.err.Error()))
			}
			if aborted {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
			if aborted {
				// Re-panic so net/http drops the connection (HTTP/1.1) or
				// resets the stream (HTTP/2): the client must see a broken
				// transfer, never a short body that looks complete.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// routeLabel turns the matched mux pattern into a metrics label without the
// method, so a 405 counts under the same route as the GET; requests that
// matched no route (or were rejected before the mux) share one label.
func routeLabel(pattern string) string {
	if pattern == "" || pattern == "/" {
		return "other"
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

func clip(s string) string {
	if len(s) > maxLoggedPath {
		return s[:maxLoggedPath]
	}
	return s
}

// responseWriter records the status and body size for the access log.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status = code
		if code >= 200 {
			// 1xx answers are informational; the final status follows.
			w.wroteHeader = true
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
