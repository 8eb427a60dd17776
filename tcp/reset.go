package tcp

import "github.com/seqack/seqack/wire"

// ResetFor returns the reset that answers seg when no connection exists
// for it (RFC 9293 §3.10.7.1): nothing for a RST; <SEQ=SEG.ACK><CTL=RST>
// if seg carries an ACK; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
// <CTL=RST,ACK>. ok is false when no reset is to be sent.
func ResetFor(seg *Segment) (rst Segment, ok bool) {
	switch {
	case seg.Flags.Has(wire.FlagRST):
		return Segment{}, false
	case seg.Flags.Has(wire.FlagACK):
		return Segment{Seq: seg.Ack, Flags: wire.FlagRST}, true
	default:
		return Segment{Ack: seg.End(), Flags: wire.FlagRST | wire.FlagACK}, true
	}
}
