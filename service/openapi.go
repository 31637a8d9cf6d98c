package service

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDocument describes every route, parameter, body and error: the
// contract clients generate code from. Tests validate every answer the
// handler tests produce against it, so it cannot drift from the code.
//
//go:embed api/openapi.json
var openAPIDocument []byte

// handleOpenAPI serves the document.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "max-age=300")
		h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
		_, _ = w.Write(openAPIDocument)
	})
}
