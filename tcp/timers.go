package tcp

import (
	"cmp"
	"math"
	"time"

	"github.com/seqack/seqack/wire"
)

// HandleTimer runs the timers whose deadline is at or before now.
func (c *Conn) HandleTimer(now time.Time) {
	c.tick(now)
	if c.timeWait.due(c.at(now)) {
		c.timeWait.stop()
		if c.state == FinWait2 {
			c.fired(TimerFinWait2)
			c.enterClosed(nil, 0) // the peer never sent its FIN
			return
		}
		c.fired(TimerTimeWait)
		c.enterClosed(nil, 0) // RFC 9293 §3.10.8: TIME_WAIT timeout
		return
	}
	if r := c.rack(); r != nil && r.timer.due(c.at(now)) { // before the RTO: a PTO capped by it goes first (RFC 8985 §7.2)
		r.timer.stop()
		r.timeout(c, now)
	}
	if c.rtx.due(c.at(now)) {
		c.rtx.stop()
		c.fired(TimerRetransmit)
		c.retransmitTimeout(now)
	}
	if c.persist.due(c.at(now)) {
		c.persist.stop()
		c.fired(TimerPersist)
		c.probeWindow(now)
	}
	if c.delack.due(c.at(now)) {
		c.delack.stop()
		c.fired(TimerDelayedAck)
		c.pendingAck = true
		c.output(now)
	}
	if c.kaTimer.due(c.at(now)) {
		c.kaTimer.stop()
		c.fired(TimerKeepalive)
		c.keepaliveTimeout(now)
	}
	c.pacingTimer(now) // not a timer of the RFCs: no Observer call
}

func (c *Conn) fired(t Timer) {
	if c.observer != nil {
		c.observer.TimerFired(c, t)
	}
}

// retransmitTimeout handles an expiry of the retransmission timer
// (RFC 6298 §5.4-5.7): give up after the configured number of tries
// (retransmitLimit), else back off the timer and resend from SND.UNA.
func (c *Conn) retransmitTimeout(now time.Time) {
	if c.sndUna == c.sndMax {
		return // nothing outstanding
	}
	if int(c.retries) >= c.retryLimit(c.retransmitLimit()) || c.userTimedOut(now) { // cork.go: user timeout, deferred accept
		// An ICMP error heard meanwhile says more than the timeout
		// does (RFC 1122 §4.2.3.9), as Linux reports it.
		c.count(timeOuts)
		c.enterClosed(cmp.Or(c.softErr, ErrTimedOut), EventTimedOut)
		return
	}
	if c.deferSynAck(now) {
		return // a deferred accept waits for data (cork.go)
	}
	if c.retries == 0 && c.tsOK && c.cc != nil {
		// The first timeout of an episode: remember the TSval the
		// retransmission carries, to tell a spurious one (RFC 3522).
		c.rtoTSval = c.tsVal
	}
	c.retries++
	c.detectBlackHole()
	c.rtt.backoff(c.cfg.rtoBounds()) // RFC 6298 §5.5
	c.rtt.cancel()                   // Karn's algorithm
	if c.cc != nil {
		c.cc.Timeout(c.flightSize(), now)
		c.rateLost(c.sndUna, c.sndMax, true, now) // all outstanding is deemed lost (C.lost, rate.go)
	}
	// Resend from the oldest unacknowledged byte, one segment at first
	// (the window is one segment now), skipping what the peer SACKed.
	// Duplicate ACKs for data sent before the timeout must not start a
	// fast retransmit (RFC 6582 §3.2 step 1).
	c.inRecovery, c.dupAcks = false, 0
	c.recoverSeq = c.sndMax
	c.sndNxt = c.sndUna
	c.rackTimeoutRTO()
	c.undoForget() // a fast recovery before is not undone any more (undo.go)
	c.output(now)
	c.clampToUserTimeout(now)
	if c.rtx.running() || !c.state.Synchronized() {
		return // something went out, and the timer watches it
	}
	// Nothing could be resent. Behind a zero window (a receiver that
	// shrank it, or a stale window update reordered behind a newer one)
	// the retransmission becomes a zero-window probe and the persist
	// timer takes over, so that the sender keeps probing (RFC 9293
	// §3.8.6.1, RFC 1122 §4.2.2.17), as Linux's RTO does.
	if c.sndWnd == 0 {
		// Such an expiry counts as a probe, not as a retransmission
		// (Timeouts) nor a backoff (Backoff): Linux's
		// tcp_retransmit_timer, whose retransmission becomes a
		// zero-window probe here, counts it in neither icsk_retransmits
		// nor icsk_backoff (tcpi_retransmits, tcpi_backoff).
		c.retries--
		c.rtt.backoffs--
		c.sendWindowProbe(now)
		return
	}
	// Else the peer SACKed all that is outstanding and still does not
	// acknowledge it: it reneged, and the SACK information is ignored
	// after a timeout (RFC 2018 §8, RFC 6675 §5.1), so that SND.UNA's
	// segment goes again.
	c.sb.ranges = nil
	c.sndNxt = c.sndUna
	c.output(now)
	if !c.rtx.running() {
		// Whatever still held it back is tried again at the next
		// timeout, which counts toward giving up: a connection with
		// something unacknowledged is never left without a timer.
		c.rtx.set(c.at(now.Add(c.rtt.rto)))
	}
}

// retransmitLimit is how many retransmission timeouts in a row the
// connection resends after before it gives up: SynRetries or
// SynAckRetries in the handshake, Retries once synchronized (R2 of
// RFC 1122 §4.2.3.5, Linux's tcp_retries2). An orphan (Orphan) gives up
// after OrphanRetries instead, as Linux's tcp_write_timeout does for a
// socket its application closed (tcp_orphan_retries): a peer that has
// vanished must not hold a closed connection in FIN_WAIT_1, CLOSING or
// LAST_ACK, and its send queue, for as long as one still in use.
func (c *Conn) retransmitLimit() int {
	switch {
	case c.state == SynSent:
		return c.cfg.synRetries()
	case c.state == SynReceived:
		return c.cfg.synAckRetries()
	case c.orphan:
		return c.cfg.orphanRetries()
	}
	return c.cfg.retries()
}

// probeWindow handles an expiry of the persist timer: it backs the timer
// off and sends a zero-window probe, or gives up with ErrTimedOut after
// too many. A connection its application holds gives up after Retries
// probes in a row that the peer left unanswered, as Linux does with
// tcp_retries2: RFC 1122 §4.2.2.17 lets a sender probe "as long as the
// receiving TCP continues to send acknowledgments in response", and a
// peer that has vanished answers nothing. An orphaned one (Orphan) gives
// up after OrphanRetries probes, answered or not, as Linux does with
// tcp_orphan_retries: no one will read its answer, and a peer that keeps
// its window closed must not hold the connection and its send queue
// forever.
func (c *Conn) probeWindow(now time.Time) {
	if c.sndWnd != 0 && c.state.Synchronized() {
		c.flushCorked(now) // the window is open: the timer was a cork's (cork.go)
		return
	}
	if c.sndWnd != 0 || !c.state.Synchronized() {
		return
	}
	limit := c.cfg.retries()
	if c.orphan {
		limit = c.cfg.orphanRetries()
	}
	if int(c.probes) >= limit {
		c.count(timeOuts)
		c.enterClosed(cmp.Or(c.softErr, ErrTimedOut), EventTimedOut)
		return
	}
	c.rtt.backoff(c.cfg.rtoBounds())
	c.sendWindowProbe(now)
}

// sendWindowProbe sends a zero-window probe, a segment one byte below
// SND.UNA, which the peer must answer with an ACK carrying its current
// window (RFC 9293 §3.8.6.1; the same probe Linux uses), counts it and
// arms the persist timer.
func (c *Conn) sendWindowProbe(now time.Time) {
	c.emit(Segment{Seq: c.sndUna - 1, Flags: wire.FlagACK})
	if c.probes < math.MaxUint16 {
		c.probes++
	}
	c.persist.set(c.at(now.Add(c.rtt.rto)))
}

// sampleRTT gives the estimator the ACK of new data ack, with seg's
// timestamp echo if it has one (RFC 7323 §4), and RACK any sample taken.
func (c *Conn) sampleRTT(seg *Segment, ack Seq, now time.Time) {
	r, echo := c.timestampRTT(seg)
	if !c.rtt.samples(ack, echo) {
		return
	}
	if echo {
		c.rtt.echoed(r, c.sndMax, c.at(now), c.cfg.rtoBounds())
	} else {
		r = c.rtt.acked(c.at(now), c.cfg.rtoBounds())
	}
	c.noteMinRTT(r)
}

// blackHoleMSS is the MSS fallen back to when large segments seem to be
// dropped silently (RFC 4821 §7.2 suggests 1024 as a search floor;
// Linux's tcp_base_mss is the same).
const blackHoleMSS = 1024

// detectBlackHole lowers the path MSS after the third consecutive timeout
// of a full-sized segment, if the connection allows it: a path that drops
// every large packet looks, from here, like nothing but timeouts.
func (c *Conn) detectBlackHole() {
	if !c.cfg.blackHoleDetection() || c.retries != 3 || !c.state.Synchronized() ||
		c.effectiveMSS() <= blackHoleMSS || c.flightSize() < c.payloadMSS() {
		return
	}
	c.pathMSS = blackHoleMSS
	c.count(blackHoles)
	c.startSearch() // and climb back when the path allows (plpmtud.go)
}
