// Package trace records what happens to TCP connections — every segment
// sent, delivered, dropped, duplicated or corrupted, every state change,
// every timer and application call — as a list of Events.
//
// The record is all there is here: sim appends to it as its network runs,
// and a real stack feeds a Recorder through stack.Options.Trace. What is
// done with a record lives in package trace/render, above this one: the
// sequence diagrams (text, SVG, HTML, Mermaid), the state machine, the
// explanations, and pcap files out and in. So the stack, which imports
// trace, links none of the drawing and narration code.
//
// A real stack's events name their connection by its 4-tuple
// (Event.Conn), and a host has many: SplitByConn cuts a trace into one
// per connection, each drawn on its own, and RecorderOptions make a
// Recorder keep only some connections and bound its memory.
//
// trace knows the tcp package's public types (Segment, State, Timer) and
// nothing of the engine's internals.
package trace

import (
	"net/netip"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Kind says what an Event records.
type Kind uint8

// The kinds of event.
const (
	// SegmentSent: Host handed Segment to the network.
	SegmentSent Kind = iota + 1
	// SegmentDelivered: the segment with ID arrived at Host.
	SegmentDelivered
	// SegmentDropped: the segment with ID was lost on its way to Host.
	SegmentDropped
	// SegmentDuplicated: the network made a copy of the segment with ID;
	// the copy has its own ID (Dup) and its own delivery events.
	SegmentDuplicated
	// SegmentCorrupted: the segment with ID arrived at Host damaged and
	// was discarded there (bad checksum).
	SegmentCorrupted
	// StateChanged: Host's connection went From → To.
	StateChanged
	// TimerFired: Host's Timer expired.
	TimerFired
	// AppCall: Host's application made a call (Text: "connect()",
	// "close()", "write(100)").
	AppCall
	// Note: free text about the run (Text), such as a fault that applied.
	Note
)

// Event is one entry of a trace.
type Event struct {
	// At is the time since the start of the run.
	At   time.Duration
	Kind Kind
	// Host is the name of the host the event happened at: the sender for
	// SegmentSent, the receiver for delivery, drop and corruption.
	Host string
	// ID identifies a segment across its Sent, Delivered, Dropped,
	// Duplicated and Corrupted events; Dup is the ID of a duplicate.
	ID, Dup int
	// Segment is the segment as sent (SegmentSent; copied into the other
	// segment events for convenience).
	Segment tcp.Segment
	// Packet is the IP packet as it crossed the network, when the
	// recorder keeps packets (for pcap output); nil otherwise.
	Packet []byte
	// From and To are the states of a StateChanged event. From == To
	// says only which state Host was in when the record began (a
	// capture that began mid-connection), and draws no transition.
	From, To tcp.State
	// Inferred marks a StateChanged event deduced from the segments of
	// a capture rather than reported by the host (render.InferStates).
	Inferred bool
	// Timer is the timer of a TimerFired event.
	Timer tcp.Timer
	// Text is the call of an AppCall, the words of a Note, and why an
	// inferred StateChanged is known ("capture began mid-connection").
	Text string
	// Peer names the other end of a segment event or the connection of a
	// state change, when recorded by a real stack rather than the
	// simulator (see Recorder).
	Peer string
	// Conn is the connection of an event a real stack recorded, Host's
	// end first (see Tuple); zero in the simulator, whose hosts have one
	// connection each.
	Conn Tuple
}

// Tuple is a TCP connection's 4-tuple as one end sees it: its own
// address and port, and its peer's.
type Tuple struct {
	Local, Remote netip.AddrPort
}

// IsValid reports whether t names a connection (both ends set).
func (t Tuple) IsValid() bool { return t.Local.IsValid() && t.Remote.IsValid() }

// Reverse returns the tuple as the other end sees it.
func (t Tuple) Reverse() Tuple { return Tuple{t.Remote, t.Local} }

// Same reports whether t and u name the same connection, seen from
// either end.
func (t Tuple) Same(u Tuple) bool { return t == u || t == u.Reverse() }

// String writes the tuple as tshark -z conv,tcp does:
// "192.0.2.1:40000 <-> 192.0.2.2:80".
func (t Tuple) String() string { return t.Local.String() + " <-> " + t.Remote.String() }
