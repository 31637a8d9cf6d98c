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
// The package is split along one seam, [Lister]: [NewServer] builds the
// HTTP side (routing, path validation, JSON, ETags, logging, metrics) over
// any Lister, and [NewS3Lister] is the production Lister over the AWS SDK's
// ListObjectsV2 paginator, with coalescing of identical concurrent calls and
// an optional short cache. [Run] wires both from flags and environment
// variables and serves until SIGINT or SIGTERM; the bucketls command under
// cmd/bucketls is nothing more than a call to Run.
//
// Region and credentials come only from the AWS SDK's default chain, so the
// same binary runs with environment credentials on a laptop and with the
// instance role (IMDSv2) on EC2. With --demo, Run serves an in-process
// gofakes3 server seeded with a small reference tree instead of S3.
package service
