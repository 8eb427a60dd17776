package stack

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// Any-destination forwarding (transparent mode), what a tun2socks-style
// proxy needs: with a forwarder set, the stack takes TCP connections and
// UDP flows addressed to any address routed to it, not only its own, and
// hands each to a handler that sees the original destination and
// decides: accept, refuse or drop. Only destinations the stack does not
// own are forwarded; a listener or socket on the wildcard address (":80")
// takes a segment or datagram for its port before the forwarder does,
// as in gVisor. Replies leave with the original destination as their
// source.
//
// A TCP SYN waits, while the handler decides, in a table of requests
// bounded by MaxInFlight: its retransmissions find the request there and
// are dropped, not handed over twice. Past the bound, SYNs are answered
// with SYN cookies (RFC 4987 §3.6), which cost nothing until an ACK
// returns one; the connection it opens is then handed to the handler,
// already established. A UDP flow is a connected *UDPConn bound to the
// original destination, made at the first datagram; later datagrams
// queue in it while the handler decides, and it closes when idle.

// Defaults of the forwarders' settings.
const (
	DefaultForwardMaxInFlight  = 1024
	DefaultForwardDecision     = 60 * time.Second
	DefaultForwardUDPIdleAfter = 60 * time.Second
)

// TCPForwarder configures the forwarding of TCP connections (see
// Stack.SetTCPForwarder).
type TCPForwarder struct {
	// Handler is called, on a goroutine of its own, for every SYN to an
	// address the stack does not own that no connection or listener
	// takes. It must call Accept, Refuse or Drop on the request, now or
	// later from any goroutine. A handler that panics is recovered: the
	// panic is counted (ForwardStats.HandlerPanics) and the SYN refused.
	Handler func(*TCPForwardRequest)
	// MaxInFlight bounds the SYNs waiting for a decision; 0 means
	// DefaultForwardMaxInFlight. Past it SYNs get SYN cookies, and as
	// many connections opened by cookies may wait besides.
	MaxInFlight int
	// Decision is how long a request may wait for its decision before
	// it is dropped; 0 means DefaultForwardDecision.
	Decision time.Duration
}

// UDPForwarder configures the forwarding of UDP flows (see
// Stack.SetUDPForwarder).
type UDPForwarder struct {
	// Handler is called, on a goroutine of its own, for the first
	// datagram of every flow to an address the stack does not own that
	// no socket takes. It must call Accept, Refuse or Drop on the
	// request, now or later from any goroutine. A handler that panics is
	// recovered, counted and the flow refused.
	Handler func(*UDPForwardRequest)
	// MaxInFlight bounds the flows waiting for a decision; 0 means
	// DefaultForwardMaxInFlight. Past it, datagrams of new flows are
	// dropped (ForwardStats.UDPDropped).
	MaxInFlight int
	// Decision is how long a flow may wait for its decision before it is
	// dropped; 0 means DefaultForwardDecision.
	Decision time.Duration
	// IdleTimeout closes an accepted flow after this long with no
	// datagram in either direction; 0 means DefaultForwardUDPIdleAfter.
	IdleTimeout time.Duration
}

// ForwardStats counts what the forwarders did.
type ForwardStats struct {
	TCPRequests, TCPAccepted, TCPRefused, TCPDropped uint64
	// TCPCookies counts SYNs answered with a SYN cookie because
	// MaxInFlight requests were waiting.
	TCPCookies                                       uint64
	UDPRequests, UDPAccepted, UDPRefused, UDPDropped uint64
	// HandlerPanics counts handlers that panicked (recovered; their
	// requests refused).
	HandlerPanics uint64
	// Undecided counts requests dropped because their handler did not
	// decide in time.
	Undecided uint64
}

// forwarder is a stack's forwarding state. Its configuration and the
// TCP requests' table are guarded by s.mu; the UDP side has its own
// lock, so that UDP input does not take s.mu.
type forwarder struct {
	tcp          TCPForwarder
	tcpOn, udpOn atomic.Bool // a handler is set: read without a lock on every packet not for us
	tcpPending   map[connKey]*TCPForwardRequest
	lastOverflow time.Time // when a SYN last got a cookie

	udpMu      sync.Mutex
	udp        UDPForwarder
	udpPending int                         // flows waiting, counted from before their request is made
	udpWaiting map[*UDPForwardRequest]bool // the requests of those, once made (for close)
	udpClosed  bool                        // the stack closed: no more flows

	tcpRequests, tcpAccepted, tcpRefused, tcpDropped, tcpCookies atomic.Uint64
	udpRequests, udpAccepted, udpRefused, udpDropped             atomic.Uint64
	panics, undecided                                            atomic.Uint64
}

// SetTCPForwarder turns on forwarding of TCP connections to any
// destination routed to the stack, with the handler and bounds of f; a
// nil f.Handler turns it off. Requests already waiting keep their place.
func (s *Stack) SetTCPForwarder(f TCPForwarder) {
	f.MaxInFlight = cmp.Or(f.MaxInFlight, DefaultForwardMaxInFlight)
	f.Decision = cmp.Or(f.Decision, DefaultForwardDecision)
	s.mu.Lock()
	s.fwd.tcp = f
	s.fwd.tcpOn.Store(f.Handler != nil)
	s.mu.Unlock()
}

// SetUDPForwarder turns on forwarding of UDP flows to any destination
// routed to the stack, with the handler and bounds of f; a nil f.Handler
// turns it off.
func (s *Stack) SetUDPForwarder(f UDPForwarder) {
	f.MaxInFlight = cmp.Or(f.MaxInFlight, DefaultForwardMaxInFlight)
	f.Decision = cmp.Or(f.Decision, DefaultForwardDecision)
	f.IdleTimeout = cmp.Or(f.IdleTimeout, DefaultForwardUDPIdleAfter)
	s.fwd.udpMu.Lock()
	s.fwd.udp = f
	s.fwd.udpOn.Store(f.Handler != nil)
	s.fwd.udpMu.Unlock()
}

// ForwardStats returns the forwarders' counters.
func (s *Stack) ForwardStats() ForwardStats {
	f := &s.fwd
	return ForwardStats{
		TCPRequests: f.tcpRequests.Load(), TCPAccepted: f.tcpAccepted.Load(),
		TCPRefused: f.tcpRefused.Load(), TCPDropped: f.tcpDropped.Load(), TCPCookies: f.tcpCookies.Load(),
		UDPRequests: f.udpRequests.Load(), UDPAccepted: f.udpAccepted.Load(),
		UDPRefused: f.udpRefused.Load(), UDPDropped: f.udpDropped.Load(),
		HandlerPanics: f.panics.Load(), Undecided: f.undecided.Load(),
	}
}

// close ends the requests waiting for a decision, when the stack
// closes: their timers stop, so that none fires or holds the stack
// after Close, and a decision that comes later finds the request
// decided (Accept fails with net.ErrClosed; Refuse and Drop do
// nothing). They are counted as dropped. A connection a SYN cookie
// opened is in the stack's table and reset with the others. s.mu is
// not held; s.closed is set.
func (f *forwarder) close(tcpPending map[connKey]*TCPForwardRequest) {
	for _, r := range tcpPending {
		if r.decide() {
			f.tcpDropped.Add(1)
		}
	}
	f.udpMu.Lock()
	f.udpClosed = true
	waiting := f.udpWaiting
	f.udpWaiting = nil
	f.udpMu.Unlock()
	for r := range waiting {
		if r.decide() {
			f.udpDropped.Add(1)
		}
	}
}

// forwards reports whether a packet ip that arrived on n, to an address
// that is not the stack's, is taken for forwarding: a forwarder is on
// for its protocol (TCP, UDP, or ICMP errors, which may concern a
// forwarded flow), it came from a link (never the loopback interface,
// nor from or to a loopback address: RFC 1122 §3.2.1.3), and its
// destination is a unicast address.
func (s *Stack) forwards(n *nic, ip *wire.IPPacket) bool {
	if n.loopback || ip.Src.IsLoopback() || ip.Dst.IsLoopback() || !forwardable(ip.Dst) {
		return false
	}
	switch ip.Protocol {
	case wire.ProtocolTCP:
		return s.fwd.tcpOn.Load()
	case wire.ProtocolUDP:
		return s.fwd.udpOn.Load()
	case wire.ProtocolICMPv4, wire.ProtocolICMPv6:
		// Errors only, which may concern a forwarded flow (a packet too
		// big, a port unreachable: RFC 1122 §4.2.3.9, §4.1.3.3), and
		// which are believed only if they quote one (icmpError). An echo
		// request to an address the stack does not own is not answered
		// as if it were.
		if len(ip.Payload) == 0 {
			return false
		}
		h := wire.ICMPHeader{Type: ip.Payload[0]}
		if !h.IsError(ip.Version) {
			return false
		}
		return s.fwd.tcpOn.Load() || s.fwd.udpOn.Load()
	}
	return false
}

// forwardable reports whether a is an address a flow may be forwarded
// to: unicast, not unspecified, not IPv4's limited broadcast.
func forwardable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// TCPForwardRequest is a SYN to an address the stack does not own,
// waiting for its handler's decision.
type TCPForwardRequest struct {
	s       *Stack
	t       tuple
	syn     tcp.Segment // the SYN, without payload; or
	conn    *Conn       // the connection a SYN cookie opened
	iss     tcp.Seq     // the initial sequence number, if reopens is set
	reopens bool        // the SYN reopens a pair in TIME_WAIT: iss follows its record
	decided atomic.Bool
	expiry  expiry // drops the request when the decision is overdue
}

// LocalAddr returns the original destination of the connection: the
// address and port the client connected to.
func (r *TCPForwardRequest) LocalAddr() netip.AddrPort { return r.t.local }

// RemoteAddr returns the client's address and port.
func (r *TCPForwardRequest) RemoteAddr() netip.AddrPort { return r.t.remote }

// ErrDecided is returned by a request's Accept when Accept, Refuse or
// Drop was called on it already, or its decision came too late.
var ErrDecided = errors.New("forward request already decided")

// decide marks r decided, once; it reports whether this call did.
func (r *TCPForwardRequest) decide() bool {
	if !r.decided.CompareAndSwap(false, true) {
		return false
	}
	r.expiry.stop()
	return true
}

// leave takes r out of the table of requests waiting. s.mu is held.
func (r *TCPForwardRequest) leave() {
	if f := &r.s.fwd; f.tcpPending[r.t.key()] == r {
		delete(f.tcpPending, r.t.key())
	}
}

// Accept completes the handshake (a SYN+ACK answers the SYN) and
// returns the connection once it is established, or an error if the
// client resets it, the SYN+ACK is never acknowledged or ctx ends first.
// The connection's LocalAddr is the original destination.
func (r *TCPForwardRequest) Accept(ctx context.Context) (*Conn, error) {
	s := r.s
	opErr := func(err error) error {
		return &net.OpError{Op: "accept", Net: "tcp", Source: net.TCPAddrFromAddrPort(r.t.local),
			Addr: net.TCPAddrFromAddrPort(r.t.remote), Err: errnoFor(err)}
	}
	if !r.decide() {
		return nil, opErr(s.closedOr(ErrDecided)) // decided, or ended by Close (forwarder.close)
	}
	if r.conn != nil { // a cookie opened it: established already
		s.mu.Lock()
		r.leave()
		s.mu.Unlock()
		s.fwd.tcpAccepted.Add(1)
		return r.conn, nil
	}
	now := time.Now()
	s.mu.Lock()
	r.leave()
	var err error
	var n *nic
	switch {
	case s.closed:
		err = net.ErrClosed
	case s.conns[r.t.key()] != nil:
		err = syscall.EADDRINUSE
	case s.atConnectionLimit():
		s.stats.ConnectionLimitDrops.Add(1)
		err = syscall.EAGAIN
	default:
		n, _, err = s.routeLocked(r.t.remote.Addr())
	}
	if err != nil {
		s.mu.Unlock()
		s.fwd.tcpDropped.Add(1)
		return nil, opErr(err)
	}
	iss := s.isn.ISN(r.t.local, r.t.remote, now) // RFC 6528
	if r.reopens {
		iss = r.iss
	}
	c := newConn(s, r.t, n, iss)
	c.tcb.Listen()
	// As in DialContext: c is locked before it is in the table.
	c.mu.Lock()
	defer c.mu.Unlock()
	s.conns[r.t.key()] = c
	s.mu.Unlock()
	s.fwd.tcpAccepted.Add(1)
	syn := r.syn
	c.tcb.Input(&syn, now)
	c.flush()
	for {
		switch st := c.tcb.State(); {
		case st.Synchronized():
			return c, nil
		case st == tcp.Closed:
			return nil, opErr(s.closedOr(c.tcb.Err()))
		}
		if err := c.wait(ctx, time.Time{}); err != nil {
			c.tcb.Abort(time.Now())
			c.flush()
			return nil, opErr(contextError(err))
		}
	}
}

// Refuse answers the SYN with a RST, so that the client's connect fails
// with ECONNREFUSED (RFC 9293 §3.10.7.1). A connection a SYN cookie
// opened is reset.
func (r *TCPForwardRequest) Refuse() {
	if !r.decide() {
		return
	}
	r.s.fwd.tcpRefused.Add(1)
	r.s.mu.Lock()
	r.leave()
	r.s.mu.Unlock()
	if r.conn != nil {
		r.conn.abort()
		return
	}
	if rst, ok := tcp.ResetFor(&r.syn); ok {
		r.s.stats.ResetsSent.Add(1)
		r.s.sendSegment(r.t.local, r.t.remote, &rst)
	}
}

// Drop forgets the SYN, sending nothing: the client retries, and its
// next SYN makes a new request. A connection a SYN cookie opened cannot
// be forgotten silently, as the client believes it established: it is
// reset, as by Refuse.
func (r *TCPForwardRequest) Drop() {
	if r.conn != nil {
		r.Refuse()
		return
	}
	if !r.decide() {
		return
	}
	r.s.fwd.tcpDropped.Add(1)
	r.s.mu.Lock()
	r.leave()
	r.s.mu.Unlock()
}

// forwardTCP decides what becomes of seg, for t, whose local address
// is not the stack's and for which there is no connection, TIME_WAIT
// record or listener: a new request for a SYN, a SYN cookie if
// MaxInFlight requests wait, a connection for an ACK that returns a
// cookie. ok is false if forwarding is off or seg is none of those: the
// caller answers as without forwarding. s.mu is held.
func (s *Stack) forwardTCP(t tuple, seg *tcp.Segment, now time.Time) (v verdict, ok bool) {
	f := &s.fwd
	if f.tcp.Handler == nil || s.isLocalLocked(t.local.Addr()) || !forwardable(t.local.Addr()) {
		return verdict{}, false
	}
	if s.closed {
		return verdict{act: actDrop}, true // no request may outlive Close (forwarder.close)
	}
	key := t.key()
	switch seg.Flags & (wire.FlagSYN | wire.FlagACK | wire.FlagRST) {
	case wire.FlagSYN:
		if f.tcpPending[key] != nil {
			return verdict{act: actDrop}, true // a retransmission: the handler has it
		}
		if len(f.tcpPending) >= f.tcp.MaxInFlight {
			n, _, err := s.routeLocked(t.remote.Addr())
			if err != nil || s.atConnectionLimit() {
				return verdict{act: actDrop}, true
			}
			f.lastOverflow = now
			f.tcpCookies.Add(1)
			return verdict{act: actCookie, nic: n, cfg: s.configFor(t.remote.Addr(), n)}, true
		}
		r := &TCPForwardRequest{s: s, t: t, syn: *seg}
		r.syn.Payload, r.syn.Buffer = nil, nil // data on a SYN is not kept (no TCP Fast Open)
		s.addTCPRequest(r)
		return verdict{act: actDecide, req: r}, true
	case wire.FlagACK:
		// A cookie's connection is established: the client made it, from
		// an address it can receive at. Such requests may be as many
		// again as the SYNs waiting, so that clients get through while a
		// flood of spoofed SYNs holds every place of those.
		if f.lastOverflow.IsZero() || now.Sub(f.lastOverflow) > cookieValid || len(f.tcpPending) >= 2*f.tcp.MaxInFlight {
			return verdict{}, false // no cookie sent lately (RFC 4987 §3.6), or no room: as without forwarding
		}
		n, _, err := s.routeLocked(t.remote.Addr())
		if err != nil {
			return verdict{}, false
		}
		cfg := s.configFor(t.remote.Addr(), n)
		k, valid := s.cookies.Check(cfg, seg, t.local, t.remote, now)
		if !valid || s.atConnectionLimit() {
			return verdict{}, false
		}
		c := &Conn{s: s, local: t.local, remote: t.remote, nic: n}
		c.tcb = tcp.NewConnFromCookie(cfg, k, seg, now)
		c.observe()
		s.conns[key] = c
		s.stats.SynCookiesAccepted.Add(1)
		r := &TCPForwardRequest{s: s, t: t, conn: c}
		s.addTCPRequest(r)
		return verdict{act: actDecide, req: r}, true
	}
	return verdict{}, false
}

// reuse sets the initial sequence number of r's connection from tw, the
// TIME_WAIT record of the pair the SYN reopens (RFC 6191 §2). r may be
// nil. s.mu is held.
func (r *TCPForwardRequest) reuse(tw *timeWaitEntry) {
	if r != nil {
		r.iss, r.reopens = tw.rec.ReuseISS(), true
	}
}

// addTCPRequest puts r in the table of requests waiting, with a timer
// that drops it when its decision is overdue. s.mu is held.
func (s *Stack) addTCPRequest(r *TCPForwardRequest) {
	f := &s.fwd
	if f.tcpPending == nil {
		f.tcpPending = make(map[connKey]*TCPForwardRequest)
	}
	f.tcpPending[r.t.key()] = r
	f.tcpRequests.Add(1)
	r.expiry.start(f.tcp.Decision, func() {
		if !r.decided.Load() {
			f.undecided.Add(1)
			r.Drop()
		}
	})
}

// startTCPRequest runs the handler for r, which forwardTCP made, on a
// goroutine of its own. A connection a cookie opened first processes
// the ACK that opened it. s.mu is not held.
func (s *Stack) startTCPRequest(r *TCPForwardRequest) {
	if c := r.conn; c != nil {
		c.mu.Lock()
		c.flush()
		c.mu.Unlock()
	}
	s.mu.Lock()
	h := s.fwd.tcp.Handler
	s.mu.Unlock()
	if h == nil {
		r.Drop()
		return
	}
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.fwd.panics.Add(1)
				s.logDrop("forward handler panicked", fmt.Errorf("%v", p))
				r.Refuse()
			}
		}()
		h(r)
	}()
}

// UDPForwardRequest is the first datagram of a flow to an address the
// stack does not own, waiting for its handler's decision. Datagrams of
// the flow that follow it queue behind it.
type UDPForwardRequest struct {
	s       *Stack
	conn    *UDPConn
	quote   []byte // the start of the first packet, for an ICMP error
	ip      wire.IPPacket
	n       *nic
	decided atomic.Bool
	expiry  expiry
}

// LocalAddr returns the flow's original destination.
func (r *UDPForwardRequest) LocalAddr() netip.AddrPort { return r.conn.local }

// RemoteAddr returns the flow's source: the client's address and port.
func (r *UDPForwardRequest) RemoteAddr() netip.AddrPort { return r.conn.remote }

// decide marks r decided, once, and counts it out of the flows
// waiting; it reports whether this call did.
func (r *UDPForwardRequest) decide() bool {
	if !r.decided.CompareAndSwap(false, true) {
		return false
	}
	r.expiry.stop()
	f := &r.s.fwd
	f.udpMu.Lock()
	f.udpPending--
	delete(f.udpWaiting, r)
	f.udpMu.Unlock()
	return true
}

// Accept returns the flow's socket: connected to the client, bound to
// the original destination (its LocalAddr), with the datagrams received
// so far queued to Read. It closes itself after IdleTimeout without a
// datagram either way.
func (r *UDPForwardRequest) Accept() (*UDPConn, error) {
	if !r.decide() {
		return nil, r.conn.opError("accept", netip.AddrPort{}, r.s.closedOr(ErrDecided)) // decided, or ended by Close
	}
	r.s.fwd.udpAccepted.Add(1)
	r.conn.mu.Lock()
	r.conn.queue.limit = DefaultUDPReadBuffer
	r.conn.mu.Unlock()
	r.conn.flow.touch()
	r.conn.flow.arm()
	return r.conn, nil
}

// Refuse closes the flow and answers its first datagram with an ICMP
// port unreachable (rate-limited with the stack's other ICMP errors), so
// that a connected client socket's next read fails with ECONNREFUSED.
func (r *UDPForwardRequest) Refuse() {
	if !r.decide() {
		return
	}
	r.s.fwd.udpRefused.Add(1)
	r.conn.Close()
	r.s.portUnreachable(r.n, r.quote, r.ip)
}

// Drop closes the flow, sending nothing. The flow's next datagram makes
// a new request.
func (r *UDPForwardRequest) Drop() {
	if !r.decide() {
		return
	}
	r.s.fwd.udpDropped.Add(1)
	r.conn.Close()
}

// udpPendingReadBuffer bounds the receive queue of a UDP flow waiting
// for its handler's decision, so that a flood of datagrams to many
// destinations holds at most MaxInFlight times this (an empty queue
// still takes one datagram of any size); Accept gives the flow
// DefaultUDPReadBuffer.
const udpPendingReadBuffer = 16 << 10

// forwardUDP makes the flow for a datagram in packet p, from remote to
// local, an address the stack does not own, that no socket takes, and
// starts its handler. It returns the flow's socket, for the datagram to
// be queued in, or nil if the datagram is to be dropped: MaxInFlight
// flows wait already, or the stack is closed.
func (s *Stack) forwardUDP(n *nic, ip wire.IPPacket, p []byte, local, remote netip.AddrPort) *UDPConn {
	f := &s.fwd
	f.udpMu.Lock()
	cfg := f.udp
	if cfg.Handler == nil || f.udpPending >= cfg.MaxInFlight {
		f.udpMu.Unlock()
		f.udpDropped.Add(1)
		s.logDrop("UDP forwarding: too many flows waiting", nil)
		return nil
	}
	f.udpPending++
	f.udpMu.Unlock()
	r := &UDPForwardRequest{s: s, ip: ip, n: n, quote: bytes.Clone(wire.ErrorQuote(ip.Version, p))}
	r.ip.Payload = nil
	c := s.newUDPConn("udp", local)
	c.remote, c.nic, c.src = remote, n, local.Addr()
	c.queue.limit = udpPendingReadBuffer
	if out, _, err := s.route(remote.Addr()); err == nil {
		c.nic = out
	}
	c.flow = &udpFlow{c: c, idle: cfg.IdleTimeout}
	r.conn = c
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed || s.udp.bind(c, s.opts.EphemeralPorts) != nil {
		f.udpMu.Lock()
		f.udpPending--
		f.udpMu.Unlock()
		f.udpDropped.Add(1)
		return nil
	}
	f.udpMu.Lock()
	if f.udpClosed { // Close came since the check above
		f.udpPending--
		f.udpMu.Unlock()
		c.Close()
		f.udpDropped.Add(1)
		return nil
	}
	if f.udpWaiting == nil {
		f.udpWaiting = make(map[*UDPForwardRequest]bool)
	}
	f.udpWaiting[r] = true
	// Started under udpMu, so that close, which takes the request from
	// udpWaiting, finds its timer set.
	r.expiry.start(cfg.Decision, func() {
		if !r.decided.Load() {
			f.undecided.Add(1)
			r.Drop()
		}
	})
	f.udpMu.Unlock()
	f.udpRequests.Add(1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				f.panics.Add(1)
				s.logDrop("forward handler panicked", fmt.Errorf("%v", p))
				r.Refuse()
			}
		}()
		cfg.Handler(r)
	}()
	return c
}

// udpFlow closes a forwarded UDP flow's socket once it has been idle,
// no datagram received or sent, for its timeout: one timer per flow,
// no goroutine.
type udpFlow struct {
	c     *UDPConn
	idle  time.Duration
	last  atomic.Int64 // Unix nanoseconds of the last datagram
	mu    sync.Mutex
	timer *time.Timer
}

// touch records a datagram received or sent. It may be called on a nil
// flow (a socket that is not a forwarded flow).
func (f *udpFlow) touch() {
	if f != nil {
		f.last.Store(time.Now().UnixNano())
	}
}

// arm starts the idle timer, once the flow is accepted.
func (f *udpFlow) arm() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer == nil {
		f.timer = time.AfterFunc(f.idle, f.check)
	}
}

// check closes the flow if it has been idle long enough, or looks again
// when it will have been.
func (f *udpFlow) check() {
	left := f.idle - time.Since(time.Unix(0, f.last.Load()))
	if left <= 0 {
		f.c.Close()
		return
	}
	f.mu.Lock()
	f.timer.Reset(left)
	f.mu.Unlock()
}

// stop ends the idle timer: the socket is closed. It may be called on
// a nil flow.
func (f *udpFlow) stop() {
	if f == nil {
		return
	}
	f.mu.Lock()
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
}

// expiry is a request's deadline for its decision: a timer, guarded so
// that it may be stopped from any goroutine, its own callback's too.
type expiry struct {
	mu    sync.Mutex
	timer *time.Timer
}

// start calls f after d.
func (e *expiry) start(d time.Duration, f func()) {
	e.mu.Lock()
	e.timer = time.AfterFunc(d, f)
	e.mu.Unlock()
}

// stop cancels the call, if it is still to come.
func (e *expiry) stop() {
	e.mu.Lock()
	if e.timer != nil {
		e.timer.Stop()
	}
	e.mu.Unlock()
}
