package wire

import (
	"encoding/binary"
	"net/netip"
)

// Fragment is one fragment of an IPv4 datagram (RFC 791 §3.2) or of an
// IPv6 packet (RFC 8200 §4.5), as ParseFragment finds it: what a
// reassembler needs to file it and, once every fragment is there, to
// rebuild the whole packet (PutReassembledHeader).
type Fragment struct {
	Version  int
	Src, Dst netip.Addr
	// ID is the Identification: IPv4's 16 bits, or the 32 of IPv6's
	// Fragment header.
	ID uint32
	// Protocol is IPv4's Protocol field, or the Next Header of IPv6's
	// Fragment header: the protocol of the fragmentable part.
	Protocol uint8
	// Offset is where Data lies in the fragmentable part, in bytes.
	Offset int
	// More is the MF (IPv4) or M (IPv6) flag: more fragments follow.
	More bool
	// Header is every byte that precedes Data: the IPv4 header with its
	// options, or IPv6's fixed header, the extension headers before the
	// Fragment header (the Unfragmentable Part) and the Fragment header
	// itself. A view into the parsed buffer.
	Header []byte
	// Data is the fragment's share of the fragmentable part, a view into
	// the parsed buffer.
	Data []byte
	// nextField is, in IPv6, the offset of the Next Header field that
	// names the Fragment header.
	nextField int
}

// End returns the offset just past the fragment's data.
func (f *Fragment) End() int { return f.Offset + len(f.Data) }

// ipv6FragmentHeaderLen is the length of IPv6's Fragment header
// (RFC 8200 §4.5).
const ipv6FragmentHeaderLen = 8

// ParseFragment parses b, an IPv4 or IPv6 packet that is a fragment (one
// ParseIP refuses with ErrFragment), checking what RFC 791 and RFC 8200
// §4.5 ask of each fragment on its own: a fragment with more to follow
// carries a multiple of 8 bytes, and none reaches past the 65,535
// bytes of the largest packet. An IPv6 atomic fragment (offset 0, no M
// flag; RFC 6946) is no fragment: ParseIP delivers it as it is.
func ParseFragment(b []byte) (Fragment, error) {
	if len(b) == 0 {
		return Fragment{}, parseError("ip", ErrTruncated, "empty packet")
	}
	var f Fragment
	switch b[0] >> 4 {
	case 4:
		h, payload, err := ParseIPv4(b)
		if err != nil {
			return f, err
		}
		if !h.IsFragment() {
			return f, parseError("ipv4", ErrProtocol, "not a fragment")
		}
		f = Fragment{Version: 4, Src: h.Src, Dst: h.Dst, ID: uint32(h.ID), Protocol: h.Protocol,
			Offset: h.FragmentOffset(), More: h.FlagsFragment&IPv4MoreFragments != 0,
			Header: b[:int(h.TotalLen)-len(payload)], Data: payload}
		if len(f.Header)+f.End() > 0xffff {
			return f, parseError("ipv4", ErrTotalLength, "fragment past 65535 bytes")
		}
	case 6:
		if err := parseIPv6Fragment(b, &f); err != nil {
			return f, err
		}
		if len(f.Header)-IPv6HeaderLen-ipv6FragmentHeaderLen+f.End() > 0xffff {
			return f, parseError("ipv6", ErrTotalLength, "fragment past 65535 bytes")
		}
	default:
		return f, parseError("ip", ErrVersion, "")
	}
	if f.More && (len(f.Data) == 0 || len(f.Data)%8 != 0) {
		return f, parseError(layerOf(f.Version), ErrTotalLength, "fragment not a multiple of 8 bytes")
	}
	return f, nil
}

func layerOf(version int) string {
	if version == 4 {
		return "ipv4"
	}
	return "ipv6"
}

// parseIPv6Fragment fills f from the IPv6 packet b: it walks the
// extension headers up to the Fragment header.
func parseIPv6Fragment(b []byte, f *Fragment) error {
	h, _, _, err := ParseIPv6(b)
	if err == nil {
		return parseError("ipv6", ErrProtocol, "not a fragment")
	}
	if len(b) < IPv6HeaderLen || !isKind(err, ErrFragment) {
		return err
	}
	b = b[:IPv6HeaderLen+int(h.PayloadLen)]
	// ParseIPv6 walked these headers already: they are well formed up
	// to the Fragment header.
	next, field, pos := h.NextHeader, 6, IPv6HeaderLen
	for next != ipv6Fragment {
		n := (int(b[pos+1]) + 1) * 8
		if next == ipv6AH {
			n = (int(b[pos+1]) + 2) * 4
		}
		next, field, pos = b[pos], pos, pos+n
	}
	fh := b[pos : pos+ipv6FragmentHeaderLen]
	offM := binary.BigEndian.Uint16(fh[2:])
	*f = Fragment{Version: 6, Src: h.Src, Dst: h.Dst, ID: binary.BigEndian.Uint32(fh[4:]), Protocol: fh[0],
		Offset: int(offM &^ 7), More: offM&1 != 0,
		Header: b[:pos+ipv6FragmentHeaderLen], Data: b[pos+ipv6FragmentHeaderLen:], nextField: field}
	return nil
}

// isKind reports whether err is a ParseError of the given kind.
func isKind(err error, kind error) bool {
	pe, ok := err.(*ParseError)
	return ok && pe.Kind == kind
}

// ReassembledHeaderLen returns the length of the header
// PutReassembledHeader writes: f's Header without the Fragment header,
// for IPv6.
func (f *Fragment) ReassembledHeaderLen() int {
	if f.Version == 6 {
		return len(f.Header) - ipv6FragmentHeaderLen
	}
	return len(f.Header)
}

// PutReassembledHeader writes into b the header of the packet rebuilt
// from the fragments of which f is the first (offset 0), whose
// fragmentable part is dataLen bytes long, and returns its length. For
// IPv4 it is f's header with MF and the offset cleared, the total
// length set and the checksum computed again (RFC 791 §3.2); for IPv6
// the Unfragmentable Part, the Next Header field that named the
// Fragment header given the fragment's Next Header, and the Payload
// Length set (RFC 8200 §4.5). A packet past 65,535 bytes fails with
// ErrTotalLength.
func (f *Fragment) PutReassembledHeader(b []byte, dataLen int) (int, error) {
	n := f.ReassembledHeaderLen()
	if len(b) < n {
		return 0, ErrBufferTooSmall
	}
	copy(b, f.Header[:n])
	if f.Version == 4 {
		if n+dataLen > 0xffff {
			return 0, parseError("ipv4", ErrTotalLength, "reassembled past 65535 bytes")
		}
		binary.BigEndian.PutUint16(b[2:], uint16(n+dataLen))
		binary.BigEndian.PutUint16(b[6:], binary.BigEndian.Uint16(b[6:])&IPv4DontFragment)
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], Checksum(b[:n], 0))
		return n, nil
	}
	if n-IPv6HeaderLen+dataLen > 0xffff {
		return 0, parseError("ipv6", ErrTotalLength, "reassembled past 65535 bytes")
	}
	binary.BigEndian.PutUint16(b[4:], uint16(n-IPv6HeaderLen+dataLen))
	b[f.nextField] = f.Protocol
	return n, nil
}

// FragmentDataLen returns how many bytes of an IP packet's payload each
// of its fragments carries on a link of the given MTU: as many as fit
// beside the fragment's headers, rounded down to a multiple of 8
// (RFC 791 §3.2, RFC 8200 §4.5). p is the packet as BuildFragment takes
// it; 0 means no fragment fits.
func FragmentDataLen(p []byte, mtu int) int {
	hdr := IPv4MinHeaderLen
	if len(p) > 0 && p[0]>>4 == 6 {
		hdr = IPv6HeaderLen + ipv6FragmentHeaderLen
	}
	return max(mtu-hdr, 0) &^ 7
}

// BuildFragment writes into b the fragment of the IP packet p that
// carries bytes [off, off+n) of its payload, with identification id, and
// returns its length. p is an IPv4 packet without options (a 16-bit id),
// or an IPv6 packet all of whose payload is fragmentable: seqack sends
// no extension headers, so its Fragment header follows the fixed header
// (RFC 8200 §4.5). off is a multiple of 8, and so is n unless the
// fragment is the last. The fragment keeps p's other header fields; an
// IPv4 fragment's DF is cleared.
func BuildFragment(b, p []byte, id uint32, off, n int) (int, error) {
	if len(p) == 0 {
		return 0, ErrBufferTooSmall
	}
	var hdr int
	switch p[0] >> 4 {
	case 4:
		if len(p) < IPv4MinHeaderLen || p[0]&0x0f != 5 {
			return 0, parseError("ipv4", ErrHeaderLength, "options are not fragmented")
		}
		hdr = IPv4MinHeaderLen
	case 6:
		hdr = IPv6HeaderLen
	default:
		return 0, parseError("ip", ErrVersion, "")
	}
	data := p[min(hdr, len(p)):]
	if off < 0 || n < 0 || off%8 != 0 || off+n > len(data) || off+n < len(data) && n%8 != 0 || len(p) < hdr {
		return 0, parseError(layerOf(int(p[0]>>4)), ErrTotalLength, "fragment bounds")
	}
	more := off+n < len(data)
	if hdr == IPv4MinHeaderLen {
		if len(b) < hdr+n {
			return 0, ErrBufferTooSmall
		}
		copy(b, p[:hdr])
		ff := uint16(off / 8)
		if more {
			ff |= IPv4MoreFragments
		}
		binary.BigEndian.PutUint16(b[2:], uint16(hdr+n))
		binary.BigEndian.PutUint16(b[4:], uint16(id))
		binary.BigEndian.PutUint16(b[6:], ff)
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], Checksum(b[:hdr], 0))
		copy(b[hdr:], data[off:off+n])
		return hdr + n, nil
	}
	total := hdr + ipv6FragmentHeaderLen + n
	if len(b) < total {
		return 0, ErrBufferTooSmall
	}
	copy(b, p[:hdr])
	binary.BigEndian.PutUint16(b[4:], uint16(ipv6FragmentHeaderLen+n))
	b[6] = ipv6Fragment
	fh := b[hdr : hdr+ipv6FragmentHeaderLen]
	fh[0], fh[1] = p[6], 0
	offM := uint16(off)
	if more {
		offM |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], offM)
	binary.BigEndian.PutUint32(fh[4:], id)
	copy(b[hdr+ipv6FragmentHeaderLen:], data[off:off+n])
	return total, nil
}
