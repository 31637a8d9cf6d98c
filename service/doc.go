// Package service is bucketls, an HTTP service that lists one S3 bucket like
// a directory tree.
//
// GET /list-bucket-content/<path> answers {"content":[...]} with the
// immediate children of <path>: objects by base name and sub-directories
// (S3 common prefixes under the delimiter "/") by name without the slash, in
// S3's key order with duplicates removed. A path that names an object lists
// just that object, like ls FILE. /healthz, /readyz and /metrics serve the
// operator.
//
// The package is the HTTP side, split from storage along one seam,
// [Lister]: [NewServer] builds routing, path validation, JSON, ETags, the
// HTML index, logging and metrics over any Lister, and [NewS3Lister] is the
// production Lister over the AWS SDK's ListObjectsV2, with coalescing of
// identical concurrent calls and an optional short cache. [Run] wires both
// from flags and environment variables and serves until SIGINT or SIGTERM;
// the bucketls command under cmd/bucketls is nothing more than a call to
// Run.
//
// The rooms of their own live under internal/, each with one import
// direction (service imports all of them; s3store imports listing; none
// imports service):
//
//	internal/listing   the Lister and ObjectReader contracts: Request, Entry, Position, Object, the domain errors, the call counter
//	internal/s3store   the S3 adapter: client, endpoint, walk, page cache, decode gate, S3 metrics, root prefix
//	internal/htpasswd  htpasswd files and the bcrypt authenticator
//	internal/fakes3    the in-memory S3 of --demo and of the tests
//	internal/memtarget --memory-target: the garbage collector's target
//
// The files of this package, one job each (doc_test.go holds this list to
// the directory):
//
//	doc.go          this overview
//	run.go          Run: parse, load users, open storage, listen, serve, shut down
//	config.go       Config, the flags and their environment variables, validation, --help
//	demo.go         --demo: the reference tree on the in-memory S3, and what to try
//	storage.go      the listing contract and the S3 lister under this package's names
//	server.go       Server, NewServer, readiness, /healthz and /readyz
//	routes.go       every route on one screen; the unknown-route and 405 answers
//	middleware.go   the request's info, panics, headers, metrics and the access log
//	conns.go        what net/http answers by itself, counted and logged
//	path.go         the checks on request paths; printable for echoed text
//	options.go      the listing's query, parsed once into typed options
//	cursor.go       opaque, versioned, bound cursors
//	listhandler.go  GET /list-bucket-content: the streamed JSON listing, ETags, paging
//	view.go         sort= and match=: the whole directory read up to the cap, sorted, filtered, paged
//	readme.go       a directory's README above its index: found, read, rendered, sanitised, kept by ETag
//	filehandler.go  GET /files (--serve-objects): an object's bytes through http.ServeContent, ranged GetObject calls, safe headers
//	respond.go      writeJSON, writeError and the one error-to-status table
//	index.go        the browser index: negotiation, links, what a row shows
//	indexpage.go    the index as x/net/html nodes, rendered by html.Render
//	compress.go     gzip and zstd for the routes that compress
//	cachecontrol.go the listing routes' Cache-Control, by status, password and cache settings
//	cors.go         --cors-origins
//	auth.go         which routes need a user; HTTP Basic over package htpasswd
//	metrics.go      the HTTP metrics
//	version.go      the build's version: --version, the serving line, bucketls_build_info
//	openapi.go      GET /openapi.json (the document is api/openapi.json)
//	tls.go          the HTTPS listener's certificate, given or self-signed
//
// Region and credentials come only from the AWS SDK's default chain, so the
// same binary runs with environment credentials on a laptop and with the
// instance role (IMDSv2) on EC2. With --demo, Run serves an in-process
// gofakes3 server seeded with a small reference tree instead of S3.
package service
