package tcp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Keepalive (RFC 1122 §4.2.3.6): after the idle time a probe with an old
// sequence number goes out every interval; an answer resets the count;
// Count unanswered probes end the connection with ErrTimedOut and a RST.
func TestKeepalive(t *testing.T) {
	c := reach(t, tcp.Established)
	if !c.Deadline().IsZero() {
		t.Fatal("a timer runs with keepalive off")
	}
	c.SetKeepalive(&tcp.Keepalive{Idle: 10 * time.Second, Interval: 2 * time.Second, Count: 2}, c.now)
	probe := ". 1000:1000(0) ack 5001"
	steps := []step{
		{call: "timer", wait: 10 * time.Second, out: []string{probe}},
		{call: "timer", wait: 2 * time.Second, out: []string{probe}},
		// The peer answers: the idle period starts again.
		{in: ". 5001:5001(0) ack 1001 win 65535"},
		{call: "timer", wait: 10 * time.Second, out: []string{probe}},
		{call: "timer", wait: 2 * time.Second, out: []string{probe}},
		{call: "timer", wait: 2 * time.Second, out: []string{"R. 1001:1001(0) ack 5001"}, states: []tcp.State{tcp.Closed}, events: tcp.EventTimedOut | tcp.EventClosed},
	}
	for _, s := range steps {
		c.do(s)
	}
	if !errors.Is(c.Err(), tcp.ErrTimedOut) {
		t.Errorf("error %v, want ErrTimedOut", c.Err())
	}
}

// Keepalive waits while data is outstanding (the retransmission timer
// watches the peer then), and stops when turned off.
func TestKeepaliveDefersToRetransmission(t *testing.T) {
	c := reach(t, tcp.Established)
	c.SetKeepalive(&tcp.Keepalive{Idle: 150 * time.Millisecond, Interval: time.Second, Count: 1}, c.now)
	c.do(step{call: "write 10", out: []string{"P. 1001:1011(10) ack 5001"}})
	c.do(step{call: "timer", wait: 150 * time.Millisecond})                                            // keepalive: data in flight, no probe
	c.do(step{call: "timer", wait: 50 * time.Millisecond, out: []string{"P. 1001:1011(10) ack 5001"}}) // the RTO, 200 ms
	c.do(step{call: "timer", wait: 100 * time.Millisecond})                                            // keepalive again: still no probe
	c.do(step{in: ". 5001:5001(0) ack 1011 win 65535"})
	c.SetKeepalive(nil, c.now)
	if !c.Deadline().IsZero() {
		t.Errorf("a timer runs at %v after keepalive was turned off", c.Deadline())
	}
	// Defaults fill zero fields.
	c.SetKeepalive(&tcp.Keepalive{}, c.now)
	if got := c.Deadline().Sub(c.now); got != tcp.DefaultKeepaliveIdle {
		t.Errorf("default idle %v", got)
	}
}

// An orphaned connection's FIN_WAIT_2 is bounded (Linux's
// tcp_fin_timeout): a peer that never sends its FIN cannot hold it; one
// the application still reads from (a half-close) waits on.
func TestFinWait2Timeout(t *testing.T) {
	c := reach(t, tcp.FinWait2)
	if !c.Deadline().IsZero() {
		t.Fatal("a half-closed connection has a deadline in FIN_WAIT_2")
	}
	c.Orphan(c.now)
	c.do(step{call: "timer", wait: tcp.DefaultFinWait2Timeout, states: []tcp.State{tcp.Closed}})
	if c.Err() != nil {
		t.Errorf("error %v, want none", c.Err())
	}
}
