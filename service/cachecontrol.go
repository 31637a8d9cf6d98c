package service

import (
	"net/http"
	"strconv"
	"time"
)

// cachePolicy is what the listing routes (and /files) tell browsers, proxies and CDNs
// about reusing their answers: one Cache-Control per status, set as the
// status goes out (wrap), so every answer of the route is covered, the 401
// of the password check and the error pages included. The table is also
// docs/configuration.md's "Caching"; TestCacheControl holds the handler to
// it.
//
//	answer                    no password, max-age M > 0             M = 0       --htpasswd
//	200, 206, 304 (GET, HEAD) public, max-age=M, stale-while-revalidate=W, stale-if-error=W
//	                                                                 no-cache    private, no-cache
//	404                       public, max-age=min(M, 10)             no-cache    private, no-cache
//	400, 401, 5xx, the rest   no-store                               no-store    no-store
//
// Why each:
//   - M is --cache-max-age (default: --cache-ttl), W is --cache-stale
//     (default 0, off; the directives are left out when W is 0). A
//     listing reused past max-age is at most W older, the same bound the
//     process keeps for its own cache.
//   - M = 0 sends no-cache, not max-age=0: caches may keep the answer but
//     must revalidate it (cheap, with the ETag) before every reuse, even
//     when cut off from the origin, where max-age=0 alone would let them
//     serve it stale; and no-cache is what every listing said before the
//     cache settings existed, so the default answers are unchanged.
//   - With --htpasswd: private keeps shared caches (a CDN, a company proxy)
//     from storing what only logged-in users may see; no-cache, rather
//     than no-store, keeps the browser's copy for If-None-Match; as every
//     reuse is revalidated, every reuse passes the password check again.
//   - 404: a path that names nothing costs two S3 calls, so a broken link
//     many follow is worth keeping briefly, but not long: a path created a
//     moment later should appear soon.
//   - 400 and 401 cost no S3 call to answer again, depend only on the
//     request (and on the version of this program: a newer one may accept
//     what this one refused), and a CDN that stored one-off bad URLs would
//     push out listings; a 401 must reach the client every time.
//   - 5xx: a failure is never replayed from a cache; clients and CDNs with
//     a stale copy may show that instead (stale-if-error).
type cachePolicy struct {
	maxAge  time.Duration // whole seconds
	stale   time.Duration // stale-while-revalidate and stale-if-error
	private bool          // --htpasswd: only logged-in users may see an answer
}

// notFoundMaxAge caps how long a public 404 may be reused.
const notFoundMaxAge = 10 * time.Second

func newCachePolicy(cfg Config, users *Users) cachePolicy {
	return cachePolicy{maxAge: cfg.CacheMaxAge, stale: cfg.CacheStale, private: users != nil}
}

// header is the Cache-Control of an answer with status.
func (p cachePolicy) header(status int) string {
	// 206 is a range of an object (--serve-objects), cached as its 200.
	cacheable := status == http.StatusOK || status == http.StatusPartialContent || status == http.StatusNotModified || status == http.StatusNotFound
	switch {
	case !cacheable:
		return "no-store"
	case p.private:
		return "private, no-cache"
	case p.maxAge < time.Second:
		return "no-cache"
	case status == http.StatusNotFound:
		return "public, max-age=" + seconds(min(p.maxAge, notFoundMaxAge))
	case p.stale < time.Second:
		return "public, max-age=" + seconds(p.maxAge)
	default:
		w := seconds(p.stale)
		return "public, max-age=" + seconds(p.maxAge) + ", stale-while-revalidate=" + w + ", stale-if-error=" + w
	}
}

// seconds is d as Cache-Control's delta-seconds, rounded down.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// wrap sets Cache-Control on every answer of h, by its status, as the
// status goes out: a handler's own Cache-Control (the error page's) gives
// way to the policy.
func (p cachePolicy) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&cacheControlWriter{ResponseWriter: w, p: p}, r)
	})
}

// cacheControlWriter sets the policy's Cache-Control before the status.
type cacheControlWriter struct {
	http.ResponseWriter
	p    cachePolicy
	sent bool // the final status went out
}

func (w *cacheControlWriter) WriteHeader(code int) {
	if !w.sent && code >= 200 {
		w.sent = true
		w.Header().Set("Cache-Control", w.p.header(code))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *cacheControlWriter) Write(b []byte) (int, error) {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what is buffered, the status (200 if none yet) with its
// Cache-Control first.
func (w *cacheControlWriter) Flush() {
	if !w.sent {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *cacheControlWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
