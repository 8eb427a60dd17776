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
	entries := SharedBuffersInUse
	before := entries()
	for range 4 {
		b := SharedBuffer()
		Hold(b[1:])
	}
	if got := entries(); got != before+4 {
		t.Fatalf("%d shared buffers in use after 4 taken, want %d", got, before+4)
	}
	deadline := time.Now().Add(10 * time.Second)
	for entries() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d shared buffers in use once the forgotten ones are garbage, want %d", entries(), before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
