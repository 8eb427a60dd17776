package tcp

// Proportional Rate Reduction (RFC 9937, which obsoletes RFC 6937), as
// Linux runs it by default: how much fast recovery sends on each ACK.
//
// RFC 6675 §5 drops the window to ssthresh at once, so recovery first
// sends nothing until the pipe falls below ssthresh, then sends all it
// may at once; and when more is lost than the reduction, it can send a
// window's worth in a burst. PRR (§3) spreads the reduction over the
// round trip: while the pipe is above ssthresh, the data sent follows
// the data delivered in the ratio ssthresh/RecoverFS (about one segment
// for every two delivered with NewReno's halving, seven for every ten
// with CUBIC's β); once the pipe has fallen below ssthresh, it grows back
// towards ssthresh by what the ACKs deliver (the conservative reduction
// bound, PRR-CRB), and by one segment more on an ACK that advances
// SND.UNA without a sign of further loss (a SafeACK: the slow start
// reduction bound, PRR-SSRB), as RFC 9937 §6 chooses between them.
// Recovery ends, as without PRR, with the window at ssthresh.
//
// The delivered data of an ACK is noted as it is taken (noteDelivered,
// from the loss recovery's delivered and duplicateAck) and counted by the
// first send decision after it (prrUpdate), when the ACK's SACK blocks,
// cumulative ACK and RACK's verdicts have all reached the pipe. The
// state lives in a small struct made at a connection's first recovery
// and kept for the next.

// prrState is a fast recovery's PRR state (RFC 9937 §6).
type prrState struct {
	delivered int // prr_delivered: bytes delivered to the peer since recovery began
	out       int // prr_out: bytes sent since recovery began
	recoverFS int // RecoverFS: the pipe when recovery began
	// safe: the ACK last taken advanced SND.UNA, and neither its SACK
	// blocks nor RACK deemed more lost (a SafeACK, RFC 9937 §6).
	safe bool
	// wnd is the pipe as of the last ACK counted plus that ACK's sndcnt:
	// sending stops when the pipe would pass it. Kept as a window, as
	// Linux keeps it (cwnd = in flight + sndcnt), rather than as sndcnt
	// less what was sent since, so that segments RACK's timer deems lost
	// between ACKs leave the pipe and let their retransmissions out.
	wnd int
	// undo is what the recovery keeps to be undone if it proves
	// spurious (undo.go).
	undo recoveryUndo
}

// prrStart begins PRR as fast recovery starts (RFC 9937 §6, "At the
// beginning of recovery"), after the congestion response: ssthresh is
// the congestion control's window from now on, and RecoverFS the pipe
// (RFC 6937 took the FlightSize, which counts what was SACKed).
func (c *Conn) prrStart() {
	if c.prr == nil {
		c.prr = new(prrState)
	}
	*c.prr = prrState{recoverFS: max(c.pipe(), 1)}
}

// noteDelivered adds an acceptable ACK's DeliveredData (RFC 9937 §6),
// dd, to what the next send decision counts; the loss recovery's
// delivered reckons dd. Outside recovery only the ACK at hand counts (it
// may be the one that starts recovery).
func (c *Conn) noteDelivered(ack Seq, dd int) {
	if !c.inRecovery {
		c.prrDD = 0
	}
	if c.prr != nil {
		// A SafeACK until a loss is found (sackRecovery.delivered, rackState.detect).
		c.prr.safe = ack.GreaterThan(c.sndUna)
	}
	c.addDelivered(dd)
}

// addDelivered adds n bytes to the delivered data not yet counted.
func (c *Conn) addDelivered(n int) {
	c.prrDD = int32(min(int(c.prrDD)+n, 1<<30))
}

// prrUpdate counts the data delivered since the last update, if any
// (RFC 9937 §6, "On every ACK during recovery"), and sets what may be
// sent for it: sndcnt bytes beyond the pipe as it is now.
func (c *Conn) prrUpdate() {
	dd := int(c.prrDD)
	if dd <= 0 {
		return // nothing delivered: what may be sent stands (as in Linux's tcp_cwnd_reduction)
	}
	c.prrDD = 0
	p := c.prr
	p.delivered += dd
	ssthresh, pipe, mss := c.cc.Window(), c.pipe(), c.effectiveMSS()
	var sndcnt int
	if pipe > ssthresh {
		// Proportional Rate Reduction: sndcnt = CEIL(prr_delivered *
		// ssthresh / RecoverFS) - prr_out.
		sndcnt = int((int64(p.delivered)*int64(ssthresh)+int64(p.recoverFS)-1)/int64(p.recoverFS)) - p.out
	} else {
		// Catch up towards ssthresh by what was delivered (PRR-CRB),
		// and one segment more on a SafeACK (PRR-SSRB).
		limit := max(p.delivered-p.out, dd)
		if p.safe {
			limit += mss
		}
		sndcnt = min(ssthresh-pipe, limit)
	}
	sndcnt = max(sndcnt, 0)
	if p.out == 0 {
		// Nothing sent yet in this recovery: the fast retransmit goes
		// whatever the count (RFC 9937 §6, as Linux's "force a fast
		// retransmit upon entering fast recovery").
		sndcnt = max(sndcnt, mss)
	}
	p.wnd = pipe + sndcnt
}

// prrAllows reports whether PRR lets n more bytes out now: within the
// sndcnt of the ACKs counted, or anything when nothing is in the pipe
// (else no ACK would come to let more out, and the retransmission timer
// would have to).
func (c *Conn) prrAllows(n int) bool {
	c.prrUpdate()
	pipe := c.pipe()
	return pipe == 0 || pipe+n <= c.prr.wnd
}

// prrSent counts n bytes sent in recovery (RFC 9937 §6, "On any data
// transmission or retransmission": prr_out += data sent).
func (c *Conn) prrSent(n int) { c.prr.out += n }
