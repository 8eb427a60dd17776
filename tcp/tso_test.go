package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// With segmentation offload, new data leaves in segments of as many
// whole MSS as both windows have room for, up to the offload's limit;
// retransmissions carry one MSS, and so does new data once the peer
// has lowered the MSS (the link would cut at the wrong size).
func TestSegmentOffload(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1, SendBufferSize: 1 << 20, SegmentOffload: 65000}, withoutNagle), ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.settle()
	data := make([]byte, 100000)
	c.Write(data, c.now)
	c.out(". 1001:15601(14600) ack 5001") // the initial window: ten MSS in one segment
	c.in(". 5001:5001(0) ack 15601 win 65535")
	c.out(". 15601:44801(29200) ack 5001") // slow start: the window doubled
	c.in(". 5001:5001(0) ack 44801 win 65535")
	c.out("P. 44801:101001(56200) ack 5001") // the rest, within both windows
	c.fireTimer()
	c.out(". 44801:46261(1460) ack 5001") // a retransmission: one MSS

	// A peer that asks for a smaller MSS gets segments of that size.
	small := newTestConn(t, plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1, SegmentOffload: 65000}, withoutNagle), ourISS)
	small.Connect(small.now)
	small.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1000>")
	small.settle()
	small.Write(data[:3000], small.now)
	small.out(". 1001:2001(1000) ack 5001", ". 2001:3001(1000) ack 5001", "P. 3001:4001(1000) ack 5001")
}
