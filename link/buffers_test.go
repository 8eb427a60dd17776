package link_test

import (
	"testing"

	"github.com/seqack/seqack/link"
)

// Buffers come in the pool sizes, and going round the pools allocates
// nothing.
func TestBuffers(t *testing.T) {
	for n, wantCap := range map[int]int{1: 256, 256: 256, 1500: 2048, 9000: 16384, 65535: 65536, 70000: 70000} {
		if b := link.Buffer(n); len(b) != n || cap(b) != wantCap {
			t.Errorf("Buffer(%d): len %d cap %d, want cap %d", n, len(b), cap(b), wantCap)
		}
	}
	link.Recycle(make([]byte, 10)) // a foreign size: ignored
	allocs := testing.AllocsPerRun(100, func() { link.Recycle(link.Buffer(1500)) })
	if allocs > 0 && !raceEnabled {
		t.Errorf("%.1f allocations per buffer round trip", allocs)
	}
}
