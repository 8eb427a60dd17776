package tcp

import (
	"testing"
	"time"
)

// BBR's pacing gap is computed once for a rate and a segment length
// (pacingMove keeps it in BBR's state): each segment still moves the
// departure time on by the gap of its own length at the rate of the
// moment, as the rate and the lengths change.
func TestPacingGapFollowsBBRRate(t *testing.T) {
	cfg := PlainConfig()
	cfg.CongestionControl = NewBBR
	c := NewConn(cfg, 1000)
	c.newCongestionControl()
	b := c.cc.UndoableCongestionControl.(*BBR)
	c.rtt.srtt, c.rtt.rto = 100*time.Millisecond, time.Second // gaps up to 100 ms (pacingGapLimit)
	at := instant(1)
	for i, s := range []struct {
		rate float64
		n    int
	}{{1e6, 1448}, {1e6, 1448}, {2e6, 1448}, {2e6, 100}, {2e6, 1448}, {1e6, 1448}, {3e7, 1}} {
		b.pacingRate = s.rate
		want := max(c.cc.pace.next, at) + instant(min(pacingGap(s.n, s.rate), c.pacingGapLimit()))
		c.pacingMove(s.n, at)
		if c.cc.pace.next != want {
			t.Errorf("segment %d (%d bytes at %.0f B/s): next departure %d, want %d", i, s.n, s.rate, c.cc.pace.next, want)
		}
		at += 10
	}
}
