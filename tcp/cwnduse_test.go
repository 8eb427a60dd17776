package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The window grows only while it limits the sender (cwnduse.go; Linux's
// tcp_is_cwnd_limited). Each case opens a connection with the initial
// window of ten segments (14600 bytes), writes flights of the given
// number of segments, each ACKed whole before the next, and reads the
// window after.
func TestCwndGrowsOnlyWhenUsed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		flights []int // segments written and ACKed, one flight after another
		cwnd    int
	}{
		// One segment at a time never reaches half the window: the ACKs
		// say nothing of a larger window, which stays as it was.
		{name: "one segment at a time", flights: []int{1, 1, 1, 1, 1, 1}, cwnd: 14600},
		// A flight of more than half the window could double past it in
		// slow start: it grows by the ACK's bytes, at most two segments
		// (RFC 3465); then six segments are only half of twelve, and it
		// stays.
		{name: "more than half", flights: []int{6, 6}, cwnd: 14600 + 2920},
		{name: "half", flights: []int{5, 5}, cwnd: 14600},
		// A full window grows it.
		{name: "full window", flights: []int{10}, cwnd: 14600 + 2920},
		// Below half of it, no growth.
		{name: "four of ten", flights: []int{4, 4, 4}, cwnd: 14600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := plain(tcp.Config{CongestionControl: tcp.NewNewReno, DelayedAck: -1}, withoutNagle)
			c := newTestConn(t, cfg, ourISS)
			c.Connect(c.now)
			c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
			c.settle()
			next := 1001
			for _, n := range tt.flights {
				c.now = c.now.Add(10 * time.Millisecond)
				c.Write(make([]byte, n*1460), c.now)
				if got := len(c.Outgoing()); got != n {
					t.Fatalf("%d segments sent for a flight of %d", got, n)
				}
				next += n * 1460
				c.now = c.now.Add(20 * time.Millisecond)
				c.in(fmt.Sprintf(". 5001:5001(0) ack %d win 65535", next))
				c.settle()
			}
			if cwnd, _ := c.window(); cwnd != tt.cwnd {
				t.Errorf("cwnd %d after flights %v, want %d", cwnd, tt.flights, tt.cwnd)
			}
		})
	}
}
