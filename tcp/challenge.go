package tcp

import (
	"math/rand/v2"
	"sync"
	"time"
)

// ChallengeACKLimiter bounds the challenge ACKs (RFC 5961 §7) a host
// sends each second, across all its connections: a flood of forged RSTs
// or SYNs then costs the host little. The budget of each second is drawn
// at random between half and one and a half times Limit, so that an
// off-path attacker cannot count the challenge ACKs that went out and
// learn from the count whether a guess hit a connection's window
// (CVE-2016-5696). Set Config.ChallengeACKs to share one among Conns; it
// is safe for concurrent use.
type ChallengeACKLimiter struct {
	// Limit is the mean budget per second; 0 means 1000, as Linux's
	// tcp_challenge_ack_limit.
	Limit int

	mu     sync.Mutex
	second int64 // the second the budget is for
	left   int
	rng    *rand.Rand
}

// Allow reports whether one more challenge ACK may go out at now.
func (l *ChallengeACKLimiter) Allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := now.Unix(); s != l.second {
		if l.rng == nil {
			l.rng = rand.New(rand.NewPCG(uint64(now.UnixNano()), 0x5961))
		}
		limit := l.Limit
		if limit <= 0 {
			limit = 1000
		}
		l.second, l.left = s, limit/2+l.rng.IntN(limit+1)
	}
	if l.left <= 0 {
		return false
	}
	l.left--
	return true
}

// challenge sends a challenge ACK (RFC 5961 §3.2, §4.2, §5.2) unless the
// host's budget for this second is spent.
func (c *Conn) challenge(now time.Time) {
	if l := c.cfg.ChallengeACKs; l != nil && !l.Allow(now) {
		c.count(challengeACKsLimited)
		return
	}
	c.count(challengeACKs)
	c.ack()
}
