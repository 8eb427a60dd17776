// Package render turns a trace — the events package trace records from a
// simulated network or a real stack — into what people read, and reads
// captures back into traces.
//
// The drawings show one connection the way textbooks do: two columns, the
// client's and the server's, arrows for segments labelled in packetdrill
// notation ("S. 0:0(0) ack 1 <mss 1460>"), the state each side enters,
// the timers that fire, the segments lost on the way.
//
//   - Text draws for a terminal (Unicode or ASCII, with or without colour).
//   - SVG draws for a browser or a document; Mermaid writes the same as a
//     Mermaid sequence diagram; HTML is a self-contained page with the SVG
//     drawing, the state machine, a table of the segments and the
//     explanations.
//   - StateMachine draws the RFC 9293 state diagram with the states and
//     transitions each host went through drawn heavy.
//   - Explain says, for each notable event, why it happened, in English or
//     Chinese; Segments lists the segments as the drawings label them.
//   - Pcap writes the run's packets as a capture Wireshark opens;
//     ReadCapture reads a capture, pcap or pcapng (tcpdump's, Wireshark's
//     or Pcap's), record by record back into one trace per TCP
//     connection, keeping the packets of the connections asked for, with
//     the states InferStates deduces from the segments, for the
//     renderers to draw.
//
// SVG, Mermaid, HTML, StateMachine, Explain and Segments share one walk
// over the events (the unexported diagram type: who is on which side,
// what became of each segment); Text keeps a walk of its own but the
// same labels, so a segment reads the same in every format. All draw one
// connection between two hosts: events that name a third host give
// ErrTooManyHosts, and a real stack's events of several connections give
// ErrManyConnections (trace.SplitByConn gives each its own trace).
//
// The package is named for what it does to a trace and sits below it in
// the tree (trace/render), so that package trace holds the record alone
// and the stack, which records, does not link the renderers.
package render
