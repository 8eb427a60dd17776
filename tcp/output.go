package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// effectiveMSS is the largest payload we put in a segment: the smaller of
// our MSS and the peer's (RFC 9293 §3.7.1), and of the path's once it is
// known.
func (c *Conn) effectiveMSS() int {
	m := c.mssCeiling()
	if c.pathMSS != 0 && int(c.pathMSS) < m {
		m = int(c.pathMSS)
	}
	return m
}

// mssCeiling is the effective MSS before the path has a say: the most a
// path MTU search may reach.
func (c *Conn) mssCeiling() int {
	m := c.cfg.mss()
	if c.peerMSS != 0 && c.peerMSS < m {
		m = c.peerMSS
	}
	return int(m)
}

// payloadMSS is the most payload a segment can carry now: the effective
// MSS less the options every segment carries (RFC 6691 §3: the MSS
// counts no options): timestamps, and SACK blocks while we hold
// out-of-order data.
func (c *Conn) payloadMSS() int {
	n := c.effectiveMSS()
	blocks := wire.MaxSACKBlocks
	if c.tsOK {
		n -= 12 // NOP, NOP, TS (10)
		blocks--
	}
	if c.sackOK && len(c.recv.ooo) > 0 {
		n -= 4 + 8*min(len(c.recv.ooo), blocks) // NOP, NOP, SACK header, blocks
	}
	// A floor against a peer's tiny MSS, as Linux's tcp_min_snd_mss,
	// but never above our own MSS: a link of a small MTU takes no more.
	return max(n, min(64, int(c.cfg.mss())))
}

// openWindow moves the right edge of the receive window (RCV.NXT +
// RCV.WND) forward to what the free buffer space allows, but only by at
// least the smaller of half the buffer and an MSS: receiver-side silly
// window syndrome avoidance (RFC 9293 §3.8.6.2.2). It never moves the
// edge backward (§3.8.6), nor leaves it below RCV.NXT.
func (c *Conn) openWindow() {
	free := c.rcvBufSize() - c.recv.readable() - c.recv.oooBytes()
	if free < 0 {
		free = 0
	}
	right := c.rcvNxt.Add(uint32(free))
	threshold := uint32(min(c.rcvBufSize()/2, c.effectiveMSS()))
	if right.GreaterThan(c.rcvRight) && right.Sub(c.rcvRight) >= threshold {
		c.rcvRight = right
	}
	if c.rcvRight.LessThan(c.rcvNxt) {
		c.rcvRight = c.rcvNxt
	}
}

// advertisedWindow returns the window field for a segment sent now, up
// to the right edge openWindow keeps. The field is scaled down by
// Rcv.Wind.Shift except in a SYN (RFC 7323 §2.2); scaling rounds down,
// so the peer's view of the edge is never beyond the one we keep.
func (c *Conn) advertisedWindow(syn bool) uint16 {
	var wnd uint32
	if c.rcvRight.GreaterThan(c.rcvNxt) {
		wnd = c.rcvRight.Sub(c.rcvNxt)
	}
	if !syn {
		wnd >>= c.rcvShift
	}
	return uint16(min(wnd, 0xffff))
}

// emit queues a segment, stamping it with the current window and, in every
// state but SYN_SENT's first SYN, the acknowledgment of RCV.NXT.
func (c *Conn) emit(seg Segment) {
	if seg.Flags.Has(wire.FlagACK) {
		seg.Ack = c.rcvNxt
		c.lastAckSent = c.rcvNxt
		if n := seg.Options.NumSACK; c.sackOK && len(c.recv.ooo) > 0 { // after a D-SACK block ackDSACK put first
			seg.Options.NumSACK = n + c.recv.sackBlocks(seg.Options.SACK[n:])
		}
	}
	c.stampTimestamps(&seg)
	if !seg.Flags.Has(wire.FlagRST) {
		c.openWindow()
		seg.Window = c.advertisedWindow(seg.Flags.Has(wire.FlagSYN))
	}
	if seg.Frame != nil {
		c.blocks.spend(seg.Frame) // offered once: the driver may make its packet there
	}
	c.out = append(c.out, seg)
	c.stats.segmentsSent++
	if len(seg.Payload) > 0 {
		c.stats.dataSegmentsSent++
	}
	c.count(segmentsSent)
	if seg.Flags.Has(wire.FlagRST) {
		c.count(resetsSent)
	}
	c.pendingAck = false
	if seg.Flags.Has(wire.FlagACK) {
		c.delack.stop()
		c.unackedBytes, c.lastAcked = 0, c.rcvNxt
	}
}

// sendReset queues a RST built from another segment's numbers (RFC 9293
// §3.10.7), which carries no window and no state of ours.
func (c *Conn) sendReset(rst Segment) {
	c.out = append(c.out, rst)
	c.stats.segmentsSent++
	c.count(segmentsSent)
	c.count(resetsSent)
}

// ack queues a bare ACK <SEQ=SND.NXT><ACK=RCV.NXT>. SND.NXT here is the
// highest sequence number sent (sndMax): while retransmitting, sndNxt
// has gone back, and an ACK carrying it would fall below the peer's
// window and be refused, taking its acknowledgment with it.
func (c *Conn) ack() {
	c.emit(Segment{Seq: c.sndMax, Flags: wire.FlagACK})
}

// ackDSACK sends an ACK whose first SACK block reports dup, bytes
// received twice (D-SACK, RFC 2883 §4), if SACK is on and dup is not
// empty; a plain ACK otherwise. The block goes in this ACK alone.
func (c *Conn) ackDSACK(dup seqRange) {
	seg := Segment{Seq: c.sndMax, Flags: wire.FlagACK}
	if c.sackOK && dup.start.LessThan(dup.end) {
		seg.Options.SACK[0] = wire.SACKBlock{Left: uint32(dup.start), Right: uint32(dup.end)}
		seg.Options.NumSACK = 1
	}
	c.emit(seg)
}

// output sends what the state, the send queue and the peer's window allow,
// then a bare ACK if one is owed and nothing else carried it.
func (c *Conn) output(now time.Time) {
	if c.cc != nil && !c.cfg.NoRestartAfterIdle && c.sndUna == c.sndMax && c.lastSend != 0 && c.since(c.lastSend, now) > c.rtt.rto {
		c.cc.Restart(now) // RFC 5681 §4.1: restart after idle
		c.lastSend = c.at(now)
	}
	for c.sendOne(now) {
	}
	if c.cc != nil && !c.cc.bbr() {
		c.noteCwndUse() // cwnduse.go; BBR has no use for it
	}
	c.burstSent(now) // RACK-TLP's probe timeout (rack.go)
	if c.pendingAck {
		c.ack()
	}
	c.armCorkTimer(now) // data a cork holds back (cork.go)
	// A zero window with data waiting and no retransmission timer to
	// watch the peer: probe it, or a lost window update would deadlock
	// the connection (RFC 9293 §3.8.6.1). Data may still be outstanding
	// (after a timeout that could resend nothing, SND.NXT is back at
	// SND.UNA): the probes then stand in for its retransmissions.
	if c.sndWnd == 0 && c.state.Synchronized() &&
		c.sendSeq.Add(uint32(c.queued())).GreaterThan(c.sndNxt) && !c.rtx.running() && !c.persist.running() {
		c.persist.set(c.at(now.Add(c.rtt.rto)))
	}
}

// sendOne builds and queues the next segment, if there is one to send
// and the congestion window allows it; it reports whether it sent one.
// In fast recovery that is first a retransmission of a hole the peer has
// not acknowledged (RFC 6675 §5, RFC 6582), then new data, as much as
// PRR allows (RFC 9937 §6).
func (c *Conn) sendOne(now time.Time) bool {
	switch {
	case c.state == Closed || c.state == Listen || c.state == TimeWait:
		return false
	case c.sndUna == c.iss && c.sndNxt == c.iss:
		// Our SYN, unacknowledged: a SYN in SYN_SENT, a SYN+ACK once the
		// peer's SYN is known (SYN_RCVD, or FIN_WAIT_1 after a Close
		// there).
		c.transmit(c.synSegment(), now)
		c.sndNxt = c.iss + 1
		return true
	case c.sndUna == c.iss && !(c.closed && c.queued() == 0 && c.state == FinWait1):
		// Data waits for the handshake. A FIN alone does not: CLOSE in
		// SYN_RCVD with nothing queued sends it at once (RFC 9293
		// §3.10.4).
		return false
	}
	if c.inRecovery {
		if seg, ok := c.loss.nextRetransmission(c); ok {
			// PRR paces recovery (RFC 9937 §6); the fast retransmit, and
			// without SACK the one after a partial ACK, goes at once.
			if !c.recoveryAllows(int(seg.SeqLen())) && !c.mustResend {
				return false
			}
			if !c.pacingAllows(now) { // pacing.go
				return false
			}
			c.mustResend = false
			c.transmit(seg, now)
			c.rtxNext = seg.End()
			c.prrSent(int(seg.SeqLen()))
			return true
		}
	}
	// Skip what the peer has already SACKed (after an RTO, SND.NXT
	// goes back over it).
	for {
		end, ok := c.sb.sackedEnd(c.sndNxt)
		if !ok || end.GreaterThan(c.sndMax) {
			break
		}
		c.sndNxt = end
	}
	var seg Segment
	ok := c.fillDataSegment(&seg, c.sndNxt, c.sendSize())
	if ok && c.cc == nil {
		c.newCongestionControl() // made with the first data: an idle connection has none
	}
	if !ok {
		return false
	}
	if !c.windowAllows(int(seg.SeqLen())) {
		c.cc.use.blocked = !c.inRecovery
		return false
	}
	if c.holdSmallSegment(&seg) {
		return false
	}
	if !c.pacingAllows(now) { // pacing.go
		return false
	}
	if !c.probe(&seg, now) { // a larger segment, if a path MTU search wants one (plpmtud.go)
		return false // ... and the congestion window will soon have room for it
	}
	c.transmit(seg, now)
	c.sndNxt = seg.End()
	if c.sndNxt.GreaterThan(c.sndMax) {
		c.sndMax = c.sndNxt
	}
	if c.inRecovery {
		c.prrSent(int(seg.SeqLen())) // prr_out (RFC 9937 §6)
	}
	return true
}

// sendSize is the most new data the next segment may carry: one MSS, or
// with segmentation offload (Config.SegmentOffload) as many whole MSS as
// both windows have room for, up to the offload's limit, for the link to
// cut into MSS-sized packets; a paced connection's segments carry at
// most its send quantum, so that a segment is no burst longer than the
// pacing slack.
func (c *Conn) sendSize() int {
	mss := c.payloadMSS()
	limit := c.cfg.SegmentOffload
	if limit < 2*mss || c.inRecovery || c.effectiveMSS() != int(c.cfg.mss()) {
		return mss // in recovery PRR paces segment by segment
	}
	room := initialWindow(c.effectiveMSS()) - c.inFlight() // the first data makes the congestion control
	if c.cc != nil {
		room = c.cc.Window() - c.inFlight()
		if c.cc.pace.mode != pacingOff {
			limit = min(limit, sendQuantum(c.pacingRate(), mss))
		}
	}
	if peer := int(int32(c.sndUna.Add(c.sndWnd).Sub(c.sndNxt))); peer < room {
		room = peer
	}
	return max(min(limit, room)/mss*mss, mss)
}

// holdSmallSegment reports whether new data shorter than a full segment
// should wait while earlier data is unacknowledged: Nagle's algorithm
// (RFC 1122 §4.2.3.4) if Config.Nagle or SetNoDelay turned it on, and
// sender-side silly window syndrome avoidance (RFC 9293 §3.8.6.2.1) when
// it is the peer's window that makes the segment small. The ACK that will
// come lets it go, larger.
func (c *Conn) holdSmallSegment(seg *Segment) bool {
	n, mss := len(seg.Payload), c.payloadMSS()
	if n >= mss || n == 0 || seg.Seq.LessThan(c.sndMax) {
		return false // full, a bare FIN, or a retransmission
	}
	if c.opts != nil && c.holdCorked(seg) {
		return true // TCP_CORK or MSG_MORE (cork.go)
	}
	if c.sndUna == c.sndMax {
		return false // nothing in flight
	}
	if seg.Flags.Has(wire.FlagFIN) {
		return false // the end of the stream goes at once
	}
	unsent := c.queued() - int(seg.Seq.Sub(c.sendSeq))
	if unsent > n && int(c.sndUna.Add(c.sndWnd).Sub(seg.Seq)) == n && n < int(c.maxSndWnd/2) {
		return true // the peer's window cut it short: wait for it to open (SWS)
	}
	return !c.noDelay && unsent <= n // Nagle: a tail shorter than a segment
}

// synSegment builds our SYN or SYN+ACK with its options.
func (c *Conn) synSegment() Segment {
	seg := Segment{Seq: c.iss, Flags: wire.FlagSYN}
	if c.state != SynSent {
		seg.Flags |= wire.FlagACK
	}
	seg.Options.MSS, seg.Options.HasMSS = c.cfg.mss(), true
	if c.state == SynSent && offersWindowScale(c.rcvBufCeiling()) || c.state != SynSent && c.scaling {
		seg.Options.WindowScale, seg.Options.HasWindowScale = windowShift(c.rcvBufCeiling()), true
	}
	if c.state == SynSent && c.cfg.sack() || c.state != SynSent && c.sackOK {
		seg.Options.SACKPermitted = true
	}
	return seg
}

// transmit queues seg, which starts at or below SND.MAX, keeping the
// counters, the RTT measurement and the retransmission timer.
func (c *Conn) transmit(seg Segment, now time.Time) {
	at := c.at(now)
	flight := c.rateInFlight() // before seg, for the delivery-rate sampler's copies (rate.go)
	retransmission := seg.Seq.LessThan(c.sndMax)
	if retransmission {
		c.stats.retransmissions++
		c.stats.bytesRetransmitted += uint64(len(seg.Payload))
		c.count(retransmissions)
		c.probeResent(&seg, now)
		c.rtt.resent(seg.Seq) // Karn's algorithm: no sample from a retransmission
		c.undoResent(&seg)    // counted, should fast recovery prove spurious (undo.go)
	} else {
		c.stats.bytesSent += uint64(len(seg.Payload))
		c.rtt.sent(seg.End(), at)
	}
	c.emit(seg)
	if seg.End().GreaterThan(c.sndMax) {
		c.sndMax = seg.End()
	}
	if !c.rtx.running() {
		c.rtx.set(c.at(now.Add(c.rtt.rto)))
	}
	c.persist.stop()
	if c.sndWnd > 0 {
		c.probes = 0 // the window is open: probing is over
	}
	// RACK-TLP records the transmission, at an instant of its own
	// (RFC 8985 §6.2); the other loss recoveries need no record.
	syn := seg.Flags.Has(wire.FlagSYN)
	c.lastSend = c.loss.sent(c, seg.Seq, seg.End(), syn, retransmission, at)
	c.rateSent(seg.Seq, seg.End(), syn, flight, c.lastSend, now)
	c.pacingSent(int(seg.SeqLen()), c.lastSend)
}

// dataSegment builds the data and/or FIN segment starting at seq, within
// the peer's window and carrying at most size bytes (the payload MSS but
// for a path MTU probe).
func (c *Conn) dataSegment(seq Seq, size int) (Segment, bool) {
	var seg Segment
	ok := c.fillDataSegment(&seg, seq, size)
	return seg, ok
}

// fillDataSegment is dataSegment writing into seg, which must be zero:
// the data path's segment is built in place, not copied out of a result.
func (c *Conn) fillDataSegment(seg *Segment, seq Seq, size int) bool {
	off := int(seq.Sub(c.sendSeq))
	if off < 0 || off > c.queued() {
		// seq is at the FIN or past it.
		off = c.queued()
	}
	unsent := c.queued() - off
	window := int(c.sndUna.Add(c.sndWnd).Sub(seq))
	if c.sndUna.Add(c.sndWnd).LessThan(seq) {
		window = 0
	}
	payload, frame := c.peekQueued(off, min(unsent, window, size))
	n := len(payload)
	finHere := c.closed && seq.Add(uint32(n)) == c.finSeq && seq.LessThanEq(c.finSeq)
	if n == 0 && !finHere {
		return false
	}
	seg.Seq, seg.Flags, seg.Payload, seg.Frame = seq, wire.FlagACK, payload, frame
	if n > 0 && (off+n == c.queued() && c.pushAtEnd() || c.push.covers(seq, seq.Add(uint32(n)), c.sendSeq)) { // the last byte of a write
		seg.Flags |= wire.FlagPSH
	}
	if finHere {
		seg.Flags |= wire.FlagFIN
	}
	return true
}

// maybeWindowUpdate sends a window update after Read freed buffer space,
// when the window last advertised was under half the buffer and the right
// edge can now move (RFC 9293 §3.8.6.2.2): a sender held back by a small
// window learns at once that it may go on.
func (c *Conn) maybeWindowUpdate(now time.Time) {
	switch c.state {
	case Established, FinWait1, FinWait2:
	default:
		return
	}
	before := c.rcvRight
	c.openWindow()
	if c.rcvRight != before && before.Sub(c.rcvNxt) < uint32(c.rcvBufSize()/2) {
		c.ack()
	}
}
