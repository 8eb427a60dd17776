package stack

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

// DefaultUDPReadBuffer is a UDP socket's receive queue bound, in bytes,
// until SetReadBuffer changes it: Linux's net.core.rmem_default.
const DefaultUDPReadBuffer = 212992

// udpDatagramOverhead is what each queued datagram is charged beyond its
// buffer, for the bookkeeping that goes with it (Linux charges the
// sk_buff's truesize), so that a flood of empty datagrams is bounded too.
const udpDatagramOverhead = 64

// UDPConn is a UDP socket on a Stack (RFC 768). Made by ListenPacket it
// is unconnected: a net.PacketConn that receives from anyone and sends
// to any address. Made by Dial it is connected: a net.Conn that sends to
// and receives from one peer only, and learns from an ICMP port
// unreachable that nobody listens there (its next Read fails with
// syscall.ECONNREFUSED, as on Linux). It has the address-carrying
// methods of *net.UDPConn. Datagrams from IPv4 peers are reported with
// IPv4 addresses, also on a socket bound to both families.
type UDPConn struct {
	s       *Stack
	network string         // "udp", "udp4" or "udp6", for errors
	local   netip.AddrPort // the address may be unspecified (a wildcard)
	dual    bool           // bound to the IPv6 wildcard for both families, as "udp" without a host
	remote  netip.AddrPort // valid only on a connected socket
	nic     *nic           // connected: the route to remote, looked up once
	src     netip.Addr     // connected: the source address on that route
	flow    *udpFlow       // a forwarded flow's idle timer (forward.go); nil for others

	sockSync                       // mu guards what follows
	queue    msgQueue[udpDatagram] // received, not yet read
	err      error
	closed   bool
}

// udpDatagram is a received datagram: its payload lies in buf, which is
// recycled once it is read.
type udpDatagram struct {
	from    netip.AddrPort
	payload []byte
	buf     []byte
}

// enqueue queues a datagram from remote whose payload lies in packet p.
// It reports whether it kept p; a datagram the queue has no room for is
// dropped and counted. Small payloads in large buffers are copied out,
// so that what a datagram holds is near what it is charged.
func (c *UDPConn) enqueue(from netip.AddrPort, p, payload []byte) bool {
	buf, kept := p, true
	if cap(p) > 2*(len(payload)+udpDatagramOverhead) {
		buf = link.Buffer(len(payload))
		copy(buf, payload)
		payload, kept = buf, false
	}
	cost := cap(buf) + udpDatagramOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	// As Linux's __udp_enqueue_schedule_skb, an empty queue always
	// takes one datagram, whatever its size.
	if c.closed || !c.queue.admits(cost) {
		if !kept {
			link.Recycle(buf)
		}
		if c.closed {
			c.s.stats.UDP.NoPort.Add(1) // closing: no longer a socket to take it
		} else {
			c.s.stats.UDP.ReceiveBufferDrops.Add(1)
		}
		return false
	}
	c.queue.push(udpDatagram{from: from, payload: payload, buf: buf}, cost)
	c.s.stats.UDP.DatagramsReceived.Add(1)
	c.flow.touch()
	c.wake()
	return kept
}

// icmpError records err, reported by an ICMP error about a datagram c
// sent, for its next Read (Linux's sk_err), and wakes a blocked one.
func (c *UDPConn) icmpError(err error) {
	c.mu.Lock()
	c.err = err
	c.wake()
	c.mu.Unlock()
}

// read takes the next datagram into p, waiting for one until the read
// deadline. A pending ICMP error is reported first, once. A datagram
// longer than p is cut, the rest discarded, and truncated set.
func (c *UDPConn) read(p []byte) (n int, from netip.AddrPort, truncated bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return 0, from, false, c.opError("read", netip.AddrPort{}, net.ErrClosed)
		case c.err != nil:
			err, c.err = c.err, nil
			return 0, from, false, c.opError("read", netip.AddrPort{}, err)
		case pastDeadline(c.rdl.time()):
			return 0, from, false, c.opError("read", netip.AddrPort{}, os.ErrDeadlineExceeded)
		}
		if d, ok := c.queue.pop(); ok {
			n = copy(p, d.payload)
			link.Recycle(d.buf)
			return n, d.from, n < len(d.payload), nil
		}
		if err := c.wait(context.Background(), c.rdl.time()); err != nil {
			return 0, from, false, c.opError("read", netip.AddrPort{}, err)
		}
	}
}

// write sends p to to as one datagram. It never blocks: a datagram the
// link has no room for is dropped and counted in Stats.SendErrors, as
// Linux does without IP_RECVERR. A datagram larger than the route's MTU
// fails with EMSGSIZE: seqack does not fragment.
func (c *UDPConn) write(p []byte, to netip.AddrPort) (int, error) {
	c.mu.Lock()
	closed, wdl := c.closed, c.wdl.time()
	c.mu.Unlock()
	switch {
	case closed:
		return 0, c.opError("write", to, net.ErrClosed)
	case pastDeadline(wdl):
		return 0, c.opError("write", to, os.ErrDeadlineExceeded)
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	if la := c.local.Addr(); !c.dual && la.Is4() != to.Addr().Is4() {
		return 0, c.opError("write", to, syscall.EAFNOSUPPORT)
	}
	n, src := c.nic, c.src
	if !c.remote.IsValid() {
		var err error
		if n, src, err = c.s.route(to.Addr()); err != nil {
			return 0, c.opError("write", to, err)
		}
		if la := c.local.Addr(); !la.IsUnspecified() {
			src = la
		}
	}
	v6 := to.Addr().Is6()
	size := wire.UDPPacketLen(v6, len(p))
	if len(p) > wire.UDPMaxPayload(v6) {
		return 0, c.opError("write", to, syscall.EMSGSIZE)
	}
	buf := link.Buffer(size)
	if _, err := wire.BuildUDPPacket(buf, netip.AddrPortFrom(src, c.local.Port()), to, 0, p); err != nil {
		link.Recycle(buf)
		return 0, c.opError("write", to, err)
	}
	sent, err := c.s.writeIP(n, buf) // in fragments past the MTU
	c.s.stats.PacketsSent.Add(uint64(sent))
	if err != nil {
		c.s.stats.SendErrors.Add(1)
		if errors.Is(err, link.ErrClosed) {
			return 0, c.opError("write", to, err)
		}
		return len(p), nil
	}
	c.s.stats.UDP.DatagramsSent.Add(1)
	c.flow.touch()
	return len(p), nil
}

// opError wraps err as package net does; to is the peer, if known.
func (c *UDPConn) opError(op string, to netip.AddrPort, err error) error {
	e := &net.OpError{Op: op, Net: c.network, Source: c.LocalAddr(), Err: err}
	if !to.IsValid() {
		to = c.remote
	}
	if to.IsValid() {
		e.Addr = net.UDPAddrFromAddrPort(to)
	}
	return e
}

// ReadFromUDPAddrPort reads a datagram into p and returns its length
// and sender. A datagram longer than p is cut to fit; the rest is lost.
func (c *UDPConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	n, from, _, err := c.read(p)
	return n, from, err
}

// ReadFromUDP is ReadFromUDPAddrPort with a *net.UDPAddr.
func (c *UDPConn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	n, from, _, err := c.read(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFrom implements net.PacketConn.
func (c *UDPConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, _, err := c.read(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadMsgUDPAddrPort is ReadFromUDPAddrPort as *net.UDPConn has it: no
// control messages are returned (oobn is 0), and flags has
// syscall.MSG_TRUNC set when the datagram was cut to fit p.
func (c *UDPConn) ReadMsgUDPAddrPort(p, oob []byte) (n, oobn, flags int, addr netip.AddrPort, err error) {
	n, addr, truncated, err := c.read(p)
	if truncated {
		flags = syscall.MSG_TRUNC
	}
	return n, 0, flags, addr, err
}

// Read implements net.Conn: it reads the next datagram, cut to fit p.
// On a connected socket only the peer's datagrams arrive, and an ICMP
// port unreachable from it makes the next Read fail with
// syscall.ECONNREFUSED.
func (c *UDPConn) Read(p []byte) (int, error) {
	n, _, _, err := c.read(p)
	return n, err
}

// WriteToUDPAddrPort sends p as one datagram to addr. It fails with
// net.ErrWriteToConnected on a connected socket, and with
// syscall.EMSGSIZE when the datagram is larger than an IP packet can
// carry (65,507 bytes over IPv4, 65,527 over IPv6). One larger than the
// route's MTU leaves in fragments.
func (c *UDPConn) WriteToUDPAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if c.remote.IsValid() {
		return 0, c.opError("write", addr, net.ErrWriteToConnected)
	}
	if !addr.IsValid() {
		return 0, c.opError("write", addr, syscall.EINVAL)
	}
	return c.write(p, addr)
}

// WriteToUDP is WriteToUDPAddrPort with a *net.UDPAddr.
func (c *UDPConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return 0, c.opError("write", netip.AddrPort{}, syscall.EINVAL)
	}
	return c.WriteToUDPAddrPort(p, addr.AddrPort())
}

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (c *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, c.opError("write", netip.AddrPort{}, syscall.EINVAL)
	}
	return c.WriteToUDP(p, a)
}

// Write implements net.Conn: it sends p as one datagram to the peer of
// a connected socket (syscall.EDESTADDRREQ on an unconnected one).
func (c *UDPConn) Write(p []byte) (int, error) {
	if !c.remote.IsValid() {
		return 0, c.opError("write", netip.AddrPort{}, syscall.EDESTADDRREQ)
	}
	return c.write(p, c.remote)
}

// Close implements net.Conn and net.PacketConn: the socket leaves the
// stack, queued datagrams are discarded and blocked reads return
// net.ErrClosed.
func (c *UDPConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opError("close", netip.AddrPort{}, net.ErrClosed)
	}
	c.closed = true // from here every datagram for it is dropped
	c.mu.Unlock()
	// The port is free before a reader learns of the close: a datagram
	// sent after a blocked Read returned net.ErrClosed finds another
	// socket, or a new forwarded flow, rather than this one closing.
	c.flow.stop()
	c.s.udp.unbind(c)
	c.mu.Lock()
	for {
		d, ok := c.queue.pop()
		if !ok {
			break
		}
		link.Recycle(d.buf)
	}
	c.wake()
	c.mu.Unlock()
	return nil
}

// LocalAddr implements net.Conn and net.PacketConn.
func (c *UDPConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.local) }

// RemoteAddr implements net.Conn: the peer of a connected socket, nil
// for an unconnected one.
func (c *UDPConn) RemoteAddr() net.Addr {
	if !c.remote.IsValid() {
		return nil
	}
	return net.UDPAddrFromAddrPort(c.remote)
}

// SetReadBuffer bounds the receive queue to bytes: each datagram is
// charged its buffer's size plus a small overhead, and one that would
// pass the bound is dropped (Stats().UDP.ReceiveBufferDrops). An empty
// queue always takes one datagram.
func (c *UDPConn) SetReadBuffer(bytes int) error {
	if bytes < 0 {
		return c.opError("set", netip.AddrPort{}, syscall.EINVAL)
	}
	c.mu.Lock()
	c.queue.limit = bytes
	c.mu.Unlock()
	return nil
}

// SetWriteBuffer is accepted and has no effect: a datagram goes to the
// link when it is written, with no send queue in between.
func (c *UDPConn) SetWriteBuffer(bytes int) error { return nil }

var (
	_ net.PacketConn = (*UDPConn)(nil)
	_ net.Conn       = (*UDPConn)(nil)
)
