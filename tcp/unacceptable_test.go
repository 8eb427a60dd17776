package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Every reply to an unacceptable segment (RFC 5961: a sequence number
// outside the window, an ACK number outside [SND.UNA - MAX.SND.WND,
// SND.NXT], a RST in the window but not at RCV.NXT, a SYN) goes through
// the connection's one limit: at most one such ACK per 500 ms (RFC 5961
// §7; Linux's tcp_invalid_ratelimit, which its challenge ACKs obey too).
// No host-wide budget is set here: what holds the replies back is the
// connection's own limit.
func TestUnacceptableReplyLimit(t *testing.T) {
	const ack = ". 1001:1001(0) ack 5001"
	for _, c := range []struct {
		name string
		in   string
	}{
		{"sequence number beyond the window", ". 90000:90010(10) ack 1001 win 65535"},
		{"sequence number before RCV.NXT", ". 4000:4010(10) ack 1001 win 65535"},
		{"ACK of data never sent (RFC 5961 §5.2)", ". 5001:5001(0) ack 3000 win 65535"},
		{"in-window data with an ACK of data never sent", "P. 5001:5011(10) ack 3000 win 65535"},
		{"ACK older than SND.UNA - MAX.SND.WND (RFC 5961 §5.2)", ". 5001:5001(0) ack 4000000000 win 65535"},
		{"RST in the window, not at RCV.NXT (RFC 5961 §3.2)", "R 5100:5100(0)"},
		{"SYN in the window (RFC 5961 §4.2)", "S 5100:5100(0) win 65535"},
		{"SYN at RCV.NXT (RFC 5961 §4.2)", "S 5001:5001(0) win 65535"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := reach(t, tcp.Established)
			conn.do(step{in: c.in, out: []string{ack}})
			conn.now = conn.now.Add(100 * time.Millisecond)
			conn.do(step{in: c.in}) // within 500 ms: held back
			conn.now = conn.now.Add(399 * time.Millisecond)
			conn.do(step{in: c.in})
			conn.now = conn.now.Add(time.Millisecond)
			conn.do(step{in: c.in, out: []string{ack}})
			if conn.State() != tcp.Established || conn.Stats().BytesReceived != 0 {
				t.Errorf("state %v, %d bytes taken", conn.State(), conn.Stats().BytesReceived)
			}
		})
	}
}

// The kinds share the one limit: a reply to any of them holds back the
// replies to all of them for 500 ms.
func TestUnacceptableReplyLimitShared(t *testing.T) {
	const ack = ". 1001:1001(0) ack 5001"
	c := reach(t, tcp.Established)
	c.do(step{in: ". 90000:90010(10) ack 1001 win 65535", out: []string{ack}})
	for i, in := range []string{
		"R 5100:5100(0)",
		"S 5100:5100(0) win 65535",
		". 5001:5001(0) ack 3000 win 65535",
		". 5001:5001(0) ack 4000000000 win 65535",
		". 4000:4010(10) ack 1001 win 65535",
	} {
		c.now = c.now.Add(50 * time.Millisecond)
		c.do(step{in: in})
		if i == 2 {
			c.now = c.now.Add(350 * time.Millisecond) // 500 ms since the reply
			c.do(step{in: "R 5100:5100(0)", out: []string{ack}})
		}
	}
	// Acceptable segments are answered as ever: the limit is for the
	// unacceptable ones only.
	c.do(step{in: "P. 5001:5011(10) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5011"}})
	c.do(step{in: "P. 5011:5021(10) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5021"}})
}

// 100,000 in-window segments with a bad ACK number, over ten seconds,
// draw at most the limit's worth of ACKs (one per 500 ms), and none of
// their bytes is taken (RFC 5961 §5).
func TestBadAckFlood(t *testing.T) {
	var k tcp.Counters
	c := openWith(t, plain(tcp.Config{Counters: &k, DelayedAck: -1}, withoutNagle))
	const n = 100000
	const span = 10 * time.Second
	start := c.now
	acks := 0
	for i := range n {
		c.now = start.Add(span * time.Duration(i) / n)
		if i%2 == 0 {
			c.in("P. 5001:5011(10) ack 3000 win 65535") // beyond SND.NXT
		} else {
			c.in("P. 5001:5011(10) ack 4000000000 win 65535") // older than SND.UNA - MAX.SND.WND
		}
		acks += len(c.Outgoing())
	}
	limit := int(span/(500*time.Millisecond)) + 1
	if acks > limit || acks == 0 {
		t.Errorf("%d segments with a bad ACK number drew %d ACKs, want 1 to %d", n, acks, limit)
	}
	if c.Stats().BytesReceived != 0 || c.State() != tcp.Established {
		t.Errorf("%d bytes taken, state %v", c.Stats().BytesReceived, c.State())
	}
	if got := k.UnacceptableLimited.Load(); got != uint64(n-acks) {
		t.Errorf("UnacceptableLimited %d, want %d", got, n-acks)
	}
	t.Logf("%d segments with a bad ACK number over %v: %d ACKs", n, span, acks)
}
