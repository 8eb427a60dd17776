package render

import (
	"strings"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// MidConnection is the Text of the inferred StateChanged events that
// start a capture which began after the connection's handshake.
const MidConnection = "capture began mid-connection"

// InferStates returns the events of one captured connection between
// first (the end that sent the SYN, if the capture holds it) and second
// with StateChanged events added, marked Inferred, for the states the
// segments imply (RFC 9293 §3.3.2, §3.10.7): a SYN puts its sender in
// SYN_SENT and its receiver in SYN_RCVD; a SYN+ACK puts its receiver in
// ESTABLISHED and the ACK of it the other side; a FIN puts its sender in
// FIN_WAIT_1 (or LAST_ACK after the peer's FIN) and its receiver in
// CLOSE_WAIT (or CLOSING, or TIME_WAIT once its own FIN is
// acknowledged); the ACK of a FIN moves FIN_WAIT_1 to FIN_WAIT_2,
// CLOSING to TIME_WAIT and LAST_ACK to CLOSED; a RST closes both. A
// host's changes on sending a segment come before it, those on receiving
// it after. Nothing on the wire ends TIME_WAIT, so a diagram ends in it.
//
// A connection whose first segment is not a SYN was captured after its
// handshake: both ends start in ESTABLISHED, which a StateChanged event
// from ESTABLISHED to ESTABLISHED with Text MidConnection says, at the
// first segment. A segment's events are expected as ReadCapture makes
// them: a SegmentSent and then its SegmentDelivered.
func InferStates(events []trace.Event, first, second string) []trace.Event {
	out := make([]trace.Event, 0, len(events)+12)
	x := inference{hosts: [2]string{first, second}}
	for i := 0; i < len(events); i++ {
		e := events[i]
		s, r := x.side(e.Host)
		if e.Kind != trace.SegmentSent || s < 0 {
			out = append(out, e)
			continue
		}
		if !x.started {
			x.start(&out, e, s)
		}
		x.reply, x.replied = nextSent(events[i+1:], x.hosts[r])
		x.sending(&out, e, s, r)
		out = append(out, e)
		if i+1 < len(events) && events[i+1].Kind == trace.SegmentDelivered && events[i+1].ID == e.ID {
			out = append(out, events[i+1])
			i++
		}
		x.receiving(&out, e, s, r)
	}
	return x.settle(out)
}

// settle adds, for an end whose state never changed, an event that
// says which state it was inferred to be in (a refused SYN's receiver
// stays CLOSED), so that the drawings mark that one inferred too.
func (x *inference) settle(out []trace.Event) []trace.Event {
	for i, h := range x.hosts {
		first := -1
		for j, e := range out {
			if e.Kind == trace.StateChanged && e.Host == h {
				first = -2
				break
			}
			if first == -1 && e.Kind == trace.SegmentSent {
				first = j
			}
		}
		if first < 0 {
			continue
		}
		e := out[first]
		start := trace.Event{At: e.At, Kind: trace.StateChanged, Host: h, Peer: x.hosts[1-i], Conn: x.conn(e, i),
			From: x.state[i], To: x.state[i], Inferred: true} // it never changed
		out = append(out[:first], append([]trace.Event{start}, out[first:]...)...)
	}
	return out
}

// crossingSYN reports whether the receiver of a SYN answers it with a
// SYN of its own, without ACK: the two SYNs crossed.
func (x *inference) crossingSYN() bool {
	return x.replied && x.reply.Flags.Has(wire.FlagSYN) && !x.reply.Flags.Has(wire.FlagACK)
}

// nextSent returns the next segment host sends in events, if any.
func nextSent(events []trace.Event, host string) (tcp.Segment, bool) {
	for _, e := range events {
		if e.Kind == trace.SegmentSent && e.Host == host {
			return e.Segment, true
		}
	}
	return tcp.Segment{}, false
}

// inference follows both ends' states through a capture.
type inference struct {
	hosts   [2]string
	state   [2]tcp.State
	started bool
	reply   tcp.Segment // the next segment the receiver of the segment at hand sends
	replied bool        // if there is one
	iss     [2]tcp.Seq  // the sequence number of the end's latest SYN
	passive [2]bool     // the end came to SYN_RCVD from LISTEN
	fin     [2]bool     // the end has sent a FIN
	finEnd  [2]tcp.Seq  // the sequence number after it
	finAckd [2]bool     // and the other end has acknowledged it
}

// side returns the indices of the sender h and of the other end, or -1.
func (x *inference) side(h string) (int, int) {
	switch h {
	case x.hosts[0]:
		return 0, 1
	case x.hosts[1]:
		return 1, 0
	}
	return -1, -1
}

// start sets the states before the first segment e, sent by s.
func (x *inference) start(out *[]trace.Event, e trace.Event, s int) {
	x.started = true
	f := e.Segment.Flags
	if f.Has(wire.FlagSYN) && !f.Has(wire.FlagACK) {
		// The receiver of the SYN listens, unless it refuses it.
		x.state[s], x.state[1-s] = tcp.Closed, tcp.Closed
		return
	}
	x.state = [2]tcp.State{tcp.Established, tcp.Established}
	for i, h := range x.hosts {
		*out = append(*out, trace.Event{At: e.At, Kind: trace.StateChanged, Host: h, Peer: x.hosts[1-i], Conn: x.conn(e, i),
			From: tcp.Established, To: tcp.Established, Inferred: true, Text: MidConnection})
	}
}

// to moves end i to state st, recording the change.
func (x *inference) to(out *[]trace.Event, e trace.Event, i int, st tcp.State) {
	if x.state[i] == st {
		return
	}
	*out = append(*out, trace.Event{At: e.At, Kind: trace.StateChanged, Host: x.hosts[i], Peer: x.hosts[1-i], Conn: x.conn(e, i),
		From: x.state[i], To: st, Inferred: true})
	x.state[i] = st
}

// conn returns the connection of segment event e as end i sees it.
func (x *inference) conn(e trace.Event, i int) trace.Tuple {
	if e.Host == x.hosts[i] {
		return e.Conn
	}
	return e.Conn.Reverse()
}

// sending applies what sending e says of its sender s.
func (x *inference) sending(out *[]trace.Event, e trace.Event, s, r int) {
	seg := &e.Segment
	f := seg.Flags
	if f.Has(wire.FlagSYN) {
		x.iss[s] = seg.Seq
	}
	switch {
	case f.Has(wire.FlagRST):
		// In SYN_SENT a RST answers an unacceptable SYN+ACK and leaves
		// the state as it was (RFC 9293 §3.10.7.3); elsewhere the end
		// has no connection, or aborts it.
		if x.state[s] != tcp.SynSent {
			x.to(out, e, s, tcp.Closed)
		}
	case f.Has(wire.FlagSYN) && !f.Has(wire.FlagACK):
		if x.state[s] == tcp.Closed || x.state[s] == tcp.TimeWait || x.state[s] == tcp.Listen {
			// A new connection, maybe reusing the four-tuple.
			x.fin, x.finAckd = [2]bool{}, [2]bool{}
			refused := x.replied && x.reply.Flags.Has(wire.FlagRST)
			if x.state[r] == tcp.Closed && !refused && !x.crossingSYN() {
				x.state[r] = tcp.Listen // not a transition: the listener was there
			}
			x.to(out, e, s, tcp.SynSent)
		}
	case f.Has(wire.FlagSYN): // SYN+ACK
		if x.state[s] == tcp.SynSent || x.state[s] == tcp.Listen {
			x.to(out, e, s, tcp.SynReceived)
		}
	}
	if f.Has(wire.FlagFIN) && !f.Has(wire.FlagRST) {
		if !x.fin[s] {
			x.fin[s], x.finEnd[s] = true, seg.End()
		}
		switch x.state[s] {
		case tcp.Established, tcp.SynReceived:
			x.to(out, e, s, tcp.FinWait1)
		case tcp.CloseWait:
			x.to(out, e, s, tcp.LastAck)
		}
	}
}

// receiving applies what receiving e does to its receiver r: the ACK
// field first, then the FIN bit (RFC 9293 §3.10.7.4).
func (x *inference) receiving(out *[]trace.Event, e trace.Event, s, r int) {
	seg := &e.Segment
	f := seg.Flags
	if f.Has(wire.FlagRST) {
		switch {
		case x.state[r] == tcp.Listen:
		case x.state[r] == tcp.SynReceived && x.passive[r]:
			x.to(out, e, r, tcp.Listen) // RFC 9293 §3.10.7.4
		default:
			x.to(out, e, r, tcp.Closed)
		}
		return
	}
	switch {
	case f.Has(wire.FlagSYN) && !f.Has(wire.FlagACK):
		if x.state[r] == tcp.Closed && x.crossingSYN() {
			x.to(out, e, r, tcp.SynSent) // simultaneous open (RFC 9293 Figure 7)
		}
		if x.state[r] == tcp.Listen || x.state[r] == tcp.SynSent || x.state[r] == tcp.TimeWait {
			x.passive[r] = x.state[r] == tcp.Listen
			x.to(out, e, r, tcp.SynReceived)
		}
		return
	case f.Has(wire.FlagSYN): // SYN+ACK
		// Accepted if it acknowledges the SYN; answered by a RST if not
		// (an old duplicate's, RFC 9293 §3.5).
		acceptable := seg.Ack == x.iss[r].Add(1) && !(x.replied && x.reply.Flags.Has(wire.FlagRST))
		if x.state[r] == tcp.SynSent && acceptable {
			x.to(out, e, r, tcp.Established)
		}
		return
	}
	if f.Has(wire.FlagACK) {
		if x.state[r] == tcp.SynReceived {
			x.to(out, e, r, tcp.Established)
		}
		if x.fin[r] && !x.finAckd[r] && seg.Ack.GreaterThanEq(x.finEnd[r]) {
			x.finAckd[r] = true
			switch x.state[r] {
			case tcp.FinWait1:
				x.to(out, e, r, tcp.FinWait2)
			case tcp.Closing:
				x.to(out, e, r, tcp.TimeWait)
			case tcp.LastAck:
				x.to(out, e, r, tcp.Closed)
			}
		}
	}
	if f.Has(wire.FlagFIN) {
		switch x.state[r] {
		case tcp.Established, tcp.SynReceived:
			if x.replied && x.reply.Flags.Has(wire.FlagFIN) && x.reply.Ack.LessThan(seg.End()) {
				// The receiver's FIN does not acknowledge this one: the
				// two crossed, a simultaneous close (RFC 9293 Figure 13).
				x.to(out, e, r, tcp.FinWait1)
				x.to(out, e, r, tcp.Closing)
				break
			}
			x.to(out, e, r, tcp.CloseWait)
		case tcp.FinWait1:
			x.to(out, e, r, tcp.Closing)
		case tcp.FinWait2:
			x.to(out, e, r, tcp.TimeWait)
		}
	}
}

// stateName names state s of a StateChanged event e as the diagrams
// write it: an inferred state is marked so, and the state a capture
// began in says why.
func stateName(e trace.Event, s tcp.State) string {
	switch {
	case !e.Inferred:
		return s.String()
	case e.Text != "":
		return s.String() + " (" + e.Text + ")"
	}
	return s.String() + " (inferred)"
}

// bareState returns the state of a name stateName made.
func bareState(name string) string {
	name, _, _ = strings.Cut(name, " (")
	return name
}

// startsOnly reports whether e only says which state a host was in
// when the record began (From == To), which draws no transition.
func startsOnly(e trace.Event) bool {
	return e.Kind == trace.StateChanged && e.From == e.To
}
