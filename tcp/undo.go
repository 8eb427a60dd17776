package tcp

// Undo of a spurious fast recovery, as Linux undoes one
// (tcp_try_undo_dsack, tcp_try_undo_partial, tcp_try_undo_recovery).
// A segment that was only delayed or reordered, not lost, starts fast
// recovery all the same; once the sender learns that the original
// arrived, the congestion response was for nothing, and it is taken
// back (UndoableCongestionControl.Undo). Two signs tell:
//
//   - D-SACK (RFC 3708 §3): the peer reports, as a duplicate, each
//     retransmission of the recovery. Each D-SACK block above the
//     recovery's start counts its segments off the retransmissions made;
//     when none is left, every one was needless. The D-SACKs may come
//     after the recovery has ended (Linux waits for them as well).
//   - Timestamps (RFC 3522, Eifel): the first ACK that acknowledges the
//     recovery's first retransmission echoes a TSval older than the
//     retransmission's, so it was sent for the original. This is relied
//     upon only when that retransmission was of SND.UNA (as a fast
//     retransmit's is; RACK may resend a later segment first, whose ACK
//     an earlier, delayed one may trigger) and the only one so far: with
//     more, the ACK's echo does not say which of them were needed.
//
// An undo ends the recovery if it is still under way; a retransmission
// timeout, or another congestion response (a tail loss probe's), ends
// the chance of one. Left out: Linux's growth of the reordering degree
// on an undo, and its undo of a timeout's response by D-SACK.

// recoveryUndo is what a fast recovery keeps to be undone later. It
// lives in the PRR state (made at a connection's first recovery), so a
// connection that never recovers holds none.
type recoveryUndo struct {
	marker  Seq    // SND.UNA when the recovery began: D-SACKs at or below it are of older data
	first   Seq    // where the first retransmission ends, when tsval is set
	retrans int32  // retransmitted segments of the recovery no D-SACK has reported yet
	sent    int32  // retransmissions the recovery made
	tsval   uint32 // TSval of the first retransmission, if it was of SND.UNA; 0: none, or checked
	ok      bool   // the recovery's congestion response may still be undone
}

// undoStart opens the recovery's undo as fast recovery begins with a
// congestion response (after prrStart, which made the PRR state).
func (c *Conn) undoStart() { c.prr.undo = recoveryUndo{marker: c.sndUna, ok: true} }

// undoForget ends the chance of undoing the last recovery: a
// retransmission timeout, or a congestion response of its own, came
// after it, and the congestion control's state before the recovery is
// no longer the one to go back to.
func (c *Conn) undoForget() {
	if c.prr != nil {
		c.prr.undo.ok = false
	}
}

// undoResent counts a retransmission of fast recovery, and notes the
// TSval of the first if it was of SND.UNA (timestamps were stamped with
// c.tsVal).
func (c *Conn) undoResent(seg *Segment) {
	if !c.inRecovery || c.prr == nil || !c.prr.undo.ok {
		return
	}
	u := &c.prr.undo
	u.retrans++
	u.sent++
	if u.sent == 1 && c.tsOK && seg.Seq == c.sndUna {
		u.tsval, u.first = c.tsVal, seg.End()
	}
}

// undoDSACK takes a D-SACK block [start, end) of an acceptable ACK
// (RFC 2883): a retransmission of the recovery, if it lies above the
// recovery's start, which the peer received twice. When every
// retransmission has been reported so, the recovery was spurious
// (RFC 3708 §3).
func (c *Conn) undoDSACK(start, end Seq) {
	if c.prr == nil || !c.prr.undo.ok || c.prr.undo.retrans <= 0 || !end.GreaterThan(c.prr.undo.marker) {
		return
	}
	u := &c.prr.undo
	mss := c.effectiveMSS()
	u.retrans -= int32(max((int(end.Sub(start))+mss-1)/mss, 1))
	if u.retrans <= 0 {
		c.undoRecovery()
	}
}

// undoEifel runs the Eifel detection (RFC 3522) for fast recovery on an
// ACK that advanced SND.UNA: the first that covers the recovery's first
// retransmission tells, by the TSval it echoes, whether the original
// arrived before the retransmission did.
func (c *Conn) undoEifel(seg *Segment) {
	if c.prr == nil || !c.prr.undo.ok || c.prr.undo.tsval == 0 || c.sndUna.LessThan(c.prr.undo.first) {
		return
	}
	u := &c.prr.undo
	sent := u.tsval
	u.tsval = 0 // one ACK decides
	if u.sent == 1 && seg.Options.HasTimestamps && int32(seg.Options.TSEcr-sent) < 0 {
		c.undoRecovery()
	}
}

// undoRecovery takes back the congestion response of a recovery found
// spurious (RFC 3708 §5: the window and ssthresh as before it), and ends
// the recovery if it is still under way: what it would resend has
// arrived. A loss found later starts a recovery of its own.
func (c *Conn) undoRecovery() {
	c.prr.undo.ok = false
	c.cc.Undo()
	if c.inRecovery {
		c.inRecovery, c.dupAcks, c.mustResend = false, 0, false
		c.recoverSeq = c.sndUna
	}
}
