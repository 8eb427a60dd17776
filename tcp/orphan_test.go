package tcp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// An orphan's retransmissions (its application closed it, with data or
// its FIN unacknowledged) give up after OrphanRetries timeouts instead of
// Retries, as Linux's tcp_write_timeout does with tcp_orphan_retries for
// a socket its application closed: a closed connection whose peer has
// vanished gives up sooner than one still in use. The give-up is the
// same as after Retries: CLOSED with ErrTimedOut, no RST (Linux's
// tcp_write_err). Held by its application, the same connection keeps
// retransmitting up to Retries.
func TestOrphanRetransmissions(t *testing.T) {
	const fin1, fin2 = "F. 1001:1001(0) ack 5001", "F. 1001:1001(0) ack 5002"
	ms := time.Millisecond
	tests := []struct {
		name   string
		orphan bool
		setup  []step // from ESTABLISHED to the state under test
		resent string // what each timeout sends again
		tries  int    // timeouts that resend before the one that gives up
	}{
		{name: "FIN_WAIT_1 with data", orphan: true, setup: []step{
			{call: "write 100", out: []string{"P. 1001:1101(100) ack 5001"}},
			{call: "close", out: []string{"F. 1101:1101(0) ack 5001"}, states: []tcp.State{tcp.FinWait1}},
		}, resent: "FP. 1001:1101(100) ack 5001", tries: 2},
		{name: "FIN_WAIT_1", orphan: true, setup: []step{
			{call: "close", out: []string{fin1}, states: []tcp.State{tcp.FinWait1}},
		}, resent: fin1, tries: 2},
		{name: "CLOSING", orphan: true, setup: []step{
			{call: "close", out: []string{fin1}, states: []tcp.State{tcp.FinWait1}},
			{in: "F. 5001:5001(0) ack 1001 win 65535", out: []string{". 1002:1002(0) ack 5002"}, states: []tcp.State{tcp.Closing}},
		}, resent: fin2, tries: 2},
		{name: "LAST_ACK", orphan: true, setup: []step{
			{in: "F. 5001:5001(0) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5002"}, states: []tcp.State{tcp.CloseWait}},
			{call: "close", out: []string{fin2}, states: []tcp.State{tcp.LastAck}},
		}, resent: fin2, tries: 2},
		{name: "LAST_ACK held by its application", setup: []step{
			{in: "F. 5001:5001(0) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5002"}, states: []tcp.State{tcp.CloseWait}},
			{call: "close", out: []string{fin2}, states: []tcp.State{tcp.LastAck}},
		}, resent: fin2, tries: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestConn(t, plain(tcp.Config{Retries: 4, OrphanRetries: 2, DelayedAck: -1}, withoutNagle), ourISS)
			c.Connect(c.now)
			c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
			c.settle()
			for _, s := range tt.setup {
				c.do(s)
			}
			if tt.orphan {
				c.Orphan(c.now)
			}
			wait := 200 * ms
			for range tt.tries {
				c.do(step{call: "timer", wait: wait, out: []string{tt.resent}})
				wait *= 2
			}
			c.do(step{call: "timer", wait: wait, states: []tcp.State{tcp.Closed}, events: tcp.EventTimedOut | tcp.EventClosed})
			if !errors.Is(c.Err(), tcp.ErrTimedOut) {
				t.Errorf("error %v, want ErrTimedOut", c.Err())
			}
		})
	}
}
