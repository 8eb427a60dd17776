package wire

import "net/netip"

// TODO(wire): this file holds the agreed API; the helper writing package
// wire moves each piece into its own file (ipv4.go, ipv6.go, tcp.go,
// icmp.go, checksum.go, packet.go) with a real body and deletes this file.

// Protocol numbers (IANA) seqack uses.
const (
	ProtocolICMPv4 = 1
	ProtocolTCP    = 6
	ProtocolICMPv6 = 58
)

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
func ParseTCP(b []byte) (h TCPHeader, payload []byte, err error) { panic("unimplemented") }

// Len returns the length of the header Marshal writes: 20 bytes plus the
// options, padded to a multiple of 4.
func (h *TCPHeader) Len() int { panic("unimplemented") }

// Marshal writes the header with its options into b (at least Len bytes)
// and returns the length written. The checksum field is written as
// h.Checksum; see SetTCPChecksum.
func (h *TCPHeader) Marshal(b []byte) (int, error) { panic("unimplemented") }

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
// lengths and the IPv4 header checksum.
func ParseIP(b []byte) (IPPacket, error) { panic("unimplemented") }

// ParseTCPPacket parses an IP packet carrying TCP and verifies the TCP
// checksum with the pseudo-header.
func ParseTCPPacket(b []byte) (ip IPPacket, h TCPHeader, payload []byte, err error) {
	panic("unimplemented")
}

// BuildTCPPacket writes an IPv4 or IPv6 packet (by the family of src and
// dst) carrying h and payload into b, with every checksum filled in, and
// returns its length. ttl is the TTL or hop limit (0 means 64).
func BuildTCPPacket(b []byte, src, dst netip.Addr, ttl uint8, h *TCPHeader, payload []byte) (int, error) {
	panic("unimplemented")
}
