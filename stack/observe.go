package stack

import (
	"log/slog"
	"net/netip"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// StateChanged implements tcp.Observer: a connection's state change goes
// to the logger and the trace hook, when they are set.
func (c *Conn) StateChanged(_ *tcp.Conn, from, to tcp.State) {
	if l := c.s.opts.Logger; l != nil {
		l.Debug("tcp state", "local", c.local, "remote", c.remote, "from", from, "to", to)
	}
	if f := c.s.opts.Trace; f != nil {
		f(trace.Event{Kind: trace.StateChanged, Host: c.local.Addr().String(), Peer: c.remote.Addr().String(), Conn: trace.Tuple{Local: c.local, Remote: c.remote}, From: from, To: to})
	}
}

// TimerFired implements tcp.Observer.
func (c *Conn) TimerFired(_ *tcp.Conn, t tcp.Timer) {
	if l := c.s.opts.Logger; l != nil {
		l.Debug("tcp timer", "local", c.local, "remote", c.remote, "timer", t)
	}
	if f := c.s.opts.Trace; f != nil {
		f(trace.Event{Kind: trace.TimerFired, Host: c.local.Addr().String(), Peer: c.remote.Addr().String(), Conn: trace.Tuple{Local: c.local, Remote: c.remote}, Timer: t})
	}
}

// traceSegment gives the trace hook a segment sent (or, with delivered,
// received) between local and remote. Its payload is copied: the
// original is the connection's buffer.
func (s *Stack) traceSegment(kind trace.Kind, local, remote netip.AddrPort, seg *tcp.Segment) {
	e := trace.Event{Kind: kind, Host: local.Addr().String(), Peer: remote.Addr().String(), Conn: trace.Tuple{Local: local, Remote: remote}, Segment: *seg}
	e.Segment.Payload = append([]byte(nil), seg.Payload...)
	s.opts.Trace(e)
}

// logDrop says, with a logger, why a packet was dropped.
func (s *Stack) logDrop(reason string, err error) {
	if l := s.opts.Logger; l != nil {
		l.Debug("packet dropped", "reason", reason, slog.Any("err", err))
	}
}
