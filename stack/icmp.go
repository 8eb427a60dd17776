package stack

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// deliverICMP answers echo requests (RFC 792, RFC 4443 §4.1), so that
// ping works against the stack, hands echo replies to the ping socket
// whose identifier they carry (ping.go), and hands errors that quote one
// of our TCP segments or UDP datagrams to its connection.
func (s *Stack) deliverICMP(n *nic, ip wire.IPPacket) {
	var h wire.ICMPHeader
	var body []byte
	var err error
	if ip.Version == 4 {
		h, body, err = wire.ParseICMPv4(ip.Payload)
	} else {
		h, body, err = wire.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
	}
	if err != nil {
		s.stats.MalformedPackets.Add(1)
		return
	}
	if h.IsError(ip.Version) {
		s.icmpError(ip, &h, body)
		return
	}
	if ip.Version == 4 && h.Type == wire.ICMPv4EchoReply || ip.Version == 6 && h.Type == wire.ICMPv6EchoReply {
		s.deliverEchoReply(ip, &h, ip.Payload)
		return
	}
	reply := h
	switch {
	case ip.Version == 4 && h.Type == wire.ICMPv4EchoRequest:
		reply.Type = wire.ICMPv4EchoReply
	case ip.Version == 6 && h.Type == wire.ICMPv6EchoRequest:
		reply.Type = wire.ICMPv6EchoReply
	default:
		return
	}
	s.stats.EchoRequests.Add(1)
	reply.Code = 0
	s.sendICMP(n, ip.Dst, ip.Src, &reply, body)
}

// icmpError handles an ICMP error (RFC 5927): it is believed only if it
// quotes a segment of an existing connection, with a sequence number that
// connection has sent and not had acknowledged (the engine checks).
func (s *Stack) icmpError(ip wire.IPPacket, h *wire.ICMPHeader, body []byte) {
	s.stats.ICMPErrorsReceived.Add(1)
	q, err := wire.ParseQuoted(body)
	if err == nil && q.Version == ip.Version && (q.Protocol == wire.ProtocolICMPv4 || q.Protocol == wire.ProtocolICMPv6) &&
		len(q.Payload) >= wire.ICMPHeaderLen {
		s.pingICMPError(ip, h, q)
		return
	}
	if err == nil && q.Version == ip.Version && q.Protocol == wire.ProtocolUDP && len(q.Payload) >= 4 {
		s.udpICMPError(ip, h, q)
		return
	}
	if err != nil || q.Version != ip.Version || q.Protocol != wire.ProtocolTCP || len(q.Payload) < 8 {
		s.stats.ICMPErrorsIgnored.Add(1)
		return
	}
	t := tuple{
		local:  netip.AddrPortFrom(q.Src, binary.BigEndian.Uint16(q.Payload[0:])),
		remote: netip.AddrPortFrom(q.Dst, binary.BigEndian.Uint16(q.Payload[2:])),
	}
	seq := tcp.Seq(binary.BigEndian.Uint32(q.Payload[4:]))
	s.mu.Lock()
	c := s.conns[t.key()]
	s.mu.Unlock()
	k := classifyICMP(ip.Version, h)
	believed := c != nil && c.icmpError(k, seq)
	if !believed {
		s.stats.ICMPErrorsIgnored.Add(1)
	}
	if l := s.opts.Logger; l != nil {
		l.Debug("icmp error", "local", t.local, "remote", t.remote, "type", h.Type, "code", h.Code,
			slog.Any("err", k.err), "mtu", k.mtu, "believed", believed)
	}
}

// icmpKind is what an ICMP error means for TCP.
type icmpKind struct {
	err  error // the errno reported, for an unreachable or time exceeded
	hard bool  // RFC 1122 §4.2.3.9: ends a connection still in SYN_SENT
	mtu  int   // for packet too big / fragmentation needed: the next-hop MTU
}

// classifyICMP maps an ICMP error to its meaning for TCP (RFC 1122
// §4.2.3.9, RFC 4443 §3, with the errnos Linux reports).
func classifyICMP(version int, h *wire.ICMPHeader) icmpKind {
	if version == 4 {
		switch {
		case h.Type == wire.ICMPv4DestUnreachable && h.Code == wire.ICMPv4CodeFragNeeded:
			mtu := int(h.MTU() & 0xffff)
			if mtu == 0 {
				mtu = 576 // a router older than RFC 1191 gives none
			}
			return icmpKind{mtu: max(mtu, minPathMTUv4)}
		case h.Type == wire.ICMPv4DestUnreachable && h.Code == wire.ICMPv4CodeNetUnreachable:
			return icmpKind{err: syscall.ENETUNREACH}
		case h.Type == wire.ICMPv4DestUnreachable && h.Code == wire.ICMPv4CodeProtocolUnreachable:
			return icmpKind{err: syscall.ENOPROTOOPT, hard: true}
		case h.Type == wire.ICMPv4DestUnreachable && h.Code == wire.ICMPv4CodePortUnreachable:
			return icmpKind{err: syscall.ECONNREFUSED, hard: true}
		}
		return icmpKind{err: syscall.EHOSTUNREACH}
	}
	switch {
	case h.Type == wire.ICMPv6PacketTooBig:
		return icmpKind{mtu: int(min(max(h.MTU(), minPathMTUv6), 65535))}
	case h.Type == wire.ICMPv6DestUnreachable && h.Code == wire.ICMPv6CodeNoRoute:
		return icmpKind{err: syscall.ENETUNREACH}
	case h.Type == wire.ICMPv6DestUnreachable && h.Code == wire.ICMPv6CodeAdminProhibited:
		return icmpKind{err: syscall.EACCES}
	case h.Type == wire.ICMPv6DestUnreachable && h.Code == wire.ICMPv6CodePortUnreachable:
		return icmpKind{err: syscall.ECONNREFUSED, hard: true}
	case h.Type == wire.ICMPv6ParamProblem:
		return icmpKind{err: syscall.EPROTO}
	}
	return icmpKind{err: syscall.EHOSTUNREACH}
}

// The smallest path MTUs believed: IPv6's minimum link MTU (RFC 8200
// §5), and for IPv4 Linux's min_pmtu rather than RFC 1191's 68, so that a
// forged message cannot shrink segments to a few bytes.
const (
	minPathMTUv4 = 552
	minPathMTUv6 = 1280
)

// icmpError hands an ICMP error to the engine; it reports whether the
// engine believed it.
func (c *Conn) icmpError(k icmpKind, seq tcp.Seq) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	var ok bool
	if k.mtu != 0 {
		hdr := 40
		if c.remote.Addr().Is6() {
			hdr = 60
		}
		ok = c.tcb.PacketTooBig(uint16(k.mtu-hdr), seq, now)
	} else {
		ok = c.tcb.ICMPError(k.err, k.hard, seq, now)
	}
	c.flush()
	return ok
}

// protocolUnreachable answers a packet for a protocol the stack does not
// run: ICMPv4 protocol unreachable (RFC 1122 §3.2.2.1), ICMPv6 parameter
// problem pointing at the unrecognized Next Header (RFC 8200 §4).
func (s *Stack) protocolUnreachable(n *nic, p []byte, ip wire.IPPacket) {
	s.stats.UnknownProtocol.Add(1)
	if !ip.Src.IsGlobalUnicast() && !ip.Src.IsLinkLocalUnicast() || !s.icmpLimit.allow(time.Now()) {
		return // never to a multicast, broadcast or unspecified source (RFC 1122 §3.2.2); rate-limited (RFC 4443 §2.4(f))
	}
	h := wire.ICMPHeader{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4CodeProtocolUnreachable}
	if ip.Version == 6 {
		off, err := wire.IPv6ProtocolOffset(p)
		if err != nil {
			return
		}
		h = wire.ICMPHeader{Type: wire.ICMPv6ParamProblem, Code: wire.ICMPv6CodeUnrecognizedNextHeader}
		binary.BigEndian.PutUint32(h.Rest[:], uint32(off))
	}
	s.sendICMP(n, ip.Dst, ip.Src, &h, wire.ErrorQuote(ip.Version, p))
}

// udpICMPError handles an ICMP error quoting a UDP datagram q we sent.
// As Linux's udp_err does for sockets without IP_RECVERR, only a hard
// error (port or protocol unreachable; RFC 1122 §4.1.3.3 passes ICMP
// errors up to the application) reaches a socket, and only a connected
// one: its 4-tuple must match the quote, which stands for the check of
// sequence numbers TCP has (RFC 5927 §4.1).
func (s *Stack) udpICMPError(ip wire.IPPacket, h *wire.ICMPHeader, q wire.Quoted) {
	local := netip.AddrPortFrom(q.Src, binary.BigEndian.Uint16(q.Payload[0:]))
	remote := netip.AddrPortFrom(q.Dst, binary.BigEndian.Uint16(q.Payload[2:]))
	k := classifyICMP(ip.Version, h)
	c := s.udp.lookup(local, remote)
	believed := c != nil && c.remote == remote && k.hard
	if believed {
		c.icmpError(k.err)
	} else {
		s.stats.ICMPErrorsIgnored.Add(1)
	}
	if l := s.opts.Logger; l != nil {
		l.Debug("icmp error", "proto", "udp", "local", local, "remote", remote, "type", h.Type, "code", h.Code,
			slog.Any("err", k.err), "believed", believed)
	}
}

// portUnreachable answers a UDP datagram no socket takes with an ICMP
// port unreachable (RFC 1122 §4.1.3.1, RFC 4443 §3.1), rate-limited
// with the stack's other ICMP errors.
func (s *Stack) portUnreachable(n *nic, p []byte, ip wire.IPPacket) {
	if !ip.Src.IsGlobalUnicast() && !ip.Src.IsLinkLocalUnicast() || !s.icmpLimit.allow(time.Now()) {
		return // never to a multicast, broadcast or unspecified source (RFC 1122 §3.2.2); rate-limited (RFC 4443 §2.4(f))
	}
	h := wire.ICMPHeader{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4CodePortUnreachable}
	if ip.Version == 6 {
		h = wire.ICMPHeader{Type: wire.ICMPv6DestUnreachable, Code: wire.ICMPv6CodePortUnreachable}
	}
	s.sendICMP(n, ip.Dst, ip.Src, &h, wire.ErrorQuote(ip.Version, p))
}

// sendICMP sends an ICMP message from src to dst, on the route to dst or
// else back out of n.
func (s *Stack) sendICMP(n *nic, src, dst netip.Addr, h *wire.ICMPHeader, body []byte) {
	buf := make([]byte, wire.IPv6HeaderLen+wire.ICMPHeaderLen+len(body))
	var off int
	var err error
	if src.Is4() {
		hdr := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: dst}
		off, err = hdr.Marshal(buf, wire.ICMPHeaderLen+len(body))
		if err == nil {
			_, err = wire.BuildICMPv4(buf[off:], h, body)
		}
	} else {
		hdr := wire.IPv6Header{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: src, Dst: dst}
		off, err = hdr.Marshal(buf, wire.ICMPHeaderLen+len(body))
		if err == nil {
			_, err = wire.BuildICMPv6(buf[off:], src, dst, h, body)
		}
	}
	if err != nil {
		s.stats.SendErrors.Add(1)
		return
	}
	if out, _, err := s.route(dst); err == nil {
		n = out
	}
	sent, _ := s.writeIP(n, buf[:off+wire.ICMPHeaderLen+len(body)]) // an echo reply may need fragments
	s.stats.PacketsSent.Add(uint64(sent))
}

// rateLimit is a token bucket: ICMP errors a stack sends are limited as
// RFC 4443 §2.4(f) requires for ICMPv6 and RFC 1812 §4.3.2.8 advises for
// ICMPv4 (Linux: 1000 per second, bursts of 50).
type rateLimit struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

const (
	icmpErrorsPerSecond = 1000
	icmpErrorBurst      = 50
)

func (r *rateLimit) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last.IsZero() {
		r.tokens = icmpErrorBurst
	} else {
		r.tokens = min(icmpErrorBurst, r.tokens+now.Sub(r.last).Seconds()*icmpErrorsPerSecond)
	}
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}
