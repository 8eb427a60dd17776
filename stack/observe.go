package stack

import (
	"log/slog"
	"net/netip"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// observer is a connection seen as its engine's tcp.Observer: a type of
// its own, so that the Observer methods are the stack's plumbing, not
// methods of Conn its users could call.
type observer Conn

// observe makes c's engine report its state changes and timer expiries
// to the logger and the trace hook, if either is set.
func (c *Conn) observe() {
	if c.s.opts.Logger != nil || c.s.opts.Trace != nil {
		c.tcb.SetObserver((*observer)(c))
	}
}

// StateChanged implements tcp.Observer: a connection's state change goes
// to the logger and the trace hook, when they are set.
func (o *observer) StateChanged(_ *tcp.Conn, from, to tcp.State) {
	if l := o.s.opts.Logger; l != nil {
		l.Debug("tcp state", "local", o.local, "remote", o.remote, "from", from, "to", to)
	}
	if f := o.s.opts.Trace; f != nil {
		f(trace.Event{Kind: trace.StateChanged, Host: o.local.Addr().String(), Peer: o.remote.Addr().String(), Conn: trace.Tuple{Local: o.local, Remote: o.remote}, From: from, To: to})
	}
}

// TimerFired implements tcp.Observer.
func (o *observer) TimerFired(_ *tcp.Conn, t tcp.Timer) {
	if l := o.s.opts.Logger; l != nil {
		l.Debug("tcp timer", "local", o.local, "remote", o.remote, "timer", t)
	}
	if f := o.s.opts.Trace; f != nil {
		f(trace.Event{Kind: trace.TimerFired, Host: o.local.Addr().String(), Peer: o.remote.Addr().String(), Conn: trace.Tuple{Local: o.local, Remote: o.remote}, Timer: t})
	}
}

var _ tcp.Observer = (*observer)(nil)

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
