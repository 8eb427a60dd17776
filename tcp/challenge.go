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

// replyInterval is the least time between two replies to unacceptable
// segments on one connection (RFC 5961 §7; Linux's tcp_invalid_ratelimit,
// 500 ms): a flood of forged or stale segments cannot turn into a flood
// of ACKs, nor two confused peers into an ACK storm.
const replyInterval = 500 * time.Millisecond

// replyLimit is a connection's limit on the ACKs it sends in answer to
// unacceptable segments, whatever made them unacceptable: a sequence
// number outside the window, a PAWS failure, an ACK number outside
// [SND.UNA - MAX.SND.WND, SND.NXT], a RST in the window but not at
// RCV.NXT, a SYN (RFC 5961 §3-§5). One limit holds all of them, as
// Linux's last_oow_ack_time does, so that no kind of forged segment
// draws more ACKs than another. The control block and the TIME_WAIT
// record that replaces it keep the same one. Linux spares segments that
// carry data or a FIN (tcp_oow_rate_limited: "not likely part of an ACK
// loop"); we do not, since a forger can send data as easily as bare
// ACKs, and spare only the peer's retransmitted FIN in TIME_WAIT, whose
// sequence number a forger cannot know.
type replyLimit struct {
	// last is when a reply last went, in milliseconds since the
	// connection's epoch plus one (0: never); it wraps every 49 days,
	// harmless for a rate limit, and takes 4 bytes.
	last uint32
}

// allow reports whether a reply may go elapsed after the epoch, and if
// so counts it as sent; a reply held back is counted in cfg's Counters.
func (l *replyLimit) allow(elapsed time.Duration, cfg *Config) bool {
	ms := uint32(elapsed/time.Millisecond) + 1
	if l.last != 0 && ms-l.last < uint32(replyInterval/time.Millisecond) {
		cfg.count(unacceptableLimited)
		return false
	}
	l.last = ms
	return true
}

// allowChallenge reports whether a challenge ACK (RFC 5961 §3.2, §4.2,
// §5.2) may go: the connection's limit first, then the host's budget for
// the second, if cfg has one (§7), in Linux's order.
func (l *replyLimit) allowChallenge(elapsed time.Duration, now time.Time, cfg *Config) bool {
	if !l.allow(elapsed, cfg) {
		return false
	}
	if h := cfg.ChallengeACKs; h != nil && !h.Allow(now) {
		cfg.count(challengeACKsLimited)
		return false
	}
	cfg.count(challengeACKs)
	return true
}

// replyUnacceptable answers an unacceptable segment with an ACK (RFC 9293
// §3.10.7.4, first), unless the connection's limit holds it back; dup
// is what the segment brought again, for a D-SACK block (ackDSACK).
func (c *Conn) replyUnacceptable(now time.Time, dup seqRange) {
	if c.replies.allow(c.elapsed(now), c.cfg) {
		c.ackDSACK(dup)
	}
}

// challenge sends a challenge ACK (RFC 5961 §3.2, §4.2, §5.2) unless
// the connection's limit or the host's budget holds it back.
func (c *Conn) challenge(now time.Time) {
	if c.replies.allowChallenge(c.elapsed(now), now, c.cfg) {
		c.ack()
	}
}

// elapsed is the time from the connection's epoch to now.
func (c *Conn) elapsed(now time.Time) time.Duration { return time.Duration(c.at(now) - 1) }
