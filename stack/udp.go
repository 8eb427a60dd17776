package stack

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

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

// ListenPacket opens a UDP socket at address ("host:port", ":port";
// host an IP address of the stack; port 0 picks an ephemeral port) for
// network "udp", "udp4" or "udp6". With "udp" and no host, or an
// unspecified one, the socket takes datagrams of both families, as
// net.ListenPacket's does. Errors are *net.OpError: EADDRINUSE when
// another socket holds the address, EADDRNOTAVAIL when the host is not
// one of the stack's addresses.
func (s *Stack) ListenPacket(network, address string) (*UDPConn, error) {
	ap, err := parseUDPAddr(network, address, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	c := s.newUDPConn(network, ap)
	if network == "udp" && ap.Addr().IsUnspecified() {
		c.local, c.dual = netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port()), true
	}
	if err := s.bindUDP(c); err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: net.UDPAddrFromAddrPort(ap), Err: err}
	}
	return c, nil
}

// dialUDP makes a connected UDP socket to address: bound to the source
// address of the route there and an ephemeral port. Nothing is sent.
func (s *Stack) dialUDP(ctx context.Context, network, address string) (*UDPConn, error) {
	remote, err := parseUDPAddr(network, address, false)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: net.UDPAddrFromAddrPort(remote), Err: err}
	}
	return s.DialUDP(network, netip.AddrPort{}, remote)
}

// DialUDP is net.DialUDP on the stack: a UDP socket connected to raddr,
// bound to laddr. A zero laddr, or one with an unspecified address,
// takes the source address of the route to raddr; port 0 an ephemeral
// port. Nothing is sent. A connected socket may share its local port
// with a socket bound there unconnected (as with SO_REUSEADDR): the
// datagrams from raddr come to the connected one, the others to the
// other, so that a server can give each peer a socket of its own.
func (s *Stack) DialUDP(network string, laddr, raddr netip.AddrPort) (*UDPConn, error) {
	raddr = netip.AddrPortFrom(raddr.Addr().Unmap(), raddr.Port())
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: network, Addr: net.UDPAddrFromAddrPort(raddr), Err: err}
	}
	if !isUDPNetwork(network) {
		return nil, opErr(net.UnknownNetworkError(network))
	}
	if !raddr.IsValid() || raddr.Port() == 0 ||
		network == "udp4" && !raddr.Addr().Is4() || network == "udp6" && !raddr.Addr().Is6() {
		return nil, opErr(syscall.EINVAL)
	}
	n, src, err := s.route(raddr.Addr())
	if err != nil {
		return nil, opErr(err)
	}
	if a := laddr.Addr().Unmap(); a.IsValid() && !a.IsUnspecified() {
		if a.Is4() != raddr.Addr().Is4() {
			return nil, opErr(syscall.EAFNOSUPPORT)
		}
		src = a
	}
	c := s.newUDPConn(network, netip.AddrPortFrom(src, laddr.Port()))
	c.remote, c.nic, c.src = raddr, n, src
	if err := s.bindUDP(c); err != nil {
		return nil, opErr(err)
	}
	return c, nil
}

func (s *Stack) newUDPConn(network string, local netip.AddrPort) *UDPConn {
	return &UDPConn{s: s, network: network, local: local, queue: msgQueue[udpDatagram]{limit: DefaultUDPReadBuffer}}
}

// bindUDP puts c in the stack's UDP table.
func (s *Stack) bindUDP(c *UDPConn) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	if a := c.local.Addr(); !a.IsUnspecified() && !s.isLocal(a) {
		return syscall.EADDRNOTAVAIL
	}
	return s.udp.bind(c, s.opts.EphemeralPorts)
}

// parseUDPAddr is parseAddr for the UDP networks.
func parseUDPAddr(network, address string, listen bool) (netip.AddrPort, error) {
	tcpNetwork := map[string]string{"udp": "tcp", "udp4": "tcp4", "udp6": "tcp6"}[network]
	if tcpNetwork == "" {
		return netip.AddrPort{}, net.UnknownNetworkError(network)
	}
	return parseAddr(tcpNetwork, address, listen)
}

// isUDPNetwork reports whether network names UDP, for Dial.
func isUDPNetwork(network string) bool {
	return network == "udp" || network == "udp4" || network == "udp6"
}

// score says how well c matches a datagram from remote to the local
// address dst: 0 not at all; connected sockets beat bound ones, and an
// exact local address beats a wildcard.
func (c *UDPConn) score(dst netip.Addr, remote netip.AddrPort) int {
	score := 0
	switch a := c.local.Addr(); {
	case a == dst:
		score = 2
	case a.IsUnspecified() && (c.dual || a.Is4() == dst.Is4()):
		score = 1
	default:
		return 0
	}
	if c.remote.IsValid() {
		if c.remote != remote {
			return 0
		}
		score += 4
	}
	return score
}

// overlaps reports whether c's local address and o's, on the same port,
// take some datagram in common, so that both cannot be bound: two
// unconnected sockets whose addresses overlap, or two connected to the
// same peer. A connected socket and an unconnected one may share a port
// (see DialUDP); lookup prefers the connected one.
func (c *UDPConn) overlaps(o *UDPConn) bool {
	covers := func(x, y *UDPConn) bool {
		a, b := x.local.Addr(), y.local.Addr()
		return a == b || a.IsUnspecified() && (x.dual || a.Is4() == b.Is4())
	}
	if c.remote != o.remote {
		return false
	}
	return covers(c, o) || covers(o, c)
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
	if c == nil && !s.isLocal(local.Addr()) && s.forwards(n, &ip) {
		if c = s.forwardUDP(n, ip, p, local, remote); c == nil {
			return false // dropped by the forwarder, and counted
		}
	}
	if c == nil {
		s.stats.UDP.NoPort.Add(1)
		s.portUnreachable(n, p, ip)
		return false
	}
	return c.enqueue(remote, p, payload)
}
