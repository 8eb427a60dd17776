package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The Eifel detection (RFC 3522): after a timeout, an ACK echoing the
// timestamp of the original transmission shows that nothing was lost.
// The window returns to what it was and the sender goes on with new data
// instead of resending what is in flight (RFC 4015). An ACK echoing the
// retransmission's timestamp leaves the timeout's response in place.
func TestSpuriousTimeout(t *testing.T) {
	for _, c := range []struct {
		name     string
		tsecr    string // what the ACK echoes
		spurious bool
	}{
		{"ACK of the original transmission", "1100", true},
		{"ACK of the retransmission", "1300", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var k tcp.Counters
			cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno, DelayedAck: -1, Counters: &k}, withTimestamps, withoutNagle)
			conn := newTestConn(t, cfg, ourISS)
			conn.Connect(conn.now)
			conn.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,TS val 700 ecr 1000>")
			conn.now = conn.now.Add(100 * time.Millisecond)
			conn.settle()
			// 1448-byte segments: the MSS less 12 bytes of timestamps.
			conn.do(step{call: "write 4344", out: []string{
				". 1001:2449(1448) ack 5001 <TS val 1100 ecr 700>",
				". 2449:3897(1448) ack 5001 <TS val 1100 ecr 700>",
				"P. 3897:5345(1448) ack 5001 <TS val 1100 ecr 700>",
			}})
			before, _ := conn.window()
			conn.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 1001:2449(1448) ack 5001 <TS val 1300 ecr 700>"}})
			conn.in(". 5001:5001(0) ack 2449 win 65535 <TS val 710 ecr " + c.tsecr + ">")
			got := conn.Outgoing()
			cwnd, _ := conn.window()
			if c.spurious {
				if len(got) != 0 || cwnd < before || k.SpuriousTimeouts.Load() != 1 { // the window is back (and grew by the ACK)
					t.Errorf("spurious timeout: sent %v, cwnd %d (before %d), %d detected", got, cwnd, before, k.SpuriousTimeouts.Load())
				}
			} else if len(got) != 2 || got[0].Seq != 2449 || k.SpuriousTimeouts.Load() != 0 {
				t.Errorf("real timeout: sent %v (want the next two segments resent in slow start), %d detected as spurious", got, k.SpuriousTimeouts.Load())
			}
		})
	}
}
