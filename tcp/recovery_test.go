package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// established returns a connection opened actively with cfg, the peer's
// SYN+ACK carrying opts, and 14600 bytes (the initial window of ten
// segments) written and sent.
func established(t *testing.T, cfg *tcp.Config, opts string) *testConn {
	t.Helper()
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 " + opts)
	c.now = c.now.Add(100 * time.Millisecond)
	c.settle()
	c.Write(make([]byte, 14600), c.now)
	if got := len(c.Outgoing()); got != 10 {
		t.Fatalf("%d segments sent in the initial window, want 10", got)
	}
	return c
}

func (c *testConn) window() (cwnd, ssthresh int) {
	s := c.Stats()
	return s.CongestionWindow, s.SlowStartThreshold
}

// NewReno without SACK (RFC 5681 §3.2, RFC 6582): three duplicate ACKs
// resend the first segment at once; a partial ACK resends the next hole;
// the full ACK ends recovery with the window halved.
func TestFastRetransmitNewReno(t *testing.T) {
	c := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), "<mss 1460>")
	dup := ". 5001:5001(0) ack 1001 win 65535"
	c.do(step{in: dup})
	c.do(step{in: dup})
	c.do(step{in: dup, out: []string{". 1001:2461(1460) ack 5001"}})
	if cwnd, ssthresh := c.window(); ssthresh != 7300 || cwnd != 7300 || !c.Stats().InRecovery {
		t.Errorf("cwnd %d ssthresh %d, want 7300 each (half of 14600 outstanding)", cwnd, ssthresh)
	}
	c.do(step{in: dup}) // further duplicates send nothing: the pipe is full
	// The fifth segment was lost too: the ACK stops there.
	c.do(step{in: ". 5001:5001(0) ack 6841 win 65535", out: []string{". 6841:8301(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 15601 win 65535"})
	if s := c.Stats(); s.InRecovery || s.CongestionWindow != 7300 || s.Retransmissions != 2 {
		t.Errorf("after the full ACK: recovery %v, cwnd %d, %d retransmissions", s.InRecovery, s.CongestionWindow, s.Retransmissions)
	}
}

// With SACK (RFC 6675) the holes are known: recovery starts once more
// than two segments are SACKed above SND.UNA, and resends exactly the
// holes, as the pipe allows.
func TestSACKRecovery(t *testing.T) {
	cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK)
	c := established(t, cfg, "<mss 1460,sackOK>")
	// Segments 1 (1001) and 5 (6841) are lost; 2-4 and 6-10 arrive.
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>"})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 8301:9761 2461:6841>"})
	// 9761 and above SACKed too: the hole at 6841 is now lost and the
	// pipe (14600 - 10220 SACKed - 1460 lost + ...) has room for it.
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 8301:15601 2461:6841>", out: []string{". 6841:8301(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 6841 win 65535 <sack 8301:15601>"})
	c.do(step{in: ". 5001:5001(0) ack 15601 win 65535"})
	if s := c.Stats(); s.InRecovery || s.Retransmissions != 2 || s.CongestionWindow != 7300 {
		t.Errorf("recovery %v, %d retransmissions, cwnd %d; want out, 2, 7300", s.InRecovery, s.Retransmissions, s.CongestionWindow)
	}
}

// Limited transmit (RFC 3042): the first two duplicate ACKs each let one
// new segment out.
func TestLimitedTransmit(t *testing.T) {
	c := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), "<mss 1460>")
	c.Write(make([]byte, 2920), c.now)
	c.out() // the window is full: nothing new yet
	dup := ". 5001:5001(0) ack 1001 win 65535"
	c.do(step{in: dup, out: []string{". 15601:17061(1460) ack 5001"}})
	c.do(step{in: dup, out: []string{"P. 17061:18521(1460) ack 5001"}})
	c.do(step{in: dup, out: []string{". 1001:2461(1460) ack 5001"}})
}

// Limited transmit with SACK (RFC 6675 §5 step 3, RFC 3042): each
// duplicate ACK lets one new segment out, and no more than two go beyond
// the window. The pipe already leaves out what the ACKs SACKed, so the
// window must not be widened as well: that let two segments out per
// duplicate ACK, and the flight reach cwnd + 4·SMSS.
func TestLimitedTransmitSACK(t *testing.T) {
	cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK)
	c := established(t, cfg, "<mss 1460,sackOK>")
	c.Write(make([]byte, 5840), c.now)
	c.out() // the window is full: nothing new yet
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>", out: []string{". 15601:17061(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>", out: []string{". 17061:18521(1460) ack 5001"}})
	if s := c.Stats(); s.InRecovery {
		t.Fatal("two duplicate ACKs started fast recovery")
	}
	// The third starts fast recovery: the hole goes again, and nothing new.
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}})
}

// A timeout shrinks the window to one segment (RFC 5681 §3.1) and slow
// start grows it again, resending from SND.UNA; duplicate ACKs for data
// sent before the timeout do not start a fast retransmit (RFC 6582).
func TestTimeoutSlowStart(t *testing.T) {
	c := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), "<mss 1460>")
	c.do(step{call: "timer", out: []string{". 1001:2461(1460) ack 5001"}})
	if cwnd, ssthresh := c.window(); cwnd != 1460 || ssthresh != 7300 {
		t.Errorf("after the timeout cwnd %d ssthresh %d, want 1460 and 7300", cwnd, ssthresh)
	}
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{". 2461:3921(1460) ack 5001", ". 3921:5381(1460) ack 5001"}})
	dup := ". 5001:5001(0) ack 2461 win 65535"
	c.do(step{in: dup})
	c.do(step{in: dup})
	c.do(step{in: dup})
	if c.Stats().InRecovery {
		t.Error("duplicate ACKs below the recovery point started fast recovery")
	}
}

// The SACK blocks a receiver sends (RFC 2018 §4): the block with the
// latest segment first, then the others, only when both sides agreed.
func TestSACKBlocksSent(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{}, withSACK), ourISS)
	c.do(step{call: "listen", states: []tcp.State{tcp.Listen}})
	c.do(step{in: "S 5000:5000(0) win 65535 <mss 1460,sackOK>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460,sackOK>"}, states: []tcp.State{tcp.SynReceived}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	c.do(step{in: ". 5101:5201(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5101:5201>"}})
	c.do(step{in: ". 5301:5401(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5301:5401 5101:5201>"}})
	c.do(step{in: ". 5201:5301(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001 <sack 5101:5401>"}})
	c.do(step{in: ". 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5401"}})
}

// Fast retransmit works wherever the ISS lies in the sequence space: the
// guard against a second recovery for data sent before the last one
// (RFC 6582 §3.2 step 1) holds only while that recovery point lies
// ahead of SND.UNA. (Compared with a recovery point of 0, half of all
// ISSs looked "before" it, and their connections never retransmitted
// fast.)
func TestFastRetransmitAnyISS(t *testing.T) {
	for _, iss := range []uint32{1000, 0x7fffffff, 0x90000000, 0xfffffff0} {
		c := newTestConn(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), tcp.Seq(iss))
		c.Connect(c.now)
		c.in(fmt.Sprintf("S. 5000:5000(0) ack %d win 65535 <mss 1460>", iss+1))
		c.settle()
		c.Write(make([]byte, 14600), c.now)
		c.Outgoing()
		dup := fmt.Sprintf(". 5001:5001(0) ack %d win 65535", iss+1)
		c.in(dup)
		c.in(dup)
		c.in(dup)
		c.out(fmt.Sprintf(". %d:%d(1460) ack 5001", iss+1, iss+1+1460))
		if !c.Stats().InRecovery {
			t.Errorf("ISS %#x: three duplicate ACKs started no recovery", iss)
		}
	}
}
