package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// Timestamps (RFC 7323 §3-5): every segment carries TSval, our clock in
// milliseconds from a per-connection random origin (§5.4: the ISS), and
// TSecr, the latest TSval heard from the peer. They give an RTT sample
// from every ACK, retransmissions included (§4), and PAWS: a segment
// whose TSval is older than one already accepted is an old duplicate
// from a previous trip around the sequence space, and is dropped (§5).

// tick advances the timestamp clock to now; every entry point that may
// send calls it.
func (c *Conn) tick(now time.Time) {
	if !c.cfg.timestamps() {
		return
	}
	c.tsVal = uint32(c.iss) + uint32((c.at(now)-1)/instant(time.Millisecond))
}

// stampTimestamps adds the timestamps option to an outgoing segment: to
// our SYN if we offer it, to the SYN+ACK if the peer offered, to every
// other segment once both did (§3.2), RSTs excepted.
func (c *Conn) stampTimestamps(seg *Segment) {
	switch {
	case seg.Flags.Has(wire.FlagRST) || !c.cfg.timestamps():
		return
	case seg.Flags.Has(wire.FlagSYN) && !seg.Flags.Has(wire.FlagACK):
		seg.Options.TSVal, seg.Options.TSEcr, seg.Options.HasTimestamps = c.tsVal, 0, true
	case c.tsOK:
		seg.Options.TSVal, seg.Options.TSEcr, seg.Options.HasTimestamps = c.tsVal, c.tsRecent, true
	}
}

// pawsReject reports whether seg fails the PAWS test (§5.3 R1): it
// carries a TSval older than TS.Recent. Such a segment is acknowledged
// and dropped.
func (c *Conn) pawsReject(seg *Segment) bool {
	return c.tsOK && seg.Options.HasTimestamps && !seg.Flags.Has(wire.FlagRST) &&
		int32(seg.Options.TSVal-c.tsRecent) < 0
}

// takeTimestamp updates TS.Recent from an acceptable segment that covers
// the last ACK we sent (§4.3), so that TSecr echoes the segment that
// made us ACK.
func (c *Conn) takeTimestamp(seg *Segment) {
	if !c.tsOK || !seg.Options.HasTimestamps {
		return
	}
	if int32(seg.Options.TSVal-c.tsRecent) >= 0 && seg.Seq.LessThanEq(c.lastAckSent) {
		c.tsRecent = seg.Options.TSVal
	}
}

// timestampRTT returns the round trip measured by the TSecr of an ACK of
// new data (§4.1), or false if it has none.
func (c *Conn) timestampRTT(seg *Segment) (time.Duration, bool) {
	if !c.tsOK || !seg.Options.HasTimestamps || seg.Options.TSEcr == 0 {
		return 0, false
	}
	d := int32(c.tsVal - seg.Options.TSEcr)
	if d < 0 {
		return 0, false
	}
	return time.Duration(d) * time.Millisecond, true
}
