package service

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/bucketls/bucketls/service/internal/htpasswd"
)

// authRealm is the realm of the WWW-Authenticate challenge.
const authRealm = `Basic realm="bucketls"`

// access is what each route requires: routes.go wraps a handler in users
// when it needs a logged-in user, in metrics for /metrics.
type access struct {
	users   func(http.Handler) http.Handler
	metrics func(http.Handler) http.Handler
}

// newAccess derives the per-route requirements: without users (no
// --htpasswd) every route is public; with it the listing routes need a
// user, and /metrics too unless --metrics-public. /healthz and /readyz
// never do: load balancers must reach them without credentials.
func newAccess(users *Users, metricsPublic bool) access {
	public := func(h http.Handler) http.Handler { return h }
	if users == nil {
		return access{users: public, metrics: public}
	}
	a := htpasswd.NewAuthenticator(users)
	login := func(h http.Handler) http.Handler { return requireUser(a, h) }
	if metricsPublic {
		return access{users: login, metrics: public}
	}
	return access{users: login, metrics: login}
}

// requireUser answers 401 with a Basic challenge unless the request
// carries the credentials of a user in the htpasswd file, and records the
// user for the access log.
func requireUser(a *htpasswd.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("%w: no Basic credentials", htpasswd.ErrUnauthorized)
		case len(user) > htpasswd.MaxUserLen:
			err = fmt.Errorf("%w: user name longer than %d bytes", htpasswd.ErrUnauthorized, htpasswd.MaxUserLen)
		default:
			err = a.Check(r.Context(), user, password)
		}
		if err != nil {
			if errors.Is(err, htpasswd.ErrUnauthorized) {
				w.Header().Set("WWW-Authenticate", authRealm)
			}
			writeError(w, r, err)
			return
		}
		noteUser(r, user)
		next.ServeHTTP(w, r)
	})
}
