package wire

import (
	"encoding/binary"
	"net/netip"
)

// TCPMinHeaderLen is the length of a TCP header without options.
const TCPMinHeaderLen = 20

// TCPMaxOptionsLen is the most option bytes a TCP header holds.
const TCPMaxOptionsLen = 40

// TCPHeader is a parsed TCP header (RFC 9293 §3.1).
type TCPHeader struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	// DataOffset is the header length in bytes (the wire field × 4).
	DataOffset uint8
	Flags      TCPFlags
	Window     uint16
	Checksum   uint16
	Urgent     uint16
	Options    TCPOptions
	// RawOptions is the option bytes as received (a view into the parsed
	// buffer), for callers that need their order; ignored by Marshal.
	RawOptions []byte
}

// ParseTCP parses a TCP header from b and returns it with the payload (a
// view into b). It checks lengths and options but not the checksum, which
// needs the IP pseudo-header (see VerifyTCPChecksum).
func ParseTCP(b []byte) (h TCPHeader, payload []byte, err error) {
	if len(b) < TCPMinHeaderLen {
		return h, nil, parseError("tcp", ErrTruncated, "shorter than 20 bytes")
	}
	off := int(b[12]>>4) * 4
	if off < TCPMinHeaderLen {
		return h, nil, parseError("tcp", ErrHeaderLength, "data offset below 5")
	}
	if off > len(b) {
		return h, nil, parseError("tcp", ErrTruncated, "data offset past the end")
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:])
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Seq = binary.BigEndian.Uint32(b[4:])
	h.Ack = binary.BigEndian.Uint32(b[8:])
	h.DataOffset = uint8(off)
	h.Flags = TCPFlags(b[13])
	h.Window = binary.BigEndian.Uint16(b[14:])
	h.Checksum = binary.BigEndian.Uint16(b[16:])
	h.Urgent = binary.BigEndian.Uint16(b[18:])
	h.RawOptions = b[TCPMinHeaderLen:off:off]
	if err := parseTCPOptions(h.RawOptions, &h.Options); err != nil {
		return h, nil, err
	}
	return h, b[off:], nil
}

// TCP option kinds (IANA).
const (
	optEOL           = 0
	optNOP           = 1
	optMSS           = 2
	optWindowScale   = 3
	optSACKPermitted = 4
	optSACK          = 5
	optTimestamps    = 8
)

// parseTCPOptions walks the option list (RFC 9293 §3.2): EOL ends it, NOP
// is one byte, every other option has a length byte covering kind and
// length. Known options must have their defined length; unknown ones are
// skipped by length.
func parseTCPOptions(b []byte, o *TCPOptions) error {
	for len(b) > 0 {
		kind := b[0]
		if kind == optEOL {
			return nil
		}
		if kind == optNOP {
			b = b[1:]
			continue
		}
		if len(b) < 2 {
			return parseError("tcp", ErrOption, "option kind without a length")
		}
		n := int(b[1])
		if n < 2 {
			return parseError("tcp", ErrOption, "option length below 2")
		}
		if n > len(b) {
			return parseError("tcp", ErrOption, "option runs past the header")
		}
		body := b[2:n]
		switch kind {
		case optMSS:
			if n != 4 {
				return parseError("tcp", ErrOption, "MSS length is not 4")
			}
			o.MSS, o.HasMSS = binary.BigEndian.Uint16(body), true
		case optWindowScale:
			if n != 3 {
				return parseError("tcp", ErrOption, "window scale length is not 3")
			}
			o.WindowScale, o.HasWindowScale = body[0], true
		case optSACKPermitted:
			if n != 2 {
				return parseError("tcp", ErrOption, "SACK-permitted length is not 2")
			}
			o.SACKPermitted = true
		case optSACK:
			if (n-2)%8 != 0 || n == 2 {
				return parseError("tcp", ErrOption, "SACK length is not 2+8n")
			}
			o.NumSACK = 0
			for i := 0; i+8 <= len(body) && o.NumSACK < MaxSACKBlocks; i += 8 {
				o.SACK[o.NumSACK] = SACKBlock{binary.BigEndian.Uint32(body[i:]), binary.BigEndian.Uint32(body[i+4:])}
				o.NumSACK++
			}
		case optTimestamps:
			if n != 10 {
				return parseError("tcp", ErrOption, "timestamps length is not 10")
			}
			o.TSVal, o.TSEcr, o.HasTimestamps = binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:]), true
		}
		b = b[n:]
	}
	return nil
}

// optionsLen returns the option bytes Marshal writes for o and how many
// SACK blocks fit with the other options in 40 bytes.
func (o *TCPOptions) optionsLen() (n, sackBlocks int) {
	if o.HasMSS {
		n += 4
	}
	if o.HasTimestamps || o.SACKPermitted {
		if o.HasTimestamps {
			n += 12 // sackOK+TS packed, or NOP NOP TS
		}
		if o.SACKPermitted && !o.HasTimestamps {
			n += 4 // NOP NOP sackOK
		}
	}
	if o.HasWindowScale {
		n += 4 // NOP wscale
	}
	sackBlocks = o.NumSACK
	for sackBlocks > 0 && n+4+8*sackBlocks > TCPMaxOptionsLen {
		sackBlocks--
	}
	if sackBlocks > 0 {
		n += 4 + 8*sackBlocks // NOP NOP SACK
	}
	return n, sackBlocks
}

// Len returns the length of the header Marshal writes: 20 bytes plus the
// options, padded to a multiple of 4.
func (h *TCPHeader) Len() int {
	n, _ := h.Options.optionsLen()
	return TCPMinHeaderLen + n
}

// Marshal writes the header with its options into b (at least Len bytes)
// and returns the length written. The checksum field is written as
// h.Checksum; see SetTCPChecksum.
//
// Options are laid out as Linux lays them out, so captures look familiar:
// MSS; SACK-permitted and timestamps packed together (04 02 08 0a) or each
// behind two NOPs; NOP and window scale; NOP NOP and SACK blocks. At most
// 40 option bytes are written: SACK blocks that do not fit are left out,
// last first. DataOffset is ignored and written as Len()/4.
func (h *TCPHeader) Marshal(b []byte) (int, error) {
	optLen, sackBlocks := h.Options.optionsLen()
	n := TCPMinHeaderLen + optLen
	if len(b) < n {
		return 0, ErrBufferTooSmall
	}
	binary.BigEndian.PutUint16(b[0:], h.SrcPort)
	binary.BigEndian.PutUint16(b[2:], h.DstPort)
	binary.BigEndian.PutUint32(b[4:], h.Seq)
	binary.BigEndian.PutUint32(b[8:], h.Ack)
	b[12] = uint8(n/4) << 4
	b[13] = uint8(h.Flags)
	binary.BigEndian.PutUint16(b[14:], h.Window)
	binary.BigEndian.PutUint16(b[16:], h.Checksum)
	binary.BigEndian.PutUint16(b[18:], h.Urgent)
	o := &h.Options
	p := b[TCPMinHeaderLen:n]
	if o.HasMSS {
		p[0], p[1] = optMSS, 4
		binary.BigEndian.PutUint16(p[2:], o.MSS)
		p = p[4:]
	}
	switch {
	case o.HasTimestamps:
		if o.SACKPermitted {
			p[0], p[1] = optSACKPermitted, 2
		} else {
			p[0], p[1] = optNOP, optNOP
		}
		p[2], p[3] = optTimestamps, 10
		binary.BigEndian.PutUint32(p[4:], o.TSVal)
		binary.BigEndian.PutUint32(p[8:], o.TSEcr)
		p = p[12:]
	case o.SACKPermitted:
		p[0], p[1], p[2], p[3] = optNOP, optNOP, optSACKPermitted, 2
		p = p[4:]
	}
	if o.HasWindowScale {
		p[0], p[1], p[2], p[3] = optNOP, optWindowScale, 3, o.WindowScale
		p = p[4:]
	}
	if sackBlocks > 0 {
		p[0], p[1], p[2], p[3] = optNOP, optNOP, optSACK, uint8(2+8*sackBlocks)
		for i, blk := range o.SACK[:sackBlocks] {
			binary.BigEndian.PutUint32(p[4+8*i:], blk.Left)
			binary.BigEndian.PutUint32(p[8+8*i:], blk.Right)
		}
	}
	return n, nil
}

// SetTCPChecksum computes and stores the checksum of the TCP segment seg
// (header and payload, checksum field included in seg) sent from src to
// dst.
func SetTCPChecksum(seg []byte, src, dst netip.Addr) {
	seg[16], seg[17] = 0, 0
	sum := PseudoHeaderChecksum(ProtocolTCP, src, dst, len(seg))
	binary.BigEndian.PutUint16(seg[16:], Checksum(seg, sum))
}

// VerifyTCPChecksum reports whether the TCP segment seg from src to dst
// has a correct checksum.
func VerifyTCPChecksum(seg []byte, src, dst netip.Addr) bool {
	sum := PseudoHeaderChecksum(ProtocolTCP, src, dst, len(seg))
	return fold64(uint64(PartialChecksum(seg, sum))) == 0xffff
}
