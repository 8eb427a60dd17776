package tcp_test

import (
	"runtime"
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// floods are patterns of 1-byte segments a peer may send beyond a hole
// it never fills, each an offset past the hole for segment i of n.
var floods = []struct {
	name string
	off  func(i, n int) uint32
}{
	// Each extends the piece the last one made.
	{"extend", func(i, n int) uint32 { return uint32(1 + i) }},
	// Each lies just before it.
	{"prepend", func(i, n int) uint32 { return uint32(n - i) }},
	// Pieces of one byte with a byte between them, as many as may be
	// held, then the bytes between, then again further on.
	{"fill holes", func(i, n int) uint32 {
		const group = 2 * 255 // 255 pieces, then 255 bytes between them
		g, k := i/group, i%group
		if k < group/2 {
			return uint32(1 + g*group + 2*k)
		}
		return uint32(1 + g*group + 2*(k-group/2) + 1)
	}},
}

// A 1-byte out-of-order segment costs the same however much the receive
// queue already holds beyond the hole (issue 18 F): storing it allocates
// a few bytes on average, not a copy of the piece it extends or a new
// list of the pieces.
func TestOutOfOrderCostIndependentOfQueue(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation")
	}
	const n = 98 * 510 // whole groups of "fill holes", so that all end in one piece
	for _, f := range floods {
		t.Run(f.name, func(t *testing.T) {
			cfg := &tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20, NoTimestamps: true} // SACK on; segments made here carry no timestamps
			_, rx, _ := connectedPair(cfg)
			payload := []byte{'x'}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range n {
				seg := tcp.Segment{Seq: tcp.Seq(1001 + f.off(i, n)), Ack: 5001, Flags: wire.FlagACK, Window: 0xffff, Payload: payload}
				rx.Input(&seg, epoch)
				rx.Outgoing()
			}
			runtime.ReadMemStats(&after)
			perSegment := float64(after.TotalAlloc-before.TotalAlloc) / n
			t.Logf("%.1f bytes allocated per segment", perSegment)
			// A new piece takes a small block and a slot; nothing
			// grows with what is held.
			if perSegment > 256 {
				t.Errorf("%.0f bytes allocated per 1-byte segment, want at most 256", perSegment)
			}
			// All n bytes are held: ACKed selectively, not read.
			seg := tcp.Segment{Seq: 1001 + n + 1, Ack: 5001, Flags: wire.FlagACK, Window: 0xffff, Payload: payload}
			rx.Input(&seg, epoch)
			out := rx.Outgoing()
			if len(out) == 0 || rx.Buffered() != 0 {
				t.Fatal("no ACK, or bytes readable across the hole")
			}
			held := 0
			for _, b := range out[len(out)-1].Options.SACK[:out[len(out)-1].Options.NumSACK] {
				held += int(b.Right - b.Left)
			}
			if held < n {
				t.Errorf("SACK blocks cover %d bytes, want at least %d", held, n)
			}
		})
	}
}
