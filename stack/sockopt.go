package stack

import (
	"net"
	"syscall"
	"time"
)

// sockopt.go: the socket options of Linux's TCP that have no method in
// package net, under the names golang.org/x/net/ipv4 gives them where it
// has one (SetTOS, TOS).

// SetTOS sets the TOS byte of the connection's IPv4 packets (RFC 791
// §3.1; its six DSCP bits, RFC 2474), or the traffic class of its IPv6
// ones (RFC 8200 §7), as IP_TOS and IPV6_TCLASS do and as
// x/net/ipv4's Conn.SetTOS is called. The two ECN bits are TCP's to set
// (RFC 3168 §6.1.1) and are dropped, as Linux drops them from a stream
// socket's TOS; seqack sends no ECN-capable packets. Packets already
// sent keep theirs; a SYN+ACK a listener sends has none.
func (c *Conn) SetTOS(tos int) error {
	if tos < 0 || tos > 0xff {
		return c.opError("set", syscall.EINVAL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tos = uint8(tos) &^ 0x03
	return nil
}

// TOS returns the TOS byte (or IPv6 traffic class) SetTOS set.
func (c *Conn) TOS() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, c.opError("get", net.ErrClosed)
	}
	return int(c.tos), nil
}

// SetUserTimeout sets TCP's user timeout (RFC 5482, Linux's
// TCP_USER_TIMEOUT): once data written has stayed unacknowledged for d,
// counted from its first retransmission, the connection is abandoned and
// Read and Write fail with ETIMEDOUT, however many retransmissions
// tcp.Config.Retries would still allow. Zero turns it off.
func (c *Conn) SetUserTimeout(d time.Duration) error {
	if d < 0 {
		return c.opError("set", syscall.EINVAL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tcb.SetUserTimeout(d)
	return nil
}

// SetCork corks (true) or uncorks the connection, as Linux's TCP_CORK:
// while corked, data short of a full segment waits, so that several
// writes leave in full segments; uncorking, Close, or an RTO with
// nothing in flight sends what waits.
func (c *Conn) SetCork(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tcb.SetCork(on, time.Now())
	c.flush()
	return nil
}

// SetFinWait2Timeout sets how long the connection, once closed, waits in
// FIN_WAIT_2 for the peer's FIN (Linux's TCP_LINGER2; the default is
// tcp.Config.FinWait2Timeout, 60 s); negative, it does not wait but
// resets the connection when the peer acknowledges its FIN. It must be
// set before Close.
func (c *Conn) SetFinWait2Timeout(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tcb.SetFinWait2Timeout(d)
	return nil
}

// SetDeferAccept makes the listener wait for data, as Linux's
// TCP_DEFER_ACCEPT does: the ACK completing a handshake is dropped when
// it carries no data, so Accept returns a connection only once the
// client has sent something (or its ACK of the SYN+ACK resent at the
// end of d, the client's last chance; see tcp.Conn.SetDeferAccept).
// It applies to the handshakes that start after it; 0 turns it off. A
// connection completed by a SYN cookie (the SYN queue overflowed) is not
// deferred.
func (l *Listener) SetDeferAccept(d time.Duration) {
	l.mu.Lock()
	l.deferAccept = max(d, 0)
	l.mu.Unlock()
}
