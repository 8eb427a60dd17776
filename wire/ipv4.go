package wire

import (
	"encoding/binary"
	"net/netip"
)

// Protocol numbers (IANA) seqack uses.
const (
	ProtocolICMPv4 = 1
	ProtocolTCP    = 6
	ProtocolICMPv6 = 58
)

// IPv4MinHeaderLen is the length of an IPv4 header without options.
const IPv4MinHeaderLen = 20

// IPv4 header flag bits (RFC 791 §3.1), in the top bits of FlagsFragment.
const (
	IPv4DontFragment  = 0x4000
	IPv4MoreFragments = 0x2000
	ipv4OffsetMask    = 0x1fff
)

// IPv4Header is a parsed IPv4 header (RFC 791 §3.1).
type IPv4Header struct {
	TOS      uint8
	TotalLen uint16
	ID       uint16
	// FlagsFragment holds the DF and MF flags and the fragment offset in
	// 8-byte units, as on the wire.
	FlagsFragment uint16
	TTL           uint8
	Protocol      uint8
	Checksum      uint16
	Src, Dst      netip.Addr
	// Options is the option bytes (a view into the parsed buffer). They
	// are skipped, not interpreted; Marshal does not write options.
	Options []byte
}

// FragmentOffset returns the fragment offset in bytes.
func (h *IPv4Header) FragmentOffset() int { return int(h.FlagsFragment&ipv4OffsetMask) * 8 }

// IsFragment reports whether the packet is a fragment (MF set or a
// non-zero offset).
func (h *IPv4Header) IsFragment() bool {
	return h.FlagsFragment&(IPv4MoreFragments|ipv4OffsetMask) != 0
}

// ParseIPv4 parses an IPv4 header, verifies its checksum and its length
// fields against b, and returns it with the payload (a view into b, cut
// at the total length so link-layer padding is dropped).
func ParseIPv4(b []byte) (h IPv4Header, payload []byte, err error) {
	if len(b) < IPv4MinHeaderLen {
		return h, nil, parseError("ipv4", ErrTruncated, "shorter than 20 bytes")
	}
	if b[0]>>4 != 4 {
		return h, nil, parseError("ipv4", ErrVersion, "")
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < IPv4MinHeaderLen {
		return h, nil, parseError("ipv4", ErrHeaderLength, "IHL below 5")
	}
	if ihl > len(b) {
		return h, nil, parseError("ipv4", ErrTruncated, "IHL past the end")
	}
	total := int(binary.BigEndian.Uint16(b[2:]))
	if total < ihl || total > len(b) {
		return h, nil, parseError("ipv4", ErrTotalLength, "")
	}
	if Checksum(b[:ihl], 0) != 0 {
		return h, nil, parseError("ipv4", ErrChecksum, "header")
	}
	h.TOS = b[1]
	h.TotalLen = uint16(total)
	h.ID = binary.BigEndian.Uint16(b[4:])
	h.FlagsFragment = binary.BigEndian.Uint16(b[6:])
	h.TTL = b[8]
	h.Protocol = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:])
	h.Src = netip.AddrFrom4([4]byte(b[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	h.Options = b[IPv4MinHeaderLen:ihl:ihl]
	return h, b[ihl:total], nil
}

// Marshal writes a 20-byte IPv4 header for a payload of payloadLen
// bytes into b, computing the total length and the header checksum from
// h's other fields (h.Options is not written).
func (h *IPv4Header) Marshal(b []byte, payloadLen int) (int, error) {
	total := IPv4MinHeaderLen + payloadLen
	if len(b) < IPv4MinHeaderLen || total > 0xffff {
		return 0, ErrBufferTooSmall
	}
	if !h.Src.Is4() || !h.Dst.Is4() {
		return 0, ErrAddressFamily
	}
	b[0] = 0x45
	b[1] = h.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], h.ID)
	binary.BigEndian.PutUint16(b[6:], h.FlagsFragment)
	b[8] = h.TTL
	b[9] = h.Protocol
	b[10], b[11] = 0, 0
	src, dst := h.Src.As4(), h.Dst.As4()
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:], Checksum(b[:IPv4MinHeaderLen], 0))
	return IPv4MinHeaderLen, nil
}
