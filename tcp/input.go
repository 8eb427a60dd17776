package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// Input processes one arriving segment (RFC 9293 §3.10.7, "SEGMENT
// ARRIVES"), in the order of checks the RFC gives.
func (c *Conn) Input(seg *Segment, now time.Time) {
	c.tick(now)
	c.stats.segmentsReceived++
	if len(seg.Payload) > 0 {
		c.stats.dataSegmentsReceived++
	}
	c.count(segmentsReceived)
	switch c.state {
	case Closed:
		c.inputClosed(seg)
	case Listen:
		c.inputListen(seg, now)
	case SynSent:
		c.inputSynSent(seg, now)
	case TimeWait:
		c.inputTimeWait(seg, now)
	case SynReceived:
		if c.opts != nil && c.deferBareAck(seg) {
			break // a deferred accept waits for data (cork.go)
		}
		c.inputSynchronized(seg, now)
	default:
		c.inputSynchronized(seg, now)
	}
	c.heardFromPeer(now)
}

// inputClosed answers a segment for a connection that does not exist
// (RFC 9293 §3.10.7.1).
func (c *Conn) inputClosed(seg *Segment) {
	if rst, ok := ResetFor(seg); ok {
		c.sendReset(rst)
	}
}

// inputListen handles LISTEN (RFC 9293 §3.10.7.2).
func (c *Conn) inputListen(seg *Segment, now time.Time) {
	switch {
	case seg.Flags.Has(wire.FlagRST):
		return // first: an incoming RST is ignored
	case seg.Flags.Has(wire.FlagACK):
		c.sendReset(Segment{Seq: seg.Ack, Flags: wire.FlagRST}) // second
		return
	case !seg.Flags.Has(wire.FlagSYN):
		return // fourth: anything else is dropped
	}
	// third: a SYN. Its data, if any, is not kept: the peer retransmits it.
	c.learnPeer(seg)
	c.openSend(c.iss)
	c.setState(SynReceived)
	c.count(passiveOpens)
	c.output(now)
}

// learnPeer records the peer's ISN, window and options from its SYN.
// Window scaling is on when the peer's SYN carries the option and either
// we are answering it (passive) or our own SYN offered it (RFC 7323
// §2.2); a shift over 14 counts as 14 (§2.3).
func (c *Conn) learnPeer(seg *Segment) {
	c.sndShift, c.rcvShift, c.scaling = 0, 0, false
	if seg.Options.HasWindowScale && (c.passive || offersWindowScale(c.rcvBufCeiling())) {
		c.sndShift = min(seg.Options.WindowScale, maxWindowShift)
		c.rcvShift = windowShift(c.rcvBufCeiling())
		c.scaling = true
	}
	c.irs = seg.Seq
	c.rcvNxt = seg.Seq + 1
	c.rcvRight = c.rcvNxt
	c.peerMSS = defaultPeerMSS
	if seg.Options.HasMSS && seg.Options.MSS > 0 {
		c.peerMSS = seg.Options.MSS
	}
	c.updateWindow(seg)
	c.setSACK(c.cfg.sack() && seg.Options.SACKPermitted)
	c.tsOK = c.cfg.timestamps() && seg.Options.HasTimestamps
	if c.tsOK {
		c.tsRecent = seg.Options.TSVal
	}
}

// scaledWindow is the peer's window in seg, in bytes.
func (c *Conn) scaledWindow(seg *Segment) uint32 {
	if seg.Flags.Has(wire.FlagSYN) {
		return uint32(seg.Window)
	}
	return uint32(seg.Window) << c.sndShift
}

// updateWindow takes the peer's window from seg (RFC 9293 §3.10.7.4,
// fifth, "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be
// updated").
//
// A SYN's window is never scaled (RFC 7323 §2.2).
func (c *Conn) updateWindow(seg *Segment) {
	c.sndWnd = c.scaledWindow(seg)
	c.sndWl1, c.sndWl2 = seg.Seq, seg.Ack
	c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
}

// inputSynSent handles SYN_SENT (RFC 9293 §3.10.7.3).
func (c *Conn) inputSynSent(seg *Segment, now time.Time) {
	rst := seg.Flags.Has(wire.FlagRST)
	if seg.Flags.Has(wire.FlagACK) {
		// first: the ACK must acknowledge our SYN and nothing more.
		if seg.Ack.LessThanEq(c.iss) || seg.Ack.GreaterThan(c.sndMax) {
			if !rst {
				c.sendReset(Segment{Seq: seg.Ack, Flags: wire.FlagRST})
			}
			return
		}
	}
	if rst {
		// second: a RST counts only if it acknowledges our SYN.
		if seg.Flags.Has(wire.FlagACK) {
			c.count(resetsReceived)
			c.enterClosed(ErrConnectionRefused, EventReset)
		}
		return
	}
	if !seg.Flags.Has(wire.FlagSYN) {
		return // fifth: neither SYN nor RST
	}
	// fourth: the peer's SYN.
	c.learnPeer(seg)
	if seg.Flags.Has(wire.FlagACK) {
		c.ackAdvanced(seg, seg.Ack, now)
		c.setState(Established)
		c.quickAcks = maxQuickAcks
		c.events |= EventEstablished | EventWritable
		c.pendingAck = true
		c.output(now)
		return
	}
	// Simultaneous open: answer with SYN+ACK from our ISS.
	c.sndNxt = c.iss
	c.setState(SynReceived)
	c.output(now)
}

// inputSynchronized handles SYN_RCVD and every synchronized state but
// TIME_WAIT (RFC 9293 §3.10.7.4).
func (c *Conn) inputSynchronized(seg *Segment, now time.Time) {
	if c.state == SynReceived && seg.Flags.Has(wire.FlagSYN) && !seg.Flags.Has(wire.FlagACK) && seg.Seq == c.irs {
		// Our SYN+ACK was lost and the peer retransmitted its SYN:
		// answer it again, as Linux does.
		c.sndNxt = c.iss
		c.output(now)
		return
	}
	if c.state == SynReceived && seg.Flags.Has(wire.FlagSYN|wire.FlagACK) && !seg.Flags.Has(wire.FlagRST) && seg.Seq == c.irs {
		// Simultaneous open (RFC 9293 figure 8): the peer's SYN+ACK
		// repeats the SYN we already have; its ACK is what is new. The
		// repeated SYN is a duplicate, and duplicates are ACKed (as
		// Linux does here).
		trimmed := *seg
		trimmed.Seq++
		trimmed.Flags &^= wire.FlagSYN
		seg = &trimmed
		c.pendingAck = true
	}
	// first: check the sequence number, after PAWS (RFC 7323 §5.3).
	if c.pawsReject(seg) {
		c.count(outOfWindow)
		c.replyUnacceptable(now, c.oldData(seg))
		return
	}
	if !acceptable(seg.Seq, seg.SeqLen(), c.rcvNxt, c.rcvWindow()) {
		c.count(outOfWindow)
		if !seg.Flags.Has(wire.FlagRST) {
			c.replyUnacceptable(now, c.oldData(seg))
		}
		return
	}
	c.takeTimestamp(seg)
	// second: RST (RFC 5961 §3.2: only an exact match resets).
	if seg.Flags.Has(wire.FlagRST) {
		if seg.Seq != c.rcvNxt {
			c.challenge(now)
			return
		}
		c.count(resetsReceived)
		c.inputReset()
		return
	}
	// fourth: a SYN in a synchronized state gets a challenge ACK
	// (RFC 5961 §4).
	if seg.Flags.Has(wire.FlagSYN) {
		c.challenge(now)
		return
	}
	// fifth: the ACK field.
	if !seg.Flags.Has(wire.FlagACK) {
		return
	}
	if !c.inputAck(seg, now) {
		if c.state != Closed {
			c.output(now) // the ACK may have opened the window
		}
		return
	}
	// seventh: the segment text.
	c.inputData(seg, now)
	// eighth: the FIN.
	if seg.Flags.Has(wire.FlagFIN) {
		c.inputFIN(seg.End()-1, now)
	} else if c.recv.oooFin && c.recv.oooFinSeq == c.rcvNxt {
		c.inputFIN(c.rcvNxt, now)
	}
	c.output(now)
}

// rcvWindow is RCV.WND: from RCV.NXT to the right edge of the window
// last advertised, which never moves left (RFC 9293 §3.8.6.2.2), so zero
// if RCV.NXT has passed it.
func (c *Conn) rcvWindow() uint32 {
	if c.rcvRight.LessThan(c.rcvNxt) {
		return 0
	}
	return c.rcvRight.Sub(c.rcvNxt)
}

// acceptable is the segment acceptability test of RFC 9293 §3.10.7.4, a
// predicate of four numbers as gVisor's header.Acceptable: whether a
// segment of n octets of sequence space from seq may be processed when
// the receive window is the wnd octets from rcvNxt. Every state that
// tests sequence numbers, TIME_WAIT's record included, asks it.
//
//	Length  Window  Test
//	0       0       SEG.SEQ = RCV.NXT
//	0       >0      RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND (*)
//	>0      0       not acceptable
//	>0      >0      RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
//	                or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
//
// (*) RFC 9293 asks SEG.SEQ < RCV.NXT+RCV.WND. Like Linux, we also take
// SEG.SEQ = RCV.NXT+RCV.WND: a peer that has sent right up to our
// window's edge puts exactly that in its ACKs, and refusing them would
// lose their acknowledgments while a hole is being repaired,
// deadlocking both sides.
func acceptable(seq Seq, n uint32, rcvNxt Seq, wnd uint32) bool {
	switch {
	case n == 0:
		return seq.InWindow(rcvNxt, wnd+1)
	case wnd == 0:
		return false
	default:
		return seq.InWindow(rcvNxt, wnd) || seq.Add(n-1).InWindow(rcvNxt, wnd)
	}
}

// ackAcceptable reports whether an acknowledgment number is acceptable
// (RFC 5961 §5.2): SND.UNA - MAX.SND.WND =< ack =< SND.NXT, with lo and
// hi the two bounds.
func ackAcceptable(ack, lo, hi Seq) bool { return ack.GreaterThanEq(lo) && ack.LessThanEq(hi) }

// inputReset handles an exact-match RST (RFC 9293 §3.10.7.4, second).
func (c *Conn) inputReset() {
	switch c.state {
	case SynReceived:
		if c.passive {
			c.returnToListen()
			return
		}
		c.enterClosed(ErrConnectionRefused, EventReset)
	case Established, FinWait1, FinWait2, CloseWait:
		c.enterClosed(ErrConnectionReset, EventReset)
	case Closing, LastAck:
		c.enterClosed(nil, 0)
	}
}

// returnToListen takes a passive SYN_RCVD back to LISTEN (RFC 9293
// §3.10.7.4, second, SYN-RECEIVED STATE).
func (c *Conn) returnToListen() {
	c.rtx.stop()
	c.releaseQueue()
	c.closed = false
	c.recv = receiveQueue{}
	c.setState(Listen)
}

// inputAck processes the ACK field (RFC 9293 §3.10.7.4, fifth). It
// reports whether processing of the segment continues.
func (c *Conn) inputAck(seg *Segment, now time.Time) bool {
	ack := seg.Ack
	if c.sndUna == c.iss {
		// SYN_RCVD (or FIN_WAIT_1 closed from it): the ACK must cover
		// our SYN, else <SEQ=SEG.ACK><CTL=RST>.
		if !(c.sndUna.LessThan(ack) && ack.LessThanEq(c.sndMax)) {
			c.sendReset(Segment{Seq: ack, Flags: wire.FlagRST})
			return false
		}
		c.updateWindow(seg)
		if c.state == SynReceived {
			c.setState(Established)
			c.quickAcks = maxQuickAcks
			c.events |= EventEstablished | EventWritable
		}
	}
	// RFC 5961 §5.2: acceptable acknowledgments lie in
	// [SND.UNA - MAX.SND.WND, SND.NXT]; anything else is dropped and
	// answered with an ACK (RFC 9293 §3.10.7.4, fifth), within the
	// limits of challenge ACKs (§7).
	if !ackAcceptable(ack, c.sndUna-Seq(c.maxSndWnd), c.sndMax) {
		c.challenge(now)
		return false
	}
	newSACK := c.takeSACK(seg)
	advanced := ack.GreaterThan(c.sndUna)
	switch {
	case advanced:
		c.ackAdvanced(seg, ack, now)
	case c.sndUna != c.sndMax && ack == c.sndUna && (newSACK ||
		len(seg.Payload) == 0 && !seg.Flags.Has(wire.FlagFIN) && c.scaledWindow(seg) == c.sndWnd):
		c.duplicateAck(now)
	}
	c.loss.ackProcessed(c, ackInfoOf(seg, advanced), now) // RACK's loss detection and TLP (RFC 8985)
	if advanced || newSACK {
		c.rateAcked(now) // a delivery-rate sample (rate.go)
	}
	// Window update, if this segment is newer than the last that set it.
	if ack.GreaterThanEq(c.sndUna) && (c.sndWl1.LessThan(seg.Seq) || c.sndWl1 == seg.Seq && c.sndWl2.LessThanEq(ack)) {
		opened := c.sndWnd == 0 && seg.Window > 0
		c.updateWindow(seg)
		if opened {
			c.persist.stop()
			c.rtt.restore(c.cfg.initialRTO(), c.cfg.rtoBounds()) // after the probes' backoff
		}
	}
	finAcked := c.closed && c.sndUna == c.finSeq+1
	switch c.state {
	case FinWait1:
		// With a FIN in the same segment, the FIN processing below goes
		// straight to TIME_WAIT, the diagram's "rcv FIN, ACK of FIN".
		if finAcked && !seg.Flags.Has(wire.FlagFIN) {
			c.setState(FinWait2)
			c.startFinWait2Timer(now)
			if c.state == Closed {
				return false // reset by a negative TCP_LINGER2 (cork.go)
			}
		}
	case Closing:
		if finAcked {
			c.enterTimeWait(now)
		}
		return false
	case LastAck:
		if finAcked {
			c.enterClosed(nil, 0)
		}
		return false
	case TimeWait:
		return false
	}
	return true
}

// ackAdvanced moves SND.UNA to ack: acknowledged data leaves the send
// queue, the RTT is sampled, the retransmission timer restarts or stops
// (RFC 6298 §5.2, §5.3).
func (c *Conn) ackAdvanced(seg *Segment, ack Seq, now time.Time) {
	acked := int(ack.Sub(c.sndUna))
	synAcked := c.sndUna == c.iss
	c.sampleRTT(seg, ack, now)
	// Bytes of the send queue now acknowledged (SYN and FIN take no room).
	if acked := ack.Sub(c.sendSeq); int32(acked) > 0 {
		n := min(int(acked), c.queued())
		c.dequeue(n)
		c.sendSeq = c.sendSeq.Add(uint32(n))
		c.push.acked(c.sendSeq)
		if n > 0 {
			c.events |= EventWritable
		}
	}
	c.sndUna = ack
	c.probeAcked(ack, now)
	if c.sndNxt.LessThan(ack) {
		c.sndNxt = ack
	}
	c.sb.advance(ack)
	c.detectSpuriousTimeout(seg)
	switch {
	case c.inRecovery:
		c.recoveryAck(ack, now)
	case c.cc != nil && !synAcked:
		c.dupAcks = 0
		c.ackedToCC(acked, now)
	}
	c.retries = 0
	if c.sndUna == c.sndMax {
		c.rtx.stop()
	} else {
		c.rtx.set(c.at(now.Add(c.rtt.rto)))
	}
}

// inputData takes the segment's payload (RFC 9293 §3.10.7.4, seventh),
// trimmed to the receive window.
func (c *Conn) inputData(seg *Segment, now time.Time) {
	if len(seg.Payload) == 0 {
		return
	}
	switch c.state {
	case Established, FinWait1, FinWait2:
	default:
		return // the peer's FIN has been received: no more data is taken
	}
	seq, payload := seg.Seq, seg.Payload
	if seg.Flags.Has(wire.FlagSYN) {
		seq++
	}
	dup := c.oldData(seg)       // bytes received before, for a D-SACK block (RFC 2883 §4)
	if seq.LessThan(c.rcvNxt) { // trim what we already have
		skip := c.rcvNxt.Sub(seq)
		if skip >= uint32(len(payload)) {
			c.ackDuplicate(dup) // a duplicate: ACK at once, the peer may have missed ours
			return
		}
		payload, seq = payload[skip:], c.rcvNxt
	}
	if room := c.rcvRight.Sub(seq); c.rcvRight.LessThanEq(seq) {
		c.pendingAck = true
		return
	} else if uint32(len(payload)) > room { // trim what lies beyond the window
		payload = payload[:room]
	}
	before, holes := c.rcvNxt, len(c.recv.ooo) > 0
	if holes && c.sackOK && dup.len() == 0 {
		dup = c.recv.held(seq, seq.Add(uint32(len(payload))))
	}
	var kept bool
	c.rcvNxt, kept = c.recv.store(seq, c.rcvNxt, payload, seg.Buffer)
	if kept {
		seg.Buffer = nil // the receive queue has it now
	}
	if c.rcvNxt != before {
		c.noteReceivedMSS(len(payload))
		c.stats.bytesReceived += uint64(c.rcvNxt.Sub(before))
		c.events |= EventReadable
	}
	c.ackData(seq == before && !holes, now)
	if c.sackOK && dup.len() > 0 {
		c.ackDSACK(dup) // at once: the D-SACK block goes in this ACK alone
	}
}

// ackDuplicate acknowledges a segment that brought dup again: at once,
// with a D-SACK block if SACK is on (RFC 2883 §4), else with the next
// ACK, which goes at once too.
func (c *Conn) ackDuplicate(dup seqRange) {
	if c.sackOK && dup.len() > 0 {
		c.ackDSACK(dup)
		return
	}
	c.pendingAck = true
}

// oldData returns the part of seg's payload below RCV.NXT: data
// received before and sent again, for a D-SACK block (RFC 2883 §4).
func (c *Conn) oldData(seg *Segment) seqRange {
	seq := seg.Seq
	if seg.Flags.Has(wire.FlagSYN) {
		seq++
	}
	if len(seg.Payload) == 0 || !seq.LessThan(c.rcvNxt) {
		return seqRange{}
	}
	return seqRange{seq, minSeq(seq.Add(uint32(len(seg.Payload))), c.rcvNxt)}
}

// maxQuickAcks is how many in-order segments are ACKed at once after the
// handshake, as Linux's TCP_MAX_QUICKACKS.
const maxQuickAcks = 16

// ackData decides when to acknowledge data just taken (RFC 9293
// §3.8.6.3, RFC 5681 §4.2): an out-of-order segment, or one that fills
// a hole, is ACKed at once so that the sender's loss recovery hears of
// it; in-order data is ACKed once more than a full segment is unACKed,
// or when the delayed-ACK timer fires. The first segments of a
// connection are ACKed at once (Linux's quick-ACK mode), so that the
// peer's slow start and its Nagle timer are not held up by ours.
func (c *Conn) ackData(inOrder bool, now time.Time) {
	delay := c.cfg.delayedAck()
	if !inOrder || delay <= 0 || c.quickAcks > 0 {
		if c.quickAcks > 0 && inOrder {
			c.quickAcks--
		}
		c.pendingAck = true
		return
	}
	c.unackedBytes += int32(c.rcvNxt.Sub(c.lastAcked))
	c.lastAcked = c.rcvNxt
	if int(c.unackedBytes) > c.effectiveMSS() {
		c.pendingAck = true
		return
	}
	if !c.delack.running() {
		c.delack.set(c.at(now.Add(delay)))
	}
}

// inputFIN processes the peer's FIN at sequence number at (RFC 9293
// §3.10.7.4, eighth). A FIN beyond a hole is remembered until the hole
// fills.
func (c *Conn) inputFIN(at Seq, now time.Time) {
	if at != c.rcvNxt {
		if at.GreaterThan(c.rcvNxt) && !c.recv.fin {
			c.recv.oooFin, c.recv.oooFinSeq = true, at
		}
		if c.state == FinWait1 && c.closed && c.sndUna == c.finSeq+1 {
			// The segment acknowledged our FIN, and inputAck left the
			// move to its FIN, which cannot be taken yet.
			c.setState(FinWait2)
			c.startFinWait2Timer(now)
		}
		return
	}
	if c.recv.fin {
		c.pendingAck = true
		return
	}
	c.recv.fin, c.recv.oooFin = true, false
	c.rcvNxt++
	c.pendingAck = true
	c.events |= EventPeerClosed | EventReadable
	switch c.state {
	case SynReceived, Established:
		c.setState(CloseWait)
	case FinWait1:
		if c.sndUna == c.finSeq+1 {
			c.enterTimeWait(now)
		} else {
			c.setState(Closing)
		}
	case FinWait2:
		c.enterTimeWait(now)
	}
}

// enterTimeWait starts the 2×MSL wait (RFC 9293 §3.4.2); the send side is
// done, so its timers stop and its queue goes.
func (c *Conn) enterTimeWait(now time.Time) {
	c.rtx.stop()
	c.persist.stop()
	c.kaTimer.stop()
	c.rackStop()
	c.releaseQueue()
	c.setState(TimeWait)
	c.timeWait.set(c.at(now.Add(2 * c.cfg.msl())))
}

// ackedToCC tells the congestion control of newly acknowledged bytes.
// With segmentation offload one ACK may cover a segment the link cut
// into many packets, which a receiver would have answered with an ACK
// for every two: the bytes go in as those ACKs would have brought them,
// so that slow start's per-ACK limit (RFC 3465 §2.2, L = 2·SMSS;
// RFC 9406 §4.3's L = 8·SMSS under HyStart++) counts packets on the
// wire, as Linux counts a stretch ACK of degree N as N ACKs.
func (c *Conn) ackedToCC(acked int, now time.Time) {
	if c.cc.bbr() {
		return // BBR learns from the rate sample that follows (rate.go)
	}
	if !c.cwndLimited() {
		return // the window was not what limited the sender (cwnduse.go)
	}
	if c.cfg.SegmentOffload > 0 {
		for step := 2 * c.effectiveMSS(); acked > step; acked -= step {
			c.cc.Acked(step, c.rtt.srtt, now)
		}
	}
	c.cc.Acked(acked, c.rtt.srtt, now)
}
