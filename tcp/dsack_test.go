package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// sackPeer returns a passive connection that agreed on SACK, ESTABLISHED.
func sackPeer(t *testing.T) *testConn {
	t.Helper()
	c := newTestConn(t, plain(tcp.Config{DelayedAck: -1}, withSACK), ourISS)
	c.do(step{call: "listen", states: []tcp.State{tcp.Listen}})
	c.do(step{in: "S 5000:5000(0) win 65535 <mss 1460,sackOK>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460,sackOK>"}, states: []tcp.State{tcp.SynReceived}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	return c
}

// D-SACK (RFC 2883 §4): the ACK of a duplicate segment reports it in a
// SACK block of its own, first, once; the block holding it follows
// when it lies above RCV.NXT.
func TestDSACKGenerated(t *testing.T) {
	t.Run("below RCV.NXT", func(t *testing.T) {
		c := sackPeer(t)
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101"}})
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101 <sack 5001:5101>"}})
		// Part old, part new: the old part is reported.
		c.do(step{in: ". 5051:5201(150) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5201 <sack 5051:5101>"}})
		// Reported once: the next ACK has none.
		c.do(step{in: ". 5201:5301(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5301"}})
	})
	t.Run("above RCV.NXT", func(t *testing.T) {
		c := sackPeer(t)
		c.do(step{in: ". 5101:5201(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5101:5201>"}})
		c.do(step{in: ". 5201:5301(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5101:5301>"}})
		c.do(step{in: ". 5401:5501(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5401:5501 5101:5301>"}})
		// A duplicate of a part of the first piece: that part, then the
		// piece, then the others (RFC 2883 §4.1.2, example 6's shape).
		c.do(step{in: ". 5151:5251(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5151:5251 5101:5301 5401:5501>"}})
		c.do(step{in: ". 5501:5601(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5401:5601 5101:5301>"}})
		// Partly new: the duplicate part is reported, the piece grown.
		c.do(step{in: ". 5251:5351(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5251:5301 5101:5351 5401:5601>"}})
		// The hole fills: a duplicate below RCV.NXT, nothing above.
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5351 <sack 5401:5601>"}})
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5351 <sack 5001:5101 5401:5601>"}})
	})
	t.Run("without SACK", func(t *testing.T) {
		c := reach(t, tcp.Established)
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101"}})
		c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101"}})
	})
}
