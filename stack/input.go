package stack

import (
	"errors"
	"net/netip"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// deliverBatch handles packets that arrived together on interface n, on
// the link's delivering goroutine, and recycles those not kept.
func (s *Stack) deliverBatch(n *nic, packets [][]byte) {
	b := inputBatch{now: time.Now()}
	for _, p := range packets {
		if !s.deliver(n, p, &b) {
			link.Recycle(p) // nothing the stack keeps points into it
		}
	}
	b.release()
}

// inputBatch carries segments of one burst into their connections. A
// run of segments for one connection (a train of bulk data, or the ACKs
// for one) goes in under one lock, and what the connection sends in
// answer leaves in one batch when the run ends. The ACKs are still one
// for every second segment (RFC 5681 §4.2); they only travel together.
type inputBatch struct {
	now  time.Time
	held *Conn // locked; its output is flushed when the run ends
}

// input gives seg to c, taking c's lock unless the previous segment was
// c's too. It reports whether c kept seg.Buffer.
func (b *inputBatch) input(c *Conn, seg *tcp.Segment) bool {
	if b.held != c {
		b.release()
		c.mu.Lock()
		b.held = c
		// Read the clock under the lock: a Write on another goroutine may
		// have sent segments since the batch began, and the engine's
		// times should not run backwards.
		b.now = time.Now()
	}
	c.tcb.Input(seg, b.now)
	return seg.Buffer == nil
}

// holds reports whether the connection held is t's.
func (b *inputBatch) holds(t tuple) bool {
	return b.held != nil && b.held.local == t.local && b.held.remote == t.remote
}

// release ends the current run: the held connection's output goes to the
// link and its lock is released.
func (b *inputBatch) release() {
	if c := b.held; c != nil {
		b.held = nil
		c.flush()
		c.mu.Unlock()
	}
}

// deliver handles one packet arriving on interface n as part of batch b.
// It reports whether it kept p (a connection's receive queue holds it
// until read); if not, p is the caller's again.
func (s *Stack) deliver(n *nic, p []byte, b *inputBatch) (kept bool) {
	s.stats.PacketsReceived.Add(1)
	return s.deliverIP(n, p, b)
}

// deliverIP handles packet p, arrived on n or reassembled from
// fragments that did, as deliver does.
func (s *Stack) deliverIP(n *nic, p []byte, b *inputBatch) (kept bool) {
	ip, err := wire.ParseIP(p)
	if errors.Is(err, wire.ErrFragment) {
		return s.deliverFragment(n, p, b) // reassembly.go
	}
	if err != nil {
		s.stats.MalformedPackets.Add(1)
		s.logDrop("malformed IP packet", err)
		return false
	}
	if !s.accepts(n, ip.Src, ip.Dst) && !s.forwards(n, &ip) {
		s.stats.NotForUs.Add(1)
		s.logDrop("not for us", nil)
		return false
	}
	switch ip.Protocol {
	case wire.ProtocolTCP:
		return s.deliverTCP(n, ip, p, b)
	case wire.ProtocolUDP:
		return s.deliverUDP(n, ip, p)
	case wire.ProtocolICMPv4, wire.ProtocolICMPv6:
		b.release() // an ICMP error may concern the connection held
		s.deliverICMP(n, ip)
	default:
		s.protocolUnreachable(n, p, ip)
	}
	return false
}

// deliverTCP handles a TCP segment in packet p. It reports whether a
// connection kept p.
func (s *Stack) deliverTCP(n *nic, ip wire.IPPacket, p []byte, b *inputBatch) bool {
	h, payload, err := wire.ParseTCP(ip.Payload)
	if err != nil {
		s.stats.MalformedPackets.Add(1)
		s.logDrop("malformed TCP header", err)
		return false
	}
	if !n.offload && !wire.VerifyTCPChecksum(ip.Payload, ip.Src, ip.Dst) {
		s.stats.BadChecksums.Add(1)
		s.logDrop("bad TCP checksum", nil)
		return false
	}
	seg := tcp.SegmentFromHeader(&h, payload)
	t := tuple{netip.AddrPortFrom(ip.Dst, h.DstPort), netip.AddrPortFrom(ip.Src, h.SrcPort)}
	if s.opts.Trace != nil {
		s.traceSegment(trace.SegmentDelivered, t.local, t.remote, &seg)
	}
	if !b.holds(t) {
		// What the held connection did must be seen first: its
		// handshake completing, say, makes room in a listener's queue
		// this segment may need.
		b.release()
	}
	s.mu.Lock()
	v := s.demux(t, &seg, b.now)
	s.mu.Unlock()
	switch v.act {
	case actConn:
		seg.Buffer = p // the receive queue may keep the packet rather than copy
		return b.input(v.conn, &seg)
	case actOpened:
		s.stats.SynCookiesAccepted.Add(1)
		v.conn.mu.Lock()
		v.conn.flush()
		v.conn.mu.Unlock()
	case actReply:
		s.sendSegment(t.local, t.remote, &v.reply)
	case actCookie:
		s.sendCookie(v.nic, v.cfg, t, &seg, b.now)
	case actDecide:
		s.startTCPRequest(v.req)
	case actReset:
		if rst, ok := tcp.ResetFor(&seg); ok {
			s.stats.ResetsSent.Add(1)
			s.sendSegment(t.local, t.remote, &rst)
		}
	}
	return false
}

// action is what becomes of a TCP segment that arrived.
type action uint8

// The actions demux decides on.
const (
	actDrop   action = iota // nothing to do
	actConn                 // the segment is the connection's input
	actOpened               // a SYN cookie opened the connection, which has processed the segment
	actReply                // a TIME_WAIT record answers with the reply
	actCookie               // a listener answers the SYN with a SYN cookie
	actReset                // nobody takes the segment: a RST answers it, if it calls for one
	actDecide               // a forwarder's handler decides (forward.go)
)

// verdict is what demux decided, under s.mu, to do with a segment;
// deliverTCP acts on it once the lock is released.
type verdict struct {
	act   action
	conn  *Conn              // actConn, actOpened
	reply tcp.Segment        // actReply
	nic   *nic               // actCookie: the route of the SYN+ACK
	cfg   *tcp.Config        // actCookie: the options it may offer
	req   *TCPForwardRequest // actDecide
}

// demux finds who takes seg, which arrived for t at now: a connection,
// a TIME_WAIT record or a listener (the last two may answer for it), or
// nobody, which calls for a reset (RFC 9293 §3.10.7.1). It only decides
// and updates tables; sending is left to its caller. s.mu is held.
func (s *Stack) demux(t tuple, seg *tcp.Segment, now time.Time) verdict {
	key := t.key()
	if c := s.conns[key]; c != nil {
		return verdict{act: actConn, conn: c}
	}
	if tw := s.timeWaits[key]; tw != nil {
		return s.timeWaitInput(tw, t, seg, now)
	}
	l := s.listenerFor(t.local)
	if l == nil {
		if v, ok := s.forwardTCP(t, seg, now); ok {
			return v
		}
		return verdict{act: actReset}
	}
	// LISTEN (RFC 9293 §3.10.7.2): a RST is ignored, an ACK is answered
	// with a RST (unless it carries a SYN cookie), a SYN opens a
	// connection, and anything else is dropped.
	switch f := seg.Flags & (wire.FlagSYN | wire.FlagACK | wire.FlagRST); {
	case f&wire.FlagRST != 0:
		return verdict{act: actDrop}
	case f == wire.FlagACK:
		return s.cookieACK(l, t, seg, now)
	case f&wire.FlagACK != 0:
		return verdict{act: actReset}
	case f == wire.FlagSYN:
		return s.listenerSYN(l, t, nil, now)
	}
	return verdict{act: actDrop}
}

// timeWaitInput decides what becomes of seg, for a pair in TIME_WAIT:
// the record answers it, unless it is a SYN that may reopen the pair
// and a listener (or a forwarder) takes it, as a new connection or with
// a SYN cookie. If no listener takes it the record stays and the SYN gets the ACK
// TIME_WAIT answers with, not a RST (RFC 6191 §2). s.mu is held.
func (s *Stack) timeWaitInput(tw *timeWaitEntry, t tuple, seg *tcp.Segment, now time.Time) verdict {
	action, reply := tw.input(seg, now)
	if action == tcp.TimeWaitReuse {
		if l := s.listenerFor(t.local); l != nil {
			v := s.listenerSYN(l, t, tw, now)
			if v.act == actConn || v.act == actCookie {
				tw.reopen()
				return v
			}
		} else if v, ok := s.forwardTCP(t, seg, now); ok && (v.act == actDecide || v.act == actCookie) {
			v.req.reuse(tw) // nil-safe: a cookie makes no request
			tw.reopen()
			return v
		}
		action, reply = tw.rec.Decline(now)
	}
	if action == tcp.TimeWaitReply {
		return verdict{act: actReply, reply: reply}
	}
	return verdict{act: actDrop}
}

// listenerSYN decides what becomes of a SYN to l: a connection in the
// SYN queue, a SYN cookie if the queue is full, or nothing. tw is the
// TIME_WAIT record of the pair the SYN would reopen, or nil; it sets
// the connection's initial sequence number. s.mu is held.
func (s *Stack) listenerSYN(l *Listener, t tuple, tw *timeWaitEntry, now time.Time) verdict {
	if l.synQueueFull() && !s.atConnectionLimit() {
		n, _, err := s.routeLocked(t.remote.Addr())
		if err != nil {
			return verdict{act: actDrop}
		}
		l.overflowed(now)
		return verdict{act: actCookie, nic: n, cfg: s.configFor(t.remote.Addr(), n)}
	}
	var iss tcp.Seq
	if tw != nil {
		iss = tw.rec.ReuseISS()
	} else {
		iss = s.isn.ISN(t.local, t.remote, now) // RFC 6528
	}
	c := l.spawn(t, iss)
	if c == nil {
		// The listener's queues are full: the SYN is dropped, not
		// refused, so that the client retries (as Linux with
		// tcp_abort_on_overflow off).
		return verdict{act: actDrop}
	}
	return verdict{act: actConn, conn: c}
}

// cookieACK decides what becomes of ack, a segment with only ACK among
// SYN, ACK and RST that found no connection, at l: if it echoes a valid
// SYN cookie and l's accept queue has room, the connection is made
// ESTABLISHED, put in the table and queued for Accept. A valid cookie
// that finds the queue full, or the stack at its connection limit, is
// dropped without a reply, as Linux does: the client believes itself
// connected, and its next segment (carrying the same cookie) tries
// again. Anything else calls for a reset, and so does every ACK when l
// has sent no cookie in the last two minutes: it is not even checked.
// s.mu is held.
func (s *Stack) cookieACK(l *Listener, t tuple, ack *tcp.Segment, now time.Time) verdict {
	if !l.checksCookies(now) {
		s.stats.SynCookiesIgnored.Add(1)
		return verdict{act: actReset}
	}
	n, _, err := s.routeLocked(t.remote.Addr())
	if err != nil {
		return verdict{act: actReset}
	}
	cfg := s.configFor(t.remote.Addr(), n)
	k, ok := s.cookies.Check(cfg, ack, t.local, t.remote, now)
	if !ok {
		return verdict{act: actReset}
	}
	c := &Conn{s: s, local: t.local, remote: t.remote, nic: n}
	c.tcb = tcp.NewConnFromCookie(cfg, k, ack, now)
	if s.opts.Logger != nil || s.opts.Trace != nil {
		c.tcb.SetObserver((*observer)(c))
	}
	if s.atConnectionLimit() || !l.acceptCookie(c) {
		s.stats.ListenOverflows.Add(1)
		s.logDrop("listen queue full", nil)
		return verdict{act: actDrop}
	}
	s.conns[t.key()] = c
	return verdict{act: actOpened, conn: c}
}

// listenerFor finds the listener for a local address: bound to it, or to
// the unspecified address of its family. s.mu is held.
func (s *Stack) listenerFor(local netip.AddrPort) *Listener {
	if l := s.listeners[local]; l != nil {
		return l
	}
	if local.Addr().Is6() {
		if l := s.listeners[netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())]; l != nil {
			return l
		}
	}
	l := s.listeners[netip.AddrPortFrom(netip.IPv4Unspecified(), local.Port())]
	if l != nil && (local.Addr().Is4() || l.dual) {
		return l
	}
	return nil
}
