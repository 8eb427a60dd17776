package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The challenge ACKs of a second share one randomized budget across
// connections (RFC 5961 §7): a flood of in-window RSTs to 100
// connections gets at most about Limit×1.5 answers a second, and the
// budget refills the next second. Each connection's own limit (one reply
// to an unacceptable segment per 500 ms) is checked first, as in Linux.
func TestChallengeACKLimit(t *testing.T) {
	var k tcp.Counters
	limiter := &tcp.ChallengeACKLimiter{Limit: 10}
	cfg := plain(tcp.Config{ChallengeACKs: limiter, Counters: &k, DelayedAck: -1}, withoutNagle)
	var conns []*testConn
	for range 100 {
		conns = append(conns, openWith(t, cfg))
	}
	for _, c := range conns {
		c.in("R 5100:5100(0)") // in the window, not exact: challenge
		c.in("R 5100:5100(0)") // held back by the connection's limit
	}
	sent := k.ChallengeACKs.Load()
	if sent < 5 || sent > 15 || sent+k.ChallengeLimited.Load() != 100 || k.UnacceptableLimited.Load() != 100 {
		t.Errorf("%d challenge ACKs sent, %d held back by the host's budget and %d by the connections' limits of 200, want 5–15 sent, the rest held back by the budget, 100 by the limits",
			sent, k.ChallengeLimited.Load(), k.UnacceptableLimited.Load())
	}
	a := conns[len(conns)-1]
	a.now = a.now.Add(time.Second)
	a.in("R 5100:5100(0)")
	if k.ChallengeACKs.Load() != sent+1 {
		t.Error("the budget did not refill the next second")
	}
	// Without a host-wide limiter every challenge the connection's
	// limit lets through is answered.
	c := openWith(t, plain(tcp.Config{DelayedAck: -1}))
	for range 20 {
		c.do(step{in: "R 5100:5100(0)", out: []string{". 1001:1001(0) ack 5001"}})
		c.now = c.now.Add(500 * time.Millisecond)
	}
}
