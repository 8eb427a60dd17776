package script

import (
	"fmt"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Unexpected reports whether got, which does not match the ">" line
// want, is another segment than the one the line describes rather than
// that segment with a field wrong: a RST or SYN where the line has none
// (or the reverse), data where it has none (or the reverse), or a bare
// FIN for a bare ACK (or the reverse). Such a segment was not sent for
// the line at all: the failure belongs to the line that made the target
// send it.
func Unexpected(want *Packet, got *tcp.Segment) bool {
	kind := wire.FlagSYN | wire.FlagRST
	if len(got.Payload) == 0 {
		kind |= wire.FlagFIN
	}
	return want.Seg.Flags&kind != got.Flags&kind || (len(want.Seg.Payload) == 0) != (len(got.Payload) == 0)
}

// Continues reports whether next, sent right after got, may be merged
// into it to match a ">" line of want bytes: unless --strict_segments is
// given, packetdrill lets several real segments (TSO, or a stack that
// cuts differently) match one scripted segment. next must carry data
// that continues got's, with the same acknowledgment and the same flags
// but PSH and FIN; PSH is ORed into the merged segment, and a FIN may
// end it (data, then data with FIN, is one scripted data+FIN; nothing
// follows a FIN). A bare FIN after data is a segment of its own, as
// TSO never makes one. Both targets merge by this rule.
func Continues(got, next *tcp.Segment, want int) bool {
	const loose = wire.FlagPSH | wire.FlagFIN
	return len(next.Payload) > 0 && !got.Flags.Has(wire.FlagFIN) &&
		next.Seq == got.Seq.Add(uint32(len(got.Payload))) && next.Ack == got.Ack &&
		next.Flags&^loose == got.Flags&^loose && len(got.Payload)+len(next.Payload) <= want
}

// PacketError is the failure for a segment the target sent, printed as
// got, that differs from the ">" line want (at line) in field (a
// Numbers.Compare name). An Unexpected segment is reported at cause,
// the line of the injected packet or call that made the target send it,
// when the runner knows one (0 if not, or a timer): "file:cause: error
// handling packet: unexpected outbound TCP packet, sent in answer to
// this line: R 1:1(0) win 0 (line 9 expects: F. 1:1(0) ack 101)". Both
// targets report with it, so that their messages read the same.
func PacketError(path string, line int, want *Packet, field string, got *tcp.Segment, text string, cause int) *Error {
	if cause != 0 && cause != line && Unexpected(want, got) {
		return &Error{path, cause, fmt.Errorf("%w handling packet: unexpected outbound TCP packet, sent in answer to this line: %s (line %d expects: %s)",
			ErrMismatch, text, line, want.Text)}
	}
	return &Error{path, line, fmt.Errorf("%w handling packet: bad outbound TCP packet (%s): expected: %s / actual: %s",
		ErrMismatch, field, want.Text, text)}
}
