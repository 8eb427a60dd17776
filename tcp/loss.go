package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// lossRecovery is how a connection finds its lost segments and which it
// sends again in fast recovery: the part of loss recovery that differs
// between the three algorithms the engine runs. Entering and leaving
// recovery, the congestion response, PRR's pacing (prr.go) and the
// timeout's recovery are common (recovery.go).
//
//   - renoRecovery: NewReno (RFC 5681 §3.2, RFC 6582), for a peer
//     without SACK. Three duplicate ACKs start fast recovery; each one
//     stands for a segment that left the network; the segment at SND.UNA
//     is the lost one, and after a partial ACK the one at the new SND.UNA.
//   - sackRecovery: RFC 6675's scoreboard. A hole is lost once more than
//     (DupThresh-1)·SMSS bytes are SACKed above it (IsLost), and the
//     holes below that point are resent in order.
//   - *rackState: RACK-TLP (RFC 8985, rack.go). A segment is lost by
//     time: once one sent after it has been delivered and a reordering
//     window has passed. Its state is made only for connections that run
//     it.
//
// A connection's is chosen once, when the peer's SYN settles whether SACK
// is on (setSACK); the two without state are empty structs, so the
// choice allocates nothing. The SACK blocks of an ACK go to the
// scoreboard before the recovery hears of the ACK (Conn.takeSACK), if
// SACK was negotiated (RFC 2018 §2).
//
// The methods take no pointer but the Conn, and arguments that fit in
// registers: a segment handed to an interface method would escape, and
// every arriving segment would be a heap allocation.
type lossRecovery interface {
	// delivered notes an acceptable ACK's DeliveredData for PRR
	// (RFC 9937 §6, noteDelivered): what its cumulative ACK of ack
	// newly acknowledges, and sacked, the bytes its SACK blocks newly
	// selected. moreLost says whether those blocks deem more lost by
	// RFC 6675's IsLost (lostLimit moved up).
	delivered(c *Conn, ack Seq, sacked int, moreLost bool)
	// duplicateAck reports whether the duplicate ACK just counted (in
	// c.dupAcks) signals a loss that should start fast recovery.
	duplicateAck(c *Conn) bool
	// ackProcessed follows an acceptable ACK once its cumulative ACK and
	// SACK blocks are taken.
	ackProcessed(c *Conn, a ackInfo, now time.Time)
	// partialAck takes an ACK that advances SND.UNA to ack in fast
	// recovery but not to the recovery point (RFC 6582 §3.2 step 3).
	partialAck(c *Conn, ack Seq)
	// pipe estimates the bytes in the network during fast recovery
	// (RFC 6675 §4, SetPipe).
	pipe(c *Conn) int
	// limitedTransmit returns how far the congestion window is widened
	// for new data by the duplicate ACKs counted before fast
	// retransmit (limited transmit, RFC 3042): by as much as those
	// ACKs took out of the network and the flight does not already
	// leave out.
	limitedTransmit(c *Conn) int
	// nextRetransmission picks what fast recovery sends again next.
	nextRetransmission(c *Conn) (Segment, bool)
	// sent records a transmission of [start, end) (a SYN if syn) at the
	// instant at, and returns the instant it is stamped with.
	sent(c *Conn, start, end Seq, syn, retransmission bool, at instant) instant
}

// ackInfo is what ackProcessed is told of an acceptable ACK, in three
// fields, which the compiler keeps in registers: it does so for structs
// of up to four fields, and built one of five in memory, byte by byte,
// then copied it whole, a store-forwarding stall on every ACK.
type ackInfo struct {
	ack   Seq
	first wire.SACKBlock // the first SACK block, if it has one
	flags ackFlags
}

// ackFlags say what else an ACK did.
type ackFlags uint8

const (
	ackSACK     ackFlags = 1 << iota // it has SACK blocks
	ackAdvanced                      // it moved SND.UNA
	ackData                          // the segment carries data
)

// ackInfoOf returns what seg, which advanced SND.UNA or not, tells
// ackProcessed.
func ackInfoOf(seg *Segment, advanced bool) ackInfo {
	var f ackFlags
	if seg.Options.NumSACK > 0 {
		f |= ackSACK
	}
	if advanced {
		f |= ackAdvanced
	}
	if len(seg.Payload) > 0 {
		f |= ackData
	}
	return ackInfo{ack: seg.Ack, first: seg.Options.SACK[0], flags: f}
}

// has reports whether the ACK did all of f.
func (a ackInfo) has(f ackFlags) bool { return a.flags&f == f }

// setSACK records whether SACK is on (RFC 2018: both SYNs carried
// SACK-permitted) and chooses the connection's loss recovery: RACK-TLP
// if SACK is on, unless the Config says NoRACK (RFC 8985 §4 needs SACK;
// TLP is kept to SACK as well), RFC 6675 with SACK, NewReno without.
// RACK-TLP starts without its state (rackIdle), which the first data
// sent makes; a state made for an earlier SYN (LISTEN again after a
// reset) is kept.
func (c *Conn) setSACK(ok bool) {
	c.sackOK = ok
	switch {
	case !ok:
		c.loss = new(renoRecovery) // zero bytes: no allocation
	case !c.cfg.rack():
		c.loss = new(sackRecovery)
	case c.rack() == nil:
		c.loss = new(rackIdle)
	}
}

// rack returns the connection's RACK-TLP state, or nil if it runs
// another loss recovery.
func (c *Conn) rack() *rackState {
	r, _ := c.loss.(*rackState)
	return r
}

// renoRecovery is NewReno's loss recovery (RFC 6582), without SACK.
type renoRecovery struct{}

// delivered implements lossRecovery: without SACK (sacked is 0) an ACK
// delivered what it acknowledges; a partial ACK in recovery, what it
// acknowledges beyond the segments its duplicate ACKs already counted,
// at least one segment, as Linux counts it (tcp_remove_reno_sacks); and
// those duplicate ACKs no longer stand for data out of the pipe.
func (*renoRecovery) delivered(c *Conn, ack Seq, _ int, _ bool) {
	dd := 0
	if ack.GreaterThan(c.sndUna) {
		acked := int(ack.Sub(c.sndUna))
		if c.inRecovery {
			mss := c.effectiveMSS()
			dd = max(acked-c.dupAcks*mss, min(acked, mss))
			c.dupAcks = max(c.dupAcks-((acked+mss-1)/mss-1), 0) // one of the segments acked is the hole resent
		} else {
			dd = acked
		}
	}
	c.noteDelivered(ack, dd)
}

// duplicateAck implements lossRecovery: the third duplicate ACK signals a
// loss (RFC 5681 §3.2); each stands for one segment delivered
// (RFC 9937 §6).
func (*renoRecovery) duplicateAck(c *Conn) bool {
	c.addDelivered(c.effectiveMSS())
	return c.dupAcks >= dupThresh
}

// ackProcessed implements lossRecovery: nothing more to do.
func (*renoRecovery) ackProcessed(*Conn, ackInfo, time.Time) {}

// partialAck implements lossRecovery: the segment at the new SND.UNA is
// lost too, and goes at once (RFC 6582 §3.2 step 3).
func (*renoRecovery) partialAck(c *Conn, ack Seq) { c.rtxNext, c.mustResend = ack, true }

// pipe implements lossRecovery: everything outstanding, less a segment
// for each duplicate ACK, less the segment at SND.UNA while it is lost
// and not yet resent.
func (*renoRecovery) pipe(c *Conn) int {
	outstanding := int(c.sndMax.Sub(c.sndUna))
	p := outstanding - min(c.dupAcks*c.effectiveMSS(), outstanding)
	if !c.rtxNext.GreaterThan(c.sndUna) { // the segment at SND.UNA is lost and not yet resent
		p -= min(c.effectiveMSS(), p)
	}
	return p
}

// limitedTransmit implements lossRecovery: without SACK the flight
// (SND.NXT - SND.UNA) does not know what left the network, so each of
// the first two duplicate ACKs widens the window by a segment
// (RFC 3042 §2), at most cwnd + 2·SMSS in flight.
func (*renoRecovery) limitedTransmit(c *Conn) int {
	if c.dupAcks > 0 && c.dupAcks < dupThresh {
		return c.dupAcks * c.effectiveMSS()
	}
	return 0
}

// nextRetransmission implements lossRecovery: the segment at SND.UNA,
// if it has not been resent since the last partial ACK.
func (*renoRecovery) nextRetransmission(c *Conn) (Segment, bool) {
	if c.rtxNext.GreaterThan(c.sndUna) {
		return Segment{}, false
	}
	hole, ok := c.sb.nextHole(c.sndUna, c.sndMax)
	if !ok {
		return Segment{}, false
	}
	return c.holeSegment(hole)
}

// sent implements lossRecovery: nothing to record.
func (*renoRecovery) sent(_ *Conn, _, _ Seq, _, _ bool, at instant) instant {
	return at
}

// sackRecovery is RFC 6675's loss recovery, with the SACK scoreboard.
type sackRecovery struct{}

// delivered implements lossRecovery. Blocks that deem more lost make
// the ACK no SafeACK for PRR (RFC 9937 §6).
func (*sackRecovery) delivered(c *Conn, ack Seq, sacked int, moreLost bool) {
	c.noteDelivered(ack, c.sackDelivered(ack, sacked))
	if moreLost && c.prr != nil {
		c.prr.safe = false
	}
}

// duplicateAck implements lossRecovery: the third duplicate ACK, or
// enough SACKed above SND.UNA to deem it lost (RFC 6675 §5).
func (*sackRecovery) duplicateAck(c *Conn) bool {
	return c.dupAcks >= dupThresh || c.sackedPastDupThresh()
}

// ackProcessed implements lossRecovery: nothing more to do.
func (*sackRecovery) ackProcessed(*Conn, ackInfo, time.Time) {}

// partialAck implements lossRecovery: the search for holes to resend
// goes on from the new SND.UNA (RFC 6675 §5).
func (*sackRecovery) partialAck(c *Conn, ack Seq) {
	if c.rtxNext.LessThan(ack) {
		c.rtxNext = ack
	}
}

// pipe implements lossRecovery (RFC 6675 §4, SetPipe): everything
// outstanding, less what was SACKed, less the holes deemed lost and not
// yet sent again.
func (*sackRecovery) pipe(c *Conn) int {
	high := c.lostLimit()
	p := int(c.sndMax.Sub(c.sndUna)) - c.sb.bytes(c.sndUna, c.sndMax)
	from := c.rtxNext
	if from.LessThan(c.sndUna) {
		from = c.sndUna
	}
	for from.LessThan(high) {
		h, ok := c.sb.nextHole(from, high)
		if !ok {
			break
		}
		p -= h.len()
		from = h.end
	}
	return max(p, 0)
}

// limitedTransmit implements lossRecovery: nothing. The flight already
// leaves out what the duplicate ACKs SACKed, so each one that SACKs a
// segment lets one new segment out (RFC 6675 §5 step 3: cwnd - pipe
// ≥ 1 SMSS); recovery starts once more than two segments are SACKed
// (sackedPastDupThresh), so the flight never passes cwnd + 2·SMSS
// (RFC 3042). Widening the window as well let two segments out per
// duplicate ACK.
func (*sackRecovery) limitedTransmit(*Conn) int { return 0 }

// nextRetransmission implements lossRecovery: the first hole at or after
// rtxNext below lostLimit (RFC 6675 §4, NextSeg rule 1).
func (*sackRecovery) nextRetransmission(c *Conn) (Segment, bool) {
	from := c.rtxNext
	if from.LessThan(c.sndUna) {
		from = c.sndUna
	}
	hole, ok := c.sb.nextHole(from, c.lostLimit())
	if !ok {
		return Segment{}, false
	}
	return c.holeSegment(hole)
}

// sent implements lossRecovery: nothing to record.
func (*sackRecovery) sent(_ *Conn, _, _ Seq, _, _ bool, at instant) instant {
	return at
}

// lostLimit is where the holes deemed lost end: RFC 6675's IsLost holds
// for a sequence number with more than (DupThresh-1)·SMSS bytes SACKed
// above it, so a hole counts as lost only below the SACKed range that
// brings the count past that. A segment merely overtaken by a few others
// is not resent.
func (c *Conn) lostLimit() Seq {
	need := (dupThresh - 1) * c.effectiveMSS()
	above := 0
	for i := len(c.sb.ranges) - 1; i >= 0; i-- {
		r := c.sb.ranges[i]
		above += r.len()
		if above > need {
			return r.start
		}
	}
	return c.sndUna
}

// sackedPastDupThresh reports whether more than (DupThresh-1)·SMSS bytes
// are SACKed above SND.UNA: enough for RFC 6675's IsLost to deem the
// segment there lost (§5).
func (c *Conn) sackedPastDupThresh() bool {
	return c.sb.bytes(c.sndUna, c.sndMax) > (dupThresh-1)*c.effectiveMSS()
}
