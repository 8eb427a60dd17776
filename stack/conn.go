package stack

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Conn is a TCP connection on a Stack. It implements net.Conn, plus
// CloseRead, CloseWrite and SetNoDelay as *net.TCPConn has them.
type Conn struct {
	s             *Stack
	local, remote netip.AddrPort
	nic           *nic        // where its packets go
	timer         *timerEntry // guarded by s.timers.mu

	sockSync  // mu guards what follows
	tcb       *tcp.Conn
	listener  *Listener // set until a passive connection is accepted
	origin    *Listener // the listener that made it, while it counts there
	closed    bool      // Close was called: local reads and writes fail with net.ErrClosed
	readShut  bool      // CloseRead was called
	lingerRST bool      // SetLinger(0): Close resets instead of closing
	tos       uint8     // SetTOS: the TOS or traffic class of its packets
	// timeWaiting: the connection reached TIME_WAIT and the stack keeps
	// a compact record of it instead; the engine gets no more input.
	timeWaiting bool
	batch       [][]byte // packets being handed to the link, reused
}

// newConn makes the connection for t, sending through n (the route to
// its peer, looked up once) with an MSS that fits n's MTU. s.mu is held.
func newConn(s *Stack, t tuple, n *nic, iss tcp.Seq) *Conn {
	c := &Conn{s: s, local: t.local, remote: t.remote, nic: n}
	c.tcb = tcp.NewConn(s.configFor(t.remote.Addr(), n), iss)
	c.observe()
	return c
}

// leftTable is called when c leaves the connection table: its listener
// counts one connection fewer. s.mu is held.
func (c *Conn) leftTable() {
	if l := c.origin; l != nil {
		c.origin = nil
		l.release()
	}
	if queued, ok := c.s.orphans[c]; ok {
		delete(c.s.orphans, c)
		c.s.orphanBytes -= queued
	}
}

// flush hands what the last engine call produced to the world: segments
// to the link, events to waiting goroutines and the listener, the next
// deadline to the timers. c.mu is held.
func (c *Conn) flush() {
	if segs := c.tcb.Outgoing(); len(segs) > 0 {
		c.batch = c.s.sendSegments(c.nic, c.local, c.remote, segs, c.batch, c.tos)
	}
	ev := c.tcb.Events()
	if ev == 0 {
		c.settle(0)
		return
	}
	c.wake()
	if c.listener != nil {
		switch {
		case ev&tcp.EventEstablished != 0:
			c.listener.established(c)
			c.listener = nil
		case c.tcb.State() == tcp.Listen || c.tcb.State() == tcp.Closed:
			c.listener.forget(c)
			c.listener = nil
		}
	}
	c.settle(ev)
}

// settle updates the connection table and the timers after an engine
// call: a closed connection leaves the table, one in TIME_WAIT is
// replaced by a compact record, any other keeps its deadline. c.mu is
// held.
func (c *Conn) settle(ev tcp.Events) {
	switch st := c.tcb.State(); {
	case ev&tcp.EventClosed != 0 || st == tcp.Listen:
		c.s.forget(c)
		c.s.timers.set(&c.timer, c, time.Time{})
	case st == tcp.TimeWait:
		if !c.timeWaiting {
			c.timeWaiting = true
			c.s.timers.set(&c.timer, c, time.Time{})
			c.s.enterTimeWait(c, c.tcb.TimeWaitRecord())
		}
	default:
		d := c.tcb.Deadline()
		c.s.timers.set(&c.timer, c, d)
		if d.IsZero() && c.tcb.Quiet() {
			// Nothing is pending and nothing queued: the connection is
			// idle, and gives back the memory it kept for speed.
			c.tcb.Compact()
			c.batch = nil
			c.s.timers.release(&c.timer)
		}
	}
}

func (c *Conn) handleTimer(now time.Time) {
	c.mu.Lock()
	c.tcb.HandleTimer(now)
	c.flush()
	c.mu.Unlock()
}

func (c *Conn) abort() {
	c.mu.Lock()
	c.tcb.Abort(time.Now())
	c.flush()
	c.mu.Unlock()
}

// Read implements net.Conn. It returns io.EOF after the peer's FIN.
func (c *Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return 0, c.opError("read", net.ErrClosed)
		case c.readShut:
			return 0, io.EOF
		case pastDeadline(c.rdl.time()):
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := c.tcb.Read(p, time.Now())
		c.flush()
		if n > 0 {
			return n, nil
		}
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, c.opError("read", err)
		}
		if err := c.wait(context.Background(), c.rdl.time()); err != nil {
			return 0, c.opError("read", err)
		}
	}
}

// Write implements net.Conn: it returns once all of p is queued, or with
// the error that stopped it.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := 0
	for {
		if c.closed {
			return written, c.opError("write", net.ErrClosed)
		}
		if pastDeadline(c.wdl.time()) {
			return written, c.opError("write", os.ErrDeadlineExceeded)
		}
		n, err := c.tcb.Write(p[written:], time.Now())
		c.flush()
		written += n
		if err != nil {
			return written, c.opError("write", err)
		}
		if written == len(p) {
			return written, nil
		}
		if err := c.wait(context.Background(), c.wdl.time()); err != nil {
			return written, c.opError("write", err)
		}
	}
}

// Close implements net.Conn: the connection closes gracefully (a FIN
// follows the queued data) and local calls fail with net.ErrClosed. If
// received data was left unread, the connection is reset instead, so
// that the peer learns it was lost (RFC 1122 §4.2.2.13), as Linux does.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("close", net.ErrClosed)
	}
	c.closed = true
	if c.lingerRST || c.tcb.Buffered() > 0 && !c.readShut {
		// SetLinger(0), or data received and never to be read: a RST
		// tells the peer it was lost (RFC 1122 §4.2.2.13), as Linux.
		c.tcb.Abort(time.Now())
	} else if s := c.tcb.State(); s == tcp.Established || s == tcp.CloseWait || s == tcp.SynReceived || s == tcp.SynSent {
		c.tcb.Close(time.Now())
	}
	c.tcb.Orphan(time.Now()) // no one will read: FIN_WAIT_2 and zero-window probing are bounded
	if st := c.tcb.State(); st != tcp.Closed && st != tcp.TimeWait && !c.s.adoptOrphan(c, c.tcb.Stats().SendQueue) {
		// Too many orphans, or too much memory held by them: reset
		// it now, as Linux's tcp_out_of_resources does.
		c.tcb.Abort(time.Now())
	}
	c.flush()
	c.wake() // blocked readers and writers see net.ErrClosed
	return nil
}

// CloseWrite shuts the sending side (half-close): a FIN is sent, and the
// connection can still read until the peer closes.
func (c *Conn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("close", net.ErrClosed)
	}
	err := c.tcb.Close(time.Now())
	c.flush()
	if err != nil {
		return c.opError("close", err)
	}
	return nil
}

// CloseRead shuts the receiving side: reads return io.EOF.
func (c *Conn) CloseRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readShut = true
	c.wake()
	return nil
}

// SetLinger with sec 0 makes Close abort the connection with a RST, as
// SO_LINGER {on, 0} does; any other value keeps the graceful close
// (Close never blocks: the FIN is sent in the background).
func (c *Conn) SetLinger(sec int) error {
	c.mu.Lock()
	c.lingerRST = sec == 0
	c.mu.Unlock()
	return nil
}

// SetKeepAlive turns keepalive probes on or off (RFC 1122 §4.2.3.6),
// as *net.TCPConn's does; turned on without a period, probes start after
// 15 s idle and repeat every 15 s, 9 times, as Go's net defaults.
func (c *Conn) SetKeepAlive(on bool) error {
	if !on {
		return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: false})
	}
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
}

// SetKeepAlivePeriod turns keepalive on with both the idle time and the
// interval between probes set to d, as *net.TCPConn's does.
func (c *Conn) SetKeepAlivePeriod(d time.Duration) error {
	return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: d})
}

// SetKeepAliveConfig configures keepalive as *net.TCPConn's does: zero
// fields take Go's defaults (15 s idle, 15 s interval, 9 probes).
func (c *Conn) SetKeepAliveConfig(cfg net.KeepAliveConfig) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	if !cfg.Enable {
		c.tcb.SetKeepalive(nil, time.Now())
	} else {
		positive := func(d time.Duration) time.Duration {
			if d <= 0 {
				return 15 * time.Second
			}
			return d
		}
		count := cfg.Count
		if count <= 0 {
			count = 9
		}
		c.tcb.SetKeepalive(&tcp.Keepalive{Idle: positive(cfg.Idle), Interval: positive(cfg.Interval), Count: count}, time.Now())
	}
	c.flush()
	return nil
}

// SetReadBuffer sets the receive buffer size, as SO_RCVBUF does. The
// window it allows is capped by the window scale the handshake fixed.
func (c *Conn) SetReadBuffer(bytes int) error { return c.setBuffers(bytes, 0) }

// SetWriteBuffer sets the send buffer size, as SO_SNDBUF does: Write
// blocks while that many bytes are unacknowledged.
func (c *Conn) SetWriteBuffer(bytes int) error { return c.setBuffers(0, bytes) }

func (c *Conn) setBuffers(receive, send int) error {
	if receive < 0 || send < 0 {
		return c.opError("set", syscall.EINVAL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tcb.SetBufferSizes(receive, send)
	c.flush()
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true, the default for
// connections, as in package net, unless tcp.Config.Nagle is set) or on
// (false): with it on, a segment shorter than the MSS waits while earlier
// data is unacknowledged.
func (c *Conn) SetNoDelay(noDelay bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	c.tcb.SetNoDelay(noDelay, time.Now())
	c.flush()
	return nil
}

// SetCongestionControl switches the connection to the congestion
// control registered as name ("reno", "cubic", "bbr":
// tcp.CongestionControlNames), as setsockopt(TCP_CONGESTION) does on
// Linux, before or after it connects; tcp.Conn.SetCongestionControl says
// what carries over. An unknown name gets a *net.OpError wrapping
// tcp.ErrUnknownCongestionControl (Linux's ENOENT).
func (c *Conn) SetCongestionControl(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.opError("set", net.ErrClosed)
	}
	if err := c.tcb.SetCongestionControl(name, time.Now()); err != nil {
		return c.opError("set", err)
	}
	c.flush()
	return nil
}

// CongestionControl returns the name of the connection's congestion
// control, as getsockopt(TCP_CONGESTION) does on Linux: "cubic" unless
// tcp.Config.CongestionControl or SetCongestionControl chose another,
// "" for a controller of the program's own.
func (c *Conn) CongestionControl() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tcb.CongestionControlName()
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.local) }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.remote) }

// deadline is a read or write deadline as Unix nanoseconds, 0 for none:
// eight bytes where a time.Time takes twenty-four, in every connection.
// Deadlines are wall-clock times (net.Conn), so nothing is lost.
type deadline int64

func deadlineAt(t time.Time) deadline {
	switch {
	case t.IsZero():
		return 0
	case t.After(lastDeadline):
		return math.MaxInt64 // beyond what int64 nanoseconds reach (year 2262)
	case t.Before(firstDeadline):
		return 1 // long past
	}
	return deadline(t.UnixNano())
}

var (
	firstDeadline = time.Unix(0, 1)
	lastDeadline  = time.Unix(0, math.MaxInt64)
)

func (d deadline) time() time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(d))
}

// pastDeadline reports whether the deadline d is set and has passed: as
// with the net package, a call then fails at once even if it could have
// made progress.
func pastDeadline(d time.Time) bool { return !d.IsZero() && !time.Now().Before(d) }

// State returns the connection's TCP state.
func (c *Conn) State() tcp.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tcb.State()
}

// Stats returns the connection's counters, as `ss -ti` shows them.
func (c *Conn) Stats() tcp.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tcb.Stats()
}

// opError wraps err as the standard library does, mapping the engine's
// errors to the syscall errors Go programs test for.
func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errnoFor(err)}
}

var errAddrInUse = syscall.EADDRINUSE

// errnoFor maps engine errors to the errnos net's users check with
// errors.Is.
func errnoFor(err error) error {
	switch {
	case errors.Is(err, tcp.ErrConnectionRefused):
		return syscall.ECONNREFUSED
	case errors.Is(err, tcp.ErrConnectionReset):
		return syscall.ECONNRESET
	case errors.Is(err, tcp.ErrTimedOut):
		return syscall.ETIMEDOUT
	case errors.Is(err, tcp.ErrConnectionAborted):
		return syscall.ECONNABORTED
	case errors.Is(err, tcp.ErrClosing):
		return syscall.EPIPE
	case errors.Is(err, tcp.ErrNotConnected):
		return syscall.ENOTCONN
	}
	return err
}

var _ net.Conn = (*Conn)(nil)
