package wire

import (
	"encoding/binary"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header.
const IPv6HeaderLen = 40

// maxExtensionHeaders bounds the extension headers walked, so a packet
// cannot make the parser loop long.
const maxExtensionHeaders = 8

// IPv6 extension header numbers (RFC 8200 §4, RFC 4302) and "no next
// header".
const (
	ipv6HopByHop     = 0
	ipv6Routing      = 43
	ipv6Fragment     = 44
	ipv6AH           = 51
	ipv6DestOptions  = 60
	ipv6NoNextHeader = 59
)

// IPv6Header is a parsed IPv6 fixed header (RFC 8200 §3).
type IPv6Header struct {
	TrafficClass uint8
	FlowLabel    uint32
	PayloadLen   uint16
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
}

// ParseIPv6 parses the fixed header, walks the extension headers
// (RFC 8200 §4.1) and returns the header, the upper-layer protocol and
// its data (a view into b). A Fragment header with a non-zero offset
// or the M flag yields ErrFragment (see ParseFragment); one with
// neither, an atomic fragment (RFC 6946), is skipped.
func ParseIPv6(b []byte) (h IPv6Header, protocol uint8, payload []byte, err error) {
	if len(b) < IPv6HeaderLen {
		return h, 0, nil, parseError("ipv6", ErrTruncated, "shorter than 40 bytes")
	}
	if b[0]>>4 != 6 {
		return h, 0, nil, parseError("ipv6", ErrVersion, "")
	}
	vtf := binary.BigEndian.Uint32(b)
	h.TrafficClass = uint8(vtf >> 20)
	h.FlowLabel = vtf & 0xfffff
	h.PayloadLen = binary.BigEndian.Uint16(b[4:])
	h.NextHeader = b[6]
	h.HopLimit = b[7]
	h.Src = netip.AddrFrom16([16]byte(b[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	if int(h.PayloadLen) > len(b)-IPv6HeaderLen {
		return h, 0, nil, parseError("ipv6", ErrTotalLength, "")
	}
	protocol, _, payload, err = skipExtensionHeaders(h.NextHeader, b[:IPv6HeaderLen+int(h.PayloadLen)])
	return h, protocol, payload, err
}

// IPv6ProtocolOffset returns the offset in the IPv6 packet b of the Next
// Header field that names its upper-layer protocol: 6 without extension
// headers, else the field in the last one. An ICMPv6 parameter problem
// for an unrecognized next header points there (RFC 8200 §4).
func IPv6ProtocolOffset(b []byte) (int, error) {
	if len(b) < IPv6HeaderLen {
		return 0, parseError("ipv6", ErrTruncated, "shorter than 40 bytes")
	}
	_, off, _, err := skipExtensionHeaders(b[6], b)
	return off, err
}

// skipExtensionHeaders walks the extension headers of the IPv6 packet b
// (the fixed header's Next Header is next; b may be cut short, as in an
// ICMP error's quote). It returns the upper-layer protocol, the offset
// of the Next Header field that named it, and the upper-layer data.
func skipExtensionHeaders(next uint8, b []byte) (protocol uint8, fieldOffset int, payload []byte, err error) {
	fieldOffset, pos := 6, IPv6HeaderLen
	rest := b[IPv6HeaderLen:]
	for i := 0; ; i++ {
		var n int
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOptions:
			if len(rest) < 8 {
				return 0, 0, nil, parseError("ipv6", ErrTruncated, "extension header")
			}
			n = (int(rest[1]) + 1) * 8
		case ipv6AH:
			if len(rest) < 8 {
				return 0, 0, nil, parseError("ipv6", ErrTruncated, "authentication header")
			}
			n = (int(rest[1]) + 2) * 4
		case ipv6Fragment:
			if len(rest) < 8 {
				return 0, 0, nil, parseError("ipv6", ErrTruncated, "fragment header")
			}
			if binary.BigEndian.Uint16(rest[2:])&0xfff9 != 0 {
				return 0, 0, nil, parseError("ipv6", ErrFragment, "")
			}
			n = 8 // an atomic fragment (RFC 6946): offset 0, no M flag
		default:
			return next, fieldOffset, rest, nil
		}
		if i == maxExtensionHeaders {
			return 0, 0, nil, parseError("ipv6", ErrExtensionHeader, "more than 8 extension headers")
		}
		if n > len(rest) {
			return 0, 0, nil, parseError("ipv6", ErrTruncated, "extension header length past the end")
		}
		next, rest = rest[0], rest[n:]
		fieldOffset, pos = pos, pos+n
	}
}

// Marshal writes the 40-byte fixed header for a payload of payloadLen
// bytes into b (no extension headers).
func (h *IPv6Header) Marshal(b []byte, payloadLen int) (int, error) {
	if len(b) < IPv6HeaderLen || payloadLen > 0xffff {
		return 0, ErrBufferTooSmall
	}
	if !h.Src.Is6() || !h.Dst.Is6() || h.Src.Is4In6() || h.Dst.Is4In6() {
		return 0, ErrAddressFamily
	}
	binary.BigEndian.PutUint32(b, 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(payloadLen))
	b[6] = h.NextHeader
	b[7] = h.HopLimit
	src, dst := h.Src.As16(), h.Dst.As16()
	copy(b[8:24], src[:])
	copy(b[24:40], dst[:])
	return IPv6HeaderLen, nil
}
