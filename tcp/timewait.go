package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// TimeWaitRecord is what a host needs to keep of a connection in TIME_WAIT: a
// few sequence numbers and a deadline instead of a whole control block,
// so that thousands of recently closed connections cost little. Take it
// with Conn.TimeWaitRecord once the Conn has entered TIME_WAIT, then discard
// the Conn's part in the connection table and feed arriving segments to
// TimeWaitRecord.Input. A Conn in TIME_WAIT hands its own segments to
// such a record, so the two answer alike by construction (RFC 9293
// §3.10.7.4):
//
//   - a retransmitted FIN is ACKed again, every time, and restarts the
//     2×MSL wait (eighth: our final ACK was lost);
//   - a RST is dropped, in the window or not (RFC 1337);
//   - a SYN beyond the old sequence space may reopen the pair (the note
//     of §3.10.7.4, RFC 6191);
//   - the peer's FIN closed its sequence space, so the receive window is
//     0: only an empty segment at RCV.NXT is acceptable (the table of
//     §3.10.7.4, and Linux's tcp_timewait_state_process), and dropped
//     in silence if it acknowledges nothing we did not send (fifth);
//   - anything else is unacceptable and answered with an ACK (first;
//     RFC 5961 §4, §5.2), at most one per 500 ms for the pair (RFC 5961
//     §7, Linux's tcp_invalid_ratelimit): forged segments sent to a
//     closed pair cannot make it an ACK reflector.
type TimeWaitRecord struct {
	SndNxt, RcvNxt Seq
	Window         uint16        // the window field of our ACKs
	Wait           time.Duration // 2×MSL
	Expires        time.Time

	cfg     *Config    // for its Counters and the host's budget of challenge ACKs
	epoch   time.Time  // the connection's: origin of its TSval clock and of replies' times
	minAck  Seq        // SND.UNA - MAX.SND.WND: older acknowledgments are unacceptable (RFC 5961 §5.2)
	replies replyLimit // the connection's, carried on

	// Timestamps, if the connection used them (RFC 7323): our ACKs keep
	// carrying them, or the peer's PAWS would drop them.
	tsOK     bool
	tsOrigin uint32
	tsRecent uint32
}

// TimeWaitRecord returns the connection's TIME_WAIT record. It is meaningful
// only in TIME_WAIT.
func (c *Conn) TimeWaitRecord() TimeWaitRecord {
	c.openWindow()
	return TimeWaitRecord{
		SndNxt:   c.sndMax,
		RcvNxt:   c.rcvNxt,
		Window:   c.advertisedWindow(false),
		Wait:     2 * c.cfg.msl(),
		Expires:  c.time(c.timeWait.at),
		cfg:      c.cfg,
		epoch:    c.epoch,
		minAck:   c.sndUna - Seq(c.maxSndWnd),
		replies:  c.replies,
		tsOK:     c.tsOK,
		tsOrigin: uint32(c.iss),
		tsRecent: c.tsRecent,
	}
}

// TimeWaitAction says what to do with a segment that arrived for a pair
// in TIME_WAIT.
type TimeWaitAction uint8

// What TimeWaitRecord.Input asks of its caller.
const (
	TimeWaitDrop  TimeWaitAction = iota // nothing to send
	TimeWaitReply                       // send the reply segment
	TimeWaitReuse                       // a new connection: open it with ISS ReuseISS, from the SYN
)

// Input handles one segment for the pair, in the order of RFC 9293
// §3.10.7.4 (see TimeWaitRecord). Expires moves when a retransmitted FIN
// restarts the wait.
func (t *TimeWaitRecord) Input(seg *Segment, now time.Time) (TimeWaitAction, Segment) {
	cfg := t.config()
	f := seg.Flags
	switch {
	case f.Has(wire.FlagRST):
		return TimeWaitDrop, Segment{} // RFC 1337
	case t.reusableBy(seg):
		return TimeWaitReuse, Segment{} // RFC 9293 §3.10.7.4 note, RFC 6191
	case t.pawsReject(seg):
		cfg.count(outOfWindow) // RFC 7323 §5.3
		return t.reply(t.replies.allow(now.Sub(t.epoch), cfg), now)
	case f.Has(wire.FlagFIN) && seg.End() == t.RcvNxt:
		// The peer's FIN again: our final ACK was lost. It is ACKed
		// whatever the limit, as only the peer knows the sequence number
		// (and as Linux's tcp_oow_rate_limited spares segments with
		// data or FIN); the wait starts again (eighth).
		t.Expires = now.Add(t.Wait)
		return t.reply(true, now)
	case !acceptable(seg.Seq, seg.SeqLen(), t.RcvNxt, 0):
		cfg.count(outOfWindow)
		return t.reply(t.replies.allow(now.Sub(t.epoch), cfg), now)
	case !f.Has(wire.FlagACK):
		return TimeWaitDrop, Segment{} // fifth: no ACK, no use
	case !ackAcceptable(seg.Ack, t.minAck, t.SndNxt):
		return t.reply(t.replies.allowChallenge(now.Sub(t.epoch), now, cfg), now)
	}
	if t.tsOK && seg.Options.HasTimestamps && int32(seg.Options.TSVal-t.tsRecent) >= 0 {
		t.tsRecent = seg.Options.TSVal // RFC 7323 §4.3: it covers our last ACK, RCV.NXT
	}
	return TimeWaitDrop, Segment{}
}

// config is the Config the record's connection used.
func (t *TimeWaitRecord) config() *Config {
	if t.cfg == nil {
		return &defaultConfig
	}
	return t.cfg
}

// reusableBy reports whether seg is a SYN that may open a new
// incarnation of the pair (RFC 6191 §2, as Linux's
// tcp_timewait_state_process): one that PAWS does not reject, and whose
// timestamp is newer than TS.Recent or whose sequence number is beyond
// RCV.NXT, so that no segment of the old incarnation can be taken for
// one of the new.
func (t *TimeWaitRecord) reusableBy(seg *Segment) bool {
	f := seg.Flags
	if !f.Has(wire.FlagSYN) || f.Has(wire.FlagACK) || t.pawsReject(seg) {
		return false
	}
	newerTS := t.tsOK && seg.Options.HasTimestamps && int32(seg.Options.TSVal-t.tsRecent) > 0
	return newerTS || seg.Seq.GreaterThan(t.RcvNxt)
}

// pawsReject is the PAWS test (RFC 7323 §5.3 R1), as Conn.pawsReject.
func (t *TimeWaitRecord) pawsReject(seg *Segment) bool {
	return t.tsOK && seg.Options.HasTimestamps && int32(seg.Options.TSVal-t.tsRecent) < 0
}

// reply returns our ACK <SEQ=SND.NXT><ACK=RCV.NXT>, if send allows it.
func (t *TimeWaitRecord) reply(send bool, now time.Time) (TimeWaitAction, Segment) {
	if !send {
		return TimeWaitDrop, Segment{}
	}
	ack := Segment{Seq: t.SndNxt, Ack: t.RcvNxt, Flags: wire.FlagACK, Window: t.Window}
	if t.tsOK {
		ack.Options.HasTimestamps = true
		ack.Options.TSVal = t.tsOrigin + uint32(now.Sub(t.epoch)/time.Millisecond)
		ack.Options.TSEcr = t.tsRecent
	}
	return TimeWaitReply, ack
}

// ReuseISS is the initial sequence number for a connection that reopens
// the pair: 2^17 beyond the old one's, so that the two sequence spaces
// cannot be confused, as Conn does when it reopens itself.
func (t *TimeWaitRecord) ReuseISS() Seq { return t.SndNxt + 1<<17 }

// inputTimeWait handles a segment in TIME_WAIT: the Conn hands it to its
// TIME_WAIT record, the one a stack keeps in the Conn's place, so that
// the two cannot answer differently, and takes back what it changed.
func (c *Conn) inputTimeWait(seg *Segment, now time.Time) {
	tw := c.TimeWaitRecord()
	action, reply := tw.Input(seg, now)
	switch action {
	case TimeWaitReuse:
		c.reopen(seg, tw.ReuseISS(), now)
		return
	case TimeWaitReply:
		c.out = append(c.out, reply)
		c.stats.segmentsSent++
		c.count(segmentsSent)
	}
	c.timeWait.set(c.at(tw.Expires))
	c.replies, c.tsRecent = tw.replies, tw.tsRecent
}

// reopen accepts a new SYN on a pair in TIME_WAIT whose sequence number
// lies beyond everything the old connection used (RFC 9293 §3.10.7.4
// note, RFC 1122 §4.2.2.13, RFC 6191): the control block goes to
// SYN_RCVD with ISS iss, 2^17 above the old SND.NXT, so the two
// connections' sequence spaces cannot be confused.
func (c *Conn) reopen(seg *Segment, iss Seq, now time.Time) {
	*c = Conn{cfg: c.cfg, observer: c.observer, state: c.state, passive: true, iss: iss, stats: c.stats, out: c.out}
	c.learnPeer(seg)
	c.openSend(iss)
	c.setState(SynReceived)
	c.output(now)
}

// Decline answers a SYN for which Input returned TimeWaitReuse but that
// no listener took: the pair stays in TIME_WAIT, and the SYN is answered
// as Input answers a segment it does not accept, with an ACK, not a RST
// (RFC 6191 §2, RFC 9293 §3.10.7.4), under the pair's limit on such
// replies.
func (t *TimeWaitRecord) Decline(now time.Time) (TimeWaitAction, Segment) {
	return t.reply(t.replies.allow(now.Sub(t.epoch), t.config()), now)
}
