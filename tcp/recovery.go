package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// dupThresh is the number of duplicate ACKs that signal a loss
// (RFC 5681 §3.2, RFC 6675 §2).
const dupThresh = 3

// newCongestionControl makes the connection's congestion control when
// it first sends data (the peer's MSS is known by then).
func (c *Conn) newCongestionControl() {
	cc := c.newController()(c.effectiveMSS())
	c.startController(cc)
	c.cc = newCongestion(cc, c.cfg, c.sndUna)
}

// startController gives a congestion control of this package that
// wants it what the connection knows when it is made (connStarter), and
// turns HyStart++ on in one that runs it (hystart.go).
func (c *Conn) startController(cc CongestionControl) {
	c.startHyStart(cc)
	if s, ok := cc.(connStarter); ok {
		s.connStarted(c.rtt.srtt, uint64(c.iss)<<32^uint64(c.epoch.UnixNano()))
	}
}

// connStarter is a congestion control of this package that wants what
// the connection knows when it is made: the SRTT of the handshake (0 if
// none) and a seed that differs between connections.
type connStarter interface {
	connStarted(srtt time.Duration, seed uint64)
}

// flightSize is RFC 5681's FlightSize: the data sent and not yet
// cumulatively acknowledged, the base of the reduced window.
func (c *Conn) flightSize() int { return int(c.sndMax.Sub(c.sndUna)) }

// inFlight is the bytes sent and neither acknowledged nor SACKed: in
// fast recovery RFC 6675's pipe, otherwise what lies between SND.UNA and
// SND.NXT (after a timeout, SND.NXT has gone back and what lies beyond it
// counts as lost).
func (c *Conn) inFlight() int {
	if c.inRecovery {
		return c.pipe()
	}
	return int(c.sndNxt.Sub(c.sndUna)) - c.sb.bytes(c.sndUna, c.sndNxt)
}

// pipe estimates the bytes in the network during fast recovery
// (RFC 6675 §4, SetPipe), as the connection's loss recovery counts them.
func (c *Conn) pipe() int { return c.loss.pipe(c) }

// windowAllows reports whether a segment of n sequence numbers may be
// sent now: within the congestion window, widened for new data as the
// loss recovery says after duplicate ACKs before fast retransmit
// (limited transmit, RFC 3042: one segment per duplicate ACK); in
// fast recovery, as PRR allows (RFC 9937 §6, prr.go). With nothing in
// flight one segment may always go.
func (c *Conn) windowAllows(n int) bool {
	if c.cc == nil {
		return true
	}
	if c.inRecovery {
		return c.recoveryAllows(n)
	}
	flight := c.inFlight()
	if flight == 0 {
		return true
	}
	w := c.cc.Window()
	if c.sndNxt == c.sndMax { // new data only
		w += c.loss.limitedTransmit(c)
	}
	return flight+n <= w
}

// recoveryAllows reports whether n more bytes may go in fast recovery:
// as PRR allows (RFC 9937 §6), or, for a controller that keeps its own
// window through recovery (RecoveryOptOut), as that window allows the
// pipe, one segment always going when the pipe is empty.
func (c *Conn) recoveryAllows(n int) bool {
	if !c.cc.ownRecovery {
		return c.prrAllows(n)
	}
	pipe := c.pipe()
	return pipe == 0 || pipe+n <= c.cc.Window()
}

// holeSegment builds the retransmission of the start of hole: at most a
// segment, and no more than the hole.
func (c *Conn) holeSegment(hole seqRange) (Segment, bool) {
	seg, ok := c.dataSegment(hole.start, c.payloadMSS())
	if !ok {
		return Segment{}, false
	}
	if n := hole.len(); len(seg.Payload) > n {
		cut := len(seg.Payload) - n
		seg.Payload = seg.Payload[:n]
		if seg.Frame != nil {
			seg.Frame = seg.Frame[:len(seg.Frame)-cut] // it ends where the payload ends
		}
		seg.Flags &^= wire.FlagFIN
	}
	return seg, true
}

// takeSACK takes the SACK blocks of an acceptable ACK, if SACK was
// negotiated (RFC 2018 §2), and tells the loss recovery what the ACK
// delivered (for PRR, RFC 9937 §6). It reports whether the blocks SACKed
// anything new.
func (c *Conn) takeSACK(seg *Segment) bool {
	newly, grew, moreLost := 0, false, false
	if c.sackOK && seg.Options.NumSACK > 0 {
		newly, grew, moreLost = c.scoreSACK(seg)
	}
	c.loss.delivered(c, seg.Ack, newly, moreLost)
	return grew
}

// scoreSACK records the SACK blocks of an acceptable ACK in the
// scoreboard (RFC 6675 §3). A block at or below the cumulative ACK
// reports a duplicate (D-SACK, RFC 2883) and adds nothing; parts beyond
// SND.MAX are ignored. It returns the bytes the blocks newly SACKed, for
// PRR's DeliveredData, whether there were any, and, once PRR runs,
// whether the blocks deem more lost by RFC 6675's IsLost (lostLimit
// moved up).
func (c *Conn) scoreSACK(seg *Segment) (newly int, grew, moreLost bool) {
	watchLoss := c.prr != nil
	var lostBefore Seq
	if watchLoss {
		lostBefore = c.lostLimit()
	}
	floor := seg.Ack // what the ACK covers, or SND.UNA if an older ACK
	if floor.LessThan(c.sndUna) {
		floor = c.sndUna
	}
	for i, b := range seg.Options.SACKBlocks() {
		start, end := Seq(b.Left), Seq(b.Right)
		if !start.LessThan(end) {
			continue // nonsense
		}
		if end.LessThanEq(floor) || i == 0 && seg.Options.NumSACK > 1 && // RFC 2883 §4: below the ACK, or a first block inside the second
			Seq(seg.Options.SACK[1].Left).LessThanEq(start) && end.LessThanEq(Seq(seg.Options.SACK[1].Right)) {
			c.undoDSACK(start, end) // D-SACK: a duplicate (undo.go)
			if end.LessThanEq(floor) {
				continue
			}
		}
		if start.LessThan(floor) {
			start = floor
		}
		if end.GreaterThan(c.sndMax) {
			end = c.sndMax
		}
		if !start.LessThan(end) {
			continue
		}
		before := c.sb.bytes(start, end)
		c.sb.add(seqRange{start, end})
		grew = grew || before < int(end.Sub(start))
		newly += int(end.Sub(start)) - before
	}
	return newly, grew, watchLoss && c.lostLimit().GreaterThan(lostBefore)
}

// sackDelivered is an ACK's DeliveredData with SACK (RFC 9937 §6): the
// bytes its SACK blocks newly selected, sacked, and what its cumulative
// ACK newly acknowledges less what was SACKed below ack (counted when it
// was SACKed).
func (c *Conn) sackDelivered(ack Seq, sacked int) int {
	if !ack.GreaterThan(c.sndUna) {
		return sacked
	}
	return sacked + int(ack.Sub(c.sndUna)) - c.sb.bytes(c.sndUna, ack)
}

// recovering reports whether a fast recovery or a timeout's recovery is
// under way: its recovery point lies ahead of SND.UNA. The point must
// also lie at or below SND.MAX, or comparisons modulo 2^32 would take a
// point left 2^31 bytes behind (or the ISS's of a connection yet to
// recover) for one ahead.
func (c *Conn) recovering() bool {
	return c.sndUna.LessThan(c.recoverSeq) && c.recoverSeq.LessThanEq(c.sndMax)
}

// duplicateAck handles an ACK that acknowledges nothing new while data
// is outstanding (RFC 5681 §2), or brings new SACK information: fast
// recovery starts when the loss recovery deems it a sign of loss.
func (c *Conn) duplicateAck(now time.Time) {
	c.dupAcks++
	if !c.loss.duplicateAck(c) {
		return
	}
	if c.inRecovery || c.cc == nil || c.recovering() {
		return // RFC 6582 §3.2 step 1: not again for data sent before the last recovery or timeout
	}
	c.enterRecovery(now)
}

// enterRecovery starts fast recovery, with the congestion response of
// the round (RFC 5681 §3.2, RFC 6675 §5), and PRR to pace it
// (RFC 9937 §6, prr.go).
func (c *Conn) enterRecovery(now time.Time) {
	response := !c.probeLost(now) // RFC 4821 §7.6.2: a lost probe is no congestion
	if response {
		c.cc.Congestion(c.flightSize(), now)
	}
	c.inRecovery, c.mustResend = true, true
	c.rateMarkLost(now) // what recovery starts for is lost (C.lost, rate.go), before its retransmission
	c.prrStart()
	if response {
		c.undoStart() // taken back if the recovery proves spurious (undo.go)
	}
	c.recoverSeq = c.sndMax
	c.rtxNext = c.sndUna
	c.rtt.cancel()
	if r := c.rack(); r != nil {
		if r.probe { // no PTO in recovery, and the response covers a probe's episode (RFC 8985 §7.2, §7.4)
			r.timer.stop()
			r.probe = false
		}
		r.tlpOut = false
	}
}

// recoveryAck handles a cumulative ACK during fast recovery: a full ACK
// (at or beyond the recovery point) ends it; a partial one means the
// next hole is lost too (RFC 6582 §3.2 step 3, RFC 6675 §5).
func (c *Conn) recoveryAck(ack Seq, now time.Time) {
	if ack.GreaterThanEq(c.recoverSeq) {
		c.inRecovery, c.dupAcks = false, 0
		return
	}
	c.loss.partialAck(c, ack)
	c.rtx.set(c.at(now.Add(c.rtt.rto))) // RFC 6582 §3.2 step 3: reset the timer on a partial ACK
}

// detectSpuriousTimeout runs the Eifel detection (RFC 3522) on the first
// ACK of new data after a retransmission timeout: if it echoes a TSval
// older than the retransmission's, it acknowledges the original
// transmission, so the timeout was spurious (the path was slow, nothing
// was lost). The response (RFC 4015) is to undo the congestion response
// and go on with new data instead of resending what is in flight. It
// runs the same detection for a fast recovery (undoEifel).
func (c *Conn) detectSpuriousTimeout(seg *Segment) {
	c.undoEifel(seg) // the same for fast recovery (undo.go)
	if c.rtoTSval == 0 {
		return
	}
	sent := c.rtoTSval
	c.rtoTSval = 0
	if !seg.Options.HasTimestamps || int32(seg.Options.TSEcr-sent) >= 0 {
		return // it acknowledges the retransmission: the timeout was real
	}
	c.cc.Undo()
	c.count(spuriousTimeouts)
	c.sndNxt = c.sndMax
	c.retries = 0
	if c.sackOK {
		// The timeout's recovery ends with its response (RecoveryOpen),
		// as Linux's tcp_try_undo_loss returns to TCP_CA_Open. Without
		// SACK it goes on to its recovery point, so that duplicate ACKs
		// for what was sent before the timeout start no fast retransmit
		// (RFC 6582 §3.2 step 1), as Linux stays in TCP_CA_Loss
		// (tcp_is_non_sack_preventing_reopen).
		c.recoverSeq = c.sndUna
	}
}
