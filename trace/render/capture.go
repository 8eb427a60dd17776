package render

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// Capture is a pcap file read back into events, one trace per TCP
// connection, so that the renderers draw a tcpdump or Wireshark capture
// (or seqack's own, from Pcap) as they draw a simulated run.
type Capture struct {
	// Conns are the capture's TCP connections, in the order of their
	// first packets.
	Conns []*CapturedConn
	// Skipped counts the records that are not TCP over IPv4 or IPv6, or
	// whose headers do not parse: they are counted and left out.
	Skipped int
}

// CapturedConn is one TCP connection of a capture. A capture is taken at
// one point, so each packet is recorded as sent and delivered at the
// moment it was captured, and there are no state changes: the states are
// inside the hosts, not on the wire.
type CapturedConn struct {
	// First is the end that sent the connection's first SYN (without
	// ACK), or, if the capture holds none, its first packet; Second is
	// the other end. They are the left and right columns of a diagram.
	First, Second netip.AddrPort
	// HasSYN reports whether the capture holds the connection's SYN.
	HasSYN bool
	// Packets counts the connection's packets.
	Packets int
	// Events are a SegmentSent and a SegmentDelivered per packet, with
	// Host and Peer the two ends' addresses ("10.0.0.1:40000"), IDs
	// unique in the capture, At the time since the capture's first TCP
	// packet, and Packet the IP packet.
	Events []trace.Event
}

// Main returns the index in Conns of the connection a reader most
// likely wants: the first that starts with a SYN, else the first.
func (c *Capture) Main() int {
	for i, cc := range c.Conns {
		if cc.HasSYN {
			return i
		}
	}
	return 0
}

// ReadPcap reads a pcap file (microsecond or nanosecond; raw IP,
// Ethernet with any 802.1Q tags, Linux cooked v1 or v2, or BSD loopback
// link type) into the events of its TCP connections. The TCP checksum is
// not verified: a capture taken on the sending host often has it left
// for the network card to fill.
func ReadPcap(r io.Reader) (*Capture, error) {
	pr, err := pcap.NewReader(r)
	if err != nil {
		return nil, err
	}
	strip, ok := linkHeader(pr.LinkType())
	if !ok {
		return nil, fmt.Errorf("render: link type %d is not read: want raw IP, Ethernet, Linux cooked or loopback", pr.LinkType())
	}
	var (
		c       = &Capture{}
		byKey   = map[connKey]*CapturedConn{}
		start   int64
		started bool
		id      int
	)
	for {
		p, err := pr.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		data, ok := strip(p.Data)
		if !ok {
			c.Skipped++
			continue
		}
		ip, err := wire.ParseIP(data)
		if err != nil || ip.Protocol != wire.ProtocolTCP {
			c.Skipped++
			continue
		}
		h, payload, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			c.Skipped++
			continue
		}
		if !started {
			start, started = p.Time.UnixNano(), true
		}
		src, dst := netip.AddrPortFrom(ip.Src, h.SrcPort), netip.AddrPortFrom(ip.Dst, h.DstPort)
		k := keyFor(src, dst)
		cc := byKey[k]
		if cc == nil {
			cc = &CapturedConn{First: src, Second: dst}
			byKey[k] = cc
			c.Conns = append(c.Conns, cc)
		}
		seg := tcp.SegmentFromHeader(&h, append([]byte(nil), payload...))
		if seg.Flags.Has(wire.FlagSYN) && !seg.Flags.Has(wire.FlagACK) && !cc.HasSYN {
			cc.HasSYN, cc.First, cc.Second = true, src, dst
		}
		cc.Packets++
		id++
		at := time.Duration(p.Time.UnixNano() - start)
		cc.Events = append(cc.Events,
			trace.Event{At: at, Kind: trace.SegmentSent, Host: src.String(), Peer: dst.String(), ID: id, Segment: seg, Packet: data},
			trace.Event{At: at, Kind: trace.SegmentDelivered, Host: dst.String(), Peer: src.String(), ID: id, Segment: seg},
		)
	}
	return c, nil
}

// connKey names a connection by its two ends, the lower first, so that
// both directions have the same key.
type connKey struct{ a, b netip.AddrPort }

func keyFor(src, dst netip.AddrPort) connKey {
	if dst.Compare(src) < 0 {
		src, dst = dst, src
	}
	return connKey{src, dst}
}

// The pcap link types ReadPcap reads (www.tcpdump.org/linktypes.html)
// besides pcap.LinkTypeRaw.
const (
	linkTypeNull     pcap.LinkType = 0   // LINKTYPE_NULL: a 4-byte address family
	linkTypeEthernet pcap.LinkType = 1   // LINKTYPE_ETHERNET
	linkTypeLoop     pcap.LinkType = 108 // LINKTYPE_LOOP: as NULL
	linkTypeLinuxSLL pcap.LinkType = 113 // LINKTYPE_LINUX_SLL: a 16-byte header
	linkTypeIPv4     pcap.LinkType = 228 // LINKTYPE_IPV4
	linkTypeIPv6     pcap.LinkType = 229 // LINKTYPE_IPV6
	linkTypeLinuxSL2 pcap.LinkType = 276 // LINKTYPE_LINUX_SLL2: a 20-byte header
)

// linkHeader returns a function that strips a record's link-layer header
// for the capture's link type, reporting whether what is left is IP.
func linkHeader(lt pcap.LinkType) (func([]byte) ([]byte, bool), bool) {
	skip := func(n int) func([]byte) ([]byte, bool) {
		return func(b []byte) ([]byte, bool) {
			if len(b) < n {
				return nil, false
			}
			return b[n:], true
		}
	}
	switch lt {
	case pcap.LinkTypeRaw, linkTypeIPv4, linkTypeIPv6:
		return skip(0), true
	case linkTypeNull, linkTypeLoop:
		return skip(4), true
	case linkTypeLinuxSLL:
		return skip(16), true
	case linkTypeLinuxSL2:
		return skip(20), true
	case linkTypeEthernet: // with any 802.1Q or 802.1ad tags
		return func(b []byte) ([]byte, bool) {
			n := 12
			for len(b) >= n+2 && (b[n] == 0x81 && b[n+1] == 0x00 || b[n] == 0x88 && b[n+1] == 0xa8) {
				n += 4
			}
			if len(b) < n+2 {
				return nil, false
			}
			typ := uint16(b[n])<<8 | uint16(b[n+1])
			if typ != 0x0800 && typ != 0x86dd {
				return nil, false
			}
			return b[n+2:], true
		}, true
	}
	return nil, false
}
