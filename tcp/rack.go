package tcp

import (
	"fmt"
	"time"
)

// RACK-TLP loss detection (RFC 8985), as Linux runs it by default; on
// when Config.RACKTLP is set and both SYNs carried SACK-permitted.
//
// RACK (§6) decides that a segment is lost by time rather than by
// counting: once a segment sent after it has been delivered (cumulatively
// ACKed or SACKed), and the RTT of that delivery plus a reordering window
// has passed since it was sent. Each transmission, retransmissions
// included, gets its own send time, so a lost retransmission is found
// like any other loss, where RFC 6675 can only wait for the timeout. A
// segment that is not lost yet but will be, should nothing more arrive,
// is caught by the reordering timer (§6.2 step 5).
//
// The send times live in a slice of records, one per transmission
// outstanding, in sequence order: each covers the sequence numbers from
// the previous record's end (the first from SND.UNA) to its own. The
// slice grows with the flight and keeps its array while the connection
// sends, so the data path allocates nothing; Compact gives it back once
// the flight has drained.
//
// RACK's verdicts replace RFC 6675's IsLost (lostLimit): fast recovery
// starts when RACK marks a segment lost, the pipe counts what RACK marks
// lost and not yet sent again, and the holes resent are the ones RACK
// marks, a retransmission marked again included. There is one congestion
// response per recovery, as without RACK.
//
// TLP (§7) covers the tail of a flight: with data in flight and no
// recovery under way, a probe timeout (PTO) of about two round trips is
// armed; when it expires, one segment goes — new data if there is some
// the peer's window allows, else the last segment again — and the
// retransmission timer is restarted. The peer's ACK of the probe, with
// SACK, gives RACK what it needs to find a lost tail one RTO sooner. An
// episode whose probe repaired the only loss ends with a congestion
// response (§7.4).
//
// Left out: the DSACK-driven growth of the reordering window (§6.2 step
// 4: reo_wnd stays min_RTT/4 once reordering is seen), a windowed
// min_RTT filter (the least RTT seen is kept), and the timestamp check
// on the RTT of a retransmission (the min_RTT check alone is used).

// worstDelayedAck is how long a peer may hold an ACK for a lone
// segment (RFC 8985 §7.2's WCDelAckT).
const worstDelayedAck = 200 * time.Millisecond

// timerSlack is added to the PTO and to the reordering timer, as Linux
// adds TCP_TIMEOUT_MIN (two jiffies) to both: on a path whose RTT is
// microseconds (a TUN device, loopback), two SRTTs are shorter than a
// scheduling hiccup of the peer, and a timer without slack would send
// probes, and declare losses, for segments whose ACK is merely late.
const timerSlack = 2 * time.Millisecond

// sentSeg is one transmission still unacknowledged: the sequence numbers
// from the previous record's end (or SND.UNA) to end, and when they were
// last sent.
type sentSeg struct {
	end   Seq
	flags sentFlags
	at    instant
}

type sentFlags uint8

const (
	sentAgain     sentFlags = 1 << iota // retransmitted at least once
	sentDelivered                       // SACKed
	sentLost                            // RACK deems it lost, and it has not been sent again since
)

// rackState is a connection's RACK and TLP state (RFC 8985 §5.2, §7):
// 112 bytes, made only for connections that run RACK-TLP, and the
// records' array while data is in flight.
type rackState struct {
	// records are the transmissions outstanding, in sequence order from
	// SND.UNA: acknowledged ones leave the front, and the array is reused.
	records fifo[sentSeg]
	xmitTS  instant       // RACK.xmit_ts: when the most recently sent of the delivered segments was sent
	rtt     time.Duration // RACK.rtt: the RTT of that delivery
	minRTT  time.Duration // RACK.min_RTT: the least RTT seen
	timer   timer         // the reordering timer (§6.2 step 5), or the PTO (§7.2) when probe is set
	endSeq  Seq           // RACK.end_seq: where that segment ended
	fack    Seq           // RACK.fack: the highest sequence number delivered
	tlpEnd  Seq           // TLP.end_seq: SND.NXT when the probe in flight was sent

	reordering bool // RACK.reordering_seen
	probe      bool // timer is the PTO
	tlpOut     bool // a probe's episode is open (TLP.end_seq is not None)
	tlpAgain   bool // TLP.is_retrans: that probe was a retransmission

	// clock and clockAt are the last time handed to clock and its
	// instant. A driver hands one time to a whole burst of segments
	// (the stack reads the clock once per batch), and RACK-TLP wants
	// the instant on every segment sent and several times on every ACK:
	// most conversions are a comparison.
	clock   time.Time
	clockAt instant
}

// sent returns the records of the transmissions outstanding.
func (r *rackState) sent() []sentSeg { return r.records.all() }

// idle reports whether RACK-TLP has nothing to do on an ACK that
// acknowledges nothing new: no transmission outstanding, no probe's
// episode open, no timer running.
func (r *rackState) idle() bool {
	return r.records.len() == 0 && !r.tlpOut && !r.timer.running()
}

// release drops the records and their array.
func (r *rackState) release() { r.records = fifo[sentSeg]{} }

// rackOn reports whether RACK-TLP runs on this connection: asked for and
// SACK negotiated (RFC 8985 §4 needs SACK; TLP is kept to SACK as well).
func (c *Conn) rackOn() bool { return c.rack != nil }

// enableRACK makes the RACK-TLP state once the handshake has settled
// SACK, if the connection runs it: a connection without it carries a nil
// pointer, not 80 bytes.
func (c *Conn) enableRACK() {
	if c.sackOK && c.cfg.RACKTLP && c.rack == nil {
		c.rack = new(rackState)
	}
}

// rackStop stops RACK-TLP's timer and drops its records, as the
// connection closes or enters TIME_WAIT.
func (c *Conn) rackStop() {
	if c.rack != nil {
		c.rack.timer.stop()
		c.rack.release()
	}
}

// rackSent records a transmission of [start, end) at t: new data gets a
// record of its own, a retransmission new send times for the records it
// covers, split where it starts or ends inside one.
func (c *Conn) rackSent(start, end Seq, t instant) {
	last := c.sndUna
	if sent := c.rack.sent(); len(sent) > 0 {
		last = sent[len(sent)-1].end
	} else {
		c.rack.fack = c.sndUna // nothing outstanding: nothing above SND.UNA was delivered
	}
	if start.LessThan(last) {
		stop := minSeq(end, last)
		c.rackSplit(start)
		c.rackSplit(stop)
		from := c.sndUna
		sent := c.rack.sent()
		for i := range sent {
			r := &sent[i]
			if from.GreaterThanEq(start) && r.end.LessThanEq(stop) {
				r.at, r.flags = t, (r.flags|sentAgain)&^sentLost
			}
			from = r.end
		}
	}
	if end.GreaterThan(last) {
		c.rack.records.push(sentSeg{end: end, at: t})
	}
}

// rackSplit makes seq a boundary between records, if a record spans it.
func (c *Conn) rackSplit(seq Seq) {
	from := c.sndUna
	for i, r := range c.rack.sent() {
		if from.LessThan(seq) && seq.LessThan(r.end) {
			c.rack.records.push(sentSeg{})
			sent := c.rack.sent() // push may have moved them
			copy(sent[i+1:], sent[i:])
			sent[i].end = seq
			return
		}
		from = r.end
	}
}

// clock is c.at(now), remembered for the next call with the same now:
// RACK-TLP converts the time on every segment sent (to restart the PTO)
// and on every ACK, and the driver's bursts share one time.
func (c *Conn) clock(now time.Time) instant {
	if now == c.rack.clock && c.rack.clockAt != 0 {
		return c.rack.clockAt
	}
	return c.clockMiss(now)
}

// clockMiss is clock for a time not seen last: kept out of line so that
// clock is inlined.
//
//go:noinline
func (c *Conn) clockMiss(now time.Time) instant {
	c.rack.clock, c.rack.clockAt = now, c.at(now)
	return c.rack.clockAt
}

// rackNow is the time RACK measures against: now, or the latest send
// time if now is earlier. A driver calling from several goroutines may
// hand in a time read before another call sent segments stamped later;
// measured from it, those segments would have negative RTTs and a
// reordering window below zero, and RACK would call every one of them
// lost.
func (c *Conn) rackNow(now time.Time) instant { return max(c.clock(now), c.lastSend) }

// sentAfter reports whether a transmission at t1 ending at end1 was sent
// after one at t2 ending at end2 (RFC 8985 §6.2, RACK_sent_after): by
// time, and by sequence between segments sent at the same instant.
func sentAfter(t1 instant, end1 Seq, t2 instant, end2 Seq) bool {
	return t1 > t2 || t1 == t2 && end1.GreaterThan(end2)
}

// rackAck runs RACK on an acceptable ACK (RFC 8985 §6.2), after the
// cumulative ACK and the SACK blocks have been taken: note what it newly
// delivers (steps 1-3), mark what is lost (step 5) and start fast
// recovery for it, and set the reordering timer or the PTO. advanced
// says whether SND.UNA moved.
func (c *Conn) rackAck(seg *Segment, advanced bool, now time.Time) {
	if !advanced && c.rack.idle() {
		// A receiver's ACK field, or a connection gone idle: no
		// transmission to deliver (steps 1-3) or find lost (step 5), no
		// episode for tlpAck to end, no PTO to restart. Kept small, so
		// that the receiver pays a test per segment, not a call.
		return
	}
	c.rackDeliver(seg, advanced, now)
}

// rackDeliver is rackAck for an ACK that RACK-TLP has to look at.
func (c *Conn) rackDeliver(seg *Segment, advanced bool, now time.Time) {
	a := c.clock(now)
	if c.rack.idle() {
		c.armProbeAt(a) // SND.UNA moved, and nothing else is due: see rackAck
		return
	}
	t := max(a, c.lastSend) // rackNow
	ack := c.sndUna
	sacked := c.sb.highest(ack) // nothing beyond it is delivered
	newest, found := sentSeg{}, false
	from, acked := ack, 0
	sent := c.rack.sent()
	for i := range sent {
		r := &sent[i]
		start := from
		if i == 0 || start.LessThan(ack) {
			start = ack
		}
		delivered := r.end.LessThanEq(ack)
		if !delivered && start.GreaterThanEq(sacked) {
			break // beyond the cumulative ACK and every SACK block: the rest is undelivered
		}
		from = r.end
		if delivered {
			acked = i + 1
		}
		if r.flags&sentDelivered != 0 {
			continue
		}
		if !delivered {
			end, ok := c.sb.sackedEnd(start)
			if !ok || end.LessThan(r.end) {
				continue
			}
			r.flags = (r.flags | sentDelivered) &^ sentLost
		}
		// Step 3: a segment delivered below one delivered before it,
		// and not sent again, was reordered.
		if r.end.GreaterThan(c.rack.fack) {
			c.rack.fack = r.end
		} else if r.end.LessThan(c.rack.fack) && r.flags&sentAgain == 0 {
			c.rack.reordering = true
		}
		// Step 2: an ACK of a retransmission may be the original's,
		// unless its RTT is at least min_RTT.
		if r.flags&sentAgain != 0 && time.Duration(t-r.at) < c.rack.minRTT {
			continue
		}
		if !found || sentAfter(r.at, r.end, newest.at, newest.end) {
			newest, found = *r, true
		}
	}
	c.rack.records.drop(acked)
	if found {
		c.rack.rtt = time.Duration(t - newest.at) // step 1
		c.noteMinRTT(c.rack.rtt)
		if c.rack.xmitTS == 0 || sentAfter(newest.at, newest.end, c.rack.xmitTS, c.rack.endSeq) {
			c.rack.xmitTS, c.rack.endSeq = newest.at, newest.end
		}
	}
	if c.rack.tlpOut {
		c.tlpAck(seg, advanced, now)
	}
	c.rackDetectAt(t, now)
	if advanced {
		c.armProbeAt(a) // §7.2: restart the PTO on an ACK of new data
	}
}

// rackDetect marks lost what RACK finds lost (RFC 8985 §6.2 step 5),
// starts fast recovery if it finds something, and sets the reordering
// timer for what may yet be found lost.
func (c *Conn) rackDetect(now time.Time) { c.rackDetectAt(c.rackNow(now), now) }

// rackDetectAt is rackDetect with RACK's time t (rackNow) at hand.
func (c *Conn) rackDetectAt(t instant, now time.Time) {
	var wait time.Duration
	lost := false
	if c.rack.xmitTS != 0 {
		reo := time.Duration(-1) // reoWnd, once a segment needs it
		sent := c.rack.sent()
		for i := range sent {
			r := &sent[i]
			if !sentAfter(c.rack.xmitTS, c.rack.endSeq, r.at, r.end) && r.flags&sentAgain == 0 {
				// Sent first at or after RACK.xmit_ts: so was everything
				// above it, first or again (sent again means sent later
				// still). Nothing further can be lost yet.
				break
			}
			if r.flags&(sentDelivered|sentLost) != 0 || !sentAfter(c.rack.xmitTS, c.rack.endSeq, r.at, r.end) {
				continue
			}
			if reo < 0 {
				reo = c.reoWnd()
			}
			if left := time.Duration(r.at-t) + c.rack.rtt + reo; left > 0 {
				wait = max(wait, left)
				continue
			}
			r.flags |= sentLost
			lost = true
			c.count(rackLosses)
			if c.prr != nil {
				c.prr.safe = false // a loss found: no SafeACK (RFC 9937 §6)
			}
		}
	}
	switch {
	case wait > 0:
		c.rack.timer.set(t + instant(wait+timerSlack))
		c.rack.probe = false
	case !c.rack.probe:
		c.rack.timer.stop()
	}
	if lost && !c.inRecovery && c.cc != nil && !c.recovering() {
		c.enterRecovery(now)
	}
}

// reoWnd is RACK's reordering window (RFC 8985 §6.2 step 4): none until
// reordering has been seen if recovery is under way or enough is SACKed
// for RFC 6675's IsLost (more than DupThresh-1 segments' bytes, as
// duplicateAck counts), so that RACK starts recovery no later than
// RFC 6675 would; else a quarter of min_RTT, at most SRTT.
func (c *Conn) reoWnd() time.Duration {
	if !c.rack.reordering && (c.inRecovery || c.recovering() ||
		c.sb.bytes(c.sndUna, c.sndMax) > (dupThresh-1)*c.effectiveMSS()) {
		return 0
	}
	return min(c.rack.minRTT/4, c.rtt.srtt)
}

// rackPipe is RFC 6675's pipe with RACK's IsLost: what is outstanding,
// less what is SACKed, less what RACK marked lost and was not sent again.
func (c *Conn) rackPipe() int {
	p := int(c.sndMax.Sub(c.sndUna)) - c.sb.bytes(c.sndUna, c.sndMax)
	from := c.sndUna
	for _, r := range c.rack.sent() {
		if r.flags&sentLost != 0 {
			p -= int(r.end.Sub(from)) - c.sb.bytes(from, r.end)
		}
		from = r.end
	}
	return max(p, 0)
}

// rackRetransmission picks the next segment fast recovery resends: the
// first hole in the first record RACK marked lost.
func (c *Conn) rackRetransmission() (Segment, bool) {
	from := c.sndUna
	for _, r := range c.rack.sent() {
		start := from
		from = r.end
		if r.flags&sentLost == 0 {
			continue
		}
		hole, ok := c.sb.nextHole(start, r.end)
		if !ok {
			continue
		}
		return c.holeSegment(hole)
	}
	return Segment{}, false
}

// rackTimeout handles the expiry of the reordering timer (RFC 8985
// §6.3) or of the PTO (§7.3).
func (c *Conn) rackTimeout(now time.Time) {
	if c.rack.probe {
		c.rack.probe = false
		c.fired(TimerLossProbe)
		c.sendProbe(now)
		return
	}
	c.fired(TimerReorder)
	c.rackDetect(now)
	c.output(now)
}

// armProbe sets the PTO (RFC 8985 §7.2) when a probe may be needed: SACK
// and data in flight, no recovery under way, no probe in flight, and no
// reordering timer pending. It is two SRTTs and timerSlack, plus the
// peer's delayed ACK when a single segment is in flight, and never later
// than the retransmission timer.
func (c *Conn) armProbe(now time.Time) { c.armProbeAt(c.clock(now)) }

// armProbeAt is armProbe with now as an instant.
func (c *Conn) armProbeAt(now instant) {
	if c.rack.timer.running() && !c.rack.probe {
		return // the reordering timer
	}
	if !c.probeAllowed() {
		c.rack.timer.stop()
		c.rack.probe = false
		return
	}
	pto := time.Second // no RTT sample yet
	if c.rtt.srtt != 0 {
		pto = 2*c.rtt.srtt + timerSlack
		if c.flightSize() <= c.effectiveMSS() {
			pto += worstDelayedAck
		}
	}
	at := now + instant(pto)
	if c.rtx.running() && c.rtx.at < at {
		at = c.rtx.at
	}
	c.rack.timer.set(at)
	c.rack.probe = true
}

func (c *Conn) probeAllowed() bool {
	return c.rackOn() && c.state.Synchronized() && c.sndUna != c.sndMax && c.sndUna != c.iss &&
		!c.inRecovery && !c.recovering() && c.retries == 0 && !c.rack.tlpOut
}

// sendProbe sends the loss probe (RFC 8985 §7.3): the next new segment
// if the peer's window has room for it, whatever the congestion window,
// else the last segment sent; then the retransmission timer restarts.
func (c *Conn) sendProbe(now time.Time) {
	if !c.probeAllowed() || c.sndNxt != c.sndMax {
		return
	}
	seg, ok := c.dataSegment(c.sndMax, c.payloadMSS())
	again := !ok
	if again {
		start := c.sndUna
		if sent := c.rack.sent(); len(sent) > 1 {
			start = sent[len(sent)-2].end
		}
		if seg, ok = c.dataSegment(start, c.payloadMSS()); !ok {
			return
		}
	}
	c.rack.tlpOut = true // before transmit: new data sent as a probe sets no PTO
	c.transmit(seg, now)
	if seg.End().GreaterThan(c.sndNxt) {
		c.sndNxt = seg.End()
	}
	c.rack.tlpAgain, c.rack.tlpEnd = again, c.sndNxt
	c.count(tlpProbes)
	c.rtx.set(c.at(now.Add(c.rtt.rto)))
}

// tlpAck follows a probe's episode (RFC 8985 §7.4): it ends when an ACK
// covers the probe's new data, or shows that both the original and the
// probe arrived (a D-SACK of the probe, or a plain duplicate ACK); an
// ACK beyond the probe that is neither means the probe repaired a loss,
// which gets a congestion response.
func (c *Conn) tlpAck(seg *Segment, advanced bool, now time.Time) {
	if !c.rack.tlpOut || seg.Ack.LessThan(c.rack.tlpEnd) {
		return
	}
	blocks := seg.Options.SACKBlocks()
	switch {
	case !c.rack.tlpAgain:
	case len(blocks) > 0 && Seq(blocks[0].Right).LessThanEq(seg.Ack) &&
		Seq(blocks[0].Left).LessThan(c.rack.tlpEnd) && c.rack.tlpEnd.LessThanEq(Seq(blocks[0].Right)):
		// D-SACK of the probe: it was not needed.
	case seg.Ack.GreaterThan(c.rack.tlpEnd):
		if c.cc != nil {
			c.cc.Congestion(c.flightSize(), now)
		}
		c.count(tlpRecoveries)
	case !advanced && len(blocks) == 0 && len(seg.Payload) == 0:
		// A duplicate ACK: the original and the probe both arrived.
	default:
		return // wait for a D-SACK or the ACK beyond
	}
	c.rack.tlpOut = false
}

// noteMinRTT keeps RACK.min_RTT, the least RTT measured.
func (c *Conn) noteMinRTT(r time.Duration) {
	if c.rack != nil && r > 0 && (c.rack.minRTT == 0 || r < c.rack.minRTT) {
		c.rack.minRTT = r
	}
}

// rackTimeoutRTO resets RACK-TLP's timers and episode on a retransmission
// timeout (RFC 8985 §6.3, §7.4): the timeout's recovery resends it all.
func (c *Conn) rackTimeoutRTO() {
	if c.rack == nil {
		return
	}
	c.rack.timer.stop()
	c.rack.probe, c.rack.tlpOut = false, false
}

// checkRACK reports the first broken invariant of RACK's records, for
// tests and fuzzing: their ends ascend above SND.UNA, and the last is
// SND.MAX.
func (c *Conn) checkRACK() error {
	if c.rack == nil {
		return nil
	}
	prev := c.sndUna
	for i, r := range c.rack.sent() {
		if !r.end.GreaterThan(prev) {
			return fmt.Errorf("RACK record %d ends at %d, not after %d (snd.una %d)", i, r.end, prev, c.sndUna)
		}
		prev = r.end
	}
	if len(c.rack.sent()) > 0 && prev != c.sndMax {
		return fmt.Errorf("RACK records end at %d, snd.max is %d", prev, c.sndMax)
	}
	return nil
}
