package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// adversarialSegments is how many 1-byte out-of-order segments one round
// of BenchmarkOutOfOrder sends beyond a one-byte hole: 200,000, the
// pattern of issue 18 F, which needs a window of more than 200 kB.
const adversarialSegments = 200_000

// BenchmarkOutOfOrder measures the cost of one 1-byte out-of-order
// segment, through Input and the ACK it draws, as a peer can send them
// to burn the receiver's CPU: beyond a hole that is never filled, each
// segment extends the piece the last one made ("extend"), or each lies
// just before it ("prepend"); for comparison, "in order" sends the same
// segments with no hole before them. Run it with -benchtime 200000x to time
// one whole round; the conn pair is made anew every
// adversarialSegments ops, outside the timer.
func BenchmarkOutOfOrder(b *testing.B) {
	for _, c := range []struct {
		name string
		seq  func(i int) uint32 // offset past the hole of segment i
	}{
		{"in order", func(i int) uint32 { return uint32(i) }},
		{"extend", func(i int) uint32 { return uint32(1 + i) }},
		{"prepend", func(i int) uint32 { return uint32(adversarialSegments - i) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := &tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20, NoTimestamps: true} // SACK on; segments made here carry no timestamps
			var rx *tcp.Conn
			payload := []byte{'x'}
			var out []tcp.Segment
			i := 0
			for b.Loop() {
				if i%adversarialSegments == 0 {
					b.StopTimer()
					_, rx, _ = connectedPair(cfg)
					b.StartTimer()
				}
				seg := tcp.Segment{
					Seq:     tcp.Seq(1001 + c.seq(i%adversarialSegments)), // the first byte, 1001, is the hole if any
					Ack:     5001,
					Flags:   wire.FlagACK,
					Window:  0xffff,
					Payload: payload,
				}
				rx.Input(&seg, epoch)
				out = rx.Outgoing()
				i++
			}
			held := (i-1)%adversarialSegments + 1
			if c.name == "in order" {
				if rx.Buffered() != held {
					b.Fatalf("%d bytes readable, want %d", rx.Buffered(), held)
				}
				return
			}
			// The last ACK SACKs every byte of the round so far.
			if rx.Buffered() != 0 || len(out) == 0 || out[len(out)-1].Options.NumSACK == 0 {
				b.Fatal("no SACK for the bytes beyond the hole")
			}
			if blk := out[len(out)-1].Options.SACK[0]; int(blk.Right-blk.Left) != held {
				b.Fatalf("first SACK block %d:%d holds %d bytes, want %d", blk.Left, blk.Right, blk.Right-blk.Left, held)
			}
		})
	}
}
