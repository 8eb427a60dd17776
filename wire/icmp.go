package wire

import (
	"encoding/binary"
	"net/netip"
)

// ICMP message types seqack uses (RFC 792, RFC 4443).
const (
	ICMPv4EchoReply       = 0
	ICMPv4DestUnreachable = 3
	ICMPv4EchoRequest     = 8
	ICMPv4TimeExceeded    = 11
	ICMPv4CodeFragNeeded  = 4 // with ICMPv4DestUnreachable: the MTU is in the header (RFC 1191)

	ICMPv4CodeNetUnreachable      = 0 // codes of ICMPv4DestUnreachable (RFC 792, RFC 1122 §3.2.2.1)
	ICMPv4CodeHostUnreachable     = 1
	ICMPv4CodeProtocolUnreachable = 2
	ICMPv4CodePortUnreachable     = 3

	ICMPv6ParamProblem               = 4
	ICMPv6CodeNoRoute                = 0 // codes of ICMPv6DestUnreachable (RFC 4443 §3.1)
	ICMPv6CodeAdminProhibited        = 1
	ICMPv6CodeAddressUnreachable     = 3
	ICMPv6CodePortUnreachable        = 4
	ICMPv6CodeUnrecognizedNextHeader = 1 // code of ICMPv6ParamProblem (RFC 4443 §3.4)

	ICMPv6DestUnreachable = 1
	ICMPv6PacketTooBig    = 2
	ICMPv6TimeExceeded    = 3
	ICMPv6EchoRequest     = 128
	ICMPv6EchoReply       = 129
	ICMPHeaderLen         = 8
	icmpErrorQuoteMaxV4   = 576 - IPv4MinHeaderLen - ICMPHeaderLen // RFC 1812 §4.3.2.3
	icmpErrorQuoteMaxV6   = 1280 - IPv6HeaderLen - ICMPHeaderLen   // RFC 4443 §2.4(c)
)

// ICMPHeader is the 8-byte header shared by ICMPv4 and ICMPv6 messages.
// Rest holds the type-specific word: identifier and sequence number of an
// echo, the MTU of a packet-too-big or fragmentation-needed message.
type ICMPHeader struct {
	Type, Code uint8
	Checksum   uint16
	Rest       [4]byte
}

// EchoID and EchoSeq return the identifier and sequence number of an echo
// request or reply.
func (h *ICMPHeader) EchoID() uint16  { return binary.BigEndian.Uint16(h.Rest[0:]) }
func (h *ICMPHeader) EchoSeq() uint16 { return binary.BigEndian.Uint16(h.Rest[2:]) }

// MTU returns the next-hop MTU of an ICMPv6 packet-too-big (32 bits,
// RFC 4443 §3.2) or ICMPv4 fragmentation-needed (low 16 bits, RFC 1191
// §4) message.
func (h *ICMPHeader) MTU() uint32 { return binary.BigEndian.Uint32(h.Rest[:]) }

// IsError reports whether the message is an error that quotes the packet
// which caused it (destination unreachable, packet too big, time
// exceeded), so that Quoted applies.
func (h *ICMPHeader) IsError(version int) bool {
	if version == 4 {
		return h.Type == ICMPv4DestUnreachable || h.Type == ICMPv4TimeExceeded
	}
	return h.Type < 128
}

// ParseICMPv4 parses an ICMPv4 message, verifying its checksum, and
// returns the header and the body (for errors, the quoted original
// packet: the IP header and at least 8 bytes of its payload).
func ParseICMPv4(b []byte) (h ICMPHeader, body []byte, err error) {
	if len(b) < ICMPHeaderLen {
		return h, nil, parseError("icmpv4", ErrTruncated, "shorter than 8 bytes")
	}
	if Checksum(b, 0) != 0 {
		return h, nil, parseError("icmpv4", ErrChecksum, "")
	}
	return parseICMPHeader(b), b[ICMPHeaderLen:], nil
}

// ParseICMPv6 parses an ICMPv6 message from src to dst, verifying its
// checksum with the pseudo-header (RFC 4443 §2.3).
func ParseICMPv6(b []byte, src, dst netip.Addr) (h ICMPHeader, body []byte, err error) {
	if len(b) < ICMPHeaderLen {
		return h, nil, parseError("icmpv6", ErrTruncated, "shorter than 8 bytes")
	}
	if Checksum(b, PseudoHeaderChecksum(ProtocolICMPv6, src, dst, len(b))) != 0 {
		return h, nil, parseError("icmpv6", ErrChecksum, "")
	}
	return parseICMPHeader(b), b[ICMPHeaderLen:], nil
}

func parseICMPHeader(b []byte) ICMPHeader {
	return ICMPHeader{Type: b[0], Code: b[1], Checksum: binary.BigEndian.Uint16(b[2:]), Rest: [4]byte(b[4:8])}
}

// BuildICMPv4 writes an ICMPv4 message with h and body into b, computing
// the checksum, and returns its length.
func BuildICMPv4(b []byte, h *ICMPHeader, body []byte) (int, error) {
	n, err := putICMP(b, h, body)
	if err != nil {
		return 0, err
	}
	binary.BigEndian.PutUint16(b[2:], Checksum(b[:n], 0))
	return n, nil
}

// BuildICMPv6 writes an ICMPv6 message from src to dst into b, computing
// the checksum with the pseudo-header, and returns its length.
func BuildICMPv6(b []byte, src, dst netip.Addr, h *ICMPHeader, body []byte) (int, error) {
	n, err := putICMP(b, h, body)
	if err != nil {
		return 0, err
	}
	binary.BigEndian.PutUint16(b[2:], Checksum(b[:n], PseudoHeaderChecksum(ProtocolICMPv6, src, dst, n)))
	return n, nil
}

func putICMP(b []byte, h *ICMPHeader, body []byte) (int, error) {
	n := ICMPHeaderLen + len(body)
	if len(b) < n {
		return 0, ErrBufferTooSmall
	}
	b[0], b[1], b[2], b[3] = h.Type, h.Code, 0, 0
	copy(b[4:8], h.Rest[:])
	copy(b[8:], body)
	return n, nil
}

// ErrorQuote returns as much of the offending packet as an ICMP error
// may quote: for ICMPv4 enough to keep the error within 576 bytes
// (RFC 1812 §4.3.2.3), for ICMPv6 within the minimum MTU of 1280
// (RFC 4443 §2.4(c)).
func ErrorQuote(version int, original []byte) []byte {
	limit := icmpErrorQuoteMaxV6
	if version == 4 {
		limit = icmpErrorQuoteMaxV4
	}
	return original[:min(len(original), limit)]
}

// Quoted is the start of the packet an ICMP error quotes: its addresses
// and protocol, and as much of its upper-layer header as was quoted (at
// least 8 bytes when the sender followed RFC 792, enough for TCP's ports
// and sequence number).
type Quoted struct {
	Version  int
	Src, Dst netip.Addr
	Protocol uint8
	Payload  []byte
}

// ParseQuoted parses the packet quoted in an ICMP error's body. A quote is
// normally cut short, so its length fields are not checked against what
// is there; a quote of a non-initial IPv4 fragment is refused, since it
// holds no upper-layer header.
func ParseQuoted(body []byte) (Quoted, error) {
	if len(body) == 0 {
		return Quoted{}, parseError("icmp quote", ErrTruncated, "empty")
	}
	switch body[0] >> 4 {
	case 4:
		if len(body) < IPv4MinHeaderLen {
			return Quoted{}, parseError("icmp quote", ErrTruncated, "IPv4 header")
		}
		ihl := int(body[0]&0x0f) * 4
		if ihl < IPv4MinHeaderLen || ihl > len(body) {
			return Quoted{}, parseError("icmp quote", ErrHeaderLength, "IPv4 IHL")
		}
		if binary.BigEndian.Uint16(body[6:])&ipv4OffsetMask != 0 {
			return Quoted{}, parseError("icmp quote", ErrProtocol, "non-initial fragment")
		}
		return Quoted{
			Version:  4,
			Src:      netip.AddrFrom4([4]byte(body[12:16])),
			Dst:      netip.AddrFrom4([4]byte(body[16:20])),
			Protocol: body[9],
			Payload:  body[ihl:],
		}, nil
	case 6:
		if len(body) < IPv6HeaderLen {
			return Quoted{}, parseError("icmp quote", ErrTruncated, "IPv6 header")
		}
		proto, _, payload, err := skipExtensionHeaders(body[6], body)
		if err != nil {
			return Quoted{}, err
		}
		return Quoted{
			Version:  6,
			Src:      netip.AddrFrom16([16]byte(body[8:24])),
			Dst:      netip.AddrFrom16([16]byte(body[24:40])),
			Protocol: proto,
			Payload:  payload,
		}, nil
	}
	return Quoted{}, parseError("icmp quote", ErrVersion, "")
}
