package tcp_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// hyStartFlights runs a bulk sender's first flights over a path whose
// round trip is rtt(i) for flight i (from 0): every segment of a flight
// is ACKed, one ACK each, rtt(i) after the flight left, and what those
// ACKs let out is the next flight. It returns the congestion window
// after each flight's ACKs, in segments of 1000 bytes, and the flight
// after which ssthresh fell from its initial value (-1: never).
func hyStartFlights(t *testing.T, cfg *tcp.Config, flights int, rtt func(int) time.Duration) (cwnd []int, exit int) {
	t.Helper()
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1000,sackOK,nop,wscale 7>")
	c.settle()
	c.Write(make([]byte, 4<<20), c.now)
	exit = -1
	for i := range flights {
		var ends []uint32 // Outgoing's segments are gone with the next Input
		for _, seg := range c.Outgoing() {
			ends = append(ends, uint32(seg.Seq)+uint32(len(seg.Payload)))
		}
		if len(ends) == 0 {
			t.Fatalf("flight %d: nothing sent (windows after the flights before: %v)", i, cwnd)
		}
		c.now = c.now.Add(rtt(i))
		for _, end := range ends {
			c.in(fmt.Sprintf(". 5001:5001(0) ack %d win 65535", end))
		}
		st := c.Stats()
		cwnd = append(cwnd, st.CongestionWindow/1000)
		if exit < 0 && st.SlowStartThreshold < math.MaxInt32 {
			exit = i
			// ssthresh = cwnd (RFC 9406 §4.2) at an ACK of the flight,
			// the ones after it grow the window by a little.
			if d := st.CongestionWindow - st.SlowStartThreshold; d < 0 || d >= 1000 {
				t.Errorf("flight %d: ssthresh %d, want the window %d, less what the flight's last ACKs added", i, st.SlowStartThreshold, st.CongestionWindow)
			}
		}
	}
	return cwnd, exit
}

// A connection's CUBIC under HyStart++ (RFC 9406), RACK giving it an
// RTT sample per ACK: from flight 4 on, a queue builds and the RTT
// rises by 10 ms a flight (over the threshold of 5 ms, 40 ms/8). The
// window, which doubled every flight, grows by a quarter a flight from
// within flight 4 (Conservative Slow Start), then slow start ends five
// rounds later, with ssthresh the window, and congestion avoidance
// takes over. (The rise is by 10 ms, not 5: a round begins at the ACK
// of SND.NXT as the last one began, before that ACK's own new segments,
// so each round here holds two ACKs of the flight before, at its RTT.)
// Without HyStart++ (Config.NoHyStart, or no RACK) slow start doubles
// on.
func TestHyStartConn(t *testing.T) {
	rtt := func(i int) time.Duration { // a queue building from flight 4
		return 40*time.Millisecond + time.Duration(max(0, i-3))*10*time.Millisecond
	}
	cfg := func(with ...func(*tcp.Config)) *tcp.Config {
		return plain(tcp.Config{DelayedAck: -1, ReceiveBufferSize: 1 << 20, SendBufferSize: 4 << 20}, append(with, withoutNagle, withSACK)...)
	}
	for _, c := range []struct {
		name string
		cfg  *tcp.Config
		cwnd []int
		exit int
	}{
		{"HyStart++", cfg(withRACK, withHyStart),
			//   ×2  ×2   ×2  CSS from within flight 4, ×1.25 a flight  over: CUBIC
			[]int{20, 40, 80, 160, 311, 389, 486, 608, 760, 916, 916}, 9},
		{"NoHyStart", cfg(withRACK),
			[]int{20, 40, 80, 160, 320, 640, 1280, 2560}, -1},
		{"no RACK: no samples", cfg(withHyStart),
			[]int{20, 40, 80, 160, 320, 640, 1280, 2560}, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cwnd, exit := hyStartFlights(t, c.cfg, len(c.cwnd), rtt)
			if !slices.Equal(cwnd, c.cwnd) || exit != c.exit {
				t.Errorf("windows after each flight %v, slow start over after flight %d;\nwant %v, over after %d", cwnd, exit, c.cwnd, c.exit)
			}
		})
	}
}
