package tcp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/seqack/seqack/wire"
)

// Segment is a TCP segment as the engine sees it: the header fields that
// matter to one connection (ports and addresses belong to the layer that
// demultiplexes) and the payload.
//
// A Segment returned by the engine may point into the engine's send buffer;
// it is valid until the next call into that Conn.
type Segment struct {
	Seq     Seq
	Ack     Seq // meaningful when Flags has wire.FlagACK
	Flags   wire.TCPFlags
	Window  uint16 // as on the wire, before window scaling
	Urgent  uint16 // meaningful when Flags has wire.FlagURG
	Options wire.TCPOptions
	Payload []byte
	// Buffer, on a segment given to Input, is the buffer Payload lies in
	// (the whole packet), if the caller is willing to give it up: Input
	// may then keep it in the receive queue instead of copying the
	// payload — the one copy left is Read's — and hand it to
	// Config.ReleaseBuffer once read. Input sets Buffer to nil when it
	// kept it; otherwise the buffer stays the caller's. nil: Input
	// copies. The engine never sets it on the segments it sends.
	Buffer []byte
	// Frame, on a segment the engine sends, offers the payload in place:
	// Frame ends where Payload ends, and its bytes before Payload (at
	// least FrameHeadroom) are free for the driver to write the IP and
	// TCP headers into, making the packet without copying the payload.
	// Frame lies in a buffer from Config.SendBuffer that the send queue
	// keeps for retransmission: a packet made in it must take its own
	// hold on the buffer (the stack's link.Hold), and nobody may write
	// to its payload. The engine offers a block's room once, on the
	// first segment sent from its start. nil: build the packet elsewhere.
	Frame []byte
}

// Len returns the payload length in bytes.
func (s *Segment) Len() int { return len(s.Payload) }

// SeqLen returns the sequence space the segment occupies (RFC 9293 §3.4):
// its payload plus one for SYN and one for FIN.
func (s *Segment) SeqLen() uint32 {
	n := uint32(len(s.Payload))
	if s.Flags.Has(wire.FlagSYN) {
		n++
	}
	if s.Flags.Has(wire.FlagFIN) {
		n++
	}
	return n
}

// End returns the sequence number just past the segment: Seq + SeqLen.
func (s *Segment) End() Seq { return s.Seq.Add(s.SeqLen()) }

// String formats the segment in packetdrill notation with absolute
// sequence numbers, e.g. "S. 1234:1234(0) ack 5679 win 65535 <mss 1460>".
func (s Segment) String() string { return s.Format(0, 0) }

// Format formats the segment in packetdrill notation, with sequence numbers
// relative to seqBase (the sender's ISN) and acknowledgment numbers and SACK
// blocks relative to ackBase (the receiver's ISN). With both bases zero the
// numbers are absolute.
//
// The form is: flags, start:end(len) of the payload, "ack N" when ACK is
// set, "win N", "urg N" when URG is set, and the options in angle brackets.
// As in packetdrill, start:end counts payload bytes only; SYN and FIN are
// shown by their flags.
func (s Segment) Format(seqBase, ackBase Seq) string {
	var b strings.Builder
	start := uint32(s.Seq - seqBase)
	n := uint32(len(s.Payload))
	fmt.Fprintf(&b, "%s %d:%d(%d)", s.Flags, start, start+n, n)
	if s.Flags.Has(wire.FlagACK) {
		fmt.Fprintf(&b, " ack %d", uint32(s.Ack-ackBase))
	}
	fmt.Fprintf(&b, " win %d", s.Window)
	if s.Flags.Has(wire.FlagURG) {
		fmt.Fprintf(&b, " urg %d", s.Urgent)
	}
	if !s.Options.IsZero() {
		b.WriteString(" <")
		b.WriteString(formatOptions(&s.Options, ackBase))
		b.WriteByte('>')
	}
	return b.String()
}

// formatOptions lists options in the order Linux puts them on a SYN
// (mss, sackOK, TS, wscale) and then SACK blocks.
func formatOptions(o *wire.TCPOptions, ackBase Seq) string {
	var parts []string
	if o.HasMSS {
		parts = append(parts, "mss "+strconv.Itoa(int(o.MSS)))
	}
	if o.SACKPermitted {
		parts = append(parts, "sackOK")
	}
	if o.HasTimestamps {
		parts = append(parts, fmt.Sprintf("TS val %d ecr %d", o.TSVal, o.TSEcr))
	}
	if o.HasWindowScale {
		parts = append(parts, "wscale "+strconv.Itoa(int(o.WindowScale)))
	}
	if o.NumSACK > 0 {
		blocks := make([]string, o.NumSACK)
		for i, blk := range o.SACKBlocks() {
			blocks[i] = fmt.Sprintf("%d:%d", uint32(Seq(blk.Left)-ackBase), uint32(Seq(blk.Right)-ackBase))
		}
		parts = append(parts, "sack "+strings.Join(blocks, " "))
	}
	return strings.Join(parts, ",")
}

// ErrSegmentSyntax is wrapped by every error ParseSegment returns.
var ErrSegmentSyntax = errors.New("bad segment notation")

// ParseSegment parses a segment in the packetdrill notation that Format
// prints: "F. 1001:1001(0) ack 1 win 65535", "P. 1:101(100) ack 1 win 512",
// "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>".
// The numbers are taken as written; a caller using relative numbers adds
// the ISNs. The payload is len zero bytes. "win" may be omitted (zero).
// Options nop and eol are accepted and dropped; "<...>" is not accepted here.
func ParseSegment(text string) (Segment, error) {
	var seg Segment
	fail := func(format string, args ...any) (Segment, error) {
		return Segment{}, fmt.Errorf("%w: %q: %s", ErrSegmentSyntax, text, fmt.Sprintf(format, args...))
	}
	rest := strings.TrimSpace(text)
	var optText string
	if i := strings.IndexByte(rest, '<'); i >= 0 {
		if !strings.HasSuffix(rest, ">") {
			return fail("option list not closed by '>'")
		}
		optText = rest[i+1 : len(rest)-1]
		rest = strings.TrimSpace(rest[:i])
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return fail("want flags and start:end(len)")
	}
	flags, ok := wire.ParseTCPFlags(fields[0])
	if !ok {
		return fail("flags %q: use letters S F R P U E W and '.' for ACK, or '-'", fields[0])
	}
	seg.Flags = flags
	start, end, n, err := parseRange(fields[1])
	if err != nil {
		return fail("%v", err)
	}
	if end-start != n {
		return fail("%d:%d does not hold %d bytes", start, end, n)
	}
	seg.Seq = Seq(start)
	seg.Payload = make([]byte, n)
	for i := 2; i < len(fields); i += 2 {
		if i+1 >= len(fields) {
			return fail("%q needs a value", fields[i])
		}
		v, err := strconv.ParseUint(fields[i+1], 10, 32)
		if err != nil {
			return fail("%s %q: not a number", fields[i], fields[i+1])
		}
		switch fields[i] {
		case "ack":
			if !flags.Has(wire.FlagACK) {
				return fail("ack given but '.' flag missing")
			}
			seg.Ack = Seq(v)
		case "win":
			if v > 0xffff {
				return fail("win %d exceeds 65535", v)
			}
			seg.Window = uint16(v)
		case "urg":
			if v > 0xffff {
				return fail("urg %d exceeds 65535", v)
			}
			seg.Urgent = uint16(v)
		default:
			return fail("unknown field %q (want ack, win or urg)", fields[i])
		}
	}
	if optText != "" {
		if err := parseOptions(optText, &seg.Options); err != nil {
			return fail("%v", err)
		}
	}
	return seg, nil
}

func parseRange(s string) (start, end, n uint32, err error) {
	colon := strings.IndexByte(s, ':')
	open := strings.IndexByte(s, '(')
	if colon < 0 || open < colon || !strings.HasSuffix(s, ")") {
		return 0, 0, 0, fmt.Errorf("%q is not start:end(len)", s)
	}
	nums := [3]string{s[:colon], s[colon+1 : open], s[open+1 : len(s)-1]}
	var v [3]uint32
	for i, t := range nums {
		x, err := strconv.ParseUint(t, 10, 32)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%q is not start:end(len)", s)
		}
		v[i] = uint32(x)
	}
	return v[0], v[1], v[2], nil
}

func parseOptions(text string, o *wire.TCPOptions) error {
	for _, part := range strings.Split(text, ",") {
		f := strings.Fields(part)
		if len(f) == 0 {
			return errors.New("empty option")
		}
		num := func(i int, bits int) (uint64, error) {
			if i >= len(f) {
				return 0, fmt.Errorf("option %q needs a value", f[0])
			}
			return strconv.ParseUint(f[i], 10, bits)
		}
		switch f[0] {
		case "nop", "eol":
		case "mss":
			v, err := num(1, 16)
			if err != nil {
				return err
			}
			o.MSS, o.HasMSS = uint16(v), true
		case "wscale":
			v, err := num(1, 8)
			if err != nil {
				return err
			}
			o.WindowScale, o.HasWindowScale = uint8(v), true
		case "sackOK":
			o.SACKPermitted = true
		case "TS":
			if len(f) != 5 || f[1] != "val" || f[3] != "ecr" {
				return fmt.Errorf("%q: want TS val V ecr E", part)
			}
			val, err := num(2, 32)
			if err != nil {
				return err
			}
			ecr, err := num(4, 32)
			if err != nil {
				return err
			}
			o.TSVal, o.TSEcr, o.HasTimestamps = uint32(val), uint32(ecr), true
		case "sack":
			if len(f) < 2 || len(f)-1 > wire.MaxSACKBlocks {
				return fmt.Errorf("%q: want 1 to %d blocks a:b", part, wire.MaxSACKBlocks)
			}
			for _, blk := range f[1:] {
				l, r, ok := strings.Cut(blk, ":")
				lv, err1 := strconv.ParseUint(l, 10, 32)
				rv, err2 := strconv.ParseUint(r, 10, 32)
				if !ok || err1 != nil || err2 != nil {
					return fmt.Errorf("sack block %q: want left:right", blk)
				}
				o.SACK[o.NumSACK] = wire.SACKBlock{Left: uint32(lv), Right: uint32(rv)}
				o.NumSACK++
			}
		default:
			return fmt.Errorf("unknown option %q (want mss, wscale, sackOK, TS, sack, nop, eol)", f[0])
		}
	}
	return nil
}

// SegmentFromHeader returns the segment a parsed header and its payload
// describe. The payload is not copied.
func SegmentFromHeader(h *wire.TCPHeader, payload []byte) Segment {
	return Segment{
		Seq:     Seq(h.Seq),
		Ack:     Seq(h.Ack),
		Flags:   h.Flags,
		Window:  h.Window,
		Urgent:  h.Urgent,
		Options: h.Options,
		Payload: payload,
	}
}

// Header returns the wire header that carries s from srcPort to dstPort.
func (s *Segment) Header(srcPort, dstPort uint16) wire.TCPHeader {
	return wire.TCPHeader{
		SrcPort: srcPort,
		DstPort: dstPort,
		Seq:     uint32(s.Seq),
		Ack:     uint32(s.Ack),
		Flags:   s.Flags,
		Window:  s.Window,
		Urgent:  s.Urgent,
		Options: s.Options,
	}
}
