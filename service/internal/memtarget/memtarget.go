// Package memtarget runs the Go garbage collector against a memory
// target instead of Go's default pacing.
//
// With Go's default (GOGC=100) the collector runs each time the heap has
// doubled since the last collection. A server whose live heap is a few MiB
// but which allocates tens of KiB per request (the AWS SDK does, per call)
// then collects hundreds of times a second, and that is a large share of
// its CPU. Given a target, the collector instead lets the process grow to
// the target before it runs (GOGC off, the runtime's memory limit at the
// target), which needs many fewer collections for the same memory the
// process was going to use under load anyway.
//
// A plain memory limit makes the collector run ever more often as live
// data approaches it, up to half the CPU. So after every collection the
// limit is raised, when that is more, to what Go's default pacing would
// allow for the live heap just measured: the collector never works harder
// than with GOGC=100, and memory is never bounded tighter than that.
package memtarget

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The runtime/metrics samples read after each collection.
var sampleNames = []string{
	"/gc/heap/live:bytes",                 // marked live by the last cycle
	"/gc/scan/stack:bytes",                // what GOGC's pacing adds for stacks
	"/gc/scan/globals:bytes",              // and for globals
	"/memory/classes/total:bytes",         // all memory the runtime maps...
	"/memory/classes/heap/released:bytes", // ...less what it gave back,
	"/memory/classes/heap/objects:bytes",  // and the heap's own parts, so
	"/memory/classes/heap/unused:bytes",   // that what is left is the runtime's
	"/memory/classes/heap/free:bytes",     // overhead outside the heap
}

// Tuner is a running target; Stop restores the settings it replaced.
// The settings are the process's: while one Tuner runs, Start hands out
// the same one (tests run several servers in one process), and the last
// Stop restores what the first Start replaced.
type Tuner struct {
	refs    int // guarded by mu
	target  int64
	samples []metrics.Sample
	stopped atomic.Bool
	limit   atomic.Int64 // the limit set after the last collection

	oldPercent int
	oldLimit   int64
}

// Start sets the runtime to collect at target bytes of runtime-managed
// memory, raised to GOGC=100's allowance when live data needs more. It
// changes process-wide settings; call it once, from main's path.
func Start(target int64) *Tuner {
	mu.Lock()
	defer mu.Unlock()
	if active != nil {
		active.refs++
		return active
	}
	t := &Tuner{refs: 1, target: target, samples: make([]metrics.Sample, len(sampleNames))}
	active = t
	for i, n := range sampleNames {
		t.samples[i].Name = n
	}
	t.oldLimit = debug.SetMemoryLimit(target)
	t.limit.Store(target)
	t.oldPercent = debug.SetGCPercent(-1)
	t.arm()
	return t
}

// Limit is the memory limit in force: the target, or more while live
// data needs it.
func (t *Tuner) Limit() int64 { return t.limit.Load() }

var (
	mu     sync.Mutex
	active *Tuner
)

// Stop ends one Start; the last puts back Go's pacing as it was before.
func (t *Tuner) Stop() {
	mu.Lock()
	defer mu.Unlock()
	if t.refs == 0 {
		return
	}
	if t.refs--; t.refs > 0 {
		return
	}
	active = nil
	t.stopped.Store(true)
	debug.SetGCPercent(t.oldPercent)
	debug.SetMemoryLimit(t.oldLimit)
}

// sentinel is garbage the moment it is made: its cleanup runs after the
// next collection and makes the next sentinel, so adjust runs once per
// cycle. The pointer keeps it out of the tiny allocator, whose blocks are
// shared and so may never be collected.
type sentinel struct {
	_ *byte
	_ [24]byte
}

func (t *Tuner) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(t *Tuner) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	}, t)
}

// adjust sets the limit for the cycle to come.
func (t *Tuner) adjust() {
	metrics.Read(t.samples)
	v := func(i int) int64 {
		if t.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		u := t.samples[i].Value.Uint64()
		if u > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(u)
	}
	live, stacks, globals := v(0), v(1), v(2)
	overhead := v(3) - v(4) - v(5) - v(6) - v(7)
	limit := max(t.target, 2*live+stacks+globals+max(overhead, 0))
	mu.Lock()
	defer mu.Unlock()
	if !t.stopped.Load() && limit != t.limit.Load() {
		debug.SetMemoryLimit(limit)
		t.limit.Store(limit)
	}
}
