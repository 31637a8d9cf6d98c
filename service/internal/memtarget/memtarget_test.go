package memtarget

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// These tests change process-wide GC settings, so none runs in parallel.

var sink []byte

// churn allocates n bytes of short-lived garbage and reports how many
// collections ran meanwhile.
func churn(n int) uint32 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i += 32 << 10 {
		sink = make([]byte, 32<<10)
	}
	runtime.ReadMemStats(&after)
	return after.NumGC - before.NumGC
}

// TestFewerCollections: with a small live heap, a target needs many fewer
// collections than GOGC=100 for the same garbage.
func TestFewerCollections(t *testing.T) {
	runtime.GC()
	plain := churn(512 << 20)
	tu := Start(64 << 20)
	targeted := churn(512 << 20)
	tu.Stop()
	t.Logf("512 MiB of garbage: %d collections with Go's default, %d with a 64 MiB target", plain, targeted)
	// 512 MiB through a 64 MiB target is about 8 collections. How many
	// Go's default makes depends on how much CPU its background marking
	// gets while the loop allocates: some 100 on an idle machine, 37 on a
	// loaded CI machine. Hence two bounds that hold on both: the target's
	// own count, and at most half the default's.
	if targeted > 16 || targeted*2 > plain {
		t.Errorf("%d collections with the target, %d without: want at most 16 and at most half", targeted, plain)
	}
}

// TestLiveDataRaisesTheLimit: live data past half the target raises the
// limit to GOGC=100's allowance instead of collecting ever more often, and
// letting it go brings the target back.
func TestLiveDataRaisesTheLimit(t *testing.T) {
	const target = 32 << 20
	tu := Start(target)
	defer tu.Stop()
	live := make([][]byte, 0, 1024)
	for range 1024 {
		live = append(live, make([]byte, 48<<10)) // 48 MiB, in pieces the GC must mark
	}
	waitFor(t, func() bool { churn(64 << 20); return tu.Limit() >= 2*48<<20 }, "the limit to rise past twice the 48 MiB live")
	if got := debug.SetMemoryLimit(-1); got != tu.Limit() {
		t.Errorf("runtime limit %d, tuner says %d", got, tu.Limit())
	}
	runtime.KeepAlive(live)
	live = nil
	waitFor(t, func() bool { churn(64 << 20); return tu.Limit() == target }, "the limit to fall back to the target")
}

// TestStopRestores: Stop puts back GOGC and the memory limit as they were.
func TestStopRestores(t *testing.T) {
	oldPercent := debug.SetGCPercent(150)
	oldLimit := debug.SetMemoryLimit(1 << 40)
	defer func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) }()
	tu := Start(16 << 20)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC under the tuner = %d, want off", p)
	}
	if again := Start(8 << 20); again != tu {
		t.Error("a second Start made a second tuner")
	}
	tu.Stop()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC after one of two Stops = %d, want still off", p)
	}
	tu.Stop()
	tu.Stop() // once more than started is harmless
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("GOGC after Stop = %d, want 150", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Errorf("memory limit after Stop = %d, want %d", l, int64(1<<40))
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
