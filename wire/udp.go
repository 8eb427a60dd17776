package wire

import (
	"encoding/binary"
	"net/netip"
)

// ProtocolUDP is UDP's IP protocol number (IANA).
const ProtocolUDP = 17

// UDPHeaderLen is the length of a UDP header (RFC 768).
const UDPHeaderLen = 8

// UDPHeader is a parsed UDP header (RFC 768).
type UDPHeader struct {
	SrcPort, DstPort uint16
	// Length is the datagram's length, header included.
	Length   uint16
	Checksum uint16 // 0: none was computed (IPv4 only)
}

// ParseUDP parses the UDP datagram b (an IP packet's payload) and returns
// its header and payload, a view into b cut at the Length field (bytes
// past it are padding). A Length below 8 or past the end of b is
// refused, as Linux's udp_rcv does. The checksum is not checked here:
// see VerifyUDPChecksum.
func ParseUDP(b []byte) (h UDPHeader, payload []byte, err error) {
	if len(b) < UDPHeaderLen {
		return h, nil, parseError("udp", ErrTruncated, "shorter than 8 bytes")
	}
	h.SrcPort = binary.BigEndian.Uint16(b[0:])
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Length = binary.BigEndian.Uint16(b[4:])
	h.Checksum = binary.BigEndian.Uint16(b[6:])
	if int(h.Length) < UDPHeaderLen || int(h.Length) > len(b) {
		return h, nil, parseError("udp", ErrTotalLength, "")
	}
	return h, b[UDPHeaderLen:h.Length], nil
}

// VerifyUDPChecksum reports whether the UDP datagram d (cut at its
// Length field) from src to dst carries a correct checksum. A zero
// checksum means none was computed: accepted over IPv4 (RFC 768),
// refused over IPv6, where it is mandatory (RFC 8200 §8.1).
func VerifyUDPChecksum(d []byte, src, dst netip.Addr) bool {
	if len(d) < UDPHeaderLen {
		return false
	}
	if d[6] == 0 && d[7] == 0 {
		return src.Is4()
	}
	return Checksum(d, PseudoHeaderChecksum(ProtocolUDP, src, dst, len(d))) == 0
}

// UDPMaxPayload returns the largest UDP payload an IP packet of the
// given family can carry: 65507 bytes for IPv4, 65527 for IPv6 (no
// jumbograms).
func UDPMaxPayload(v6 bool) int {
	if v6 {
		return 0xffff - UDPHeaderLen
	}
	return 0xffff - IPv4MinHeaderLen - UDPHeaderLen
}

// UDPPacketLen returns the length of the IP packet BuildUDPPacket makes
// for a payload of n bytes.
func UDPPacketLen(v6 bool, n int) int {
	if v6 {
		return IPv6HeaderLen + UDPHeaderLen + n
	}
	return IPv4MinHeaderLen + UDPHeaderLen + n
}

// BuildUDPPacket writes an IPv4 or IPv6 packet (by the family of src's
// and dst's addresses) carrying a UDP datagram with payload into b,
// checksums computed, and returns its length. ttl is the TTL or hop
// limit (0 means 64). A computed checksum of zero is sent as 0xffff
// (RFC 768). IPv4 packets carry DF and ID 0, as TCP's do (RFC 6864);
// one too large for its link is cut by BuildFragment, which clears DF
// and sets an ID. payload may already lie in b where it
// belongs, just past the headers: it is then left where it is.
func BuildUDPPacket(b []byte, src, dst netip.AddrPort, ttl uint8, payload []byte) (int, error) {
	if ttl == 0 {
		ttl = 64
	}
	udpLen := UDPHeaderLen + len(payload)
	var ipLen int
	var err error
	switch {
	case src.Addr().Is4() && dst.Addr().Is4():
		if len(payload) > UDPMaxPayload(false) {
			return 0, ErrBufferTooSmall
		}
		ip := IPv4Header{FlagsFragment: IPv4DontFragment, TTL: ttl, Protocol: ProtocolUDP, Src: src.Addr(), Dst: dst.Addr()}
		if len(b) < IPv4MinHeaderLen+udpLen {
			return 0, ErrBufferTooSmall
		}
		ipLen, err = ip.Marshal(b, udpLen)
	case src.Addr().Is6() && dst.Addr().Is6():
		if len(payload) > UDPMaxPayload(true) {
			return 0, ErrBufferTooSmall
		}
		ip := IPv6Header{NextHeader: ProtocolUDP, HopLimit: ttl, Src: src.Addr(), Dst: dst.Addr()}
		if len(b) < IPv6HeaderLen+udpLen {
			return 0, ErrBufferTooSmall
		}
		ipLen, err = ip.Marshal(b, udpLen)
	default:
		return 0, ErrAddressFamily
	}
	if err != nil {
		return 0, err
	}
	d := b[ipLen : ipLen+udpLen]
	binary.BigEndian.PutUint16(d[0:], src.Port())
	binary.BigEndian.PutUint16(d[2:], dst.Port())
	binary.BigEndian.PutUint16(d[4:], uint16(udpLen))
	d[6], d[7] = 0, 0
	if len(payload) > 0 && &d[UDPHeaderLen] != &payload[0] {
		copy(d[UDPHeaderLen:], payload) // a payload already in place is not moved
	}
	sum := Checksum(d, PseudoHeaderChecksum(ProtocolUDP, src.Addr(), dst.Addr(), udpLen))
	if sum == 0 {
		sum = 0xffff // RFC 768: zero means "no checksum"; its one's complement twin is sent
	}
	binary.BigEndian.PutUint16(d[6:], sum)
	return ipLen + udpLen, nil
}
