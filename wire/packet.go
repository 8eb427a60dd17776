package wire

import (
	"encoding/binary"
	"net/netip"
)

// IPPacket is the network-layer view of an IPv4 or IPv6 packet.
type IPPacket struct {
	Version  int // 4 or 6
	Src, Dst netip.Addr
	// Protocol is the upper-layer protocol (for IPv6, after walking the
	// extension headers).
	Protocol uint8
	TTL      uint8 // TTL or hop limit
	// Payload is the upper-layer data, a view into the parsed buffer.
	Payload []byte
}

// ParseIP parses an IPv4 or IPv6 packet (by its version nibble), checking
// lengths and the IPv4 header checksum. Fragments, IPv4 or IPv6, are
// refused with ErrFragment: they are ParseFragment's, for reassembly. An
// IPv6 atomic fragment (RFC 6946) is parsed as the whole packet it is.
func ParseIP(b []byte) (IPPacket, error) {
	if len(b) == 0 {
		return IPPacket{}, parseError("ip", ErrTruncated, "empty packet")
	}
	switch b[0] >> 4 {
	case 4:
		h, payload, err := ParseIPv4(b)
		if err != nil {
			return IPPacket{}, err
		}
		if h.IsFragment() {
			return IPPacket{}, parseError("ipv4", ErrFragment, "")
		}
		return IPPacket{Version: 4, Src: h.Src, Dst: h.Dst, Protocol: h.Protocol, TTL: h.TTL, Payload: payload}, nil
	case 6:
		h, proto, payload, err := ParseIPv6(b)
		if err != nil {
			return IPPacket{}, err
		}
		return IPPacket{Version: 6, Src: h.Src, Dst: h.Dst, Protocol: proto, TTL: h.HopLimit, Payload: payload}, nil
	}
	return IPPacket{}, parseError("ip", ErrVersion, "")
}

// ParseTCPPacket parses an IP packet carrying TCP and verifies the TCP
// checksum with the pseudo-header.
func ParseTCPPacket(b []byte) (ip IPPacket, h TCPHeader, payload []byte, err error) {
	ip, err = ParseIP(b)
	if err != nil {
		return ip, h, nil, err
	}
	if ip.Protocol != ProtocolTCP {
		return ip, h, nil, parseError("ip", ErrProtocol, "not TCP")
	}
	h, payload, err = ParseTCP(ip.Payload)
	if err != nil {
		return ip, h, nil, err
	}
	if !VerifyTCPChecksum(ip.Payload, ip.Src, ip.Dst) {
		return ip, h, nil, parseError("tcp", ErrChecksum, "")
	}
	return ip, h, payload, nil
}

// BuildTCPPacket writes an IPv4 or IPv6 packet (by the family of src and
// dst) carrying h and payload into b, with every checksum filled in, and
// returns its length. ttl is the TTL or hop limit (0 means 64). IPv4
// packets carry DF and ID 0 (RFC 6864 allows a zero ID on atomic
// datagrams). payload may already lie in b where it belongs, just past
// the headers: it is then left where it is.
func BuildTCPPacket(b []byte, src, dst netip.Addr, ttl uint8, h *TCPHeader, payload []byte) (int, error) {
	return buildTCPPacket(b, src, dst, ttl, h, payload, true)
}

// BuildTCPPacketPartialChecksum is BuildTCPPacket leaving the TCP
// checksum for the link to finish, as a network card with checksum
// offload expects (Linux's CHECKSUM_PARTIAL): the checksum field holds
// the pseudo-header's sum, uncomplemented, and the payload is not
// summed. For memory between two stacks, where nothing checks it
// (link.ChecksumOffloader, as Linux over loopback), and for segments a
// link cuts into packets, computing each one's checksum
// (link.SegmentOffloader).
func BuildTCPPacketPartialChecksum(b []byte, src, dst netip.Addr, ttl uint8, h *TCPHeader, payload []byte) (int, error) {
	return buildTCPPacket(b, src, dst, ttl, h, payload, false)
}

func buildTCPPacket(b []byte, src, dst netip.Addr, ttl uint8, h *TCPHeader, payload []byte, checksum bool) (int, error) {
	if ttl == 0 {
		ttl = 64
	}
	tcpLen := h.Len() + len(payload)
	var ipLen int
	var err error
	switch {
	case src.Is4() && dst.Is4():
		ip := IPv4Header{FlagsFragment: IPv4DontFragment, TTL: ttl, Protocol: ProtocolTCP, Src: src, Dst: dst}
		if len(b) < IPv4MinHeaderLen+tcpLen {
			return 0, ErrBufferTooSmall
		}
		ipLen, err = ip.Marshal(b, tcpLen)
	case src.Is6() && dst.Is6():
		ip := IPv6Header{NextHeader: ProtocolTCP, HopLimit: ttl, Src: src, Dst: dst}
		if len(b) < IPv6HeaderLen+tcpLen {
			return 0, ErrBufferTooSmall
		}
		ipLen, err = ip.Marshal(b, tcpLen)
	default:
		return 0, ErrAddressFamily
	}
	if err != nil {
		return 0, err
	}
	seg := b[ipLen : ipLen+tcpLen]
	n, err := h.Marshal(seg)
	if err != nil {
		return 0, err
	}
	if len(payload) > 0 && &seg[n] != &payload[0] {
		copy(seg[n:], payload) // a payload already in place is not moved
	}
	seg[16], seg[17] = 0, 0
	sum := PseudoHeaderChecksum(ProtocolTCP, src, dst, tcpLen)
	if checksum {
		binary.BigEndian.PutUint16(seg[16:], Checksum(seg, sum))
	} else {
		binary.BigEndian.PutUint16(seg[16:], uint16(sum)) // folded already
	}
	return ipLen + tcpLen, nil
}
