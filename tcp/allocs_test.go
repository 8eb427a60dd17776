package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// In steady state the data path allocates nothing: a segment written,
// carried, acknowledged and read takes its buffers from pools and its
// segments from reused slices.
func TestNoAllocationsPerSegment(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cfg := &tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20, SACK: true, Timestamps: true, NoDelay: true}
	a, b, shuttle := connectedPair(cfg)
	data := make([]byte, 1460)
	buf := make([]byte, 64<<10)
	step := func() {
		a.Write(data, epoch)
		shuttle()
		b.Read(buf, epoch)
		shuttle()
	}
	for range 100 { // warm up: pools, slices, the congestion window
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("%.2f allocations per segment, want 0", n)
	}
}
