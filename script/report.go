package script

import (
	"fmt"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Unexpected reports whether got, which does not match the ">" line
// want, is another segment than the one the line describes rather than
// that segment with a field wrong: a RST, SYN or FIN where the line has
// none (or the reverse), or data where it has none (or the reverse).
// Such a segment was not sent for the line at all: the failure belongs
// to the line that made the target send it.
func Unexpected(want *Packet, got *tcp.Segment) bool {
	const kind = wire.FlagSYN | wire.FlagFIN | wire.FlagRST
	return want.Seg.Flags&kind != got.Flags&kind || (len(want.Seg.Payload) == 0) != (len(got.Payload) == 0)
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
