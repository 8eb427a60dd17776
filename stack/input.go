package stack

import (
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
	ip, err := wire.ParseIP(p)
	if err != nil {
		s.stats.MalformedPackets.Add(1)
		s.logDrop("malformed IP packet", err)
		return false
	}
	if !s.isLocal(ip.Dst) {
		s.stats.NotForUs.Add(1)
		s.logDrop("not for us", nil)
		return false
	}
	switch ip.Protocol {
	case wire.ProtocolTCP:
		return s.deliverTCP(n, ip, p, b)
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
	now := b.now
	s.mu.Lock()
	c := s.conns[t.key()]
	var iss tcp.Seq
	reuse := false
	if tw := s.timeWaits[t.key()]; c == nil && tw != nil {
		action, reply := tw.input(&seg, now)
		if action != tcp.TimeWaitReuse {
			s.mu.Unlock()
			if action == tcp.TimeWaitReply {
				s.sendSegment(t.local, t.remote, &reply)
			}
			return false
		}
		iss, reuse = tw.rec.ReuseISS(), true
	}
	if c == nil && seg.Flags&(wire.FlagSYN|wire.FlagACK|wire.FlagRST) == wire.FlagACK {
		if l := s.listenerFor(t.local); l != nil && s.tryCookie(l, t, &seg, now) {
			return false // s.mu was released
		}
	}
	if c == nil && seg.Flags&(wire.FlagSYN|wire.FlagACK|wire.FlagRST) == wire.FlagSYN {
		if l := s.listenerFor(t.local); l != nil {
			if !reuse {
				iss = s.isn.ISN(t.local, t.remote, now)
			}
			if l.synQueueFull() && !s.atConnectionLimit() {
				s.sendCookie(t, &seg, now) // releases s.mu
				return false
			}
			if c = l.spawn(t, iss); c == nil {
				// The listener's queues are full: the SYN is dropped, not
				// refused, so that the client retries (as Linux with
				// tcp_abort_on_overflow off).
				s.mu.Unlock()
				return false
			}
		}
	}
	s.mu.Unlock()
	if c != nil {
		seg.Buffer = p // the receive queue may keep the packet rather than copy
		return b.input(c, &seg)
	}
	if rst, ok := tcp.ResetFor(&seg); ok {
		s.stats.ResetsSent.Add(1)
		s.sendSegment(t.local, t.remote, &rst)
	}
	return false
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

// sendSegment sends one segment from local to remote, on the route to
// remote: the replies of a connection that does not exist, or of a
// TIME_WAIT record.
func (s *Stack) sendSegment(local, remote netip.AddrPort, seg *tcp.Segment) {
	n, _, err := s.route(remote.Addr())
	if err != nil {
		s.stats.SendErrors.Add(1)
		return
	}
	s.sendSegments(n, local, remote, []tcp.Segment{*seg}, nil)
}

// sendSegments builds segs into packets from local to remote and hands
// them to n as one batch. batch is scratch space, returned for reuse.
func (s *Stack) sendSegments(n *nic, local, remote netip.AddrPort, segs []tcp.Segment, batch [][]byte) [][]byte {
	hdr := wire.IPv4MinHeaderLen
	if remote.Addr().Is6() {
		hdr = wire.IPv6HeaderLen
	}
	batch = batch[:0]
	for i := range segs {
		seg := &segs[i]
		if s.opts.Trace != nil {
			s.traceSegment(trace.SegmentSent, local, remote, seg)
		}
		h := seg.Header(local.Port(), remote.Port())
		var buf []byte
		if room, need := len(seg.Frame)-len(seg.Payload), hdr+h.Len(); seg.Frame != nil && room >= need && link.Hold(seg.Frame) {
			// The packet is made around the payload where the send
			// queue keeps it, and holds the queue's buffer with it.
			buf = seg.Frame[room-need:]
			s.stats.PacketsFramed.Add(1)
		} else {
			buf = link.Buffer(hdr + h.Len() + len(seg.Payload))
		}
		var size int
		var err error
		// Called directly, not through a function value: an indirect
		// call would move h to the heap on every segment.
		if n.offload || len(buf) > n.ep.MTU() { // the link finishes the checksum, or each piece's
			size, err = wire.BuildTCPPacketPartialChecksum(buf, local.Addr(), remote.Addr(), 64, &h, seg.Payload)
		} else {
			size, err = wire.BuildTCPPacket(buf, local.Addr(), remote.Addr(), 64, &h, seg.Payload)
		}
		if err != nil {
			link.Recycle(buf)
			s.stats.SendErrors.Add(1)
			continue
		}
		batch = append(batch, buf[:size])
	}
	sent, err := n.ep.WritePackets(batch)
	s.stats.PacketsSent.Add(uint64(sent))
	if err != nil {
		s.stats.SendErrors.Add(uint64(len(batch) - sent))
	}
	for _, p := range batch[sent:] {
		link.Recycle(p) // not taken: still ours
	}
	clear(batch) // the link owns the packets now
	return batch
}

// sendCookie answers a SYN to a listener whose SYN queue is full with a
// SYN+ACK carrying a cookie, keeping no state (RFC 4987 §3.6). s.mu is
// held on entry and released.
func (s *Stack) sendCookie(t tuple, syn *tcp.Segment, now time.Time) {
	n, _, err := s.routeLocked(t.remote.Addr())
	if err != nil {
		s.mu.Unlock()
		return
	}
	cfg := s.configFor(t.remote.Addr(), n)
	s.mu.Unlock()
	synAck := s.cookies.SynAck(cfg, syn, t.local, t.remote, now)
	s.stats.SynCookiesSent.Add(1)
	s.sendSegments(n, t.local, t.remote, []tcp.Segment{synAck}, nil)
}

// tryCookie completes a handshake from a SYN cookie: if ack echoes a
// valid one and l's accept queue has room, the connection is made
// ESTABLISHED and queued for Accept. A valid cookie that finds the queue
// full, or the stack at its connection limit, is dropped without a
// reply, as Linux does: the client believes itself connected, and its
// next segment (carrying the same cookie) tries again. It reports
// whether it took the segment either way; if so, s.mu has been
// released. s.mu is held on entry.
func (s *Stack) tryCookie(l *Listener, t tuple, ack *tcp.Segment, now time.Time) bool {
	n, _, err := s.routeLocked(t.remote.Addr())
	if err != nil {
		return false
	}
	cfg := s.configFor(t.remote.Addr(), n)
	k, ok := s.cookies.Check(cfg, ack, t.local, t.remote, now)
	if !ok {
		return false
	}
	c := &Conn{s: s, local: t.local, remote: t.remote, nic: n}
	c.tcb = tcp.NewConnFromCookie(cfg, k, ack, now)
	if s.opts.Logger != nil || s.opts.Trace != nil {
		c.tcb.SetObserver(c)
	}
	if s.atConnectionLimit() || !l.acceptCookie(c) {
		s.mu.Unlock()
		s.stats.ListenOverflows.Add(1)
		s.logDrop("listen queue full", nil)
		return true
	}
	s.conns[t.key()] = c
	s.mu.Unlock()
	s.stats.SynCookiesAccepted.Add(1)
	c.mu.Lock()
	c.flush()
	c.mu.Unlock()
	return true
}
