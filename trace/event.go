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
// trace knows the tcp package's public types (Segment, State, Timer) and
// nothing of the engine's internals.
package trace

import (
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
	// From and To are the states of a StateChanged event.
	From, To tcp.State
	// Timer is the timer of a TimerFired event.
	Timer tcp.Timer
	// Text is the call of an AppCall and the words of a Note.
	Text string
	// Peer names the other end of a segment event or the connection of a
	// state change, when recorded by a real stack rather than the
	// simulator (see Recorder).
	Peer string
}
