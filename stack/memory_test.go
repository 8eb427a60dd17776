package stack_test

import (
	"testing"

	"github.com/seqack/seqack/internal/workload"
)

// An idle ESTABLISHED connection end costs under 1 KiB of heap: control
// block, connection, table entry, nothing else (buffers come from pools
// when data arrives and go back when it drains).
func TestIdleConnectionMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation; memory is measured without it")
	}
	n, stop := workload.Seqack(1500)
	defer stop()
	perEnd, err := workload.IdleHeap(n, 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.0f bytes of heap per idle connection end", perEnd)
	if perEnd >= 1024 {
		t.Errorf("an idle connection end holds %.0f bytes, want under 1 KiB", perEnd)
	}
}
