package stack

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/seqack/seqack/wire"
)

// UDPStats are the UDP counters of a stack, as Linux's `netstat -su`
// shows them (its names in brackets).
type UDPStats struct {
	DatagramsReceived atomic.Uint64 // delivered to a socket's queue [InDatagrams]
	DatagramsSent     atomic.Uint64 // handed to a link [OutDatagrams]
	NoPort            atomic.Uint64 // no socket matched: port unreachable [NoPorts]
	Malformed         atomic.Uint64 // header truncated or length wrong [InErrors]
	BadChecksums      atomic.Uint64 // checksum wrong, or zero over IPv6 [InCsumErrors]
	// ReceiveBufferDrops counts datagrams dropped because their socket's
	// receive queue was full (see UDPConn.SetReadBuffer) [RcvbufErrors].
	ReceiveBufferDrops atomic.Uint64
}

// udpTable holds a stack's UDP sockets by local port. It has a lock of
// its own, so that UDP input does not contend with TCP's table.
type udpTable struct {
	mu    sync.RWMutex
	ports map[uint16][]*UDPConn
}

// lookup finds the socket for a datagram from remote to local: one
// connected to remote and bound to local's address is preferred to one
// bound to local's address alone, and that to one bound to the
// wildcard address (the order Linux's compute_score gives).
func (t *udpTable) lookup(local, remote netip.AddrPort) *UDPConn {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var best *UDPConn
	bestScore := 0
	for _, c := range t.ports[local.Port()] {
		if score := c.score(local.Addr(), remote); score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

// bind adds c at its local address, whose port is chosen from ephemeral
// if it is 0. It fails with EADDRINUSE if another socket's address
// overlaps c's, or no ephemeral port is free.
func (t *udpTable) bind(c *UDPConn, ephemeral [2]uint16) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ports == nil {
		t.ports = make(map[uint16][]*UDPConn)
	}
	port := c.local.Port()
	if port == 0 {
		// RFC 6056 algorithm 1: a random start and a linear search, for
		// a port no socket uses at all.
		lo, hi := int(ephemeral[0]), int(ephemeral[1])
		n := hi - lo + 1
		start := rand.IntN(n)
		for i := 0; i < n; i++ {
			if p := uint16(lo + (start+i)%n); len(t.ports[p]) == 0 {
				port = p
				break
			}
		}
		if port == 0 {
			return errAddrInUse
		}
	} else {
		for _, o := range t.ports[port] {
			if o.overlaps(c) {
				return errAddrInUse
			}
		}
	}
	c.local = netip.AddrPortFrom(c.local.Addr(), port)
	t.ports[port] = append(t.ports[port], c)
	return nil
}

// unbind removes c.
func (t *udpTable) unbind(c *UDPConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	port := c.local.Port()
	list := t.ports[port]
	for i, o := range list {
		if o == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(t.ports, port)
	} else {
		t.ports[port] = list
	}
}

// all returns every socket.
func (t *udpTable) all() []*UDPConn {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*UDPConn
	for _, list := range t.ports {
		out = append(out, list...)
	}
	return out
}

// closeAll closes every socket: the stack is closing.
func (t *udpTable) closeAll() {
	for _, c := range t.all() {
		c.Close()
	}
}

// deliverUDP handles a UDP datagram in packet p, which arrived on n: it
// is checked (RFC 768; RFC 8200 §8.1), then queued on the socket that
// takes it, or answered with a port unreachable (RFC 1122 §4.1.3.1).
// Malformed datagrams are counted and dropped. It reports whether a
// socket kept p.
func (s *Stack) deliverUDP(n *nic, ip wire.IPPacket, p []byte) bool {
	h, payload, err := wire.ParseUDP(ip.Payload)
	if err != nil {
		s.stats.UDP.Malformed.Add(1)
		s.logDrop("malformed UDP header", err)
		return false
	}
	d := ip.Payload[:h.Length]
	if ip.Version == 6 && h.Checksum == 0 || !n.offload && !wire.VerifyUDPChecksum(d, ip.Src, ip.Dst) {
		s.stats.UDP.BadChecksums.Add(1)
		s.logDrop("bad UDP checksum", nil)
		return false
	}
	local := netip.AddrPortFrom(ip.Dst, h.DstPort)
	remote := netip.AddrPortFrom(ip.Src, h.SrcPort)
	c := s.udp.lookup(local, remote)
	if c == nil {
		s.stats.UDP.NoPort.Add(1)
		s.portUnreachable(n, p, ip)
		return false
	}
	return c.enqueue(remote, p, payload)
}
