package tcp_test

import (
	"errors"
	"testing"

	"github.com/seqack/seqack/tcp"
)

var errUnreachable = errors.New("host unreachable")

// A hard ICMP error for our SYN ends the connection at once with it; a
// sequence number we did not send, or sent and had acknowledged, is not
// believed (RFC 5927 §4.1).
func TestICMPHardErrorInSynSent(t *testing.T) {
	c := reach(t, tcp.SynSent)
	if c.ICMPError(errUnreachable, true, 999, c.now) || c.ICMPError(errUnreachable, true, 1001, c.now) {
		t.Fatal("an error quoting a sequence number outside [SND.UNA, SND.NXT) was believed")
	}
	if c.State() != tcp.SynSent {
		t.Fatal("an unbelieved error changed the state")
	}
	if !c.ICMPError(errUnreachable, true, 1000, c.now) {
		t.Fatal("an error quoting our SYN was not believed")
	}
	c.expectStates(tcp.Closed)
	if c.Err() != errUnreachable {
		t.Errorf("error %v", c.Err())
	}
}

// In the synchronized states every ICMP error is soft (RFC 5461): it is
// remembered and reported only if retransmission then gives up.
func TestICMPSoftErrorReportedOnTimeout(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{Retries: 1}), ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.Write(make([]byte, 100), c.now)
	c.settle()
	if !c.ICMPError(errUnreachable, true, 1001, c.now) {
		t.Fatal("not believed")
	}
	if c.State() != tcp.Established {
		t.Fatalf("a hard error in ESTABLISHED changed the state to %v", c.State())
	}
	c.fireTimer() // one retransmission
	c.fireTimer() // gives up
	if c.State() != tcp.Closed || c.Err() != errUnreachable {
		t.Errorf("state %v, error %v; want CLOSED with the ICMP error", c.State(), c.Err())
	}
}

// Packet too big (RFC 8201, RFC 1191): the MSS shrinks and the
// outstanding data goes again in segments that fit; a larger MTU than the
// current one changes nothing.
func TestPacketTooBig(t *testing.T) {
	c := reach(t, tcp.Established)
	c.do(step{call: "write 3000", out: []string{
		". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001", "P. 3921:4001(80) ack 5001"}})
	if !c.PacketTooBig(1460, 1001, c.now) {
		t.Fatal("not believed")
	}
	c.out()
	if c.PacketTooBig(1000, 4001, c.now) {
		t.Fatal("believed a sequence number not yet sent")
	}
	if !c.PacketTooBig(1000, 2461, c.now) {
		t.Fatal("not believed")
	}
	c.out(". 1001:2001(1000) ack 5001", ". 2001:3001(1000) ack 5001", "P. 3001:4001(1000) ack 5001")
	c.do(step{in: ". 5001:5001(0) ack 4001 win 65535"})
	c.do(step{call: "write 1500", out: []string{". 4001:5001(1000) ack 5001", "P. 5001:5501(500) ack 5001"}})
}
