package tcp

import "errors"

// Events is a set of things that happened to a connection that its
// application may want to act on. Conn.Events returns and clears them.
type Events uint16

// The application events a Conn reports.
const (
	// EventEstablished: the handshake completed (SYN_SENT or SYN_RCVD to
	// ESTABLISHED).
	EventEstablished Events = 1 << iota
	// EventReadable: new data can be read, or the peer's FIN was reached.
	EventReadable
	// EventWritable: send buffer space was freed.
	EventWritable
	// EventPeerClosed: the peer's FIN arrived in order; after the queued
	// data, Read returns io.EOF. The application may keep writing
	// (half-close) until it calls Close.
	EventPeerClosed
	// EventReset: the connection was reset by the peer (or refused); Err
	// tells which.
	EventReset
	// EventTimedOut: retransmissions or the handshake gave up; Err returns
	// ErrTimedOut.
	EventTimedOut
	// EventClosed: the control block reached CLOSED and may be discarded.
	EventClosed
)

// Timer names one of a connection's timers, as reported to an Observer.
type Timer uint8

// The timers a Conn runs.
const (
	TimerRetransmit Timer = iota + 1 // RFC 6298 retransmission timer (SYN, SYN+ACK, data, FIN)
	TimerTimeWait                    // 2×MSL in TIME_WAIT (RFC 9293 §3.4.2)
	TimerPersist                     // zero-window probe (RFC 9293 §3.8.6.1)
	TimerKeepalive                   // RFC 1122 §4.2.3.6
	TimerDelayedAck                  // RFC 1122 §4.2.3.2
	TimerFinWait2                    // an orphaned connection's wait in FIN_WAIT_2 (Linux's tcp_fin_timeout)
	TimerReorder                     // RACK's reordering timer (RFC 8985 §6.2 step 5)
	TimerLossProbe                   // TLP's probe timeout, PTO (RFC 8985 §7.2)
)

// Errors a connection ends with (Conn.Err) or a call returns. The stack
// maps them to the syscall errors a Go programmer checks for.
var (
	ErrConnectionRefused = errors.New("tcp: connection refused")
	ErrConnectionReset   = errors.New("tcp: connection reset by peer")
	ErrTimedOut          = errors.New("tcp: connection timed out")
	ErrConnectionAborted = errors.New("tcp: connection aborted")
	ErrClosing           = errors.New("tcp: connection closing")
	ErrNotConnected      = errors.New("tcp: not connected")
	ErrInvalidState      = errors.New("tcp: call not valid in this state")
)

// Observer is told of every state change and every timer expiry of the
// Conns it is set on. The simulator and the tracer use it. Its methods are
// called synchronously from inside the Conn's methods and must not call
// back into the Conn.
type Observer interface {
	StateChanged(c *Conn, from, to State)
	TimerFired(c *Conn, t Timer)
}
