package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// openWith returns an ESTABLISHED connection (active open) with cfg.
func openWith(t *testing.T, cfg *tcp.Config) *testConn {
	t.Helper()
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	return c.settle()
}

// Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2): the first 16
// segments are ACKed at once (quick-ACK mode, as Linux); after them
// in-order data waits up to 40 ms for its ACK, but every second full
// segment is ACKed at once, and so is anything out of order or filling a
// hole.
func TestDelayedAck(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{}, withoutNagle), ourISS)
	c.Connect(c.now)
	c.in("S. 4984:4984(0) ack 1001 win 65535 <mss 1460>")
	c.settle()
	for i := 0; i < 16; i++ {
		c.do(step{in: fmt.Sprintf("P. %d:%d(1) ack 1001 win 65535", 4985+i, 4986+i), out: []string{fmt.Sprintf(". 1001:1001(0) ack %d", 4986+i)}})
	}
	for _, s := range []step{
		{in: "P. 5001:5101(100) ack 1001 win 65535"},
		{call: "timer", wait: 40 * time.Millisecond, out: []string{". 1001:1001(0) ack 5101"}},
		{in: ". 5101:6561(1460) ack 1001 win 65535"},                                            // one full segment: wait
		{in: ". 6561:8021(1460) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 8021"}},  // the second: at once
		{in: ". 9481:10941(1460) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 8021"}}, // out of order: at once
		{in: ". 8021:9481(1460) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 10941"}}, // fills the hole: at once
		{in: "P. 10941:11041(100) ack 1001 win 65535"},
		// Data of our own carries the ACK; the timer stops.
		{call: "write 10", out: []string{"P. 1001:1011(10) ack 11041"}},
	} {
		c.do(s)
	}
	if d := c.Deadline(); d.IsZero() || d.Sub(c.now) != 200*time.Millisecond {
		t.Errorf("deadline %v after sending: want only the retransmission timer", d.Sub(c.now))
	}
	// A FIN is ACKed at once.
	c.do(step{in: "F. 11041:11041(0) ack 1011 win 65535", out: []string{". 1011:1011(0) ack 11042"}, states: []tcp.State{tcp.CloseWait}})
}

// Nagle's algorithm (RFC 1122 §4.2.3.4): a short segment waits while
// earlier data is unacknowledged, and goes when the ACK comes; full
// segments and the FIN never wait; SetNoDelay turns it off.
func TestNagle(t *testing.T) {
	c := openWith(t, plain(tcp.Config{DelayedAck: -1}))
	for _, s := range []step{
		{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}}, // nothing in flight: goes
		{call: "write 100"}, // waits
		{call: "write 100"}, // waits, coalesced
		{call: "write 1460", out: []string{". 1101:2561(1460) ack 5001"}}, // a full segment goes
		{in: ". 5001:5001(0) ack 1101 win 65535"},                         // the full segment is still out: wait on
		{in: ". 5001:5001(0) ack 2561 win 65535", out: []string{"P. 2561:2761(200) ack 5001"}},
		{call: "write 50"},
		{call: "close", out: []string{"FP. 2761:2811(50) ack 5001"}, states: []tcp.State{tcp.FinWait1}},
	} {
		c.do(s)
	}
	d := openWith(t, plain(tcp.Config{DelayedAck: -1}))
	d.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
	d.SetNoDelay(true, d.now)
	d.do(step{call: "write 100", out: []string{"P. 1101:1201(100) ack 5001"}})
	d.SetNoDelay(false, d.now)
	d.do(step{call: "write 100"})
	d.SetNoDelay(true, d.now) // turning it off sends what waits
	d.out("P. 1201:1301(100) ack 5001")
}
