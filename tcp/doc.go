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
// A connection that owes its peer anything — a SYN, data or a FIN
// unacknowledged, data unsent behind a zero window — always has a
// deadline, and each of its timers either gets an answer or gives up:
// once the peer falls silent, the connection is CLOSED within
// Config.LivenessBound unless it rests with nothing owed (RFC 9293 lets an
// idle connection wait forever). Zero-window probes count toward giving
// up like retransmissions: Retries unanswered ones, or OrphanRetries in
// all once the application has let go (Orphan); an orphan's
// retransmissions give up after OrphanRetries too.
//
// Segments are written in packetdrill's notation everywhere — tests,
// diagrams, errors: "S. 0:0(0) ack 1 win 65535 <mss 1460>". Segment.String
// and Format print it; ParseSegment reads it.
//
// Beyond RFC 9293's core the engine has the companions a modern stack
// runs: window scaling, timestamps and PAWS (RFC 7323), SACK and SACK
// loss recovery (RFC 2018, RFC 6675), RACK-TLP loss detection (RFC
// 8985; Config.NoRACK), NewReno, CUBIC and BBR congestion control (RFC
// 6582, RFC 9438, draft-ietf-ccwg-bbr; CongestionControl, NewBBR, chosen
// by name as Linux's TCP_CONGESTION: CongestionControlByName,
// Conn.SetCongestionControl), HyStart++ in NewReno's and CUBIC's initial
// slow start (RFC 9406; Config.NoHyStart), the undo of spurious
// timeouts and fast recoveries (RFC 3522, RFC 4015, RFC 3708;
// UndoableCongestionControl), delayed ACKs and Nagle, keepalive, receive
// buffer auto-tuning, path MTU discovery from ICMP and by probing (RFC
// 8201, RFC 4821), SYN cookies (CookieJar) and the RFC 5961 defences.
// The zero Config runs all of them, as Linux does by default, with
// Nagle's algorithm off as Go's net has it; each has an opt-out (NoSACK,
// NoTimestamps, NoRACK, ...), and PlainConfig is RFC 9293's plain
// connection without them.
//
// Linux's per-socket TCP options that change what is sent have an
// engine knob each (cork.go): SetCork and WriteMore (TCP_CORK,
// MSG_MORE), SetUserTimeout (TCP_USER_TIMEOUT, RFC 5482),
// SetFinWait2Timeout (TCP_LINGER2) and SetDeferAccept
// (TCP_DEFER_ACCEPT), with Linux's semantics where the RFCs leave room.
//
// A connection whose congestion control implements RateSampleConsumer
// estimates its delivery rate (draft-cheng-iccrg-delivery-rate-estimation):
// each ACK that delivers data gives the controller a RateSample, and
// Stats reports the latest rate; the bytes the loss detection deems lost
// are counted with them (RateSample.Lost), and a FlightObserver hears
// of each lost transmission. A controller that implements Pacer paces
// the connection at its rate (Config.Pacing paces any other from its
// window); the pacing time is part of Deadline. One that implements
// RecoveryOptOut keeps its window through fast recovery instead of
// PRR's. BBR (bbr.go) is all three.
//
// Received data is copied once, by Read: a driver that can give up the
// packet a segment arrived in sets Segment.Buffer, and the receive queue
// keeps the packet itself, handing it to Config.ReleaseBuffer once read.
// Data that arrives beyond a hole is kept the same way, as a list of the
// segments' packets (or of small blocks their bytes are copied into)
// for each piece: storing a segment costs what its own bytes cost,
// however much is held beyond the hole, and at most 256 separate pieces
// are held.
// Data sent is copied once, by Write, when segments are large: with
// Config.SendBuffer the send queue keeps each segment's payload after
// room for its headers, and offers it as Segment.Frame, for the driver
// to make the packet in place.
package tcp
