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
// TimeWaitRecord.Input. Its behaviour is the Conn's in TIME_WAIT (RFC 9293
// §3.10.7.4): a retransmitted FIN is ACKed again and restarts the 2×MSL
// wait, a RST is ignored (RFC 1337), other unacceptable segments are
// ACKed, and a new SYN beyond the old sequence space may reopen the pair.
type TimeWaitRecord struct {
	SndNxt, RcvNxt Seq
	Window         uint16        // the window field of our ACKs
	Wait           time.Duration // 2×MSL
	Expires        time.Time

	// Timestamps, if the connection used them (RFC 7323): our ACKs keep
	// carrying them, or the peer's PAWS would drop them.
	tsOK     bool
	tsBase   time.Time
	tsOrigin uint32
	tsRecent uint32
}

// TimeWaitRecord returns the connection's TIME_WAIT record. It is meaningful
// only in TIME_WAIT.
func (c *Conn) TimeWaitRecord() TimeWaitRecord {
	return TimeWaitRecord{
		SndNxt:   c.sndMax,
		RcvNxt:   c.rcvNxt,
		Window:   c.advertisedWindow(false),
		Wait:     2 * c.cfg.msl(),
		Expires:  c.time(c.timeWait.at),
		tsOK:     c.tsOK,
		tsBase:   c.epoch,
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

// Input handles one segment for the pair. Expires moves when a
// retransmitted FIN restarts the wait.
func (t *TimeWaitRecord) Input(seg *Segment, now time.Time) (TimeWaitAction, Segment) {
	f := seg.Flags
	switch {
	case f.Has(wire.FlagRST):
		return TimeWaitDrop, Segment{} // RFC 1337
	case f.Has(wire.FlagSYN) && !f.Has(wire.FlagACK) && seg.Seq.GreaterThan(t.RcvNxt):
		return TimeWaitReuse, Segment{} // RFC 9293 §3.10.7.4 note, RFC 6191
	}
	if f.Has(wire.FlagFIN) && seg.End() == t.RcvNxt {
		t.Expires = now.Add(t.Wait) // our final ACK was lost
	}
	if seg.SeqLen() == 0 && seg.Seq.InWindow(t.RcvNxt, uint32(t.Window)+1) && !f.Has(wire.FlagSYN) &&
		(!f.Has(wire.FlagACK) || seg.Ack.LessThanEq(t.SndNxt)) {
		return TimeWaitDrop, Segment{} // acceptable, nothing to say
	}
	reply := Segment{Seq: t.SndNxt, Ack: t.RcvNxt, Flags: wire.FlagACK, Window: t.Window}
	if t.tsOK {
		if seg.Options.HasTimestamps && int32(seg.Options.TSVal-t.tsRecent) > 0 {
			t.tsRecent = seg.Options.TSVal
		}
		reply.Options.HasTimestamps = true
		reply.Options.TSVal = t.tsOrigin + uint32(now.Sub(t.tsBase)/time.Millisecond)
		reply.Options.TSEcr = t.tsRecent
	}
	return TimeWaitReply, reply
}

// ReuseISS is the initial sequence number for a connection that reopens
// the pair: 2^17 beyond the old one's, so that the two sequence spaces
// cannot be confused, as Conn does when it reopens itself.
func (t *TimeWaitRecord) ReuseISS() Seq { return t.SndNxt + 1<<17 }
