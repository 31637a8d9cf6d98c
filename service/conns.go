package service

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// connWatch sees what net/http answers by itself, before any handler
// runs: a malformed request line or URL escape ("/dir2%zz"), a missing
// Host, an unknown protocol version, headers over the size limit. Those
// get net/http's own text/plain answers, which the service cannot change;
// it can count and log them. A connection that read request bytes (went
// active) and went idle or closed without reaching a handler was answered
// that way. Plain HTTP sent to the TLS port and failed handshakes never go
// active; net/http logs the handshake failures (component "http"), and
// they are counted as connections closed before a request.
type connWatch struct {
	logger *slog.Logger
	m      *httpMetrics
	conns  sync.Map // net.Conn -> *connInfo
}

// connInfo is one connection's count of requests that reached a handler.
type connInfo struct {
	handled  atomic.Int64
	active   bool  // read request bytes since the last check
	snapshot int64 // handled when it went active
	everUsed bool  // reached active at least once
}

type connKey struct{}

// connContext gives each connection its info (http.Server.ConnContext).
func (cw *connWatch) connContext(ctx context.Context, c net.Conn) context.Context {
	ci := &connInfo{}
	cw.conns.Store(c, ci)
	return context.WithValue(ctx, connKey{}, ci)
}

// noteHandled marks that a request of r's connection reached the handlers.
func noteHandled(r *http.Request) {
	if ci, ok := r.Context().Value(connKey{}).(*connInfo); ok {
		ci.handled.Add(1)
	}
}

// connState follows each connection (http.Server.ConnState). The hooks of
// one connection run on its own goroutine, one at a time.
func (cw *connWatch) connState(c net.Conn, st http.ConnState) {
	v, ok := cw.conns.Load(c)
	if !ok {
		return
	}
	ci := v.(*connInfo)
	switch st {
	case http.StateActive:
		ci.active, ci.everUsed, ci.snapshot = true, true, ci.handled.Load()
	case http.StateIdle, http.StateClosed:
		if ci.active && ci.handled.Load() == ci.snapshot {
			cw.m.rejected.WithLabelValues("malformed_request").Inc()
			cw.logger.Warn("request answered by net/http before routing (malformed, incomplete or oversized)", "remote", c.RemoteAddr().String())
		}
		ci.active = false
		if st == http.StateClosed {
			if !ci.everUsed {
				cw.m.rejected.WithLabelValues("closed_before_request").Inc()
			}
			cw.conns.Delete(c)
		}
	case http.StateHijacked:
		cw.conns.Delete(c)
	}
}
