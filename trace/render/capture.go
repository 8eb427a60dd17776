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

// Capture is a capture file (pcap or pcapng) read back into events, one
// trace per TCP connection, so that the renderers draw a tcpdump or
// Wireshark capture (or seqack's own, from Pcap) as they draw a
// simulated run.
type Capture struct {
	// Conns are the capture's TCP connections, in the order of their
	// first packets.
	Conns []*CapturedConn
	// Skipped counts the records that are not TCP over IPv4 or IPv6, or
	// whose headers do not parse: they are counted and left out.
	Skipped int
	// Records counts the packets read.
	Records int
	// Resolution is the finest timestamp resolution of the packets read:
	// a microsecond for a classic pcap, a nanosecond for its nanosecond
	// variant, what if_tsresol says for pcapng.
	Resolution time.Duration
	// Cut, if not nil, says where the file ends short or is damaged:
	// the packets before it were read, nothing after.
	Cut *CutError
}

// CutError says where a capture file stops making sense: a record cut
// short (a capture copied while tcpdump was writing it, or truncated by
// a size limit) or damaged.
type CutError struct {
	// Offset is the byte offset in the file of the record that is cut
	// short or damaged; Record its number, from 1 (pcap records, or
	// pcapng blocks).
	Offset int64
	Record int
	// Unit names what Record counts: "record" (pcap) or "block"
	// (pcapng).
	Unit string
	// Err says what is wrong with it (io.ErrUnexpectedEOF for a cut).
	Err error
}

func (e *CutError) Error() string {
	what := "is damaged"
	if errors.Is(e.Err, io.ErrUnexpectedEOF) {
		what = "is cut short"
	}
	return fmt.Sprintf("the capture ends at byte %d: %s %d %s (%v)", e.Offset, e.Unit, e.Record, what, e.Err)
}

// Unwrap returns what is wrong with the record.
func (e *CutError) Unwrap() error { return e.Err }

// CapturedConn is one TCP connection of a capture. A capture is taken at
// one point, so each packet is recorded as sent and delivered at the
// moment it was captured, and the states are inferred from the
// segments (see Events).
type CapturedConn struct {
	// First is the end that sent the connection's first SYN (without
	// ACK), or, if the capture holds none, its first packet; Second is
	// the other end. They are the left and right columns of a diagram.
	First, Second netip.AddrPort
	// HasSYN reports whether the capture holds the connection's SYN.
	HasSYN bool
	// Handshake reports whether the capture holds both of the
	// handshake's SYNs, so that each side's window scale is known
	// (RFC 7323 §2.2).
	Handshake bool
	// Packets counts the connection's packets.
	Packets int
	// Events are a SegmentSent and a SegmentDelivered per packet, with
	// Host and Peer the two ends' addresses ("10.0.0.1:40000"), Conn
	// the connection as Host sees it, IDs
	// unique in the capture, At the time since the capture's first TCP
	// packet, and Packet the IP packet; among them, StateChanged events
	// marked Inferred with the states the segments imply (see
	// InferStates); and, if the capture is cut short, a Note saying so
	// at its end. Nil for a connection ReadOptions.Keep did not keep.
	Events []trace.Event

	kept bool
	syns [2]bool // the SYN of First, the SYN+ACK of Second seen
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

// ReadOptions says what ReadCapture keeps.
type ReadOptions struct {
	// Keep says whether to keep the events of the connection with the
	// given index in Capture.Conns (in the order of first packets, from
	// 0). nil keeps every connection's. Connections not kept are
	// counted and described but hold no events, so that listing the
	// connections of a large capture takes memory in proportion to
	// their number, not to the file's size.
	Keep func(conn int) bool
}

// ReadPcap reads a capture file, as ReadCapture with every connection
// kept.
func ReadPcap(r io.Reader) (*Capture, error) {
	return ReadCapture(r, ReadOptions{})
}

// ReadCapture reads a capture file — pcap (microsecond or nanosecond,
// either byte order) or pcapng (either byte order, any number of
// sections and interfaces) — with raw IP, Ethernet with any 802.1Q tags,
// Linux cooked v1 or v2, or BSD loopback link types, into the events of
// its TCP connections. It reads the file record by record and keeps
// only the packets of the connections opts keeps.
//
// A file that is not a capture is an error. A capture cut short or
// damaged after its header is not: what comes before is read, and
// Capture.Cut says where it ends. The TCP checksum is not verified: a
// capture taken on the sending host often has it left for the network
// card to fill.
func ReadCapture(r io.Reader, opts ReadOptions) (*Capture, error) {
	recs, err := openRecords(r)
	if err != nil {
		return nil, err
	}
	var (
		c       = &Capture{}
		byKey   = map[connKey]*CapturedConn{}
		strips  = map[pcap.LinkType]func([]byte) ([]byte, bool){}
		badLink pcap.LinkType
		anyBad  bool
		start   int64
		last    time.Duration
		started bool
		id      int
	)
	for {
		rec, err := recs.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.Cut = &CutError{Offset: recs.offset(), Record: recs.record(), Unit: recs.unit(), Err: err}
			break
		}
		c.Records++
		if c.Resolution == 0 || rec.resolution != 0 && rec.resolution < c.Resolution {
			c.Resolution = rec.resolution
		}
		strip, ok := strips[rec.linkType]
		if !ok {
			strip, _ = linkHeader(rec.linkType)
			strips[rec.linkType] = strip
		}
		if strip == nil {
			badLink, anyBad = rec.linkType, true
			c.Skipped++
			continue
		}
		data, ok := strip(rec.data)
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
			start, started = rec.time.UnixNano(), true
		}
		at := time.Duration(rec.time.UnixNano() - start)
		last = max(last, at)
		src, dst := netip.AddrPortFrom(ip.Src, h.SrcPort), netip.AddrPortFrom(ip.Dst, h.DstPort)
		k := keyFor(src, dst)
		cc := byKey[k]
		if cc == nil {
			cc = &CapturedConn{First: src, Second: dst}
			cc.kept = opts.Keep == nil || opts.Keep(len(c.Conns))
			byKey[k] = cc
			c.Conns = append(c.Conns, cc)
		}
		syn, ack := h.Flags.Has(wire.FlagSYN), h.Flags.Has(wire.FlagACK)
		if syn && !ack && !cc.HasSYN {
			cc.HasSYN, cc.First, cc.Second = true, src, dst
		}
		if syn && cc.HasSYN {
			cc.syns[b2i(src != cc.First)] = true
			cc.Handshake = cc.syns[0] && cc.syns[1]
		}
		cc.Packets++
		id++
		if !cc.kept {
			continue
		}
		seg := tcp.SegmentFromHeader(&h, append([]byte(nil), payload...))
		pkt := append([]byte(nil), data...)
		cc.Events = append(cc.Events,
			trace.Event{At: at, Kind: trace.SegmentSent, Host: src.String(), Peer: dst.String(), ID: id, Segment: seg, Packet: pkt, Conn: trace.Tuple{Local: src, Remote: dst}},
			trace.Event{At: at, Kind: trace.SegmentDelivered, Host: dst.String(), Peer: src.String(), ID: id, Segment: seg, Conn: trace.Tuple{Local: dst, Remote: src}},
		)
	}
	if len(c.Conns) == 0 && anyBad {
		return nil, fmt.Errorf("render: link type %d is not read: want raw IP, Ethernet, Linux cooked or loopback", badLink)
	}
	for _, cc := range c.Conns {
		if !cc.kept {
			continue
		}
		cc.Events = InferStates(cc.Events, cc.First.String(), cc.Second.String())
		if c.Cut != nil {
			cc.Events = append(cc.Events, trace.Event{At: last, Kind: trace.Note, Text: c.Cut.Error()})
		}
	}
	return c, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
