package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Host-wide counters add up what every Conn sharing the Config did.
func TestCounters(t *testing.T) {
	var k tcp.Counters
	cfg := plain(tcp.Config{Counters: &k})
	a := newTestConn(t, cfg, ourISS)
	a.do(step{call: "connect", out: []string{"S 1000:1000(0) <mss 1460>"}, states: []tcp.State{tcp.SynSent}})
	a.do(step{in: "R. 0:0(0) ack 1001", states: []tcp.State{tcp.Closed}})

	b := newTestConn(t, cfg, ourISS)
	b.do(step{call: "listen", states: []tcp.State{tcp.Listen}})
	b.do(step{in: "S 5000:5000(0) win 65535 <mss 1460>", out: []string{"S. 1000:1000(0) ack 5001 <mss 1460>"}, states: []tcp.State{tcp.SynReceived}})
	b.do(step{in: ". 5001:5001(0) ack 1001 win 65535", states: []tcp.State{tcp.Established}})
	b.do(step{in: "P. 900000:900010(10) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001"}}) // out of window
	b.do(step{in: "P. 900000:900010(10) ack 1001 win 65535"})                                           // again, within 500 ms: held back
	b.now = b.now.Add(time.Second)
	b.do(step{in: "R 5002:5002(0)", out: []string{". 1001:1001(0) ack 5001"}}) // in window, not exact: challenge
	b.now = b.now.Add(time.Second)
	b.do(step{in: ". 5001:5001(0) ack 9999 win 65535", out: []string{". 1001:1001(0) ack 5001"}}) // acks unsent data: challenge
	b.do(step{call: "abort", out: []string{"R. 1001:1001(0) ack 5001"}, states: []tcp.State{tcp.Closed}})

	for name, c := range map[string]struct{ got, want uint64 }{
		"ActiveOpens":         {k.ActiveOpens.Load(), 1},
		"PassiveOpens":        {k.PassiveOpens.Load(), 1},
		"SegmentsReceived":    {k.SegmentsReceived.Load(), 7},
		"SegmentsSent":        {k.SegmentsSent.Load(), 6},
		"ResetsReceived":      {k.ResetsReceived.Load(), 1},
		"ResetsSent":          {k.ResetsSent.Load(), 1},
		"OutOfWindow":         {k.OutOfWindow.Load(), 2},
		"ChallengeACKs":       {k.ChallengeACKs.Load(), 2},
		"UnacceptableLimited": {k.UnacceptableLimited.Load(), 1},
		"Retransmissions":     {k.Retransmissions.Load(), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", name, c.got, c.want)
		}
	}
}
