package tcp

import "time"

// Conn is the control block of one TCP connection (RFC 9293 §3.3.1): the
// state, the send and receive sequence variables, the queues and the
// timers. It is a pure state machine: it is driven only by Input
// (a segment arrived), the application calls, and HandleTimer, each given
// the current time, and it never reads a clock, sleeps, locks or starts a
// goroutine. After each call the driver collects Outgoing segments, Events
// and the next Deadline.
//
// A Conn is not safe for concurrent use; its driver serializes calls.
//
// TODO(engine): everything below is the agreed API; the bodies are being
// written.
type Conn struct {
	cfg *Config
	iss Seq
}

// NewConn returns a control block in CLOSED that will use iss as its
// initial send sequence number when it opens (see ISNGenerator). cfg is
// shared, not copied; nil means all defaults.
func NewConn(cfg *Config, iss Seq) *Conn { panic("unimplemented") }

// SetObserver sets the observer told of this Conn's state changes and
// timer expiries; nil removes it.
func (c *Conn) SetObserver(o Observer) { panic("unimplemented") }

// Listen is the passive OPEN: CLOSED to LISTEN.
func (c *Conn) Listen() error { panic("unimplemented") }

// Connect is the active OPEN: CLOSED (or LISTEN) to SYN_SENT, queuing a
// SYN carrying our MSS.
func (c *Conn) Connect(now time.Time) error { panic("unimplemented") }

// Input processes one arriving segment (RFC 9293 §3.10.7).
func (c *Conn) Input(seg *Segment, now time.Time) { panic("unimplemented") }

// Write queues p for sending and returns how much of it fit in the send
// buffer.
func (c *Conn) Write(p []byte, now time.Time) (int, error) { panic("unimplemented") }

// Read copies received in-order data into p. It returns io.EOF once the
// peer's FIN has been reached and all data before it read.
func (c *Conn) Read(p []byte, now time.Time) (int, error) { panic("unimplemented") }

// Close is the RFC's CLOSE: no more data will be sent; a FIN follows the
// queued data.
func (c *Conn) Close(now time.Time) error { panic("unimplemented") }

// Abort is the RFC's ABORT: queue a RST (in synchronized states) and go
// to CLOSED.
func (c *Conn) Abort(now time.Time) { panic("unimplemented") }

// HandleTimer runs the timers whose deadline is at or before now.
func (c *Conn) HandleTimer(now time.Time) { panic("unimplemented") }

// Deadline returns when HandleTimer next needs to be called; the zero
// time means no timer is running.
func (c *Conn) Deadline() time.Time { panic("unimplemented") }

// Outgoing returns the segments queued for sending since the last call
// and clears the queue. The slice and the payloads it points to are valid
// until the next call into the Conn.
func (c *Conn) Outgoing() []Segment { panic("unimplemented") }

// Events returns the application events since the last call and clears
// them.
func (c *Conn) Events() Events { panic("unimplemented") }

// State returns the current state.
func (c *Conn) State() State { panic("unimplemented") }

// Err returns why the connection ended (ErrConnectionRefused,
// ErrConnectionReset, ErrTimedOut, ErrConnectionAborted), or nil.
func (c *Conn) Err() error { panic("unimplemented") }
