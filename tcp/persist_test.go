package tcp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Tests for a peer's zero window (RFC 9293 §3.8.6.1, RFC 1122
// §4.2.2.17): the sender keeps probing it, whatever was in flight when it
// closed, and gives up on a peer that stops answering, or that holds an
// orphaned connection behind it for too long.

// openMSS1000 returns a connection with MSS 1000 in ESTABLISHED, its
// peer's window 65535, with cfg's other settings.
func openMSS1000(t *testing.T, cfg tcp.Config) *testConn {
	t.Helper()
	cfg.MSS, cfg.DelayedAck = 1000, -1
	c := newTestConn(t, plain(cfg, withoutNagle), ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	return c.settle()
}

// The sequence of seqack issue 18 A: data in flight, an ACK for part of
// it shrinks the window to 0 (a stale window update reordered behind a
// newer one, or a receiver shrinking its window). The retransmission
// timeout then can send nothing; it must send a zero-window probe and
// leave a timer running, and the data goes once the window opens.
func TestZeroWindowWithDataInFlight(t *testing.T) {
	c := openMSS1000(t, tcp.Config{})
	c.do(step{call: "write 2000", out: []string{". 1001:2001(1000) ack 5001", "P. 2001:3001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2001 win 0"})
	c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 2000:2000(0) ack 5001"}})
	if c.Deadline().IsZero() {
		t.Fatal("no timer running with data unacknowledged behind a zero window")
	}
	c.do(step{call: "timer", wait: 400 * time.Millisecond, out: []string{". 2000:2000(0) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2001 win 0"}) // the probe answered: still closed
	c.do(step{call: "timer", wait: 800 * time.Millisecond, out: []string{". 2000:2000(0) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2001 win 65535", out: []string{"P. 2001:3001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 3001 win 65535"})
	if !c.Deadline().IsZero() {
		t.Errorf("a timer runs at %v with everything acknowledged", c.Deadline())
	}
}

// The same after Close: a connection in LAST_ACK (or FIN_WAIT_1) with
// data behind a zero window keeps probing, and its FIN follows the data
// once the window opens.
func TestZeroWindowInLastAck(t *testing.T) {
	c := openMSS1000(t, tcp.Config{})
	c.in("F. 5001:5001(0) ack 1001 win 65535")
	c.settle()
	c.do(step{call: "write 2000", out: []string{". 1001:2001(1000) ack 5002", "P. 2001:3001(1000) ack 5002"}})
	c.do(step{call: "close", states: []tcp.State{tcp.LastAck}, out: []string{"F. 3001:3001(0) ack 5002"}})
	c.do(step{in: ". 5002:5002(0) ack 2001 win 0"})
	c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 2000:2000(0) ack 5002"}})
	c.do(step{call: "timer", wait: 400 * time.Millisecond, out: []string{". 2000:2000(0) ack 5002"}})
	c.do(step{in: ". 5002:5002(0) ack 2001 win 65535", out: []string{"FP. 2001:3001(1000) ack 5002"}})
	c.do(step{in: ". 5002:5002(0) ack 3002 win 65535", states: []tcp.State{tcp.Closed}})
}

// zeroWindow returns a connection whose peer has taken 1000 bytes and
// closed its window with 1000 more waiting: the persist timer runs.
func zeroWindow(t *testing.T, cfg tcp.Config) *testConn {
	t.Helper()
	c := openMSS1000(t, cfg)
	c.do(step{call: "write 2000", out: []string{". 1001:2001(1000) ack 5001", "P. 2001:3001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 3001 win 0"})
	c.do(step{call: "write 1000"})
	return c
}

// Zero-window probes that go unanswered count toward giving up, as
// retransmissions do (Linux's tcp_retries2 bounds icsk_probes_out):
// after Retries of them the connection fails with ErrTimedOut instead of
// holding its send queue forever.
func TestZeroWindowProbesUnanswered(t *testing.T) {
	c := zeroWindow(t, tcp.Config{Retries: 3})
	probe := ". 3000:3000(0) ack 5001"
	for _, wait := range []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond} {
		c.do(step{call: "timer", wait: wait, out: []string{probe}})
	}
	c.do(step{call: "timer", wait: 1600 * time.Millisecond, states: []tcp.State{tcp.Closed}, events: tcp.EventTimedOut | tcp.EventClosed})
	if !errors.Is(c.Err(), tcp.ErrTimedOut) {
		t.Errorf("error %v, want ErrTimedOut", c.Err())
	}
	if s := c.Stats(); s.SendQueue != 0 {
		t.Errorf("%d bytes still queued", s.SendQueue)
	}
}

// A peer that answers every probe keeps the connection open, however
// long (RFC 1122 §4.2.2.17: "as long as the receiving TCP continues to
// send acknowledgments in response to the probe segments"); the probes
// back off to MaxRTO.
func TestZeroWindowProbesAnswered(t *testing.T) {
	c := zeroWindow(t, tcp.Config{Retries: 3, MaxRTO: time.Second})
	probe := ". 3000:3000(0) ack 5001"
	ms := time.Millisecond
	for _, wait := range []time.Duration{200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second, time.Second} {
		c.do(step{call: "timer", wait: wait, out: []string{probe}})
		c.do(step{in: ". 5001:5001(0) ack 3001 win 0"})
	}
	if c.State() != tcp.Established {
		t.Fatalf("state %v after answered probes", c.State())
	}
	c.do(step{in: ". 5001:5001(0) ack 3001 win 65535", out: []string{"P. 3001:4001(1000) ack 5001"}})
}

// An orphaned connection (its application closed it) may sit behind a
// zero window for OrphanRetries probes, answered or not, as Linux's
// tcp_orphan_retries bounds it: no one will read what it would send, and
// a peer that never opens its window must not hold its queue forever.
func TestZeroWindowOrphan(t *testing.T) {
	c := zeroWindow(t, tcp.Config{OrphanRetries: 2})
	c.do(step{call: "close", states: []tcp.State{tcp.FinWait1}})
	c.Orphan(c.now)
	probe := ". 3000:3000(0) ack 5001"
	c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{probe}})
	c.do(step{in: ". 5001:5001(0) ack 3001 win 0"})
	c.do(step{call: "timer", wait: 400 * time.Millisecond, out: []string{probe}})
	c.do(step{in: ". 5001:5001(0) ack 3001 win 0"})
	c.do(step{call: "timer", wait: 800 * time.Millisecond, states: []tcp.State{tcp.Closed}, events: tcp.EventTimedOut | tcp.EventClosed})
}

// A peer that SACKs everything outstanding and never acknowledges it has
// reneged: the retransmission timeout ignores the SACK information
// (RFC 2018 §8) and resends from SND.UNA. It used to skip what was
// SACKed, send nothing and leave no timer running (found by FuzzPair's
// liveness check).
func TestRenegedSACKResentAfterTimeout(t *testing.T) {
	c := newTestConn(t, plain(tcp.Config{MSS: 1000, DelayedAck: -1}, withSACK, withoutNagle), ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	c.settle()
	c.do(step{call: "write 2000", out: []string{". 1001:2001(1000) ack 5001", "P. 2001:3001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 1001:3001>"})
	c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 1001:2001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 3001 win 65535"})
}

// A retransmission timeout behind a zero window sends a probe, not a
// retransmission: tcpi_retransmits and tcpi_backoff do not count it, as
// Linux's tcp_retransmit_timer counts neither there; the persist timer's
// probes that follow back the timer off (tcpi_backoff) and count as
// probes, not retransmissions.
func TestZeroWindowTimeoutsAndBackoff(t *testing.T) {
	c := openMSS1000(t, tcp.Config{})
	c.do(step{call: "write 2000", out: []string{". 1001:2001(1000) ack 5001", "P. 2001:3001(1000) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2001 win 0"})
	c.do(step{call: "timer", wait: 200 * time.Millisecond, out: []string{". 2000:2000(0) ack 5001"}})
	if n, b := c.Timeouts(), c.Backoff(); n != 0 || b != 0 {
		t.Fatalf("after the timeout that sent a probe: %d timeouts, backoff %d; want 0, 0", n, b)
	}
	c.do(step{call: "timer", wait: 400 * time.Millisecond, out: []string{". 2000:2000(0) ack 5001"}})
	if n, b := c.Timeouts(), c.Backoff(); n != 0 || b != 1 {
		t.Fatalf("after a persist probe: %d timeouts, backoff %d; want 0, 1", n, b)
	}
	c.do(step{in: ". 5001:5001(0) ack 2001 win 65535", out: []string{"P. 2001:3001(1000) ack 5001"}})
	if b := c.Backoff(); b != 0 {
		t.Errorf("the window open: backoff %d, want 0", b)
	}
}
