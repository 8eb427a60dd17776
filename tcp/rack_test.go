package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// RACK-TLP (RFC 8985). The connections here have a 20 ms RTT: the
// handshake takes 20 ms, and so SRTT is 20 ms, min_RTT 20 ms, the RTO
// its 200 ms floor and RACK's reordering window, once it has one,
// min_RTT/4 = 5 ms. NewReno makes the congestion response easy to
// follow. At 20 ms the ten segments of the initial window are sent:
//
//	seg   1: 1001:2461    seg  6: 8301:9761
//	seg   2: 2461:3921    seg  7: 9761:11221
//	seg   3: 3921:5381    seg  8: 11221:12681
//	seg   4: 5381:6841    seg  9: 12681:14141
//	seg   5: 6841:8301    seg 10: 14141:15601
func rackConn(t *testing.T, rack bool, k *tcp.Counters) *testConn {
	t.Helper()
	cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno,
		DelayedAck: -1, Counters: k}, withSACK, withoutNagle)
	cfg.NoRACK = !rack
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.now = c.now.Add(20 * time.Millisecond)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	c.settle()
	c.Write(make([]byte, 14600), c.now)
	if got := len(c.Outgoing()); got != 10 {
		t.Fatalf("%d segments sent in the initial window, want 10", got)
	}
	return c
}

// later moves the clock on.
func (c *testConn) later(d time.Duration) { c.now = c.now.Add(d) }

// The last two segments of a flight are lost. With RACK-TLP the probe
// timeout, two SRTTs after the ACK, retransmits the last segment; the
// peer SACKs it, and RACK finds the other lost at once and resends it
// in fast recovery. Without it, the retransmission timer has to expire.
func TestTailLossProbe(t *testing.T) {
	t.Run("RACK-TLP", func(t *testing.T) {
		var k tcp.Counters
		c := rackConn(t, true, &k)
		c.later(20 * time.Millisecond)
		c.do(step{in: ". 5001:5001(0) ack 12681 win 65535"}) // segments 9 and 10 lost
		c.do(step{call: "timer", wait: 42 * time.Millisecond, out: []string{"P. 14141:15601(1460) ack 5001"}})
		c.later(20 * time.Millisecond)
		c.do(step{in: ". 5001:5001(0) ack 12681 win 65535 <sack 14141:15601>", out: []string{". 12681:14141(1460) ack 5001"}})
		if !c.Stats().InRecovery {
			t.Error("RACK's loss did not start fast recovery")
		}
		c.later(20 * time.Millisecond)
		c.do(step{in: ". 5001:5001(0) ack 15601 win 65535"})
		if len(c.timers) != 1 || c.timers[0] != tcp.TimerLossProbe {
			t.Errorf("timers fired %v, want the TLP alone", c.timers)
		}
		if s := c.Stats(); s.InRecovery || s.Retransmissions != 2 || k.TLPProbes.Load() != 1 || k.RACKLosses.Load() != 1 || !c.Deadline().IsZero() {
			t.Errorf("recovery %v, %d retransmissions, %d probes, %d RACK losses, deadline %v; want out, 2, 1, 1, none",
				s.InRecovery, s.Retransmissions, k.TLPProbes.Load(), k.RACKLosses.Load(), c.Deadline())
		}
	})
	t.Run("RTO", func(t *testing.T) {
		c := rackConn(t, false, nil)
		c.later(20 * time.Millisecond)
		c.do(step{in: ". 5001:5001(0) ack 12681 win 65535"})
		c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 12681:14141(1460) ack 5001"}})
		if len(c.timers) != 1 || c.timers[0] != tcp.TimerRetransmit {
			t.Errorf("timers fired %v, want the RTO", c.timers)
		}
	})
}

// A probe of new data: with more queued than the congestion window lets
// out, the PTO sends the next new segment, beyond the window. Its ACK
// ends the episode with no congestion response.
func TestTailLossProbeNewData(t *testing.T) {
	var k tcp.Counters
	c := rackConn(t, true, &k)
	c.Write(make([]byte, 4380), c.now)
	c.later(20 * time.Millisecond)
	// Slow start lets two segments out for the one ACKed; the third waits.
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{". 15601:17061(1460) ack 5001", ". 17061:18521(1460) ack 5001"}})
	c.do(step{call: "timer", wait: 42 * time.Millisecond, out: []string{"P. 18521:19981(1460) ack 5001"}})
	cwnd, _ := c.window()
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 19981 win 65535"})
	if after, _ := c.window(); after < cwnd || k.TLPProbes.Load() != 1 || k.TLPRecoveries.Load() != 0 || c.Stats().Retransmissions != 0 {
		t.Errorf("cwnd %d (before %d), %d probes, %d probe recoveries, %d retransmissions; want no reduction, 1, 0, 0",
			after, cwnd, k.TLPProbes.Load(), k.TLPRecoveries.Load(), c.Stats().Retransmissions)
	}
}

// A retransmission is lost. RACK times each transmission, so when data
// sent after the retransmission is SACKed, the retransmission is found
// lost and sent once more, in the same recovery; data sent before it
// and SACKed says nothing of it. RFC 6675 alone resends each hole once
// and must wait for the RTO.
func TestLostRetransmission(t *testing.T) {
	for _, rack := range []bool{true, false} {
		name := map[bool]string{true: "RACK-TLP", false: "RFC 6675"}[rack]
		t.Run(name, func(t *testing.T) {
			var k tcp.Counters
			c := rackConn(t, rack, &k)
			c.Write(make([]byte, 8760), c.now) // six segments more, held by the window
			c.out()
			// Segment 1 is lost. The first two SACKs let out a new
			// segment each (limited transmit); with the third, more
			// than two segments are SACKed above it and it is resent.
			c.later(20 * time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>", out: []string{". 15601:17061(1460) ack 5001"}})
			c.later(time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>", out: []string{". 17061:18521(1460) ack 5001"}})
			c.later(time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}})
			// The rest of the first flight is SACKed: the pipe has room
			// for three new segments, sent after the retransmission.
			c.later(time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:15601>", out: []string{". 18521:19981(1460) ack 5001", ". 19981:21441(1460) ack 5001", ". 21441:22901(1460) ack 5001"}})
			// A round trip later: the retransmission is lost. The SACK
			// of what was sent before it changes nothing (but lets the
			// last new segment out); the SACK of what was sent after it
			// shows it lost.
			c.later(17 * time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:18521>", out: []string{"P. 22901:24361(1460) ack 5001"}})
			c.later(3 * time.Millisecond)
			if rack {
				c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:24361>", out: []string{". 1001:2461(1460) ack 5001"}})
				c.later(20 * time.Millisecond)
				c.do(step{in: ". 5001:5001(0) ack 24361 win 65535"})
				if s := c.Stats(); s.InRecovery || s.Retransmissions != 2 || len(c.timers) != 0 || k.RACKLosses.Load() != 2 {
					t.Errorf("recovery %v, %d retransmissions, timers %v, %d RACK losses; want out, 2, none, 2",
						s.InRecovery, s.Retransmissions, c.timers, k.RACKLosses.Load())
				}
				return
			}
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:24361>"})
			c.do(step{call: "timer", out: []string{". 1001:2461(1460) ack 5001"}})
			if len(c.timers) != 1 || c.timers[0] != tcp.TimerRetransmit {
				t.Errorf("timers fired %v, want the RTO", c.timers)
			}
		})
	}
}

// Reordering. (Times are compared to the millisecond: each segment of a
// burst is stamped a nanosecond after the one before.) Once RACK has seen a segment delivered after one sent
// later, it allows a reordering window of min_RTT/4 (5 ms here) before
// deeming a segment lost: a segment overtaken by nine others but
// arriving within it is not sent again. Before reordering has been
// seen, three segments SACKed above a hole are enough, as in RFC 6675
// (which has no window at all); and a segment later than the window is
// found lost by the reordering timer.
func TestReorderingWindow(t *testing.T) {
	for _, tc := range []struct {
		name           string
		rack, reorder  bool          // RACK-TLP on; reordering seen in the first flight
		arrives        time.Duration // after the SACKs, when segment 11's own ACK comes
		resent, byTime bool          // segment 11 is resent: at once, or by the reordering timer
	}{
		{"reordering seen, segment 11 2 ms late", true, true, 2 * time.Millisecond, false, false},
		{"reordering seen, segment 11 10 ms late", true, true, 10 * time.Millisecond, true, true},
		{"reordering not seen", true, false, 2 * time.Millisecond, true, false},
		{"RFC 6675", false, true, 2 * time.Millisecond, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rackConn(t, tc.rack, nil)
			c.later(20 * time.Millisecond)
			if tc.reorder { // segment 1 arrives after segment 2
				c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"})
				c.later(2 * time.Millisecond)
			}
			c.do(step{in: ". 5001:5001(0) ack 15601 win 65535"})
			// Ten segments more; 11 (15601:17061) is overtaken by 12-20.
			c.Write(make([]byte, 14600), c.now)
			if got := len(c.Outgoing()); got != 10 {
				t.Fatalf("%d segments sent, want 10", got)
			}
			c.later(20 * time.Millisecond)
			c.in(". 5001:5001(0) ack 15601 win 65535 <sack 17061:30201>")
			resend := ". 15601:17061(1460) ack 5001"
			switch {
			case tc.resent && !tc.byTime:
				c.out(resend)
				return
			case tc.byTime:
				c.out()
				if waited := c.fireTimer(); waited.Round(time.Millisecond) != 7*time.Millisecond {
					t.Errorf("timer fired after %v, want 7ms (reo_wnd 5 ms and 2 ms slack)", waited)
				}
				c.out(resend)
				if len(c.timers) != 1 || c.timers[0] != tcp.TimerReorder {
					t.Errorf("timers fired %v, want RACK's reordering timer", c.timers)
				}
				return
			}
			c.out()
			if d := c.Deadline().Sub(c.now); d.Round(time.Millisecond) != 7*time.Millisecond {
				t.Errorf("next deadline in %v, want the reordering timer's 7ms", d)
			}
			c.later(tc.arrives)
			c.do(step{in: ". 5001:5001(0) ack 30201 win 65535"})
			if s := c.Stats(); s.Retransmissions != 0 || s.InRecovery {
				t.Errorf("%d retransmissions, recovery %v; want none", s.Retransmissions, s.InRecovery)
			}
		})
	}
}

// A probe that turns out unneeded — both the original and the probe
// arrive, and the peer reports the probe as a duplicate (D-SACK, RFC
// 2883) — ends its episode with no congestion response; a probe that
// repaired the only loss is followed by one (RFC 8985 §7.4).
func TestLossProbeEpisode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		acks     []string
		response bool
	}{
		{"D-SACK of the probe", []string{
			". 5001:5001(0) ack 15601 win 65535",
			". 5001:5001(0) ack 15601 win 65535 <sack 14141:15601>",
			". 5001:5001(0) ack 17061 win 65535",
		}, false},
		{"probe repaired the loss", []string{
			". 5001:5001(0) ack 15601 win 65535",
			". 5001:5001(0) ack 17061 win 65535",
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k tcp.Counters
			c := rackConn(t, true, &k)
			c.later(20 * time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 12681 win 65535"})
			c.do(step{call: "timer", wait: 42 * time.Millisecond, out: []string{"P. 14141:15601(1460) ack 5001"}})
			c.later(20 * time.Millisecond)
			c.in(tc.acks[0])
			c.Write(make([]byte, 1460), c.now)
			c.Outgoing()
			before, _ := c.window()
			for _, a := range tc.acks[1:] {
				c.later(time.Millisecond)
				c.in(a)
			}
			after, _ := c.window()
			if got := k.TLPRecoveries.Load() == 1; got != tc.response || (after < before) != tc.response {
				t.Errorf("%d probe recoveries, cwnd %d from %d; want a congestion response: %v", k.TLPRecoveries.Load(), after, before, tc.response)
			}
		})
	}
}

// RACK-TLP is off when the Config says NoRACK, and off without SACK:
// the connection then runs RFC 6675 or NewReno, and no probe timer is
// set.
func TestRACKTLPNeedsSACK(t *testing.T) {
	for _, cfg := range []*tcp.Config{
		plain(tcp.Config{DelayedAck: -1}, withSACK, withoutNagle),
		plain(tcp.Config{DelayedAck: -1}, withRACK, withoutNagle),
	} {
		c := newTestConn(t, cfg, ourISS)
		c.Connect(c.now)
		c.later(20 * time.Millisecond)
		c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
		c.settle()
		c.Write(make([]byte, 2920), c.now)
		c.Outgoing()
		if d := c.Deadline().Sub(c.now); d != 200*time.Millisecond {
			t.Errorf("NoSACK %v NoRACK %v: next deadline in %v, want the RTO's 200ms", cfg.NoSACK, cfg.NoRACK, d)
		}
	}
}

// A retransmission sent in the same instant as new data before it (the
// clock has not moved between the ACKs) still counts as sent after it:
// when that new data is SACKed, the retransmission, which may still be
// on its way, is not deemed lost. (By sequence alone it would be: it
// lies below.)
func TestRetransmissionSameInstant(t *testing.T) {
	c := rackConn(t, true, nil)
	c.Write(make([]byte, 8760), c.now)
	c.out()
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>", out: []string{". 15601:17061(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>", out: []string{". 17061:18521(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:15601>", out: []string{". 18521:19981(1460) ack 5001", ". 19981:21441(1460) ack 5001", ". 21441:22901(1460) ack 5001"}})
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:18521>", out: []string{"P. 22901:24361(1460) ack 5001"}})
	c.later(time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 21441 win 65535"})
	if s := c.Stats(); s.Retransmissions != 1 {
		t.Errorf("%d retransmissions, want 1", s.Retransmissions)
	}
}

// On a path whose round trip is under the timestamps' millisecond (a
// TUN device, a pipe between two stacks in one process), every echo
// measures 0 ms. SRTT is still the round trip the segments' timing
// gives, and the PTO two of them and Linux's 2 ms floor
// (RFC 8985 §7.2), not the RTO: it used to take the echoes' 0 for "no
// sample yet", and the probe went at the retransmission timer.
func TestTailLossProbeSubMillisecond(t *testing.T) {
	const rtt = 100 * time.Microsecond
	cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno, DelayedAck: -1}, withSACK, withRACK, withTimestamps, withoutNagle)
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.later(rtt)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK,TS val 700 ecr 1000>")
	c.settle()
	c.Write(make([]byte, 14480), c.now)
	if got := len(c.Outgoing()); got != 10 {
		t.Fatalf("%d segments sent in the initial window, want 10", got)
	}
	c.later(rtt)
	c.in(". 5001:5001(0) ack 12585 win 65535 <TS val 700 ecr 1000>") // the last two segments lost
	c.Outgoing()
	if srtt := c.Stats().SRTT; srtt != rtt {
		t.Errorf("SRTT %v, want the %v the segments' timing gives", srtt, rtt)
	}
	c.do(step{call: "timer", wait: 2*rtt + 2*time.Millisecond, out: []string{"P. 14033:15481(1448) ack 5001 <TS val 1002 ecr 700>"}})
	if len(c.timers) != 1 || c.timers[0] != tcp.TimerLossProbe {
		t.Errorf("timers fired %v, want the TLP", c.timers)
	}
}
