package tcp

import (
	"fmt"
	"time"
)

// RACK-TLP loss detection (RFC 8985), on by default as in Linux and
// gVisor: it runs when both SYNs carried SACK-permitted, unless
// Config.NoRACK is set.
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
// 120 bytes, made when a connection that runs RACK-TLP first sends data
// and given back when it is idle (Compact), and the records' array
// while data is in flight.
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
	// flaggedEnd is where the highest record that was ever SACKed, sent
	// again or marked lost ends, while flagged says one may be
	// outstanding: until then every ACK is one deliverInOrder takes.
	flaggedEnd Seq
	flagged    bool
	sentNew    bool // new data went since the PTO was last armed: output arms it (burstSent)

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

// rackIdle is the loss recovery of a connection that runs RACK-TLP and
// has no data outstanding, no timer and nothing learnt that min_RTT does
// not keep: an idle connection's RACK-TLP takes no memory. It has nothing
// to detect, probe or resend; the first data it sends makes the
// rackState, with RACK.min_RTT from the connection's least RTT.
type rackIdle struct{}

// newRACK makes the connection's RACK-TLP state.
func (c *Conn) newRACK() *rackState {
	r := &rackState{minRTT: c.rtt.min}
	c.loss = r
	return r
}

// idleRACK gives back the RACK-TLP state of a connection that has
// nothing outstanding and no timer, unless it has seen reordering, which
// min_RTT does not remember.
func (c *Conn) idleRACK() {
	if r := c.rack(); r != nil && r.idle() && !r.reordering {
		c.loss = new(rackIdle)
	}
}

// sent implements lossRecovery: data makes the state, which records it.
func (*rackIdle) sent(c *Conn, start, end Seq, syn, retransmission bool, at instant) instant {
	if syn {
		return at
	}
	return c.newRACK().sent(c, start, end, syn, retransmission, at)
}

// delivered implements lossRecovery as RACK-TLP does.
func (*rackIdle) delivered(c *Conn, ack Seq, sacked int, _ bool) {
	c.noteDelivered(ack, c.sackDelivered(ack, sacked))
}

// duplicateAck implements lossRecovery: RACK decides, and has nothing.
func (*rackIdle) duplicateAck(*Conn) bool { return false }

// ackProcessed implements lossRecovery: nothing is outstanding.
func (*rackIdle) ackProcessed(*Conn, ackInfo, time.Time) {}

// partialAck implements lossRecovery as RFC 6675 does.
func (*rackIdle) partialAck(c *Conn, ack Seq) {
	if c.rtxNext.LessThan(ack) {
		c.rtxNext = ack
	}
}

// pipe implements lossRecovery: what is outstanding, less what is SACKed.
func (*rackIdle) pipe(c *Conn) int {
	return max(int(c.sndMax.Sub(c.sndUna))-c.sb.bytes(c.sndUna, c.sndMax), 0)
}

// limitedTransmit implements lossRecovery as RACK-TLP does: nothing.
func (*rackIdle) limitedTransmit(*Conn) int { return 0 }

// nextRetransmission implements lossRecovery: nothing is marked lost.
func (*rackIdle) nextRetransmission(*Conn) (Segment, bool) { return Segment{}, false }

// outstanding returns the records of the transmissions outstanding.
func (r *rackState) outstanding() []sentSeg { return r.records.all() }

// idle reports whether RACK-TLP has nothing to do on an ACK that
// acknowledges nothing new: no transmission outstanding, no probe's
// episode open, no timer running.
func (r *rackState) idle() bool {
	return r.records.len() == 0 && !r.tlpOut && !r.timer.running()
}

// release drops the records and their array.
func (r *rackState) release() { r.records, r.flagged = fifo[sentSeg]{}, false }

// flag notes that rec has been given a flag (SACKed, sent again, lost):
// deliver takes the ACKs the long way until it is acknowledged.
func (r *rackState) flag(rec *sentSeg) {
	if !r.flagged || rec.end.GreaterThan(r.flaggedEnd) {
		r.flaggedEnd = rec.end
	}
	r.flagged = true
}

// rackStop stops RACK-TLP's timer and drops its records, as the
// connection closes or enters TIME_WAIT.
func (c *Conn) rackStop() {
	if r := c.rack(); r != nil {
		r.timer.stop()
		r.release()
	}
}

// record records a transmission of [start, end) at t: new data gets a
// record of its own, a retransmission new send times for the records it
// covers, split where it starts or ends inside one.
func (r *rackState) record(c *Conn, start, end Seq, t instant) {
	last := c.sndUna
	if sent := r.outstanding(); len(sent) > 0 {
		last = sent[len(sent)-1].end
	} else {
		r.fack = c.sndUna // nothing outstanding: nothing above SND.UNA was delivered
	}
	if start.LessThan(last) {
		stop := minSeq(end, last)
		r.split(c, start)
		r.split(c, stop)
		from := c.sndUna
		sent := r.outstanding()
		for i := range sent {
			rec := &sent[i]
			if from.GreaterThanEq(start) && rec.end.LessThanEq(stop) {
				rec.at, rec.flags = t, (rec.flags|sentAgain)&^sentLost
				r.flag(rec)
			}
			from = rec.end
		}
	}
	if end.GreaterThan(last) {
		r.records.push(sentSeg{end: end, at: t})
	}
}

// sent implements lossRecovery: each transmission gets its own instant,
// a nanosecond on if the clock has not moved, so that RACK orders
// transmissions by time alone (RFC 8985 §6.2), where the tie-break by
// sequence would put a retransmission before new data sent earlier; a
// data segment gets its record, and new data has the PTO armed (§7.2)
// once the burst it is part of has gone (burstSent), as Linux arms it
// after tcp_write_xmit, not for each segment.
func (r *rackState) sent(c *Conn, start, end Seq, syn, retransmission bool, at instant) instant {
	stamp := max(at, c.lastSend+1)
	if !syn {
		r.record(c, start, end, stamp)
		if !retransmission {
			r.sentNew = true
		}
	}
	return stamp
}

// burstSent arms the PTO after output sent new data (RFC 8985 §7.2:
// "after transmitting new data").
func (c *Conn) burstSent(now time.Time) {
	if r := c.rack(); r != nil && r.sentNew {
		r.sentNew = false
		r.armProbeAt(c, r.at(c, now))
	}
}

// delivered implements lossRecovery as RFC 6675 does; what the SACK
// blocks deem lost is RACK's to find (detect), not IsLost's.
func (r *rackState) delivered(c *Conn, ack Seq, sacked int, _ bool) {
	c.noteDelivered(ack, c.sackDelivered(ack, sacked))
}

// duplicateAck implements lossRecovery: RACK, not a count of duplicate
// ACKs, decides what is lost (ackProcessed).
func (r *rackState) duplicateAck(*Conn) bool { return false }

// partialAck implements lossRecovery as RFC 6675 does: the holes left
// are RACK's to mark.
func (r *rackState) partialAck(c *Conn, ack Seq) {
	if c.rtxNext.LessThan(ack) {
		c.rtxNext = ack
	}
}

// split makes seq a boundary between records, if a record spans it.
func (r *rackState) split(c *Conn, seq Seq) {
	from := c.sndUna
	for i, rec := range r.outstanding() {
		if from.LessThan(seq) && seq.LessThan(rec.end) {
			r.records.push(sentSeg{})
			sent := r.outstanding() // push may have moved them
			copy(sent[i+1:], sent[i:])
			sent[i].end = seq
			return
		}
		from = rec.end
	}
}

// at is c.at(now), remembered for the next call with the same now:
// RACK-TLP converts the time on every segment sent (to restart the PTO)
// and on every ACK, and the driver's bursts share one time.
func (r *rackState) at(c *Conn, now time.Time) instant {
	if now == r.clock && r.clockAt != 0 {
		return r.clockAt
	}
	return r.atMiss(c, now)
}

// atMiss is at for a time not seen last: kept out of line so that at
// is inlined.
//
//go:noinline
func (r *rackState) atMiss(c *Conn, now time.Time) instant {
	r.clock, r.clockAt = now, c.at(now)
	return r.clockAt
}

// clockNow is the time RACK measures against: now, or the latest send
// time if now is earlier. A driver calling from several goroutines may
// hand in a time read before another call sent segments stamped later;
// measured from it, those segments would have negative RTTs and a
// reordering window below zero, and RACK would call every one of them
// lost.
func (r *rackState) clockNow(c *Conn, now time.Time) instant { return max(r.at(c, now), c.lastSend) }

// sentAfter reports whether a transmission at t1 ending at end1 was sent
// after one at t2 ending at end2 (RFC 8985 §6.2, RACK_sent_after): by
// time, and by sequence between segments sent at the same instant.
func sentAfter(t1 instant, end1 Seq, t2 instant, end2 Seq) bool {
	return t1 > t2 || t1 == t2 && end1.GreaterThan(end2)
}

// ackProcessed runs RACK on an acceptable ACK (RFC 8985 §6.2), after the
// cumulative ACK and the SACK blocks have been taken: note what it newly
// delivers (steps 1-3), mark what is lost (step 5) and start fast
// recovery for it, and set the reordering timer or the PTO.
func (r *rackState) ackProcessed(c *Conn, a ackInfo, now time.Time) {
	if !a.has(ackAdvanced) && r.idle() {
		// A receiver's ACK field, or a connection gone idle: no
		// transmission to deliver (steps 1-3) or find lost (step 5), no
		// episode for tlpAck to end, no PTO to restart. Kept small, so
		// that the receiver pays a test per segment, not a call.
		return
	}
	r.deliver(c, a, now)
}

// deliver is ackProcessed for an ACK that RACK-TLP has to look at.
func (r *rackState) deliver(c *Conn, a ackInfo, now time.Time) {
	at := r.at(c, now)
	if r.idle() {
		r.armProbeAt(c, at) // SND.UNA moved, and nothing else is due: see ackProcessed
		return
	}
	t := max(at, c.lastSend) // clockNow
	if !r.flagged && len(c.sb.ranges) == 0 && !r.tlpOut {
		r.deliverInOrder(c, a, at, t)
		return
	}
	ack := c.sndUna
	sacked := c.sb.highest(ack) // nothing beyond it is delivered
	newest, found := sentSeg{}, false
	from, acked := ack, 0
	sent := r.outstanding()
	for i := range sent {
		rec := &sent[i]
		start := from
		if i == 0 || start.LessThan(ack) {
			start = ack
		}
		delivered := rec.end.LessThanEq(ack)
		if !delivered && start.GreaterThanEq(sacked) {
			break // beyond the cumulative ACK and every SACK block: the rest is undelivered
		}
		from = rec.end
		if delivered {
			acked = i + 1
		}
		if rec.flags&sentDelivered != 0 {
			continue
		}
		if !delivered {
			end, ok := c.sb.sackedEnd(start)
			if !ok || end.LessThan(rec.end) {
				continue
			}
			rec.flags = (rec.flags | sentDelivered) &^ sentLost
			r.flag(rec)
		}
		// Step 3: a segment delivered below one delivered before it,
		// and not sent again, was reordered.
		if rec.end.GreaterThan(r.fack) {
			r.fack = rec.end
		} else if rec.end.LessThan(r.fack) && rec.flags&sentAgain == 0 {
			r.reordering = true
		}
		// Step 2: an ACK of a retransmission may be the original's,
		// unless its RTT is at least min_RTT.
		if rec.flags&sentAgain != 0 && time.Duration(t-rec.at) < r.minRTT {
			continue
		}
		if !found || sentAfter(rec.at, rec.end, newest.at, newest.end) {
			newest, found = *rec, true
		}
	}
	r.records.drop(acked)
	if r.flagged && ack.GreaterThanEq(r.flaggedEnd) {
		r.flagged = false // the flagged records were acknowledged, and dropped
	}
	if found {
		r.rtt = time.Duration(t - newest.at) // step 1
		// min_RTT from the driver's clock, not from clockNow: the
		// nanoseconds sent adds to order transmissions at one instant
		// are no round trip, and a min_RTT made of them would open a
		// reordering window where none was measured. HyStart++ takes
		// the same (hystart.go).
		c.noteMinRTT(time.Duration(at - newest.at))
		c.hyStartSample(time.Duration(at - newest.at))
		if r.xmitTS == 0 || sentAfter(newest.at, newest.end, r.xmitTS, r.endSeq) {
			r.xmitTS, r.endSeq = newest.at, newest.end
		}
	}
	if r.tlpOut {
		r.tlpAck(c, a, now)
	}
	r.detectAt(c, t, now)
	if a.has(ackAdvanced) {
		r.armProbeAt(c, at) // §7.2: restart the PTO on an ACK of new data
	}
}

// deliverInOrder is deliver for the ACK of a path that loses and
// reorders nothing: no record outstanding was ever SACKed, sent again or
// marked lost, and nothing is SACKed. The records the cumulative ACK
// covers are then the ones it delivers, the last of them the most
// recently sent (first transmissions are recorded in the order they
// were sent, in sequence and in time), so it sets RACK.xmit_ts and
// RACK.rtt (RFC 8985 §6.2 steps 1-2); none was delivered below RACK.fack
// (step 3); and every record left was sent after it, so step 5 finds
// nothing lost and nothing to wait for. What deliver would do, without
// its loops.
func (r *rackState) deliverInOrder(c *Conn, a ackInfo, at, t instant) {
	sent := r.outstanding()
	n := 0
	for n < len(sent) && sent[n].end.LessThanEq(c.sndUna) {
		n++
	}
	if n > 0 {
		newest := sent[n-1]
		r.records.drop(n)
		if newest.end.GreaterThan(r.fack) {
			r.fack = newest.end
		}
		r.rtt = time.Duration(t - newest.at)
		c.noteMinRTT(time.Duration(at - newest.at))
		c.hyStartSample(time.Duration(at - newest.at))
		if r.xmitTS == 0 || sentAfter(newest.at, newest.end, r.xmitTS, r.endSeq) {
			r.xmitTS, r.endSeq = newest.at, newest.end
		}
	}
	if !r.probe {
		r.timer.stop() // no reordering timer: nothing may yet be lost
	}
	if a.has(ackAdvanced) {
		r.armProbeAt(c, at)
	}
}

// detect marks lost what RACK finds lost (RFC 8985 §6.2 step 5),
// starts fast recovery if it finds something, and sets the reordering
// timer for what may yet be found lost.
func (r *rackState) detect(c *Conn, now time.Time) { r.detectAt(c, r.clockNow(c, now), now) }

// detectAt is detect with RACK's time t (clockNow) at hand.
func (r *rackState) detectAt(c *Conn, t instant, now time.Time) {
	var wait time.Duration
	lost := false
	if r.xmitTS != 0 {
		reo := time.Duration(-1) // reoWnd, once a segment needs it
		sent := r.outstanding()
		for i := range sent {
			rec := &sent[i]
			if !sentAfter(r.xmitTS, r.endSeq, rec.at, rec.end) && rec.flags&sentAgain == 0 {
				// Sent first at or after RACK.xmit_ts: so was everything
				// above it, first or again (sent again means sent later
				// still). Nothing further can be lost yet.
				break
			}
			if rec.flags&(sentDelivered|sentLost) != 0 || !sentAfter(r.xmitTS, r.endSeq, rec.at, rec.end) {
				continue
			}
			if reo < 0 {
				reo = r.reoWnd(c)
			}
			if left := time.Duration(rec.at-t) + r.rtt + reo; left > 0 {
				wait = max(wait, left)
				continue
			}
			rec.flags |= sentLost
			r.flag(rec)
			lost = true
			if i > 0 {
				c.rateLost(sent[i-1].end, rec.end, true, now) // C.lost (rate.go)
			} else {
				c.rateLost(c.sndUna, rec.end, true, now)
			}
			c.count(rackLosses)
			if c.prr != nil {
				c.prr.safe = false // a loss found: no SafeACK (RFC 9937 §6)
			}
		}
	}
	switch {
	case wait > 0:
		r.timer.set(t + instant(wait+timerSlack))
		r.probe = false
	case !r.probe:
		r.timer.stop()
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
func (r *rackState) reoWnd(c *Conn) time.Duration {
	if !r.reordering && (c.inRecovery || c.recovering() ||
		c.sackedPastDupThresh()) {
		return 0
	}
	return min(r.minRTT/4, c.rtt.srtt)
}

// pipe is RFC 6675's pipe with RACK's IsLost: what is outstanding,
// less what is SACKed, less what RACK marked lost and was not sent again.
func (r *rackState) pipe(c *Conn) int {
	p := int(c.sndMax.Sub(c.sndUna)) - c.sb.bytes(c.sndUna, c.sndMax)
	from := c.sndUna
	for _, rec := range r.outstanding() {
		if rec.flags&sentLost != 0 {
			p -= int(rec.end.Sub(from)) - c.sb.bytes(from, rec.end)
		}
		from = rec.end
	}
	return max(p, 0)
}

// limitedTransmit implements lossRecovery as RFC 6675 does: nothing,
// for the flight already leaves out what was SACKed (RFC 8985 §7.4
// sends new data as the pipe allows while RACK waits for a loss).
func (r *rackState) limitedTransmit(*Conn) int { return 0 }

// nextRetransmission picks the next segment fast recovery resends: the
// first hole in the first record RACK marked lost.
func (r *rackState) nextRetransmission(c *Conn) (Segment, bool) {
	from := c.sndUna
	for _, rec := range r.outstanding() {
		start := from
		from = rec.end
		if rec.flags&sentLost == 0 {
			continue
		}
		hole, ok := c.sb.nextHole(start, rec.end)
		if !ok {
			continue
		}
		return c.holeSegment(hole)
	}
	return Segment{}, false
}

// timeout handles the expiry of the reordering timer (RFC 8985
// §6.3) or of the PTO (§7.3).
func (r *rackState) timeout(c *Conn, now time.Time) {
	if r.probe {
		r.probe = false
		c.fired(TimerLossProbe)
		r.sendProbe(c, now)
		return
	}
	c.fired(TimerReorder)
	r.detect(c, now)
	c.output(now)
}

// armProbeAt sets the PTO (RFC 8985 §7.2) when a probe may be needed: SACK
// and data in flight, no recovery under way, no probe in flight, and no
// reordering timer pending. It is two SRTTs, plus the peer's delayed ACK
// when a single segment is in flight (WCDelAckT) and timerSlack
// otherwise, as Linux adds TCP_RTO_MIN or TCP_TIMEOUT_MIN
// (tcp_schedule_loss_probe); 1 s before the first RTT sample; and never
// later than the retransmission timer. On a path whose SRTT is
// microseconds it is timerSlack, Linux's floor, not the RTO.
func (r *rackState) armProbeAt(c *Conn, now instant) {
	if r.timer.running() && !r.probe {
		return // the reordering timer
	}
	if !r.probeAllowed(c) {
		r.timer.stop()
		r.probe = false
		return
	}
	single := c.flightSize() <= c.effectiveMSS()
	pto := time.Second // no RTT sample yet
	switch {
	case c.rtt.srtt == 0: // every sample makes it more (minSample)
	case single:
		pto = 2*c.rtt.srtt + worstDelayedAck
	default:
		pto = 2*c.rtt.srtt + timerSlack
	}
	at := now + instant(pto)
	if c.rtx.running() && c.rtx.at < at {
		at = c.rtx.at
	}
	r.timer.set(at)
	r.probe = true
}

// probeAllowed reports whether a probe may be armed or sent (see
// armProbeAt).
func (r *rackState) probeAllowed(c *Conn) bool {
	return c.state.Synchronized() && c.sndUna != c.sndMax && c.sndUna != c.iss &&
		!c.inRecovery && !c.recovering() && c.retries == 0 && !r.tlpOut
}

// sendProbe sends the loss probe (RFC 8985 §7.3): the next new segment
// if the peer's window has room for it, whatever the congestion window,
// else the last segment sent; then the retransmission timer restarts.
func (r *rackState) sendProbe(c *Conn, now time.Time) {
	if !r.probeAllowed(c) || c.sndNxt != c.sndMax {
		return
	}
	seg, ok := c.dataSegment(c.sndMax, c.payloadMSS())
	again := !ok
	if again {
		start := c.sndUna
		if sent := r.outstanding(); len(sent) > 1 {
			start = sent[len(sent)-2].end
		}
		if seg, ok = c.dataSegment(start, c.payloadMSS()); !ok {
			return
		}
	}
	r.tlpOut = true // before transmit: new data sent as a probe sets no PTO
	c.transmit(seg, now)
	if seg.End().GreaterThan(c.sndNxt) {
		c.sndNxt = seg.End()
	}
	r.tlpAgain, r.tlpEnd = again, c.sndNxt
	c.count(tlpProbes)
	c.rtx.set(c.at(now.Add(c.rtt.rto)))
}

// tlpAck follows a probe's episode (RFC 8985 §7.4): it ends when an ACK
// covers the probe's new data, or shows that both the original and the
// probe arrived (a D-SACK of the probe, or a plain duplicate ACK); an
// ACK beyond the probe that is neither means the probe repaired a loss,
// which gets a congestion response.
func (r *rackState) tlpAck(c *Conn, a ackInfo, now time.Time) {
	if !r.tlpOut || a.ack.LessThan(r.tlpEnd) {
		return
	}
	switch {
	case !r.tlpAgain:
	case a.has(ackSACK) && Seq(a.first.Right).LessThanEq(a.ack) &&
		Seq(a.first.Left).LessThan(r.tlpEnd) && r.tlpEnd.LessThanEq(Seq(a.first.Right)):
		// D-SACK of the probe: it was not needed.
	case a.ack.GreaterThan(r.tlpEnd):
		if c.cc != nil {
			c.cc.Congestion(c.flightSize(), now)
			c.undoForget() // the last recovery's response is not the last any more
		}
		c.count(tlpRecoveries)
	case a.flags&(ackAdvanced|ackSACK|ackData) == 0:
		// A duplicate ACK: the original and the probe both arrived.
	default:
		return // wait for a D-SACK or the ACK beyond
	}
	r.tlpOut = false
}

// noteMinRTT keeps RACK.min_RTT, the least RTT measured.
func (c *Conn) noteMinRTT(rtt time.Duration) {
	if r := c.rack(); r != nil && rtt > 0 && (r.minRTT == 0 || rtt < r.minRTT) {
		r.minRTT = rtt
	}
}

// rackTimeoutRTO resets RACK-TLP's timers and episode on a retransmission
// timeout (RFC 8985 §6.3, §7.4): the timeout's recovery resends it all.
func (c *Conn) rackTimeoutRTO() {
	if r := c.rack(); r != nil {
		r.timer.stop()
		r.probe, r.tlpOut = false, false
	}
}

// checkRACK reports the first broken invariant of RACK's records, for
// tests and fuzzing: their ends ascend above SND.UNA, and the last is
// SND.MAX.
func (c *Conn) checkRACK() error {
	r := c.rack()
	if r == nil {
		return nil
	}
	prev := c.sndUna
	for i, rec := range r.outstanding() {
		if !rec.end.GreaterThan(prev) {
			return fmt.Errorf("RACK record %d ends at %d, not after %d (snd.una %d)", i, rec.end, prev, c.sndUna)
		}
		if rec.flags != 0 && (!r.flagged || rec.end.GreaterThan(r.flaggedEnd)) {
			return fmt.Errorf("RACK record %d (end %d) has flags %#x, flagged %v up to %d", i, rec.end, rec.flags, r.flagged, r.flaggedEnd)
		}
		prev = rec.end
	}
	if len(r.outstanding()) > 0 && prev != c.sndMax {
		return fmt.Errorf("RACK records end at %d, snd.max is %d", prev, c.sndMax)
	}
	return nil
}
