package stack

import (
	"net/netip"

	"github.com/seqack/seqack/link/pipe"
)

// The loopback interface: every stack has one, as every host does, made
// when first routed to. Packets to 127.0.0.0/8, to ::1 and to the
// stack's own addresses go out through it and come back in as if they
// had arrived from a link, delivered by the loopback's own goroutine,
// so that nothing is processed inside the send that made it and no lock
// is taken twice.

// loopbackMTU is the loopback interface's MTU: the largest IPv4 packet
// (Linux's lo has 65536).
const loopbackMTU = pipe.MaxMTU

// loopbackPrefixes are the loopback interface's addresses (RFC 1122
// §3.2.1.3, RFC 4291 §2.5.3).
var loopbackPrefixes = []netip.Prefix{
	netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 8),
	netip.PrefixFrom(netip.IPv6Loopback(), 128),
}

// loopbackLocked returns the loopback interface, attaching it on first
// use; nil once the stack is closed. s.mu is held.
func (s *Stack) loopbackLocked() *nic {
	if s.lo == nil && !s.closed {
		ep := pipe.Loopback(loopbackMTU)
		ep.SetChecksumOffload(true) // memory does not flip bits: no checksums, as Linux's lo
		n := &nic{id: -1, ep: ep, addrs: loopbackPrefixes, offload: true, loopback: true}
		ep.AttachBatch(func(packets [][]byte) { s.deliverBatch(n, packets) })
		s.lo = n
	}
	return s.lo
}

// localSource reports whether dst is on this host, a loopback address or
// one of the stack's own, and if so the source address of packets to it
// (Linux's local routes): dst itself, or 127.0.0.1 for the rest of
// 127.0.0.0/8. s.mu is held.
func (s *Stack) localSource(dst netip.Addr) (netip.Addr, bool) {
	switch {
	case dst.Is4() && dst.IsLoopback():
		return loopbackPrefixes[0].Addr(), true
	case dst.IsLoopback() || s.isLocalLocked(dst):
		return dst, true
	}
	return netip.Addr{}, false
}

// accepts reports whether a packet from src to dst that arrived on n is
// for this host: dst is one of its addresses, and loopback addresses
// come only over the loopback interface (RFC 1122 §3.2.1.3: a packet
// from or to 127.0.0.0/8 arriving from a link is dropped, as Linux's
// martians; RFC 4291 §2.5.3 for ::1).
func (s *Stack) accepts(n *nic, src, dst netip.Addr) bool {
	if !n.loopback && (src.IsLoopback() || dst.IsLoopback()) {
		return false
	}
	return s.isLocal(dst)
}
