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

	"github.com/bucketls/bucketls/service/internal/listing"
)

// requestInfo is what the middleware layers and handlers share about one
// request: what was sent, the error and limit behind a failed answer, and
// the S3 calls made for it. It travels in the request's context because
// http.Handler has no other way to carry it between layers; the flow is
// fixed, and each field has one writer:
//
//	field     written by                              read by
//	status    responseWriter (WriteHeader/Write)      countRequests, logRequests, recoverPanics
//	bytes     responseWriter (Write)                  logRequests
//	err       noteError: writeError, the list handler logRequests ("err")
//	limit     noteLimit: the list handler;            logRequests ("limit"), abortReason
//	          noteShutdownCut
//	aborted   markAborted: the list handler;          trackRequests (breaks the connection),
//	          recoverPanics, noteShutdownCut
//	                                                   countRequests (bucketls_http_responses_aborted_total)
//	user      noteUser: requireUser                   logRequests ("user")
//	s3Calls   listing.CountCall, via the context      logRequests ("s3_calls")
//
// trackRequests creates it, outermost, so every layer sees the same one;
// a handler called without it (a unit test of the bare handler) writes to
// a fresh throwaway value instead, which infoOf documents and
// TestRequestInfoOutsideTracking checks.
type requestInfo struct {
	start   time.Time
	status  int   // as sent; 0 until a status is written
	bytes   int64 // body bytes written
	err     error
	limit   string       // which limit ended the request, if one did
	aborted bool         // the transfer was broken on purpose
	user    string       // the authenticated user (--htpasswd), if any
	s3Calls atomic.Int32 // atomic: a coalesced S3 call may finish after the request
}

// Limits that can end a request, as the access log names them.
const (
	limitRequest  = "request_timeout"  // --request-timeout
	limitStall    = "client_stalled"   // --stall-timeout: the client stopped reading
	limitShutdown = "shutdown_timeout" // still running when shutdown closed the connections
)

type infoKey struct{}

// infoOf is the request's info, or outside trackRequests a throwaway one:
// the notes of a handler tested on its own go nowhere, by design, so the
// handler needs no second code path for tests.
func infoOf(r *http.Request) *requestInfo {
	info, _ := r.Context().Value(infoKey{}).(*requestInfo)
	if info == nil {
		return &requestInfo{} // outside trackRequests (a handler under test): a sink
	}
	return info
}

// noteError hands err to the access log line of the request.
func noteError(r *http.Request, err error) { infoOf(r).err = err }

// noteUser records the user the request was authenticated as.
func noteUser(r *http.Request, user string) { infoOf(r).user = user }

// markAborted records that the transfer will be broken: from now on
// nothing more reaches the client.
func markAborted(r *http.Request) { infoOf(r).aborted = true }

// noteLimit records which limit ended the request.
func noteLimit(r *http.Request, limit string) { infoOf(r).limit = limit }

// trackRequests is the outermost layer: it starts the request's info and
// the writer that records status and bytes, and at the very end breaks the
// connection of a response marked aborted, after every other layer has
// logged and counted it. Re-panicking with http.ErrAbortHandler makes
// net/http drop the connection (HTTP/1.1) or reset the stream (HTTP/2): the
// client sees a broken transfer, never a short body that looks complete.
func trackRequests(flight *inFlight, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flight.running.Add(1)
		defer flight.running.Add(-1) // deferred: runs on the abort panic below too
		noteHandled(r)
		info := &requestInfo{start: time.Now()}
		ctx := context.WithValue(r.Context(), infoKey{}, info)
		ctx = listing.WithCallCounter(ctx, &info.s3Calls)
		next.ServeHTTP(&responseWriter{ResponseWriter: w, info: info}, r.WithContext(ctx))
		if info.aborted {
			panic(http.ErrAbortHandler)
		}
	})
}

// recoverPanics turns a panic into a 500 JSON answer, or into an aborted
// response when the status had already gone out, so one bad request cannot
// take the process down or leave a valid-looking partial body.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			info := infoOf(r)
			if rec != http.ErrAbortHandler {
				logger.Error("panic", "method", r.Method, "path", printable(clip(r.URL.Path)), "panic", rec, "stack", string(debug.Stack()))
				if info.status == 0 {
					writeErrorMessage(w, r, http.StatusInternalServerError, "internal error")
					return
				}
			}
			info.aborted = true
		}()
		next.ServeHTTP(w, r)
	})
}

// setHeaders adds the headers every answer carries. Bodies are JSON (or
// Prometheus text); never let a browser guess otherwise.
func setHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// noteShutdownCut marks a request that was still running when shutdown
// closed the connections: its transfer was broken on purpose, by the
// shutdown timeout, whatever the handler made of its cancelled context (a
// 499 it could not send, a cut stream). Inside countRequests and
// logRequests, so the metric and the access line both say so.
func noteShutdownCut(flight *inFlight, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if flight.cut.Load() && r.Context().Err() != nil {
			info := infoOf(r)
			info.limit, info.aborted = limitShutdown, true
		}
	})
}

// countRequests feeds the HTTP metrics.
func countRequests(m *httpMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		next.ServeHTTP(w, r)
		info := infoOf(r)
		route := routeLabel(r.Pattern)
		m.requests.WithLabelValues(route, strconv.Itoa(sentStatus(info))).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(info.start).Seconds())
		if info.bytes > 0 {
			m.bytes.WithLabelValues(route).Add(float64(info.bytes))
		}
		if info.aborted {
			m.aborted.WithLabelValues(route, abortReason(r, info)).Inc()
		}
	})
}

// sentStatus is the status the client got: 200 when the handler wrote
// nothing, as net/http then sends.
func sentStatus(info *requestInfo) int {
	if info.status == 0 {
		return http.StatusOK
	}
	return info.status
}

// abortReason names why a transfer was broken, with a fixed set of values.
func abortReason(r *http.Request, info *requestInfo) string {
	switch {
	case info.limit != "":
		return info.limit
	case r.Context().Err() != nil:
		return "client_gone"
	case info.err != nil:
		return "storage"
	default:
		return "panic"
	}
}

// maxLoggedPath caps the path in a log line; the URL itself is only capped
// by the header size limit.
const maxLoggedPath = 2048

// logRequests writes one JSON access line per request.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		info := infoOf(r)
		status := sentStatus(info)
		level := slog.LevelInfo
		switch {
		case info.limit == limitShutdown:
			// Not a failure of the request, but a client lost its answer.
			level = slog.LevelWarn
		case status >= 500 || (info.aborted && r.Context().Err() == nil && info.limit != limitStall):
			// A transfer we broke on purpose is a server-side failure;
			// one the client walked away from or stalled is not.
			level = slog.LevelError
		}
		route := routeLabel(r.Pattern)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", printable(clip(r.URL.Path))),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", info.bytes),
			slog.Float64("duration_ms", float64(time.Since(info.start).Microseconds())/1000),
			slog.Int("s3_calls", int(info.s3Calls.Load())),
		}
		if r.URL.RawQuery != "" {
			attrs = append(attrs, slog.String("query", printable(clip(r.URL.RawQuery))))
		}
		if rng := r.Header.Get("Range"); rng != "" {
			// The range asked for; bytes says what was sent.
			attrs = append(attrs, slog.String("range", printable(clip(rng))))
		}
		if info.user != "" {
			attrs = append(attrs, slog.String("user", printable(info.user)))
		}
		if info.err != nil {
			attrs = append(attrs, slog.String("err", printable(info.err.Error())))
		}
		if info.limit != "" {
			attrs = append(attrs, slog.String("limit", info.limit))
		}
		if info.aborted {
			attrs = append(attrs, slog.Bool("aborted", true))
		}
		logger.LogAttrs(r.Context(), level, "request", attrs...)
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

// rejectBadPaths answers 400 JSON for a malformed path before the mux can
// redirect it (the mux answers ".", ".." and "//" with a 307 and HTML). A
// bad path under a CORS route gets that route's CORS headers.
func rejectBadPaths(cors *corsPolicy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkRequestPath(r.URL.Path); err != nil {
			if cors.covers(r.URL.Path) {
				cors.setHeaders(w, r)
			}
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// responseWriter records the status and body size in the request's info.
type responseWriter struct {
	http.ResponseWriter
	info *requestInfo
}

func (w *responseWriter) WriteHeader(code int) {
	// 1xx answers are informational; the final status follows.
	if w.info.status == 0 && code >= 200 {
		w.info.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.info.aborted {
		// The transfer is being broken on purpose: whatever a wrapper
		// writes on its way out (a compressor's valid trailer) must not
		// make the cut-off body look complete.
		return 0, http.ErrAbortHandler
	}
	if w.info.status == 0 {
		w.info.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.info.bytes += int64(n)
	return n, err
}

// Flush sends what is buffered; wrappers that flush through (the
// compressor) find it by type assertion.
func (w *responseWriter) Flush() {
	if !w.info.aborted {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
