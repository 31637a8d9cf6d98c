package s3store

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// openBodies is an HTTP client whose answers count how many of their
// bodies are open, and the most that ever were.
type openBodies struct {
	open, most atomic.Int32
	broken     atomic.Bool  // bodies fail on their first read
	length     atomic.Int64 // the answers' Content-Length (-1: unknown)
}

func (c *openBodies) Do(req *http.Request) (*http.Response, error) {
	var r io.Reader = strings.NewReader("<ListBucketResult/>")
	if c.broken.Load() {
		r = iotest.ErrReader(errors.New("connection reset"))
	}
	return &http.Response{StatusCode: 200, ContentLength: c.length.Load(), Body: &countedBody{Reader: r, c: c}}, nil
}

type countedBody struct {
	io.Reader
	c      *openBodies
	closed bool
}

func (b *countedBody) Close() error {
	if !b.closed {
		b.closed = true
		b.c.open.Add(-1)
	}
	return nil
}

func (c *openBodies) opened() {
	n := c.open.Add(1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
}

// TestDecodeGate holds many concurrent answers to the gate's bound, and
// checks each way a slot comes back: Close, the end of the body, a read
// error, and a request that gives up while it waits for one.
func TestDecodeGate(t *testing.T) {
	t.Parallel()
	inner := &openBodies{}
	inner.length.Store(-1)
	g := newDecodeGate(inner)
	bound := cap(g.slots)
	req := func(ctx context.Context) *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/", nil)
		return r
	}

	// 4x the bound at once, each holding its body a moment: never more
	// than the bound are open past the gate.
	var wg sync.WaitGroup
	for range 4 * bound {
		wg.Go(func() {
			resp, err := g.Do(req(context.Background()))
			if err != nil {
				t.Error(err)
				return
			}
			inner.opened()
			time.Sleep(2 * time.Millisecond)
			resp.Body.Close()
		})
	}
	wg.Wait()
	if most := inner.most.Load(); most > int32(bound) || most < 2 {
		t.Errorf("%d bodies open at most, want between 2 and the bound %d", most, bound)
	}
	if n := len(g.slots); n != 0 {
		t.Fatalf("%d slots still taken after every body closed", n)
	}

	// Read to the end without Close frees the slot; Close after it does
	// not free a second one.
	for range 2 * bound {
		resp, err := g.Do(req(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
		if len(g.slots) != 0 {
			t.Fatal("a body read to its end keeps its slot")
		}
		resp.Body.Close()
	}
	if len(g.slots) != 0 {
		t.Fatal("Close after the end freed a slot twice")
	}

	// A body that fails mid-read frees its slot at the error.
	inner.broken.Store(true)
	for range 2 * bound {
		resp, err := g.Do(req(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Fatal("broken body read without error")
		}
	}
	if len(g.slots) != 0 {
		t.Fatal("a body that failed keeps its slot")
	}
	inner.broken.Store(false)

	// Large answers wait like those of unknown length; small ones pass
	// without a slot.
	inner.length.Store(gatedBytes)
	resp, err := g.Do(req(context.Background()))
	if err != nil || len(g.slots) != 1 {
		t.Fatalf("a %d-byte answer: err %v, %d slots taken, want 1", gatedBytes, err, len(g.slots))
	}
	resp.Body.Close()
	inner.length.Store(gatedBytes - 1)
	for range 2 * bound {
		if _, err := g.Do(req(context.Background())); err != nil {
			t.Fatal(err)
		}
	}
	if len(g.slots) != 0 {
		t.Fatalf("small answers took %d slots", len(g.slots))
	}
	inner.length.Store(-1)

	// With every slot taken, a request whose context ends gets its error
	// and its answer's body is closed, not leaked.
	var held []*http.Response
	for range bound {
		resp, err := g.Do(req(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	before := inner.open.Load()
	inner.open.Add(1) // the answer about to be refused
	if _, err := g.Do(req(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do with every slot taken = %v, want the context's deadline", err)
	}
	if inner.open.Load() != before {
		t.Error("the refused answer's body was not closed")
	}
	for _, resp := range held {
		resp.Body.Close()
	}
	if len(g.slots) != 0 {
		t.Errorf("%d slots taken after all closed", len(g.slots))
	}
}
