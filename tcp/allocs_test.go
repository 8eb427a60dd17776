package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// In steady state the data path allocates nothing: a segment written,
// carried, acknowledged and read takes its buffers from pools and its
// segments from reused slices; with RACK-TLP, its send time goes in a
// reused slice too.
func TestNoAllocationsPerSegment(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, rack := range []bool{false, true} {
		cfg := plain(tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20}, withSACK, withTimestamps, withoutNagle)
		cfg.NoRACK = !rack
		if n := allocsPerSegment(cfg); n != 0 {
			t.Errorf("RACK-TLP %v: %.2f allocations per segment, want 0", rack, n)
		}
	}
}

func allocsPerSegment(cfg *tcp.Config) float64 {
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
	return testing.AllocsPerRun(1000, step)
}
