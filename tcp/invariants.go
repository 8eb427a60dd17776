package tcp

import "fmt"

// checkInvariants reports the first broken invariant of the control
// block, for tests and fuzzing: sequence variables in order, queues
// within their bounds, the out-of-order queue sorted, disjoint and inside
// the window, and a timer running whenever something is owed to the peer
// (liveness: see LivenessBound).
func (c *Conn) checkInvariants() error {
	if c.state > TimeWait {
		return fmt.Errorf("state %d out of range", c.state)
	}
	if c.state != Closed && c.state != Listen {
		if c.sndUna.GreaterThan(c.sndNxt) {
			return fmt.Errorf("snd.una %d after snd.nxt %d", c.sndUna, c.sndNxt)
		}
		if c.sndNxt.GreaterThan(c.sndMax) {
			return fmt.Errorf("snd.nxt %d after the highest sent %d", c.sndNxt, c.sndMax)
		}
	}
	if c.owesPeer() && !c.rtx.running() && !c.persist.running() && c.pacingDeadline() == 0 { // pacing: the segment leaves at its deadline
		return fmt.Errorf("in %v with %d bytes queued and [%d, %d) unacknowledged (FIN queued: %v), but no retransmission or persist timer runs: the connection would never send again nor give up", c.state, c.queued(), c.sndUna, c.sndMax, c.closed)
	}
	if c.queued() > c.sndBufSize() {
		return fmt.Errorf("send queue %d bytes over its %d", c.queued(), c.sndBufSize())
	}
	// A receive buffer made smaller (SetBufferSizes) may hold more than
	// its size until it drains: the window advertised never shrinks.
	if n := c.recv.readable() + c.recv.oooBytes(); n > c.rcvBufSize() && c.rcvBuf == 0 {
		return fmt.Errorf("receive queue %d bytes over its %d", n, c.rcvBufSize())
	}
	prev := c.sndUna
	for i, r := range c.sb.ranges {
		if !r.start.GreaterThanEq(prev) || !r.start.LessThan(r.end) || r.end.GreaterThan(c.sndMax) {
			return fmt.Errorf("SACK scoreboard range %d [%d, %d) out of order or outside [snd.una %d, snd.max %d]", i, r.start, r.end, c.sndUna, c.sndMax)
		}
		prev = r.end
	}
	if c.cc != nil && c.cc.Window() < c.effectiveMSS() && c.cc.Window() < 536 {
		return fmt.Errorf("congestion window %d below one segment", c.cc.Window())
	}
	if len(c.recv.ooo) > maxOutOfOrderPieces {
		return fmt.Errorf("%d out-of-order pieces, over the bound of %d", len(c.recv.ooo), maxOutOfOrderPieces)
	}
	prevEnd := c.rcvNxt
	for i, p := range c.recv.ooo {
		if !p.check() {
			return fmt.Errorf("out-of-order piece %d [%d, %d) empty, or its parts do not hold its bytes", i, p.seq, p.end)
		}
		if !p.seq.GreaterThan(prevEnd) {
			return fmt.Errorf("out-of-order piece %d at %d overlaps or touches what precedes it (%d)", i, p.seq, prevEnd)
		}
		prevEnd = p.end
		if prevEnd.GreaterThan(c.rcvRight) {
			return fmt.Errorf("out-of-order piece %d ends at %d, past the window's edge %d", i, prevEnd, c.rcvRight)
		}
	}
	return nil
}
