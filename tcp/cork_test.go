package tcp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// A corked connection (TCP_CORK) holds partial segments back until the
// cork comes off, sends full ones at once, lets a FIN end the hold, and
// after an RTO with nothing in flight sends what it holds, as Linux's
// probe timer does.
func TestCork(t *testing.T) {
	established := func(t *testing.T) *testConn {
		c := reach(t, tcp.Established)
		c.SetCork(true, c.now)
		return c
	}
	t.Run("held until uncorked", func(t *testing.T) {
		c := established(t)
		c.do(step{call: "write 100"})
		c.do(step{call: "write 200"})
		c.SetCork(false, c.now)
		c.out("P. 1001:1301(300) ack 5001")
	})
	t.Run("full segments go", func(t *testing.T) {
		c := established(t)
		c.do(step{call: "write 2000", out: []string{". 1001:2461(1460) ack 5001"}})
		c.in(". 5001:5001(0) ack 2461 win 65535")
		c.out() // the 540 bytes left wait, though nothing is in flight
		c.SetCork(false, c.now)
		c.out("P. 2461:3001(540) ack 5001")
	})
	t.Run("a FIN ends the hold", func(t *testing.T) {
		c := established(t)
		c.do(step{call: "write 100"})
		c.do(step{call: "close", out: []string{"FP. 1001:1101(100) ack 5001"}, states: []tcp.State{tcp.FinWait1}})
	})
	t.Run("an RTO with nothing in flight sends it", func(t *testing.T) {
		c := established(t)
		rto := c.Stats().RTO
		c.do(step{call: "write 100"})
		c.do(step{call: "write 100"})
		c.do(step{call: "timer", wait: rto, out: []string{"P. 1001:1201(200) ack 5001"}})
		if !c.Corked() {
			t.Error("the timer took the cork off")
		}
		// Still corked: the next partial segment waits for the ACK and
		// then an RTO.
		c.do(step{call: "write 100"})
		c.in(". 5001:5001(0) ack 1201 win 65535")
		c.out()
		c.do(step{call: "timer", out: []string{"P. 1201:1301(100) ack 5001"}})
	})
	t.Run("uncorked with Nagle on and data in flight", func(t *testing.T) {
		c := newTestConn(t, plain(tcp.Config{DelayedAck: -1}), ourISS) // Nagle on
		c.Connect(c.now)
		c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
		c.settle()
		c.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
		c.SetCork(true, c.now)
		c.do(step{call: "write 100"})
		c.SetCork(false, c.now)
		c.out() // Nagle holds it for the ACK
		c.do(step{in: ". 5001:5001(0) ack 1101 win 65535", out: []string{"P. 1101:1201(100) ack 5001"}})
	})
}

// WriteMore (MSG_MORE) holds the tail of one write back until the next
// write, or an RTO with nothing in flight; its full segments carry no
// PSH.
func TestWriteMore(t *testing.T) {
	more := func(c *testConn, n int) {
		c.t.Helper()
		if k, err := c.WriteMore(make([]byte, n), c.now); k != n || err != nil {
			c.t.Fatalf("WriteMore(%d) = %d, %v", n, k, err)
		}
	}
	t.Run("joined by the next write", func(t *testing.T) {
		c := reach(t, tcp.Established)
		more(c, 100)
		c.out()
		c.do(step{call: "write 50", out: []string{"P. 1001:1151(150) ack 5001"}})
	})
	t.Run("full segments without PSH", func(t *testing.T) {
		c := reach(t, tcp.Established)
		more(c, 3000)
		c.out(". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001")
		c.do(step{call: "write 10", out: []string{"P. 3921:4011(90) ack 5001"}})
	})
	t.Run("sent after an RTO", func(t *testing.T) {
		c := reach(t, tcp.Established)
		rto := c.Stats().RTO
		more(c, 100)
		c.out()
		c.do(step{call: "timer", wait: rto, out: []string{"P. 1001:1101(100) ack 5001"}})
	})
	t.Run("an ACK sends it", func(t *testing.T) {
		c := reach(t, tcp.Established)
		c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
		more(c, 100)
		c.out()
		c.do(step{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{". 2461:2561(100) ack 5001"}})
	})
}

// With a user timeout (RFC 5482, TCP_USER_TIMEOUT), data unacknowledged
// for that long ends the connection with ErrTimedOut, however few
// retransmissions that leaves; as in Linux, it counts from the first
// retransmission, and the last timeout is brought forward to its end.
func TestUserTimeout(t *testing.T) {
	c := reach(t, tcp.Established)
	c.SetUserTimeout(time.Second)
	if got := c.UserTimeout(); got != time.Second {
		t.Fatalf("UserTimeout() = %v", got)
	}
	sent := c.now.Add(c.Stats().RTO) // the first retransmission
	c.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
	var waits []time.Duration
	for c.State() == tcp.Established {
		waits = append(waits, c.fireTimer())
		c.Outgoing()
	}
	if !errors.Is(c.Err(), tcp.ErrTimedOut) {
		t.Errorf("Err() = %v, want ErrTimedOut", c.Err())
	}
	if got := c.now.Sub(sent); got != time.Second {
		t.Errorf("gave up %v after the first retransmission (timeouts %v), want 1s", got, waits)
	}
	if len(waits) < 2 {
		t.Errorf("timeouts %v: want at least one retransmission first", waits)
	}

	// Without it, the same connection retransmits far longer.
	d := reach(t, tcp.Established)
	d.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
	for d.now.Sub(sent) <= 2*time.Second {
		d.fireTimer()
		d.Outgoing()
	}
	if d.State() != tcp.Established {
		t.Errorf("without a user timeout: %v after %v", d.State(), d.now.Sub(sent))
	}
}

// A user timeout does not abort at the first timeout of a run, even if
// it is shorter than the RTO (Linux's retransmits_timed_out needs one
// retransmission).
func TestUserTimeoutShorterThanRTO(t *testing.T) {
	c := reach(t, tcp.Established)
	c.SetUserTimeout(time.Millisecond)
	c.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:1101(100) ack 5001"}})
	c.do(step{call: "timer", wait: 0, states: []tcp.State{tcp.Closed}})
	if !errors.Is(c.Err(), tcp.ErrTimedOut) {
		t.Errorf("Err() = %v, want ErrTimedOut", c.Err())
	}
}

// In SYN_SENT the user timeout counts from the SYN (Linux's tcp_connect
// stamps it): SYN at 0, again at 1 s, and Connect fails at 1.5 s.
func TestUserTimeoutSynSent(t *testing.T) {
	c := newTestConn(t, nil, ourISS)
	c.SetUserTimeout(1500 * time.Millisecond)
	start := c.now
	c.do(step{call: "connect", out: []string{"S 1000:1000(0) <mss 1460>"}, states: []tcp.State{tcp.SynSent}})
	c.do(step{call: "timer", wait: time.Second, out: []string{"S 1000:1000(0) <mss 1460>"}})
	c.do(step{call: "timer", wait: 500 * time.Millisecond, states: []tcp.State{tcp.Closed}})
	if !errors.Is(c.Err(), tcp.ErrTimedOut) || c.now.Sub(start) != 1500*time.Millisecond {
		t.Errorf("Err() = %v after %v", c.Err(), c.now.Sub(start))
	}
}

// SetFinWait2Timeout (TCP_LINGER2) bounds one orphan's FIN_WAIT_2.
func TestFinWait2TimeoutPerConn(t *testing.T) {
	c := reach(t, tcp.FinWait2)
	c.SetFinWait2Timeout(3 * time.Second)
	c.Orphan(c.now)
	c.do(step{call: "timer", wait: 3 * time.Second, states: []tcp.State{tcp.Closed}})
}

// A negative TCP_LINGER2 resets an orphan instead of letting it wait in
// FIN_WAIT_2: the ACK of its FIN is answered with a RST; orphaned in
// FIN_WAIT_2 it sends RST+ACK.
func TestFinWait2Reset(t *testing.T) {
	t.Run("reaching FIN_WAIT_2", func(t *testing.T) {
		c := reach(t, tcp.FinWait1)
		c.SetFinWait2Timeout(-1)
		c.Orphan(c.now)
		c.do(step{in: ". 5001:5001(0) ack 1002 win 65535", out: []string{"R 1002:1002(0)"},
			states: []tcp.State{tcp.FinWait2, tcp.Closed}})
		if !errors.Is(c.Err(), tcp.ErrConnectionAborted) {
			t.Errorf("Err() = %v", c.Err())
		}
	})
	t.Run("orphaned in FIN_WAIT_2", func(t *testing.T) {
		c := reach(t, tcp.FinWait2)
		c.SetFinWait2Timeout(-1)
		c.Orphan(c.now)
		c.out("R. 1002:1002(0) ack 5001")
		c.expectStates(tcp.Closed)
	})
	t.Run("not orphaned: it waits", func(t *testing.T) {
		c := reach(t, tcp.FinWait1)
		c.SetFinWait2Timeout(-1)
		c.do(step{in: ". 5001:5001(0) ack 1002 win 65535", states: []tcp.State{tcp.FinWait2}})
	})
}

// A deferred accept (TCP_DEFER_ACCEPT) drops the bare ACK that would
// complete the handshake; data establishes the connection; the SYN+ACK
// is resent only at the last timeout of the deferral, after which a
// bare ACK establishes it.
func TestDeferAccept(t *testing.T) {
	synRcvd := func(t *testing.T, d time.Duration) *testConn {
		c := newTestConn(t, nil, ourISS)
		c.Listen()
		c.settle()
		c.SetDeferAccept(d)
		c.do(step{in: "S 5000:5000(0) win 65535 <mss 1460>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}, states: []tcp.State{tcp.SynReceived}})
		c.do(step{in: ". 5001:5001(0) ack 1001 win 65535"}) // dropped: no state, no answer
		return c
	}
	t.Run("data establishes it", func(t *testing.T) {
		c := synRcvd(t, time.Second)
		c.do(step{in: "P. 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101"},
			states: []tcp.State{tcp.Established}, events: tcp.EventEstablished})
	})
	t.Run("one timeout: resent, then an ACK establishes it", func(t *testing.T) {
		c := synRcvd(t, time.Second)
		c.do(step{call: "timer", wait: time.Second, out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}})
		c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}, events: tcp.EventEstablished})
	})
	t.Run("two timeouts: the first resends nothing", func(t *testing.T) {
		c := synRcvd(t, 3*time.Second)
		c.do(step{call: "timer", wait: time.Second})
		c.do(step{in: ". 5001:5001(0) ack 1001 win 65535"}) // still dropped
		c.do(step{call: "timer", wait: 2 * time.Second, out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}})
		c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	})
	t.Run("off: the ACK establishes it", func(t *testing.T) {
		c := newTestConn(t, nil, ourISS)
		c.Listen()
		c.settle()
		c.SetDeferAccept(0)
		c.do(step{in: "S 5000:5000(0) win 65535 <mss 1460>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}, states: []tcp.State{tcp.SynReceived}})
		c.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	})
}

// Options set on a connection leave its size as it is: they live behind
// one pointer.
func TestOptionsKeepDefaults(t *testing.T) {
	c := reach(t, tcp.Established)
	if c.Corked() || c.UserTimeout() != 0 {
		t.Fatal("a new connection has options set")
	}
	c.SetCork(false, c.now)
	c.SetUserTimeout(0)
	c.do(step{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}})
}
