package link

import (
	"runtime"
	"testing"
	"time"
)

// A shared buffer its holders forget to Recycle is collected as garbage,
// and its entry in the table goes with it: a forgotten packet costs
// nothing for good.
func TestForgottenSharedBufferLeavesTable(t *testing.T) {
	entries := func() int {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		return len(shared.holders)
	}
	before := entries()
	for range 4 {
		b := SharedBuffer()
		Hold(b[1:])
	}
	if got := entries(); got != before+4 {
		t.Fatalf("%d entries with 4 live shared buffers, want %d", got, before+4)
	}
	deadline := time.Now().Add(10 * time.Second)
	for entries() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries left for shared buffers nobody holds, want %d", entries(), before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
