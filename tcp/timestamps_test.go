package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Timestamps (RFC 7323): offered in the SYN, on when the peer answers,
// carried by every segment after, echoing the peer's latest TSval; the
// TSval clock counts milliseconds from the ISS.
func TestTimestamps(t *testing.T) {
	cfg := plain(tcp.Config{DelayedAck: -1}, withTimestamps, withoutNagle)
	c := newTestConn(t, cfg, ourISS)
	steps := []step{
		{call: "connect", out: []string{"S 1000:1000(0) <mss 1460,TS val 1000 ecr 0>"}, states: []tcp.State{tcp.SynSent}},
		{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460,TS val 700 ecr 1000>", out: []string{". 1001:1001(0) ack 5001 <TS val 1030 ecr 700>"}, states: []tcp.State{tcp.Established}},
	}
	c.do(steps[0])
	c.now = c.now.Add(30 * time.Millisecond) // the handshake's round trip: SRTT's first sample
	c.do(steps[1])
	c.now = c.now.Add(50 * time.Millisecond)
	c.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001 <TS val 1080 ecr 700>"}})
	c.now = c.now.Add(30 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 1101 win 65535 <TS val 730 ecr 1080>"})
	if srtt := c.Stats().SRTT; srtt != 30*time.Millisecond {
		t.Errorf("SRTT %v, want the 30 ms the handshake and the echoed TSval give", srtt)
	}
	// Data: TS.Recent takes its TSval, echoed in the ACK.
	c.do(step{in: "P. 5001:5101(100) ack 1101 win 65535 <TS val 740 ecr 1080>", out: []string{". 1101:1101(0) ack 5101 <TS val 1110 ecr 740>"}})
	// PAWS: an old duplicate with an older TSval is ACKed and dropped,
	// even though its sequence numbers are in the window.
	c.do(step{in: "P. 5101:5201(100) ack 1101 win 65535 <TS val 600 ecr 1080>", out: []string{". 1101:1101(0) ack 5101 <TS val 1110 ecr 740>"}})
	if got := c.Buffered(); got != 100 {
		t.Errorf("%d bytes buffered: PAWS let the old segment's data in", got)
	}
	// A RST is not subject to PAWS.
	c.do(step{in: "R 5101:5101(0) <TS val 1 ecr 0>", states: []tcp.State{tcp.Closed}})
}

// Without the peer's option, no segment carries timestamps.
func TestTimestampsNotAnswered(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{DelayedAck: -1}, withTimestamps, withoutNagle), ourISS)
	c.do(step{call: "listen", states: []tcp.State{tcp.Listen}})
	c.do(step{in: "S 5000:5000(0) win 65535 <mss 1460>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}, states: []tcp.State{tcp.SynReceived}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	c.do(step{call: "write 10", out: []string{"P. 1001:1011(10) ack 5001"}})
}
