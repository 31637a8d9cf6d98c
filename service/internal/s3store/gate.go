package s3store

import (
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// decodeGate is the S3 client's HTTP client with a bound on how many
// answers are read and decoded at once. Waiting for S3 is not bounded, so
// slow answers from real S3 cost no throughput; the bound starts when an
// answer's headers are in and ends when its body is closed (or read to
// the end), which the SDK does as soon as it has decoded the page.
//
// Decoding is CPU work: past a few per core, more at once only adds
// memory. A 1,000-key page holds about 250 KiB of decoded objects while
// it is read, so 64 clients paging a large directory would otherwise hold
// 64 of them (and twice that in heap headroom) for no gain in speed. Only
// large answers wait (see gatedBytes).
type decodeGate struct {
	next  s3.HTTPClient
	slots chan struct{}
}

// gatedBytes is the smallest answer that waits for a slot. A small one
// (a directory of a few entries is about 1 KiB) decodes in microseconds
// into little memory; making it queue would cost more CPU than it saves.
// An answer of unknown length waits.
const gatedBytes = 64 << 10

// decodesPerCore is how many answers per CPU may be decoded at once: more
// than one, so a core never waits on a body still arriving from S3.
const decodesPerCore = 2

func newDecodeGate(next s3.HTTPClient) *decodeGate {
	return &decodeGate{next: next, slots: make(chan struct{}, decodesPerCore*runtime.GOMAXPROCS(0))}
}

// Do implements s3.HTTPClient.
func (g *decodeGate) Do(req *http.Request) (*http.Response, error) {
	resp, err := g.next.Do(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody ||
		(resp.ContentLength >= 0 && resp.ContentLength < gatedBytes) {
		return resp, err
	}
	select {
	case g.slots <- struct{}{}:
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, req.Context().Err()
	}
	resp.Body = &gatedBody{ReadCloser: resp.Body, gate: g}
	return resp, nil
}

// gatedBody gives its slot back once, on the first of Close, the end of
// the body or a read error, so a slot is never kept by a body that was
// read to the end but not yet closed.
type gatedBody struct {
	io.ReadCloser
	once sync.Once
	gate *decodeGate
}

func (b *gatedBody) release() { <-b.gate.slots }

func (b *gatedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

// Close closes the body before it gives the slot back, so the next answer
// is admitted only once this one's connection and buffers are let go.
func (b *gatedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
