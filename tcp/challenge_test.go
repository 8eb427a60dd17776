package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The challenge ACKs of a second share one randomized budget across
// connections (RFC 5961 §7): a flood of in-window RSTs gets at most about
// Limit×1.5 answers a second, and the budget refills the next second.
func TestChallengeACKLimit(t *testing.T) {
	var k tcp.Counters
	limiter := &tcp.ChallengeACKLimiter{Limit: 10}
	cfg := plain(tcp.Config{ChallengeACKs: limiter, Counters: &k, DelayedAck: -1}, withoutNagle)
	a, b := openWith(t, cfg), openWith(t, cfg)
	for i := 0; i < 50; i++ {
		a.in("R 5100:5100(0)") // in the window, not exact: challenge
		b.in("R 5100:5100(0)")
	}
	sent := k.ChallengeACKs.Load()
	if sent < 5 || sent > 15 || sent+k.ChallengeLimited.Load() != 100 {
		t.Errorf("%d challenge ACKs sent and %d held back of 100, want 5–15 sent", sent, k.ChallengeLimited.Load())
	}
	a.now = a.now.Add(time.Second)
	a.in("R 5100:5100(0)")
	if k.ChallengeACKs.Load() != sent+1 {
		t.Error("the budget did not refill the next second")
	}
	// Without a limiter every challenge is answered.
	c := openWith(t, plain(tcp.Config{DelayedAck: -1}))
	for i := 0; i < 20; i++ {
		c.do(step{in: "R 5100:5100(0)", out: []string{". 1001:1001(0) ack 5001"}})
	}
}
