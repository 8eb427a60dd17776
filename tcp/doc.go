// Package tcp is seqack's TCP engine: one control block (Conn) per
// connection, implementing the RFC 9293 state machine with sequence
// arithmetic modulo 2^32 (Seq), the handshake (active, passive and
// simultaneous open), reliable in-order data with an RFC 6298
// retransmission timer, the close in all its forms, TIME_WAIT, and resets
// with the RFC 5961 defences.
//
// The engine is sans-IO. It never reads a clock, sleeps, locks or starts
// a goroutine; whoever drives it — the stack, the simulator, a test —
// hands it the current time with every call:
//
//	c := tcp.NewConn(&cfg, iss)     // CLOSED; iss from an ISNGenerator
//	c.Connect(now)                  // or c.Listen()
//	for _, seg := range c.Outgoing() { send(seg) }
//	...
//	c.Input(&seg, now)              // a segment arrived
//	ev := c.Events()                // established, readable, peer closed, ...
//	n, err := c.Read(buf, now)      // io.EOF after the peer's FIN
//	c.Write(data, now); c.Close(now)
//	if d := c.Deadline(); !d.IsZero() { /* call c.HandleTimer(d) then */ }
//
// After every call the driver takes Outgoing segments, Events and the new
// Deadline. An Observer sees every state change and timer expiry, which
// is how the simulator draws its diagrams.
//
// Segments are written in packetdrill's notation everywhere — tests,
// diagrams, errors: "S. 0:0(0) ack 1 win 65535 <mss 1460>". Segment.String
// and Format print it; ParseSegment reads it.
//
// Not yet here (later work): window scaling, timestamps and PAWS, SACK,
// congestion control, delayed ACKs, Nagle, keepalive, path MTU discovery.
// The engine acknowledges every data segment at once and sends as much as
// the peer's window allows.
package tcp
