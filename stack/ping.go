package stack

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

// PingAddr is the address of a ping socket or of its peer: an IP
// address and no port, as wireguard-go's netstack.PingAddr.
type PingAddr struct{ addr netip.Addr }

// PingAddrFromAddr returns a *PingAddr for addr.
func PingAddrFromAddr(addr netip.Addr) *PingAddr { return &PingAddr{addr} }

// Addr returns the IP address.
func (a PingAddr) Addr() netip.Addr { return a.addr }

// Network implements net.Addr: "ping4" or "ping6" ("ping" for the zero
// PingAddr).
func (a PingAddr) Network() string {
	switch {
	case a.addr.Is4():
		return "ping4"
	case a.addr.Is6():
		return "ping6"
	}
	return "ping"
}

// String implements net.Addr.
func (a PingAddr) String() string { return a.addr.String() }

// DefaultPingReadBuffer is a ping socket's receive queue bound, in
// bytes, until SetReadBuffer changes it (as a UDP socket's).
const DefaultPingReadBuffer = DefaultUDPReadBuffer

// PingConn is an ICMP echo socket on a Stack, as Linux's ping sockets
// (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)) and wireguard-go's
// netstack.PingConn: it sends echo requests (RFC 792; RFC 4443 §4.1)
// and receives the echo replies that carry its identifier.
//
// What is written is a whole ICMP message: type (echo request: 8 for
// IPv4, 128 for IPv6), code 0, checksum, identifier, sequence number and
// data, as golang.org/x/net/icmp's Message.Marshal makes it. The stack
// puts the socket's identifier in it (Ident; the socket's "port", chosen
// when it is made, as Linux does) and computes the checksum (for ICMPv6
// over the pseudo-header, RFC 4443 §2.3). What is read is a whole echo
// reply as it arrived, ICMP header included, without the IP header.
//
// Made by ListenPing it is unconnected: it sends to any address of its
// family and takes replies from anyone. Made by DialPing it is
// connected: Write sends to its peer and only the peer's replies
// arrive.
type PingConn struct {
	s      *Stack
	local  netip.Addr // may be unspecified: any address of its family
	remote netip.Addr // valid only on a connected socket
	v6     bool
	ident  uint16

	sockSync                       // mu guards what follows
	queue    msgQueue[pingMessage] // received, not yet read
	closed   bool
	err      error // from an ICMP error, for the next read
}

// pingMessage is a received echo reply.
type pingMessage struct {
	from netip.Addr
	msg  []byte // the ICMP message, header included
}

// pingOverhead is what each queued reply is charged beyond its bytes,
// as udpDatagramOverhead.
const pingOverhead = udpDatagramOverhead

// ListenPing opens an unconnected ping socket bound to laddr: an
// address of the stack, or the unspecified address of the family the
// socket is to use (netip.IPv4Unspecified, netip.IPv6Unspecified).
// Errors are *net.OpError: EADDRNOTAVAIL when laddr is not one of the
// stack's, EINVAL when it is the zero netip.Addr.
func (s *Stack) ListenPing(laddr netip.Addr) (*PingConn, error) {
	return s.DialPing(laddr, netip.Addr{})
}

// DialPing opens a ping socket connected to raddr, bound to laddr (if
// it is the zero netip.Addr, to the unspecified address of raddr's
// family: the source address is the route's). A zero raddr makes the
// socket unconnected, as ListenPing. Nothing is sent.
func (s *Stack) DialPing(laddr, raddr netip.Addr) (*PingConn, error) {
	laddr, raddr = laddr.Unmap(), raddr.Unmap()
	op := "dial"
	if !raddr.IsValid() {
		op = "listen"
	}
	opErr := func(err error) error {
		e := &net.OpError{Op: op, Net: "ping", Err: err}
		if laddr.IsValid() {
			e.Net, e.Source = PingAddr{laddr}.Network(), PingAddr{laddr}
		}
		if raddr.IsValid() {
			e.Net, e.Addr = PingAddr{raddr}.Network(), PingAddr{raddr}
		}
		return e
	}
	switch {
	case !laddr.IsValid() && !raddr.IsValid():
		return nil, opErr(syscall.EINVAL)
	case !laddr.IsValid() && raddr.Is4():
		laddr = netip.IPv4Unspecified()
	case !laddr.IsValid():
		laddr = netip.IPv6Unspecified()
	case raddr.IsValid() && raddr.Is4() != laddr.Is4():
		return nil, opErr(syscall.EAFNOSUPPORT)
	}
	if raddr.IsValid() && raddr.IsUnspecified() {
		return nil, opErr(syscall.EINVAL)
	}
	s.mu.Lock()
	closed := s.closed
	local := laddr.IsUnspecified() || s.isLocalLocked(laddr)
	s.mu.Unlock()
	switch {
	case closed:
		return nil, opErr(net.ErrClosed)
	case !local:
		return nil, opErr(syscall.EADDRNOTAVAIL)
	}
	c := &PingConn{s: s, local: laddr, remote: raddr, v6: laddr.Is6(), queue: msgQueue[pingMessage]{limit: DefaultPingReadBuffer}}
	if err := s.ping.bind(c); err != nil {
		return nil, opErr(err)
	}
	return c, nil
}

// pingTable holds a stack's ping sockets by family and identifier, under
// a lock of its own. An identifier is one socket's in its family, as a
// port is (Linux's ping_get_port).
type pingTable struct {
	mu    sync.RWMutex
	socks map[pingKey]*PingConn
}

type pingKey struct {
	v6    bool
	ident uint16
}

// bind gives c a free identifier, from a random start (RFC 6056
// algorithm 1, as for ports), and adds it.
func (t *pingTable) bind(c *PingConn) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.socks == nil {
		t.socks = make(map[pingKey]*PingConn)
	}
	start := rand.IntN(65535)
	for i := 0; i < 65535; i++ {
		k := pingKey{c.v6, uint16(1 + (start+i)%65535)} // 0 is left out, as Linux does
		if t.socks[k] == nil {
			c.ident = k.ident
			t.socks[k] = c
			return nil
		}
	}
	return errAddrInUse
}

// lookup finds the socket for an echo reply from src to dst carrying
// ident: its family and identifier match, its local address is dst's or
// unspecified, and a connected socket's peer is src.
func (t *pingTable) lookup(src, dst netip.Addr, ident uint16) *PingConn {
	t.mu.RLock()
	c := t.socks[pingKey{dst.Is6(), ident}]
	t.mu.RUnlock()
	if c == nil || !c.local.IsUnspecified() && c.local != dst || c.remote.IsValid() && c.remote != src {
		return nil
	}
	return c
}

func (t *pingTable) unbind(c *PingConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := (pingKey{c.v6, c.ident}); t.socks[k] == c {
		delete(t.socks, k)
	}
}

// closeAll closes every socket: the stack is closing.
func (t *pingTable) closeAll() {
	t.mu.RLock()
	all := make([]*PingConn, 0, len(t.socks))
	for _, c := range t.socks {
		all = append(all, c)
	}
	t.mu.RUnlock()
	for _, c := range all {
		c.Close()
	}
}

// deliverEchoReply hands an echo reply, the ICMP message msg with header
// h, to the ping socket whose identifier it carries; a reply no socket
// takes is counted and dropped.
func (s *Stack) deliverEchoReply(ip wire.IPPacket, h *wire.ICMPHeader, msg []byte) {
	c := s.ping.lookup(ip.Src, ip.Dst, h.EchoID())
	if c == nil {
		s.stats.EchoRepliesUnclaimed.Add(1)
		return
	}
	c.enqueue(ip.Src, msg)
}

// pingICMPError handles an ICMP error quoting q, an echo request we
// sent. As Linux's ping_err for sockets without IP_RECVERR, only a
// connected socket learns of it, and only of a hard error: destination
// unreachable (but fragmentation needed) or parameter problem, the
// errors Linux's icmp_err_convert and icmpv6_err_convert call fatal.
// The quoted identifier and addresses must be the socket's (RFC 5927
// §4.1's check, as far as ICMP has one). Its next read fails with the
// error (EHOSTUNREACH, ENETUNREACH, ...).
func (s *Stack) pingICMPError(ip wire.IPPacket, h *wire.ICMPHeader, q wire.Quoted) {
	echo, hard := uint8(wire.ICMPv4EchoRequest), h.Type == wire.ICMPv4DestUnreachable && h.Code != wire.ICMPv4CodeFragNeeded
	if ip.Version == 6 {
		echo, hard = wire.ICMPv6EchoRequest, h.Type == wire.ICMPv6DestUnreachable || h.Type == wire.ICMPv6ParamProblem
	}
	var c *PingConn
	if q.Payload[0] == echo {
		c = s.ping.lookup(q.Dst, q.Src, binary.BigEndian.Uint16(q.Payload[4:]))
	}
	if c == nil || !c.remote.IsValid() || !hard {
		s.stats.ICMPErrorsIgnored.Add(1)
		return
	}
	c.mu.Lock()
	c.err = classifyICMP(ip.Version, h).err
	c.wake()
	c.mu.Unlock()
}

// enqueue queues a copy of msg, from from, unless the queue is full (an
// empty queue always takes one message, as a UDP socket's).
func (c *PingConn) enqueue(from netip.Addr, msg []byte) {
	cost := len(msg) + pingOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		c.s.stats.EchoRepliesUnclaimed.Add(1)
		return
	case !c.queue.admits(cost):
		c.s.stats.PingReceiveQueueDrops.Add(1)
		return
	}
	c.queue.push(pingMessage{from: from, msg: append([]byte(nil), msg...)}, cost)
	c.s.stats.EchoRepliesReceived.Add(1)
	c.wake()
}

// read takes the next reply into p, waiting for one until the read
// deadline. A reply longer than p is cut, the rest discarded.
func (c *PingConn) read(p []byte) (int, netip.Addr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return 0, netip.Addr{}, c.opError("read", netip.Addr{}, net.ErrClosed)
		case c.err != nil:
			err := c.err
			c.err = nil
			return 0, netip.Addr{}, c.opError("read", netip.Addr{}, err)
		case pastDeadline(c.rdl.time()):
			return 0, netip.Addr{}, c.opError("read", netip.Addr{}, os.ErrDeadlineExceeded)
		}
		if m, ok := c.queue.pop(); ok {
			return copy(p, m.msg), m.from, nil
		}
		if err := c.wait(context.Background(), c.rdl.time()); err != nil {
			return 0, netip.Addr{}, c.opError("read", netip.Addr{}, err)
		}
	}
}

// errNotEchoRequest is the cause of a write of something other than an
// echo request: Linux's ping sockets send nothing else (EINVAL).
var errNotEchoRequest = errors.New("not an ICMP echo request (type 8 for IPv4, 128 for IPv6; code 0)")

// write sends the echo request msg to to, with c's identifier and a
// checksum the stack computes. It never blocks: a message the link has
// no room for is dropped and counted in Stats.SendErrors.
func (c *PingConn) write(msg []byte, to netip.Addr) (int, error) {
	c.mu.Lock()
	closed, wdl := c.closed, c.wdl.time()
	c.mu.Unlock()
	to = to.Unmap()
	switch {
	case closed:
		return 0, c.opError("write", to, net.ErrClosed)
	case pastDeadline(wdl):
		return 0, c.opError("write", to, os.ErrDeadlineExceeded)
	case !to.IsValid() || to.IsUnspecified():
		return 0, c.opError("write", to, syscall.EINVAL)
	case to.Is6() != c.v6:
		return 0, c.opError("write", to, syscall.EAFNOSUPPORT)
	}
	echo := uint8(wire.ICMPv4EchoRequest)
	if c.v6 {
		echo = wire.ICMPv6EchoRequest
	}
	if len(msg) < wire.ICMPHeaderLen || msg[0] != echo || msg[1] != 0 {
		return 0, c.opError("write", to, errNotEchoRequest)
	}
	n, src, err := c.s.route(to)
	if err != nil {
		return 0, c.opError("write", to, err)
	}
	if !c.local.IsUnspecified() {
		src = c.local
	}
	hdr := wire.IPv4MinHeaderLen
	if c.v6 {
		hdr = wire.IPv6HeaderLen
	}
	maxMsg := 0xffff - hdr // IPv4's total length
	if c.v6 {
		maxMsg = 0xffff // IPv6's payload length (no jumbograms)
	}
	if len(msg) > maxMsg {
		// Past the largest IP packet; past the MTU a message leaves in
		// fragments (writeIP), as from Linux's ping sockets.
		return 0, c.opError("write", to, syscall.EMSGSIZE)
	}
	h := wire.ICMPHeader{Type: msg[0], Rest: [4]byte(msg[4:8])}
	binary.BigEndian.PutUint16(h.Rest[0:], c.ident)
	body := msg[wire.ICMPHeaderLen:]
	buf := link.Buffer(hdr + len(msg))
	var off int
	if c.v6 {
		ih := wire.IPv6Header{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: src, Dst: to}
		if off, err = ih.Marshal(buf, len(msg)); err == nil {
			_, err = wire.BuildICMPv6(buf[off:], src, to, &h, body)
		}
	} else {
		ih := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: to}
		if off, err = ih.Marshal(buf, len(msg)); err == nil {
			_, err = wire.BuildICMPv4(buf[off:], &h, body)
		}
	}
	if err != nil {
		link.Recycle(buf)
		return 0, c.opError("write", to, err)
	}
	sent, err := c.s.writeIP(n, buf[:off+len(msg)])
	c.s.stats.PacketsSent.Add(uint64(sent))
	if err != nil {
		c.s.stats.SendErrors.Add(1)
		if errors.Is(err, link.ErrClosed) {
			return 0, c.opError("write", to, err)
		}
		return len(msg), nil
	}
	c.s.stats.EchoRequestsSent.Add(1)
	return len(msg), nil
}

// opError wraps err as package net does; to is the peer, if known.
func (c *PingConn) opError(op string, to netip.Addr, err error) error {
	e := &net.OpError{Op: op, Net: PingAddr{c.local}.Network(), Source: PingAddr{c.local}, Err: err}
	if !to.IsValid() {
		to = c.remote
	}
	if to.IsValid() {
		e.Addr = PingAddr{to}
	}
	return e
}

// Ident returns the socket's ICMP identifier: the echo requests it
// sends carry it, and the replies it receives carry it back.
func (c *PingConn) Ident() uint16 { return c.ident }

// ReadFrom implements net.PacketConn: it reads the next echo reply (the
// ICMP message) into p and returns its length and sender, a *PingAddr.
// A reply longer than p is cut to fit; the rest is lost.
func (c *PingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.read(p)
	if err != nil {
		return n, nil, err
	}
	return n, &PingAddr{from}, nil
}

// Read implements net.Conn: it reads the next echo reply, as ReadFrom.
func (c *PingConn) Read(p []byte) (int, error) {
	n, _, err := c.read(p)
	return n, err
}

// WriteTo implements net.PacketConn: it sends p, an ICMP echo request,
// to addr, a *PingAddr, PingAddr or *net.IPAddr, of the socket's
// family. A connected socket may send elsewhere too, as Linux's ping
// sockets and wireguard-go's may, but only its peer's replies reach it.
func (c *PingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	var to netip.Addr
	switch a := addr.(type) {
	case *PingAddr:
		if a != nil {
			to = a.addr
		}
	case PingAddr:
		to = a.addr
	case *net.IPAddr:
		if a != nil {
			to, _ = netip.AddrFromSlice(a.IP)
		}
	}
	if !to.IsValid() {
		return 0, c.opError("write", netip.Addr{}, syscall.EINVAL)
	}
	return c.write(p, to)
}

// Write implements net.Conn: it sends p, an ICMP echo request, to the
// peer of a connected socket (syscall.EDESTADDRREQ on an unconnected
// one).
func (c *PingConn) Write(p []byte) (int, error) {
	if !c.remote.IsValid() {
		return 0, c.opError("write", netip.Addr{}, syscall.EDESTADDRREQ)
	}
	return c.write(p, c.remote)
}

// Close implements net.Conn: the socket leaves the stack, queued
// replies are discarded and blocked reads return net.ErrClosed.
func (c *PingConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opError("close", netip.Addr{}, net.ErrClosed)
	}
	c.closed = true
	c.mu.Unlock()
	c.s.ping.unbind(c) // the identifier is free before a reader learns of the close, as UDPConn's port
	c.mu.Lock()
	c.queue = msgQueue[pingMessage]{limit: c.queue.limit}
	c.wake()
	c.mu.Unlock()
	return nil
}

// LocalAddr implements net.Conn: a PingAddr, the bound address (it may
// be unspecified).
func (c *PingConn) LocalAddr() net.Addr { return PingAddr{c.local} }

// RemoteAddr implements net.Conn: a PingAddr, the peer of a connected
// socket; nil for an unconnected one.
func (c *PingConn) RemoteAddr() net.Addr {
	if !c.remote.IsValid() {
		return nil
	}
	return PingAddr{c.remote}
}

// SetReadBuffer bounds the receive queue to bytes: each reply is
// charged its length plus a small overhead, and one that would pass the
// bound is dropped (Stats().PingReceiveQueueDrops). An empty queue
// always takes one reply.
func (c *PingConn) SetReadBuffer(bytes int) error {
	if bytes < 0 {
		return c.opError("set", netip.Addr{}, syscall.EINVAL)
	}
	c.mu.Lock()
	c.queue.limit = bytes
	c.mu.Unlock()
	return nil
}

// dialPing is DialContext for the networks "ping", "ping4" and "ping6":
// address is an IP address (no port), or a host name when the stack has
// DNS servers (Options.DNSServers), as wireguard-go's
// netstack.Net.DialContext takes them.
func (s *Stack) dialPing(ctx context.Context, network, address string) (*PingConn, error) {
	addrs, err := s.lookupNetIP(ctx, network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var first error
	for _, a := range addrs {
		c, err := s.DialPing(netip.Addr{}, a)
		if err == nil {
			return c, nil
		}
		first = cmp.Or(first, err)
	}
	return nil, first
}

var (
	_ net.PacketConn = (*PingConn)(nil)
	_ net.Conn       = (*PingConn)(nil)
)
