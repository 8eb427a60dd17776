package stack

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Dial connects to address ("ip:port") on network "tcp", "tcp4" or
// "tcp6"; on "udp", "udp4" or "udp6" it returns a connected *UDPConn.
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext connects to address, giving up when ctx is done. Errors are
// *net.OpError wrapping syscall.ECONNREFUSED, syscall.ETIMEDOUT,
// context.Canceled, ... as net.Dial's are.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if isUDPNetwork(network) {
		c, err := s.dialUDP(ctx, network, address)
		if err != nil {
			return nil, err // not a nil *UDPConn in a non-nil net.Conn
		}
		return c, nil
	}
	remote, err := parseAddr(network, address, false)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	opErr := func(local netip.AddrPort, err error) error {
		e := &net.OpError{Op: "dial", Net: network, Addr: net.TCPAddrFromAddrPort(remote), Err: errnoFor(err)}
		if local.IsValid() {
			e.Source = net.TCPAddrFromAddrPort(local)
		}
		return e
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, opErr(netip.AddrPort{}, net.ErrClosed)
	}
	n, src, err := s.routeLocked(remote.Addr())
	if err != nil {
		s.mu.Unlock()
		return nil, opErr(netip.AddrPort{}, err)
	}
	if s.atConnectionLimit() {
		s.mu.Unlock()
		s.stats.ConnectionLimitDrops.Add(1)
		return nil, opErr(netip.AddrPort{}, syscall.EAGAIN)
	}
	port, err := s.ephemeralPort(src, remote)
	if err != nil {
		s.mu.Unlock()
		return nil, opErr(netip.AddrPort{}, err)
	}
	t := tuple{netip.AddrPortFrom(src, port), remote}
	c := newConn(s, t, n, s.isn.ISN(t.local, t.remote, time.Now()))
	// c is locked before it is in the table, where Close may find it:
	// no one else can hold its lock yet, so the lock order (c.mu before
	// s.mu) is kept, and Close's abort comes after the SYN, not before.
	c.mu.Lock()
	defer c.mu.Unlock()
	s.conns[t.key()] = c
	s.mu.Unlock()

	c.tcb.Connect(time.Now())
	c.flush()
	for {
		switch st := c.tcb.State(); {
		case st.Synchronized():
			return c, nil
		case st == tcp.Closed:
			return nil, opErr(t.local, s.closedOr(c.tcb.Err()))
		}
		if err := c.wait(ctx, time.Time{}); err != nil {
			c.tcb.Abort(time.Now())
			c.flush()
			return nil, opErr(t.local, err)
		}
	}
}

// closedOr returns net.ErrClosed if the stack is closed (what ended a
// call that was waiting), err otherwise.
func (s *Stack) closedOr(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	return err
}
