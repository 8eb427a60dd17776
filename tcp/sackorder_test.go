package tcp_test

import (
	"strings"
	"testing"

	"github.com/seqack/seqack/tcp"
)

// The order of the SACK blocks a receiver sends with three or more
// islands (RFC 2018 §4): the first block holds the segment that
// triggered the ACK; the others repeat the most recently reported
// blocks, most recent first, whatever their place in the sequence space
// (Linux keeps its selective_acks in that order). Without timestamps
// four blocks fit, so a fifth island leaves out the least recent.
func TestSACKBlocksMostRecentFirst(t *testing.T) {
	c := sackPeer(t)
	for _, s := range []step{
		// Three islands, arriving neither from the lowest up nor from
		// the highest down.
		{in: ". 5701:5801(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5701:5801>"}},
		{in: ". 5301:5401(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5301:5401 5701:5801>"}},
		{in: ". 5501:5601(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5501:5601 5301:5401 5701:5801>"}},
		// Extending the oldest makes it the most recent; the others keep
		// their order.
		{in: ". 5801:5901(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5701:5901 5501:5601 5301:5401>"}},
		// A fourth and a fifth island: the least recent (5301:5401) no
		// longer fits.
		{in: ". 5101:5201(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5101:5201 5701:5901 5501:5601 5301:5401>"}},
		{in: ". 6001:6101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 6001:6101 5101:5201 5701:5901 5501:5601>"}},
		// Filling the hole between two islands joins them into the most
		// recent block.
		{in: ". 5401:5501(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5301:5601 6001:6101 5101:5201 5701:5901>"}},
		// In-order data that reaches an island takes it out; the rest
		// keep their order.
		{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5201 <sack 5301:5601 6001:6101 5701:5901>"}},
	} {
		c.do(s)
	}
}

// With timestamps three blocks fit beside them (RFC 2018 §3): the three
// most recent go first (wire leaves out what does not fit).
func TestSACKBlocksMostRecentFirstTimestamps(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{DelayedAck: -1}, withSACK, withTimestamps, withoutNagle), ourISS)
	c.Listen()
	c.in("S 5000:5000(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0>")
	c.in(". 5001:5001(0) ack 1001 win 65535 <TS val 2 ecr 0>")
	for _, seg := range []string{"5701:5801(100)", "5301:5401(100)", "5501:5601(100)", "6001:6101(100)", "5801:5901(100)"} {
		c.Outgoing()
		c.in(". " + seg + " ack 1001 win 65535 <TS val 3 ecr 0>")
	}
	out := c.Outgoing()
	const want = "sack 5701:5901 6001:6101 5501:5601"
	if len(out) != 1 || !strings.Contains(out[0].String(), want) {
		t.Errorf("segments out %v, want one with %q", out, want)
	}
}
