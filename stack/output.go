package stack

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// sendSegment sends one segment from local to remote, on the route to
// remote: the replies of a connection that does not exist, or of a
// TIME_WAIT record. s.mu is not held.
func (s *Stack) sendSegment(local, remote netip.AddrPort, seg *tcp.Segment) {
	n, _, err := s.route(remote.Addr())
	if err != nil {
		s.stats.SendErrors.Add(1)
		return
	}
	s.sendSegments(n, local, remote, []tcp.Segment{*seg}, nil, 0)
}

// sendSegments builds segs into packets from local to remote and hands
// them to n as one batch, with tos as their TOS or traffic class (0:
// none). batch is scratch space, returned for reuse.
func (s *Stack) sendSegments(n *nic, local, remote netip.AddrPort, segs []tcp.Segment, batch [][]byte, tos uint8) [][]byte {
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
		if tos != 0 {
			wire.SetTrafficClass(buf[:size], tos) // Conn.SetTOS
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

// sendCookie answers syn, a SYN to a listener whose SYN queue is full,
// with a SYN+ACK carrying a cookie, keeping no state (RFC 4987 §3.6). It
// goes out through n, with the options cfg allows. s.mu is not held.
func (s *Stack) sendCookie(n *nic, cfg *tcp.Config, t tuple, syn *tcp.Segment, now time.Time) {
	synAck := s.cookies.SynAck(cfg, syn, t.local, t.remote, now)
	s.stats.SynCookiesSent.Add(1)
	s.sendSegments(n, t.local, t.remote, []tcp.Segment{synAck}, nil, 0)
}

// writeIP hands the IP packet p to n, in fragments if it is larger than
// n's MTU: a host fragments what it sends, for IPv4 (RFC 791 §2.3) and
// IPv6 (RFC 8200 §4.5). The link owns p afterwards, or its fragments,
// p then being recycled. It returns the packets the link took.
func (s *Stack) writeIP(n *nic, p []byte) (int, error) {
	mtu := n.ep.MTU()
	if len(p) <= mtu {
		if err := n.ep.WritePacket(p); err != nil {
			return 0, err
		}
		return 1, nil
	}
	v6 := p[0]>>4 == 6
	hdr := wire.IPv4MinHeaderLen
	if v6 {
		hdr = wire.IPv6HeaderLen
	}
	per := wire.FragmentDataLen(p, mtu)
	if per == 0 {
		return 0, syscall.EMSGSIZE
	}
	id := s.frag.nextID(v6)
	batch := make([][]byte, 0, (len(p)-hdr+per-1)/per)
	for off := 0; off < len(p)-hdr; off += per {
		buf := link.Buffer(mtu)
		size, err := wire.BuildFragment(buf, p, id, off, min(per, len(p)-hdr-off))
		if err != nil {
			link.Recycle(buf)
			for _, f := range batch {
				link.Recycle(f)
			}
			return 0, err
		}
		batch = append(batch, buf[:size])
	}
	link.Recycle(p)
	s.stats.Frag.DatagramsFragmented.Add(1)
	s.stats.Frag.FragmentsCreated.Add(uint64(len(batch)))
	sent, err := n.ep.WritePackets(batch)
	for _, f := range batch[sent:] {
		link.Recycle(f) // not taken: still ours
	}
	return sent, err
}
