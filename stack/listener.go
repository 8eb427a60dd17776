package stack

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
)

// DefaultBacklog bounds a listener's SYN queue and accept queue when
// Listen is used (as SOMAXCONN does for listen(2)).
const DefaultBacklog = 128

// Listener is a listening TCP port. It implements net.Listener.
type Listener struct {
	s     *Stack
	addr  netip.AddrPort
	queue chan *Conn // established, not yet accepted
	dual  bool       // "tcp" with no host: both IPv4 and IPv6, as net.Listen

	mu          sync.Mutex
	pending     int           // connections between SYN and ESTABLISHED (the SYN queue)
	live        int           // connections made by this listener still in the table
	max         int           // bound on live; 0: none (SetMaxConnections)
	deferAccept time.Duration // SetDeferAccept; 0: none
	closed      bool
	done        chan struct{}

	// lastOverflow is when a SYN last found the SYN queue full and was
	// answered with a cookie; zero if never. Guarded by s.mu.
	lastOverflow time.Time
}

// cookieValid is how long after its SYN queue last overflowed a listener
// checks ACKs as SYN cookies (Linux's TCP_SYNCOOKIE_VALID). Without the
// bound every blind ACK would be a guess at a 24-bit cookie.
const cookieValid = 2 * time.Minute

// overflowed records that a SYN to l was answered with a cookie at now.
// s.mu is held.
func (l *Listener) overflowed(now time.Time) { l.lastOverflow = now }

// checksCookies reports whether l sent a cookie recently enough, at now,
// for an ACK to be one of them (Linux's tcp_synq_no_recent_overflow):
// without a recent overflow no SYN+ACK carried a cookie, and an ACK that
// looks like one is a lucky guess (RFC 4987 §3.6). s.mu is held.
func (l *Listener) checksCookies(now time.Time) bool {
	return !l.lastOverflow.IsZero() && now.Sub(l.lastOverflow) <= cookieValid
}

// Listen listens on address ("host:port", ":port"; host an IP address)
// for network "tcp", "tcp4" or "tcp6", as net.Listen does: port 0 picks
// a free port from Options.EphemeralPorts, which Addr reports; "tcp" on
// an unspecified address (":port", "0.0.0.0:port" or "[::]:port")
// listens on IPv4 and IPv6 both, and Addr reports it as [::]:port; an
// address the stack does not have fails with EADDRNOTAVAIL, and one a
// listener covers already with EADDRINUSE.
func (s *Stack) Listen(network, address string) (net.Listener, error) {
	return s.ListenBacklog(network, address, DefaultBacklog)
}

// ListenBacklog is Listen with the backlog of listen(2): the bound of
// both the SYN queue and the accept queue.
func (s *Stack) ListenBacklog(network, address string, backlog int) (*Listener, error) {
	ap, err := parseAddr(network, address, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if backlog <= 0 {
		backlog = 1
	}
	// "tcp" on an unspecified address is dual-stack, as net.Listen makes
	// it (an AF_INET6 socket with IPV6_V6ONLY off). It is kept under the
	// IPv4 unspecified address; listenerFor gives it IPv6 segments too.
	dual := network == "tcp" && ap.Addr().IsUnspecified()
	if dual {
		ap = netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())
	}
	l := &Listener{s: s, addr: ap, dual: dual, queue: make(chan *Conn, backlog), done: make(chan struct{})}
	fail := func(err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: l.Addr(), Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, fail(net.ErrClosed)
	case !ap.Addr().IsUnspecified() && !s.isLocalLocked(ap.Addr()):
		return nil, fail(os.NewSyscallError("bind", syscall.EADDRNOTAVAIL))
	case ap.Port() == 0:
		port, ok := s.listenPort(ap.Addr(), dual)
		if !ok {
			return nil, fail(os.NewSyscallError("bind", syscall.EADDRINUSE))
		}
		l.addr = netip.AddrPortFrom(ap.Addr(), port)
	case s.portTaken(ap, dual):
		return nil, fail(os.NewSyscallError("bind", syscall.EADDRINUSE))
	}
	s.listeners[l.addr] = l
	return l, nil
}

// listenPort picks a free port for a listener on a (dual: both
// families) from the ephemeral range, as bind(2) to port 0 does: a
// random start and a linear search, as for Dial (RFC 6056 algorithm
// 1). s.mu is held.
func (s *Stack) listenPort(a netip.Addr, dual bool) (uint16, bool) {
	lo, hi := int(s.opts.EphemeralPorts[0]), int(s.opts.EphemeralPorts[1])
	n := hi - lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := uint16(lo + (start+i)%n)
		if !s.portTaken(netip.AddrPortFrom(a, port), dual) {
			return port, true
		}
	}
	return 0, false
}

// portTaken reports whether a listener already covers some address a
// listener on ap (dual: both families) would: the same address, or an
// unspecified address of its family, or either is dual-stack — what
// makes bind(2) fail with EADDRINUSE for a listening socket on Linux.
// s.mu is held.
func (s *Stack) portTaken(ap netip.AddrPort, dual bool) bool {
	for _, l := range s.listeners {
		if l.addr.Port() == ap.Port() && overlaps(l.addr.Addr(), l.dual, ap.Addr(), dual) {
			return true
		}
	}
	return false
}

// overlaps reports whether listeners on a and b (each dual-stack or
// not) would both take some segment.
func overlaps(a netip.Addr, aDual bool, b netip.Addr, bDual bool) bool {
	switch {
	case aDual || bDual:
		return true
	case a.Is4() != b.Is4():
		return false
	}
	return a == b || a.IsUnspecified() || b.IsUnspecified()
}

// spawn creates the connection for a SYN to l, with initial sequence
// number iss, unless the SYN queue is full. s.mu is held.
func (l *Listener) spawn(t tuple, iss tcp.Seq) *Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.pending+len(l.queue) >= cap(l.queue) {
		l.s.stats.ListenOverflows.Add(1)
		l.s.logDrop("listen queue full", nil)
		return nil
	}
	if l.s.atConnectionLimit() || l.full() {
		l.s.stats.ConnectionLimitDrops.Add(1)
		l.s.logDrop("connection limit", nil)
		return nil
	}
	n, _, err := l.s.routeLocked(t.remote.Addr())
	if err != nil {
		return nil
	}
	l.pending++
	l.live++
	c := newConn(l.s, t, n, iss)
	c.listener, c.origin = l, l
	c.tcb.Listen()
	if l.deferAccept > 0 {
		c.tcb.SetDeferAccept(l.deferAccept) // sockopt.go
	}
	l.s.conns[t.key()] = c
	return c
}

// SetMaxConnections bounds the connections this listener's SYNs may
// create and that are still open (accepted or not); past it, SYNs are
// dropped and counted in Stats.ConnectionLimitDrops. 0 removes the bound.
func (l *Listener) SetMaxConnections(n int) {
	l.mu.Lock()
	l.max = n
	l.mu.Unlock()
}

// full reports whether the listener has made as many live connections as
// it may. l.mu is held.
func (l *Listener) full() bool { return l.max > 0 && l.live >= l.max }

// release counts one of the listener's connections gone.
func (l *Listener) release() {
	l.mu.Lock()
	l.live--
	l.mu.Unlock()
}

// synQueueFull reports whether a SYN now would overflow the SYN queue
// while the accept queue still has room: the case for a SYN cookie
// (RFC 4987 §3.6). s.mu is held.
func (l *Listener) synQueueFull() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.closed && !l.full() && l.pending+len(l.queue) >= cap(l.queue) && len(l.queue) < cap(l.queue)
}

// acceptCookie queues c, made from a SYN cookie, for Accept, if there
// is room; it reports whether it did.
func (l *Listener) acceptCookie(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.full() {
		return false
	}
	select {
	case l.queue <- c:
		l.live++
		c.origin = l
		return true
	default:
		return false
	}
}

// established moves c from the SYN queue to the accept queue.
func (l *Listener) established(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	if l.closed {
		go c.abort()
		return
	}
	select {
	case l.queue <- c:
	default: // cannot happen: spawn reserved the room
		go c.abort()
	}
}

// forget drops c from the SYN queue (it was reset or timed out).
func (l *Listener) forget(c *Conn) {
	l.mu.Lock()
	l.pending--
	l.mu.Unlock()
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.queue:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
}

// Close implements net.Listener: no new connections are accepted, and
// connections established but not accepted are reset.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()
	l.s.mu.Lock()
	delete(l.s.listeners, l.addr)
	l.s.mu.Unlock()
	for {
		select {
		case c := <-l.queue:
			c.abort()
		default:
			return nil
		}
	}
}

// Addr implements net.Listener. A dual-stack listener's address is
// [::]:port, as package net reports it.
func (l *Listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.AddrPort()) }

// AddrPort returns the listener's address as a netip.AddrPort, [::]:port
// for a dual-stack listener.
func (l *Listener) AddrPort() netip.AddrPort {
	if l.dual {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), l.addr.Port())
	}
	return l.addr
}

// forget removes c from the connection table. c.mu is held.
func (s *Stack) forget(c *Conn) {
	s.mu.Lock()
	t := tuple{c.local, c.remote}
	if s.conns[t.key()] == c {
		delete(s.conns, t.key())
		c.leftTable()
	}
	s.mu.Unlock()
}

// parseAddr parses "host:port" with an IP address host (no name
// lookup), checking it against network.
func parseAddr(network, address string, listen bool) (netip.AddrPort, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", portText)
	}
	var a netip.Addr
	switch {
	case host == "" && listen:
		a = netip.IPv4Unspecified()
		if network == "tcp6" {
			a = netip.IPv6Unspecified()
		}
	case host == "":
		return netip.AddrPort{}, fmt.Errorf("missing host in %q", address)
	default:
		a, err = netip.ParseAddr(host)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("host %q is not an IP address (a listener binds an address, not a name)", host)
		}
		a = a.Unmap()
	}
	switch network {
	case "tcp":
	case "tcp4":
		if !a.Is4() {
			return netip.AddrPort{}, fmt.Errorf("%v is not an IPv4 address", a)
		}
	case "tcp6":
		if !a.Is6() {
			return netip.AddrPort{}, fmt.Errorf("%v is not an IPv6 address", a)
		}
	default:
		return netip.AddrPort{}, net.UnknownNetworkError(network)
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

var _ net.Listener = (*Listener)(nil)
