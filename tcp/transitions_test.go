package tcp_test

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// step is one stimulus and what must follow it.
type step struct {
	// Exactly one stimulus: a segment in, or an application call
	// ("connect", "listen", "close", "abort", "write N", "read"), or
	// "timer" (advance the clock to the deadline and run the timers).
	in, call string
	// out is every segment that must be sent, in order.
	out []string
	// states is every state entered, in order.
	states []tcp.State
	// events, if non-zero, must all be reported.
	events tcp.Events
	// wait, if non-zero, is how long "timer" must have waited.
	wait time.Duration
}

func (c *testConn) do(s step) {
	c.t.Helper()
	switch {
	case s.in != "":
		c.in(s.in)
	case s.call == "connect":
		c.Connect(c.now)
	case s.call == "listen":
		c.Listen()
	case s.call == "close":
		c.Close(c.now)
	case s.call == "abort":
		c.Abort(c.now)
	case s.call == "read":
		c.Read(make([]byte, 1<<16), c.now)
	case strings.HasPrefix(s.call, "write "):
		n, _ := strconv.Atoi(strings.TrimPrefix(s.call, "write "))
		c.Write(make([]byte, n), c.now)
	case s.call == "timer":
		if waited := c.fireTimer(); s.wait != 0 && waited != s.wait {
			c.t.Errorf("timer fired after %v, want %v", waited, s.wait)
		}
	default:
		c.t.Fatalf("bad step %+v", s)
	}
	c.out(s.out...)
	c.expectStates(s.states...)
	if ev := c.Events(); ev&s.events != s.events {
		c.t.Errorf("events %v, want at least %v", ev, s.events)
	}
}

type transition struct {
	name  string
	from  tcp.State
	steps []step
	err   error // Err() at the end
}

func runTransitions(t *testing.T, table []transition) {
	t.Helper()
	for _, tr := range table {
		t.Run(tr.name, func(t *testing.T) {
			c := reach(t, tr.from)
			for _, s := range tr.steps {
				c.do(s)
			}
			if !errors.Is(c.Err(), tr.err) || (tr.err == nil && c.Err() != nil) {
				t.Errorf("Err() = %v, want %v", c.Err(), tr.err)
			}
		})
	}
}

// States abbreviated as in the RFC's diagram.
const (
	CLOSED      = tcp.Closed
	LISTEN      = tcp.Listen
	SYN_SENT    = tcp.SynSent
	SYN_RCVD    = tcp.SynReceived
	ESTABLISHED = tcp.Established
	FIN_WAIT_1  = tcp.FinWait1
	FIN_WAIT_2  = tcp.FinWait2
	CLOSE_WAIT  = tcp.CloseWait
	CLOSING     = tcp.Closing
	LAST_ACK    = tcp.LastAck
	TIME_WAIT   = tcp.TimeWait
)

func states(s ...tcp.State) []tcp.State { return s }
func segs(s ...string) []string         { return s }

func TestClosed(t *testing.T) {
	runTransitions(t, []transition{
		{name: "passive OPEN: CLOSED → LISTEN", from: CLOSED, steps: []step{
			{call: "listen", states: states(LISTEN)}}},
		{name: "active OPEN: CLOSED → SYN_SENT, send SYN", from: CLOSED, steps: []step{
			{call: "connect", out: segs("S 1000:1000(0) win 65535 <mss 1460>"), states: states(SYN_SENT)}}},
		// RFC 9293 §3.10.7.1: a segment for no connection gets a RST.
		{name: "segment with ACK → <SEQ=SEG.ACK><CTL=RST>", from: CLOSED, steps: []step{
			{in: ". 5001:5001(0) ack 777 win 100", out: segs("R 777:777(0) win 0")}}},
		{name: "segment without ACK → <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", from: CLOSED, steps: []step{
			{in: "S 5000:5000(0) win 100", out: segs("R. 0:0(0) ack 5001 win 0")}}},
		{name: "data without ACK counts its length", from: CLOSED, steps: []step{
			{in: "FP 5000:5010(10) win 100", out: segs("R. 0:0(0) ack 5011 win 0")}}},
		{name: "RST is never answered", from: CLOSED, steps: []step{
			{in: "R 5000:5000(0) win 0"}, {in: "R. 5000:5000(0) ack 1 win 0"}}},
	})
}

func TestListen(t *testing.T) {
	runTransitions(t, []transition{
		{name: "rcv SYN: LISTEN → SYN_RCVD, send SYN+ACK", from: LISTEN, steps: []step{
			{in: "S 5000:5000(0) win 65535 <mss 1460>", out: segs("S. 1000:1000(0) ack 5001 win 65535 <mss 1460>"), states: states(SYN_RCVD)}}},
		{name: "SEND: LISTEN → SYN_SENT", from: LISTEN, steps: []step{
			{call: "connect", out: segs("S 1000:1000(0) <mss 1460>"), states: states(SYN_SENT)}}},
		{name: "CLOSE: LISTEN → CLOSED", from: LISTEN, steps: []step{
			{call: "close", states: states(CLOSED), events: tcp.EventClosed}}},
		{name: "RST ignored", from: LISTEN, steps: []step{{in: "R 5000:5000(0) win 0"}}},
		{name: "ACK → RST <SEQ=SEG.ACK>", from: LISTEN, steps: []step{
			{in: ". 5000:5000(0) ack 4242 win 100", out: segs("R 4242:4242(0) win 0")}}},
		{name: "no SYN, no ACK: dropped", from: LISTEN, steps: []step{{in: "F 5000:5000(0) win 100"}}},
		{name: "no flags at all: dropped, not reset (§3.10.7.2 fourth)", from: LISTEN, steps: []step{
			{in: "- 5000:5000(0) win 100"}, {in: "P 5000:5010(10) win 100"}, {in: "U 5000:5010(10) win 100"}}},
		{name: "SYN with RST: ignored", from: LISTEN, steps: []step{{in: "SR 5000:5000(0) win 100"}}},
	})
}

func TestSynSent(t *testing.T) {
	runTransitions(t, []transition{
		{name: "rcv SYN+ACK: SYN_SENT → ESTABLISHED, send ACK", from: SYN_SENT, steps: []step{
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>", out: segs(". 1001:1001(0) ack 5001"), states: states(ESTABLISHED), events: tcp.EventEstablished}}},
		{name: "rcv SYN: simultaneous open, SYN_SENT → SYN_RCVD, send SYN+ACK", from: SYN_SENT, steps: []step{
			{in: "S 5000:5000(0) win 65535 <mss 1460>", out: segs("S. 1000:1000(0) ack 5001 <mss 1460>"), states: states(SYN_RCVD)},
			// The repeated SYN is a duplicate: ACKed (as Linux).
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>", out: segs(". 1001:1001(0) ack 5001"), states: states(ESTABLISHED), events: tcp.EventEstablished}}},
		{name: "RST in SYN_RCVD after a simultaneous open: refused", from: SYN_SENT, steps: []step{
			{in: "S 5000:5000(0) win 65535 <mss 1460>", out: segs("S. 1000:1000(0) ack 5001 <mss 1460>"), states: states(SYN_RCVD)},
			{in: "R 5001:5001(0) win 0", states: states(CLOSED), events: tcp.EventReset}},
			err: tcp.ErrConnectionRefused},
		{name: "CLOSE: SYN_SENT → CLOSED", from: SYN_SENT, steps: []step{
			{call: "close", states: states(CLOSED)}}},
		{name: "RST acking our SYN: connection refused", from: SYN_SENT, steps: []step{
			{in: "R. 0:0(0) ack 1001 win 0", states: states(CLOSED), events: tcp.EventReset | tcp.EventClosed}},
			err: tcp.ErrConnectionRefused},
		{name: "RST without ACK ignored", from: SYN_SENT, steps: []step{{in: "R 0:0(0) win 0"}}},
		{name: "RST with a wrong ACK ignored", from: SYN_SENT, steps: []step{{in: "R. 0:0(0) ack 1234 win 0"}}},
		// RFC 9293 §3.10.7.3 first: an ACK of something we never sent.
		{name: "unacceptable ACK → RST <SEQ=SEG.ACK>", from: SYN_SENT, steps: []step{
			{in: "S. 5000:5000(0) ack 2000 win 100", out: segs("R 2000:2000(0) win 0")},
			{in: ". 5000:5000(0) ack 1000 win 100", out: segs("R 1000:1000(0) win 0")}}},
		{name: "SYN retransmitted with backoff, then timeout", from: SYN_SENT, steps: []step{
			{call: "timer", wait: 1 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 2 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 4 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 8 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 16 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 32 * time.Second, out: segs("S 1000:1000(0) <mss 1460>")},
			{call: "timer", wait: 64 * time.Second, states: states(CLOSED), events: tcp.EventTimedOut | tcp.EventClosed}},
			err: tcp.ErrTimedOut},
		{name: "peer without MSS option: segments of 536 bytes", from: SYN_SENT, steps: []step{
			{in: "S. 5000:5000(0) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5001"), states: states(ESTABLISHED)},
			{call: "write 600", out: segs(". 1001:1537(536) ack 5001", "P. 1537:1601(64) ack 5001")}}},
	})
}

func TestSynReceived(t *testing.T) {
	runTransitions(t, []transition{
		{name: "rcv ACK of SYN: SYN_RCVD → ESTABLISHED", from: SYN_RCVD, steps: []step{
			{in: ". 5001:5001(0) ack 1001 win 65535", states: states(ESTABLISHED), events: tcp.EventEstablished}}},
		// The third ACK lost, recovered by the client's data.
		{name: "third ACK lost: data carrying the ACK establishes", from: SYN_RCVD, steps: []step{
			{in: "P. 5001:5006(5) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5006"), states: states(ESTABLISHED), events: tcp.EventEstablished | tcp.EventReadable}}},
		// ... or by our SYN+ACK's retransmission, which the client ACKs.
		{name: "third ACK lost: SYN+ACK retransmitted", from: SYN_RCVD, steps: []step{
			{call: "timer", wait: time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{in: ". 5001:5001(0) ack 1001 win 65535", states: states(ESTABLISHED)}}},
		{name: "SYN+ACK lost: the retransmitted SYN is answered again", from: SYN_RCVD, steps: []step{
			{in: "S 5000:5000(0) win 65535 <mss 1460>", out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")}}},
		{name: "CLOSE: SYN_RCVD → FIN_WAIT_1, send FIN", from: SYN_RCVD, steps: []step{
			{call: "close", out: segs("F. 1001:1001(0) ack 5001"), states: states(FIN_WAIT_1)},
			{in: ". 5001:5001(0) ack 1002 win 65535", states: states(FIN_WAIT_2)}}},
		{name: "RST: passive SYN_RCVD → LISTEN", from: SYN_RCVD, steps: []step{
			{in: "R 5001:5001(0) win 0", states: states(LISTEN)}}},
		{name: "unacceptable ACK → RST <SEQ=SEG.ACK>", from: SYN_RCVD, steps: []step{
			{in: ". 5001:5001(0) ack 3000 win 100", out: segs("R 3000:3000(0) win 0")}}},
		{name: "SYN+ACK retransmitted, then give up", from: SYN_RCVD, steps: []step{
			{call: "timer", wait: 1 * time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{call: "timer", wait: 2 * time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{call: "timer", wait: 4 * time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{call: "timer", wait: 8 * time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{call: "timer", wait: 16 * time.Second, out: segs("S. 1000:1000(0) ack 5001 <mss 1460>")},
			{call: "timer", wait: 32 * time.Second, states: states(CLOSED), events: tcp.EventTimedOut}},
			err: tcp.ErrTimedOut},
	})
}

func TestEstablished(t *testing.T) {
	runTransitions(t, []transition{
		{name: "CLOSE: ESTABLISHED → FIN_WAIT_1, send FIN", from: ESTABLISHED, steps: []step{
			{call: "close", out: segs("F. 1001:1001(0) ack 5001"), states: states(FIN_WAIT_1)}}},
		{name: "rcv FIN: ESTABLISHED → CLOSE_WAIT, send ACK", from: ESTABLISHED, steps: []step{
			{in: "F. 5001:5001(0) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5002"), states: states(CLOSE_WAIT), events: tcp.EventPeerClosed}}},
		{name: "data in order is ACKed", from: ESTABLISHED, steps: []step{
			{in: "P. 5001:5101(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5101 win 65435"), events: tcp.EventReadable}}},
		{name: "data sent within the peer's window", from: ESTABLISHED, steps: []step{
			{in: ". 5001:5001(0) ack 1001 win 2000"},
			// The 540 bytes the window leaves would be a silly segment
			// (RFC 9293 §3.8.6.2.1): they wait for the window to open.
			{call: "write 3000", out: segs(". 1001:2461(1460) ack 5001")},
			// PSH marks the segment that empties the send queue.
			{in: ". 5001:5001(0) ack 2461 win 2000", out: segs(". 2461:3921(1460) ack 5001", "P. 3921:4001(80) ack 5001"), events: tcp.EventWritable}}},
		{name: "out-of-order data held, duplicate ACK, merged when the hole fills", from: ESTABLISHED, steps: []step{
			{in: ". 5101:5201(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5001")},
			{in: ". 5301:5401(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5001")},
			{in: ". 5001:5101(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5201")},
			{in: ". 5150:5350(200) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5401")}}},
		{name: "duplicate data is ACKed and not delivered twice", from: ESTABLISHED, steps: []step{
			{in: ". 5001:5101(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5101")},
			{in: ". 5001:5101(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5101")}}},
		{name: "data beyond the window → ACK, dropped", from: ESTABLISHED, steps: []step{
			{in: ". 75000:75100(100) ack 1001 win 65535", out: segs(". 1001:1001(0) ack 5001")}}},
		// RFC 5961 §3.2: only an exact RST resets; an in-window one is
		// challenged; one outside the window is ignored.
		{name: "RST at RCV.NXT resets", from: ESTABLISHED, steps: []step{
			{in: "R 5001:5001(0) win 0", states: states(CLOSED), events: tcp.EventReset | tcp.EventClosed}},
			err: tcp.ErrConnectionReset},
		{name: "RST in window but not exact → challenge ACK", from: ESTABLISHED, steps: []step{
			{in: "R 5100:5100(0) win 0", out: segs(". 1001:1001(0) ack 5001")}}},
		{name: "RST outside the window ignored", from: ESTABLISHED, steps: []step{
			{in: "R 900000:900000(0) win 0"}}},
		// RFC 5961 §4.
		{name: "SYN → challenge ACK", from: ESTABLISHED, steps: []step{
			{in: "S 5001:5001(0) win 100", out: segs(". 1001:1001(0) ack 5001")}}},
		// RFC 5961 §5 / RFC 9293 §3.10.7.4 fifth.
		{name: "ACK of data never sent → ACK, segment dropped", from: ESTABLISHED, steps: []step{
			{in: "P. 5001:5011(10) ack 9999 win 100", out: segs(". 1001:1001(0) ack 5001")}}},
		// The RST carries an ACK, as Linux's (RFC 9293 §3.10.5 asks for
		// <SEQ=SND.NXT><CTL=RST>; the ACK changes nothing for its checks).
		{name: "ABORT → RST+ACK, CLOSED", from: ESTABLISHED, steps: []step{
			{call: "abort", out: segs("R. 1001:1001(0) ack 5001 win 0"), states: states(CLOSED), events: tcp.EventClosed}},
			err: tcp.ErrConnectionAborted},
		// reach's handshake measured an RTT of zero, so the RTO is the
		// 200 ms floor, doubling on each expiry (RFC 6298 §5.5).
		{name: "data retransmitted on timeout with backoff", from: ESTABLISHED, steps: []step{
			{call: "write 100", out: segs("P. 1001:1101(100) ack 5001")},
			{call: "timer", wait: 200 * time.Millisecond, out: segs("P. 1001:1101(100) ack 5001")},
			{call: "timer", wait: 400 * time.Millisecond, out: segs("P. 1001:1101(100) ack 5001")},
			{in: ". 5001:5001(0) ack 1101 win 65535", events: tcp.EventWritable}}},
	})
}

func TestFinWait(t *testing.T) {
	runTransitions(t, []transition{
		{name: "rcv ACK of FIN: FIN_WAIT_1 → FIN_WAIT_2", from: FIN_WAIT_1, steps: []step{
			{in: ". 5001:5001(0) ack 1002 win 65535", states: states(FIN_WAIT_2)}}},
		{name: "rcv FIN: FIN_WAIT_1 → CLOSING, send ACK", from: FIN_WAIT_1, steps: []step{
			{in: "F. 5001:5001(0) ack 1001 win 65535", out: segs(". 1002:1002(0) ack 5002"), states: states(CLOSING)}}},
		{name: "rcv FIN+ACK of FIN: FIN_WAIT_1 → TIME_WAIT", from: FIN_WAIT_1, steps: []step{
			{in: "F. 5001:5001(0) ack 1002 win 65535", out: segs(". 1002:1002(0) ack 5002"), states: states(TIME_WAIT)}}},
		{name: "FIN retransmitted in FIN_WAIT_1 with backoff", from: FIN_WAIT_1, steps: []step{
			{call: "timer", wait: 200 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5001")},
			{call: "timer", wait: 400 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5001")}}},
		{name: "rcv FIN: FIN_WAIT_2 → TIME_WAIT, send ACK", from: FIN_WAIT_2, steps: []step{
			{in: "F. 5001:5001(0) ack 1002 win 65535", out: segs(". 1002:1002(0) ack 5002"), states: states(TIME_WAIT)}}},
		{name: "half-close: FIN_WAIT_2 keeps receiving", from: FIN_WAIT_2, steps: []step{
			{in: "P. 5001:5101(100) ack 1002 win 65535", out: segs(". 1002:1002(0) ack 5101"), events: tcp.EventReadable},
			{in: "F. 5101:5101(0) ack 1002 win 65535", out: segs(". 1002:1002(0) ack 5102"), states: states(TIME_WAIT)}}},
		{name: "write after CLOSE fails", from: FIN_WAIT_2, steps: []step{{call: "write 10"}}},
	})
	c := reach(t, FIN_WAIT_1)
	if _, err := c.Write([]byte("x"), c.now); !errors.Is(err, tcp.ErrClosing) {
		t.Errorf("Write in FIN_WAIT_1: %v, want ErrClosing", err)
	}
}

func TestCloseWaitAndLastAck(t *testing.T) {
	runTransitions(t, []transition{
		{name: "CLOSE: CLOSE_WAIT → LAST_ACK, send FIN", from: CLOSE_WAIT, steps: []step{
			{call: "close", out: segs("F. 1001:1001(0) ack 5002"), states: states(LAST_ACK)}}},
		{name: "half-close: CLOSE_WAIT keeps sending", from: CLOSE_WAIT, steps: []step{
			{call: "write 100", out: segs("P. 1001:1101(100) ack 5002")},
			{call: "close", out: segs("F. 1101:1101(0) ack 5002"), states: states(LAST_ACK)}}},
		{name: "rcv ACK of FIN: LAST_ACK → CLOSED", from: LAST_ACK, steps: []step{
			{in: ". 5002:5002(0) ack 1002 win 65535", states: states(CLOSED), events: tcp.EventClosed}}},
		{name: "FIN retransmitted in LAST_ACK until give up", from: LAST_ACK, steps: []step{
			{call: "timer", wait: 200 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5002")},
			{call: "timer", wait: 400 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5002")},
			{call: "timer", wait: 800 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5002")}}},
		{name: "exact RST in LAST_ACK closes", from: LAST_ACK, steps: []step{
			{in: "R 5002:5002(0) win 0", states: states(CLOSED)}}},
	})
	// The give-up: Retries retransmissions, then CLOSED with ErrTimedOut.
	c := newTestConn(t, plain(tcp.Config{Retries: 2}), ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.in("F. 5001:5001(0) ack 1001 win 65535")
	c.Close(c.now)
	c.fireTimer()
	c.fireTimer()
	c.fireTimer()
	if c.State() != CLOSED || !errors.Is(c.Err(), tcp.ErrTimedOut) {
		t.Errorf("after 2 retries: %v %v", c.State(), c.Err())
	}
	// A conn that was read to the end reports io.EOF.
	c = reach(t, CLOSE_WAIT)
	if _, err := c.Read(make([]byte, 10), c.now); err != io.EOF {
		t.Errorf("Read in CLOSE_WAIT: %v, want io.EOF", err)
	}
}

func TestClosingAndTimeWait(t *testing.T) {
	runTransitions(t, []transition{
		{name: "rcv ACK of FIN: CLOSING → TIME_WAIT", from: CLOSING, steps: []step{
			{in: ". 5002:5002(0) ack 1002 win 65535", states: states(TIME_WAIT)}}},
		{name: "FIN retransmitted in CLOSING", from: CLOSING, steps: []step{
			{call: "timer", wait: 200 * time.Millisecond, out: segs("F. 1001:1001(0) ack 5002")}}},
		{name: "timeout 2MSL: TIME_WAIT → CLOSED", from: TIME_WAIT, steps: []step{
			{call: "timer", wait: 60 * time.Second, states: states(CLOSED), events: tcp.EventClosed}}},
		// The final ACK was lost: the peer's FIN comes again.
		{name: "retransmitted FIN re-ACKed, 2MSL restarted", from: TIME_WAIT, steps: []step{
			{in: "F. 5001:5001(0) ack 1002 win 65535", out: segs(". 1002:1002(0) ack 5002")}}},
		{name: "RST ignored (RFC 1337)", from: TIME_WAIT, steps: []step{
			{in: "R 5002:5002(0) win 0"}}},
		{name: "new SYN above RCV.NXT reuses the pair", from: TIME_WAIT, steps: []step{
			{in: "S 90000:90000(0) win 65535 <mss 1460>", out: segs("S. 132074:132074(0) ack 90001 <mss 1460>"), states: states(SYN_RCVD)},
			{in: ". 90001:90001(0) ack 132075 win 65535", states: states(ESTABLISHED)}}},
		{name: "old SYN below RCV.NXT → ACK", from: TIME_WAIT, steps: []step{
			{in: "S 4000:4000(0) win 65535", out: segs(". 1002:1002(0) ack 5002")}}},
	})
	// The restart moves the deadline to 2×MSL after the second FIN.
	c := reach(t, TIME_WAIT)
	c.now = c.now.Add(10 * time.Second)
	c.in("F. 5001:5001(0) ack 1002 win 65535")
	if got, want := c.Deadline().Sub(c.now), 60*time.Second; got != want {
		t.Errorf("after a retransmitted FIN, TIME_WAIT ends in %v, want %v", got, want)
	}
}

// Two conns joined in memory: client ISS 0xfffffff0 so the handshake and
// the data straddle the 2^32 wrap.
func TestHandshakeDataCloseAcrossTheWrap(t *testing.T) {
	cfg := plain(tcp.Config{MSL: time.Second}, withoutNagle)
	client := newTestConn(t, cfg, 0xfffffff0)
	server := newTestConn(t, cfg, 0xffffff00)
	server.Listen()
	client.Connect(client.now)
	deliver := func(from, to *testConn) int {
		n := 0
		for _, s := range append([]tcp.Segment(nil), from.Outgoing()...) {
			s.Payload = append([]byte(nil), s.Payload...)
			to.Input(&s, to.now)
			n++
		}
		return n
	}
	shuttle := func() {
		for deliver(client, server)+deliver(server, client) > 0 {
		}
	}
	shuttle()
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(i)
	}
	client.Write(data, client.now)
	shuttle()
	got := make([]byte, 6000)
	n, _ := server.Read(got, server.now)
	if n != len(data) || string(got[:n]) != string(data) {
		t.Fatalf("read %d bytes, want %d intact", n, len(data))
	}
	client.Close(client.now)
	shuttle()
	server.Close(server.now)
	shuttle()
	client.fireTimer()
	client.expectStates(SYN_SENT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT, CLOSED)
	server.expectStates(LISTEN, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, LAST_ACK, CLOSED)
}

// RFC 9293 §3.5, "Recovery from Old Duplicate SYN": an old SYN reaches
// the server first; the client's RST sends the server back to LISTEN and
// the real SYN then completes.
func TestOldDuplicateSYN(t *testing.T) {
	client := newTestConn(t, nil, 100)
	server := newTestConn(t, nil, 300)
	server.Listen()
	client.Connect(client.now)
	client.out("S 100:100(0) <mss 1460>") // delayed in the network
	server.in("S 90:90(0) win 65535")     // the old duplicate arrives first
	server.out("S. 300:300(0) ack 91 <mss 1460>")
	client.in("S. 300:300(0) ack 91 win 65535 <mss 1460>")
	client.out("R 91:91(0) win 0")
	server.in("R 91:91(0) win 0")
	server.expectStates(LISTEN, SYN_RCVD, LISTEN)
	server.in("S 100:100(0) win 65535 <mss 1460>") // the real SYN
	server.out("S. 300:300(0) ack 101 <mss 1460>")
	client.in("S. 300:300(0) ack 101 win 65535 <mss 1460>")
	client.out(". 101:101(0) ack 301")
	server.in(". 101:101(0) ack 301 win 65535")
	client.expectStates(SYN_SENT, ESTABLISHED)
	server.expectStates(SYN_RCVD, ESTABLISHED)
}

// RFC 9293 §3.5.1, "Half-Open Connection Discovery": the peer crashed
// and, restarted, knows nothing of the connection; its RST ends ours.
func TestHalfOpenDiscovery(t *testing.T) {
	ours := reach(t, ESTABLISHED)
	ours.Write([]byte("hello"), ours.now)
	seg := append([]tcp.Segment(nil), ours.Outgoing()...)[0]
	restarted := newTestConn(t, nil, 7777) // CLOSED
	restarted.Input(&seg, restarted.now)
	restarted.out("R 5001:5001(0) win 0")
	ours.in("R 5001:5001(0) win 0")
	if ours.State() != CLOSED || !errors.Is(ours.Err(), tcp.ErrConnectionReset) {
		t.Fatalf("%v %v", ours.State(), ours.Err())
	}
	// The other discovery: we restarted and sent a SYN; the peer's ACK
	// for its old connection draws our RST.
	fresh := reach(t, SYN_SENT)
	fresh.in(". 5001:5001(0) ack 400 win 100")
	fresh.out("R 400:400(0) win 0")
}

func TestResetFor(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"S 10:10(0) win 1", "R. 0:0(0) ack 11 win 0"},
		{". 10:20(10) ack 99 win 1", "R 99:99(0) win 0"},
		{"F 10:20(10) win 1", "R. 0:0(0) ack 21 win 0"},
		{"R 10:10(0) win 1", ""},
		{"R. 10:10(0) ack 5 win 1", ""},
	} {
		seg, _ := tcp.ParseSegment(c.in)
		rst, ok := tcp.ResetFor(&seg)
		got := ""
		if ok {
			got = rst.String()
		}
		if got != c.want {
			t.Errorf("ResetFor(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}
