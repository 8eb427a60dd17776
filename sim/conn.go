package sim

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// Conn is an application's handle on one simulated connection. Every call
// is recorded in the trace, runs the engine at the network's current
// time, and sends what the engine produced.
type Conn struct {
	host          *Host
	tcp           *tcp.Conn
	local, remote netip.AddrPort
	deadline      time.Time // the engine deadline scheduled in the queue
	sawEOF        bool
}

func (c *Conn) call(text string) {
	c.host.net.record(trace.Event{Kind: trace.AppCall, Host: c.host.name, Text: text})
}

// Write queues p on the connection and returns how much fit.
func (c *Conn) Write(p []byte) (int, error) {
	c.call(fmt.Sprintf("write(%d)", len(p)))
	n, err := c.tcp.Write(p, c.host.net.now)
	c.host.flush(c)
	return n, err
}

// Read reads what has arrived; it returns io.EOF after the peer's FIN.
// Only reads that return data or EOF are recorded.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.tcp.Read(p, c.host.net.now)
	switch {
	case n > 0:
		c.call(fmt.Sprintf("read(%d)", n))
	case errors.Is(err, io.EOF) && !c.sawEOF:
		c.sawEOF = true
		c.call("read() = EOF")
	}
	c.host.flush(c)
	return n, err
}

// ReadAll reads everything buffered now.
func (c *Conn) ReadAll() []byte {
	var all []byte
	buf := make([]byte, 4096)
	for {
		n, _ := c.Read(buf)
		if n == 0 {
			return all
		}
		all = append(all, buf[:n]...)
	}
}

// Close closes the connection's sending side (the RFC's CLOSE).
func (c *Conn) Close() error {
	c.call("close()")
	err := c.tcp.Close(c.host.net.now)
	c.host.flush(c)
	return err
}

// CloseWrite half-closes the connection: it sends a FIN and keeps
// reading what the peer still sends, as shutdown(fd, SHUT_WR) does (and
// (*net.TCPConn).CloseWrite in Go). The engine's CLOSE is this very call
// (RFC 9293 §3.10.4); only what the trace records differs from Close.
func (c *Conn) CloseWrite() error {
	c.call("shutdown(SHUT_WR)")
	err := c.tcp.Close(c.host.net.now)
	c.host.flush(c)
	return err
}

// Abort resets the connection (the RFC's ABORT).
func (c *Conn) Abort() {
	c.call("abort()")
	c.tcp.Abort(c.host.net.now)
	c.host.flush(c)
}

// State returns the connection's state.
func (c *Conn) State() tcp.State { return c.tcp.State() }

// Err returns why the connection ended, if it did.
func (c *Conn) Err() error { return c.tcp.Err() }

// TCP returns the engine, for inspection.
func (c *Conn) TCP() *tcp.Conn { return c.tcp }

// Local returns the connection's local address and port.
func (c *Conn) Local() netip.AddrPort { return c.local }

// Remote returns the connection's remote address and port.
func (c *Conn) Remote() netip.AddrPort { return c.remote }

// Host returns the host the connection belongs to.
func (c *Conn) Host() *Host { return c.host }

// Stats returns the connection's counters (see tcp.Stats).
func (c *Conn) Stats() tcp.Stats { return c.tcp.Stats() }

// SetKeepalive turns keepalive probes on (or off with nil) for the
// connection, as tcp.Conn.SetKeepalive, at the network's current time.
func (c *Conn) SetKeepalive(k *tcp.Keepalive) {
	c.tcp.SetKeepalive(k, c.host.net.now)
	c.host.flush(c)
}
