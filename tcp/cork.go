package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// options are the per-connection settings few connections use, the
// socket options TCP_CORK, MSG_MORE, TCP_USER_TIMEOUT, TCP_LINGER2 and
// TCP_DEFER_ACCEPT stand for. They sit behind a pointer that stays nil
// until one is set, so that an ordinary Conn keeps its size class
// (size_test.go).
type options struct {
	// userTimeout bounds how long data may stay unacknowledged
	// (RFC 5482, SetUserTimeout); rtxStart is when the current run of
	// retransmission timeouts began.
	userTimeout time.Duration
	rtxStart    instant
	// finWait2 overrides Config.FinWait2Timeout (SetFinWait2Timeout).
	finWait2 time.Duration
	// deferRounds is how many SYN+ACK timeouts a bare ACK completing
	// the handshake is dropped for (SetDeferAccept); deferAcked says one
	// came.
	deferRounds uint8
	deferAcked  bool
	// cork holds a partial segment back (SetCork); more does so for the
	// output of one write (WriteMore), and moreTail says the queue ends
	// with such a write (no PSH); flush lets the cork timer's one
	// segment go.
	cork, more, moreTail, flush bool
}

// opt returns the connection's options, made on first use.
func (c *Conn) opt() *options {
	if c.opts == nil {
		c.opts = new(options)
	}
	return c.opts
}

// SetCork corks (true) or uncorks (false) the connection, as Linux's
// TCP_CORK: while corked, new data shorter than a full segment is held
// back, so that small writes go out together, until the cork is taken
// off, the data fills a segment, a FIN follows it, or the connection has
// had nothing in flight for one RTO. That last bound is Linux's: its
// zero-window probe timer, armed when data waits with nothing in flight,
// sends one segment of it when it fires (tcp(7) calls it a 200 ms
// ceiling, the least RTO). Uncorking sends what waits, subject to
// Nagle's algorithm if it is on.
func (c *Conn) SetCork(on bool, now time.Time) {
	c.tick(now)
	if !on && c.opts == nil {
		return
	}
	c.opt().cork = on
	c.output(now)
}

// Corked reports whether SetCork corked the connection.
func (c *Conn) Corked() bool { return c.opts != nil && c.opts.cork }

// WriteMore is Write for data that more will follow, as send with
// Linux's MSG_MORE: a partial segment at the end of the queue is held
// back as a cork holds it (see SetCork), but only for this call's
// output; what comes next (a Write, an ACK, the cork timer) sends it by
// the usual rules. Its data carries no PSH, for the write has not ended
// (RFC 9293 §3.9.1: PUSH is the application's to give), until a Write
// ends it or the cork timer sends it (which sets PSH, as Linux's
// tcp_write_wakeup does).
func (c *Conn) WriteMore(p []byte, now time.Time) (int, error) {
	o := c.opt()
	o.more = true
	defer func() { o.more = false }()
	return c.Write(p, now)
}

// wroteMore notes whether the write being queued has more to follow.
func (c *Conn) wroteMore() {
	if o := c.opts; o != nil {
		o.moreTail = o.more
	}
}

// corked reports whether a partial segment of new data is to be held
// back now: a cork or a write with more to follow, unless the cork
// timer is letting one go.
func (c *Conn) corked() bool {
	o := c.opts
	return o != nil && (o.cork || o.more) && !o.flush
}

// armCorkTimer starts the persist timer when a cork holds data back and
// nothing is in flight: no ACK will come to send it, and the data must
// not wait forever (nor a connection owing data be left without a
// timer: invariants.go).
func (c *Conn) armCorkTimer(now time.Time) {
	if !c.corked() || !c.state.Synchronized() || c.sndWnd == 0 || c.rtx.running() || c.persist.running() {
		return
	}
	if c.sendSeq.Add(uint32(c.queued())).GreaterThan(c.sndNxt) {
		c.persist.set(c.at(now.Add(c.rtt.rto)))
	}
}

// flushCorked is the persist timer's expiry while the window is open:
// the data a cork held back goes, one segment, with PSH, as Linux's
// tcp_write_wakeup sends it.
func (c *Conn) flushCorked(now time.Time) {
	if c.opts == nil {
		return
	}
	c.opts.flush = true
	c.output(now)
	c.opts.flush = false
}

// holdCorked reports whether seg, new data shorter than a segment and
// not ending the stream, waits for a cork (see SetCork).
func (c *Conn) holdCorked(seg *Segment) bool {
	return c.corked() && !seg.Flags.Has(wire.FlagFIN)
}

// pushAtEnd reports whether a segment reaching the end of the send
// queue carries PSH: not while a write with more to follow is sent.
func (c *Conn) pushAtEnd() bool {
	o := c.opts
	return o == nil || !o.moreTail || o.flush
}

// SetUserTimeout sets TCP's user timeout for this connection (RFC 5482,
// RFC 9293 §3.8.3, Linux's TCP_USER_TIMEOUT): once data has stayed
// unacknowledged for d, the connection is abandoned with ErrTimedOut,
// whatever Config.Retries or SynRetries say. As in Linux, d counts from
// the first retransmission of data (which has by then waited an RTO
// more) but from the SYN itself in SYN_SENT, a
// retransmission timeout that would fire after d has passed is brought
// forward to that instant, and a passive SYN_RCVD keeps SynAckRetries.
// Zero turns it off. Zero-window probes and keepalive keep their own
// limits.
func (c *Conn) SetUserTimeout(d time.Duration) {
	if d <= 0 && c.opts == nil {
		return
	}
	c.opt().userTimeout = max(d, 0)
}

// UserTimeout returns what SetUserTimeout set, or 0.
func (c *Conn) UserTimeout() time.Duration {
	if c.opts == nil {
		return 0
	}
	return c.opts.userTimeout
}

// userTimedOut is called at each expiry of the retransmission timer:
// it reports whether the user timeout has passed. The first expiry of a
// run starts the count (in SYN_SENT, the SYN did), as Linux's
// retrans_stamp does.
func (c *Conn) userTimedOut(now time.Time) bool {
	o := c.opts
	if o == nil || o.userTimeout == 0 || c.state == SynReceived {
		return false
	}
	if c.retries == 0 {
		o.rtxStart = c.at(now)
		if c.state == SynSent {
			o.rtxStart = c.at(now.Add(-c.rtt.rto)) // from the SYN itself, as Linux's tcp_connect stamps it
		}
		return false
	}
	return c.since(o.rtxStart, now) >= o.userTimeout
}

// retryLimit is limit, the retransmissions allowed, unless a user
// timeout decides instead (RFC 5482 §3) or a deferred accept extends
// a SYN+ACK's.
func (c *Conn) retryLimit(limit int) int {
	o := c.opts
	switch {
	case o == nil:
		return limit
	case o.userTimeout > 0 && c.state != SynReceived:
		return int(^uint32(0) >> 1)
	case o.deferAcked && c.state == SynReceived:
		return max(limit, int(o.deferRounds))
	}
	return limit
}

// clampToUserTimeout brings the retransmission timer forward to the
// instant the user timeout ends, if it would fire later.
func (c *Conn) clampToUserTimeout(now time.Time) {
	o := c.opts
	if o == nil || o.userTimeout == 0 || c.retries == 0 || !c.rtx.running() || c.state == SynReceived {
		return
	}
	end := max(o.rtxStart+instant(o.userTimeout), c.at(now))
	if c.rtx.at > end {
		c.rtx.set(end)
	}
}

// SetFinWait2Timeout sets how long this connection, once orphaned,
// waits in FIN_WAIT_2 for the peer's FIN, overriding
// Config.FinWait2Timeout, as Linux's TCP_LINGER2 does; zero goes back to
// the Config's. Negative, an orphan does not wait: reaching FIN_WAIT_2
// (the ACK of its FIN) it answers that ACK with a RST, or, orphaned
// there, sends <SEQ=SND.NXT><CTL=RST,ACK>, and is closed with
// ErrConnectionAborted, as Linux does with TCP_LINGER2 -1. A timer
// already running keeps its deadline.
func (c *Conn) SetFinWait2Timeout(d time.Duration) {
	if d == 0 && c.opts == nil {
		return
	}
	c.opt().finWait2 = max(d, -1)
}

// finWait2Reset ends an orphan in FIN_WAIT_2 if TCP_LINGER2 was set
// negative (see SetFinWait2Timeout), with a RST that carries an ACK if
// the connection was orphaned there (Linux's tcp_close) and none if it
// answers the ACK that brought it there (Linux's reply to that
// segment); it reports whether it did.
func (c *Conn) finWait2Reset(orphaned bool) bool {
	if c.opts == nil || c.opts.finWait2 >= 0 || !c.orphan || c.state != FinWait2 {
		return false
	}
	if orphaned {
		c.emit(Segment{Seq: c.sndMax, Flags: wire.FlagRST | wire.FlagACK})
	} else {
		c.sendReset(Segment{Seq: c.sndMax, Flags: wire.FlagRST})
	}
	c.enterClosed(ErrConnectionAborted, 0)
	return true
}

// finWait2Timeout is how long an orphan waits in FIN_WAIT_2.
func (c *Conn) finWait2Timeout() time.Duration {
	if c.opts != nil && c.opts.finWait2 > 0 {
		return c.opts.finWait2
	}
	return orDefault(c.cfg.FinWait2Timeout, DefaultFinWait2Timeout)
}

// SetDeferAccept makes a passive open wait for the peer's data, as
// Linux's TCP_DEFER_ACCEPT does on a listener, before the connection is
// established: in SYN_RCVD, an ACK of our SYN that carries no data and
// no FIN is dropped (noted, not answered) until d has passed, counted in
// SYN+ACK retransmission timeouts as Linux counts it (the first after
// InitialRTO, each next twice as long, at most MaxRTO: the number of
// them that first adds up to d). Meanwhile the SYN+ACK is not resent,
// but for the last timeout, whose SYN+ACK gives the peer a last chance
// to send data or to ACK again; an ACK after it establishes the
// connection. The handshake expires after max(SynAckRetries, those
// timeouts). Data (or a FIN) establishes it at once. Zero turns it off.
// Set it before the SYN arrives, as on a listener.
func (c *Conn) SetDeferAccept(d time.Duration) {
	if d <= 0 && c.opts == nil {
		return
	}
	c.opt().deferRounds = DeferAcceptRounds(d, c.cfg.initialRTO(), c.cfg.maxRTO())
}

// DeferAcceptRounds is Linux's secs_to_retrans: how many SYN+ACK
// timeouts, the first initial and each next doubled up to limit, first
// add up to d, a TCP_DEFER_ACCEPT time (at most 255).
func DeferAcceptRounds(d, initial, limit time.Duration) uint8 {
	if d <= 0 {
		return 0
	}
	n, timeout, period := uint8(1), initial, initial
	for d > period && n < 255 {
		n++
		timeout = min(2*timeout, limit)
		period += timeout
	}
	return n
}

// deferBareAck reports whether seg, in SYN_RCVD, is a bare ACK of our
// SYN that a deferred accept drops (see SetDeferAccept).
func (c *Conn) deferBareAck(seg *Segment) bool {
	o := c.opts
	if o == nil || o.deferRounds == 0 || c.state != SynReceived || !c.passive ||
		seg.Flags != wire.FlagACK || len(seg.Payload) != 0 || seg.Ack != c.iss+1 || seg.Seq != c.irs+1 ||
		int(c.retries) >= int(o.deferRounds) {
		return false
	}
	o.deferAcked = true
	return true
}

// deferSynAck is the retransmission timer's expiry in SYN_RCVD once a
// deferred accept dropped the peer's ACK: it reports whether the SYN+ACK
// is not to be resent this time (all timeouts but the last), backing
// the timer off all the same, as Linux's request timer does.
func (c *Conn) deferSynAck(now time.Time) bool {
	o := c.opts
	if o == nil || !o.deferAcked || c.state != SynReceived || int(c.retries) >= int(o.deferRounds)-1 {
		return false
	}
	c.retries++
	c.rtt.backoff(c.cfg.rtoBounds())
	c.rtx.set(c.at(now.Add(c.rtt.rto)))
	return true
}
