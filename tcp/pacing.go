package tcp

import "time"

// Pacing: segments leave spread over the round trip at a pacing rate
// rather than in bursts as ACKs open the window, as Linux paces them
// (its internal pacing, or the fq qdisc). The engine keeps the earliest
// departure time of the next segment and adds each data segment's
// length at the pacing rate to it; a segment whose time has not come
// waits, and Deadline includes that time, so a driver that calls
// HandleTimer at the Deadline — the stack, the simulator, the script
// runner — honours the pacing without knowing of it.
//
// The rate is the congestion control's own if it implements Pacer
// (BBR); otherwise, with Config.Pacing, the one Linux derives from the
// window (tcp_update_pacing_rate): twice cwnd/SRTT in slow start (cwnd
// below half of ssthresh), 1.2 times after, with cwnd at least the data
// in flight; none before the first RTT sample. Off otherwise: a CUBIC
// or NewReno connection sends as its window allows, as Linux's does
// without fq.
//
// A segment may leave up to pacingSlack before its time: as Linux sends
// about a millisecond of data at once (TSO autosizing), the engine lets
// a millisecond's worth go together, so that fast paths, whose segments
// are nanoseconds apart at their pacing rate, never wait for a timer.
// Pure ACKs, SYNs and window probes are not paced.
//
// A segment that leaves after its time makes the next wait less by its
// lateness, by at most half its own gap, as Linux's
// tcp_update_skb_after_send takes OS jitter into account: the driver's
// timer may fire late (Go's timers, on a busy host, by a millisecond or
// more), and starting the schedule again from the late instant cost a
// share of the rate at every wake. On issue 16's emulated path the
// sender lost 3-8 ms of each 43 ms round trip so, and delivered 93
// Mbit/s where BBR paced at 99. After idle the credit is the same half
// gap: the first segments go at most twice as fast as the rate.

// Pacer is a CongestionControl that sets its own pacing rate: a
// model-based controller such as BBR. It is optional; the engine looks
// for it once, when it makes the connection's congestion control, and
// then paces the connection's data at the rate it gives, whatever
// Config.Pacing says.
type Pacer interface {
	CongestionControl
	// PacingRate returns the rate, in bytes per second, at which data
	// should leave now; 0 means unpaced.
	PacingRate() float64
}

// pacingSlack is how far ahead of its time a segment may leave.
const pacingSlack = time.Millisecond

// sendQuantum is the most a paced connection sends in one segment with
// segmentation offload: a millisecond (pacingSlack) at the pacing rate,
// from two segments to 64 KiB (draft-ietf-ccwg-bbr §5.6.3,
// SetSendQuantum; Linux's tcp_tso_autosize for any paced flow). Without
// it one offload segment at a low rate would be a burst of tens of
// milliseconds at the link's speed, which pacing only pays for after.
func sendQuantum(rate float64, mss int) int {
	if rate <= 0 {
		return 64 << 10
	}
	return min(max(int(rate*pacingSlack.Seconds()), 2*mss), 64<<10)
}

// pacing modes: how a connection's pacing rate is set.
const (
	pacingOff        uint8 = iota
	pacingWindow           // Config.Pacing: from cwnd and SRTT
	pacingController       // the controller is a Pacer
)

// pacer is a connection's pacing state, part of its congestion state.
type pacer struct {
	next instant // earliest departure time of the next data segment; 0: none yet
	mode uint8
	held bool // a segment waits for next: Deadline includes it
}

// pacingMode returns how cc paces under cfg.
func pacingMode(cc CongestionControl, cfg *Config) uint8 {
	switch _, ok := cc.(Pacer); {
	case ok:
		return pacingController
	case cfg.Pacing:
		return pacingWindow
	}
	return pacingOff
}

// controller returns the congestion control the Config made, without
// the Undo the engine may have wrapped it in.
func (g *congestion) controller() CongestionControl {
	var cc CongestionControl = g.UndoableCongestionControl
	if n, ok := cc.(noUndo); ok {
		cc = n.CongestionControl
	}
	return cc
}

// pacingRate is the connection's pacing rate in bytes per second, 0 if
// it is not paced.
func (c *Conn) pacingRate() float64 {
	if c.cc == nil {
		return 0
	}
	switch c.cc.pace.mode {
	case pacingController:
		if b, ok := c.cc.UndoableCongestionControl.(*BBR); ok {
			return b.pacingRate // asked for every segment: no interface assertion for the Pacer in this package
		}
		return c.cc.controller().(Pacer).PacingRate()
	case pacingWindow:
		if c.rtt.srtt <= 0 {
			return 0
		}
		cwnd := c.cc.Window()
		gain := 1.2
		if cwnd < c.cc.SlowStartThreshold()/2 {
			gain = 2
		}
		return gain * float64(max(cwnd, c.inFlight())) / c.rtt.srtt.Seconds()
	}
	return 0
}

// pacingAllows reports whether a data segment may leave now; if not, it
// marks one as waiting, for Deadline.
func (c *Conn) pacingAllows(now time.Time) bool {
	if c.cc == nil || c.cc.pace.next == 0 {
		return true // kept small, so that this is inlined
	}
	return c.pacingWait(now)
}

// pacingWait is pacingAllows for a connection that is paced.
func (c *Conn) pacingWait(now time.Time) bool {
	p := &c.cc.pace
	var at instant
	if r := c.cc.rate; r != nil {
		at = r.clock(c, now) // the ACK's or the burst's conversion
	} else {
		at = c.at(now)
	}
	if at+instant(pacingSlack) >= p.next {
		p.held = false
		return true
	}
	p.held = true
	return false
}

// pacingSent moves the earliest departure time on by a data segment of
// n sequence numbers sent at the instant at.
func (c *Conn) pacingSent(n int, at instant) {
	if c.cc != nil && c.cc.pace.mode != pacingOff {
		c.pacingMove(n, at)
	}
}

// pacingMove is pacingSent for a connection that is paced.
func (c *Conn) pacingMove(n int, at instant) {
	p := &c.cc.pace
	var gap time.Duration
	if b, ok := c.cc.UndoableCongestionControl.(*BBR); ok {
		// Every segment: BBR's rate without a call, and the gap it
		// computed for the segment before if the rate and the length
		// are the same.
		if b.pacingRate <= 0 {
			p.next = 0
			return
		}
		if b.pacingRate != b.gapRate || int32(n) != b.gapN {
			b.gapRate, b.gapN, b.gap = b.pacingRate, int32(n), pacingGap(n, b.pacingRate)
		}
		gap = b.gap
	} else {
		rate := c.pacingRate()
		if rate <= 0 {
			p.next = 0
			return
		}
		gap = pacingGap(n, rate)
	}
	g := instant(min(gap, c.pacingGapLimit()))
	if late := at - p.next; late > 0 && p.next != 0 {
		g -= min(g/2, late) // as Linux's tcp_update_skb_after_send takes OS jitter into account
	}
	p.next = max(p.next, at) + g
}

// pacingGap is how long a segment of n bytes makes the next wait at
// rate bytes per second.
func pacingGap(n int, rate float64) time.Duration {
	return time.Duration(float64(n) / rate * float64(time.Second))
}

// pacingGapLimit is the longest a paced segment makes the next wait: one
// smoothed round trip (the RTO before there is one, or if shorter). A
// paced sender's window is at least a few segments (BBR's is four,
// draft-ietf-ccwg-bbr §5.6.4.1), so no rate it means says less than a
// segment per round trip; a rate collapsed by minutes of silence from
// the peer (a bandwidth estimate of a few bytes over a backed-off
// timeout) must not hold the next segment past the timers that bound
// the connection's life (LivenessBound).
func (c *Conn) pacingGapLimit() time.Duration {
	if c.rtt.srtt <= 0 || c.rtt.srtt > c.rtt.rto {
		return c.rtt.rto
	}
	return c.rtt.srtt
}

// pacingDeadline is when a segment held by pacing may leave, or 0.
func (c *Conn) pacingDeadline() instant {
	if c.cc == nil || !c.cc.pace.held || c.state == TimeWait || c.state == Closed {
		return 0
	}
	return max(c.cc.pace.next-instant(pacingSlack), 1)
}

// pacingTimer sends what pacing held, once its time has come.
func (c *Conn) pacingTimer(now time.Time) {
	if at := c.pacingDeadline(); at != 0 && c.at(now) >= at {
		c.cc.pace.held = false
		c.output(now)
	}
}
