package stack

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Dial connects to address ("host:port") on network "tcp", "tcp4" or
// "tcp6"; on "udp", "udp4" or "udp6" it returns a connected *UDPConn;
// on "ping", "ping4" or "ping6" (address a host alone) a connected
// *PingConn. The host is an IP address, or a name looked up with the
// stack's Resolver if it was given DNS servers (Options.DNSServers;
// without them a name fails with ErrNoDNSServers).
func (s *Stack) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

// DialContext connects to address, giving up when ctx is done. A host
// name's addresses are tried one after the other, those the stack has a
// route to first and IPv6 before IPv4 (RFC 6724 §2.1), each given a
// share of ctx's time as net.Dialer does; there is no Happy Eyeballs
// (RFC 8305), and the first error is returned if none answers. Errors are
// *net.OpError wrapping syscall.ECONNREFUSED, syscall.ETIMEDOUT,
// syscall.ENETUNREACH (no route), ... as net.Dial's are; when ctx's
// deadline passes, the error is package net's "i/o timeout", a net.Error
// whose Timeout is true, which errors.Is finds to be
// context.DeadlineExceeded (and os.ErrDeadlineExceeded); when ctx is
// canceled, "operation was canceled", which is context.Canceled.
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if host, port, ok := hostName(network, address); ok {
		return s.dialName(ctx, network, host, port)
	}
	if isPingNetwork(network) {
		c, err := s.dialPing(ctx, network, address)
		if err != nil {
			return nil, err // not a nil *PingConn in a non-nil net.Conn
		}
		return c, nil
	}
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
			return nil, opErr(t.local, contextError(err))
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

// contextError maps a context's error to the one package net returns for
// it (net's mapErr), so that messages and net.Error's Timeout agree with
// net.Dialer's.
func contextError(err error) error {
	switch err {
	case context.DeadlineExceeded:
		return timeoutError{}
	case context.Canceled:
		return canceledError{}
	}
	return err
}

// timeoutError is package net's "i/o timeout" for a dial whose context
// expired.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Is makes the error context.DeadlineExceeded, as package net's is, and
// os.ErrDeadlineExceeded, as a deadline's on a net.Conn is.
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// canceledError is package net's "operation was canceled".
type canceledError struct{}

func (canceledError) Error() string        { return "operation was canceled" }
func (canceledError) Is(target error) bool { return target == context.Canceled }
