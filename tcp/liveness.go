package tcp

import "time"

// owesPeer reports whether the connection has something to deliver that
// only a timer can see through if the peer falls silent: a SYN, data or a
// FIN unacknowledged, or data queued and not yet sent. Such a connection
// must always have its retransmission or persist timer running, each of
// which either gets the peer to answer or gives up (checkInvariants).
func (c *Conn) owesPeer() bool {
	switch c.state {
	case Closed, Listen, TimeWait:
		return false
	}
	return c.sndUna != c.sndMax || c.queued() > 0 || c.closed && c.sndUna != c.finSeq+1
}

// LivenessBound is the longest a connection using this Config, with
// keepalive k (nil: off), stays out of CLOSED once its peer has fallen
// silent and its application makes no more calls — unless it is at rest:
// nothing to send and nothing unacknowledged, in ESTABLISHED,
// CLOSE_WAIT, or FIN_WAIT_2 held by its application, without keepalive,
// where RFC 9293 lets it wait for its application or its peer forever.
//
// It is the longest of: the handshake's retransmissions (SynRetries or
// SynAckRetries timeouts, doubling from InitialRTO, RFC 6298 §5.5); a
// synchronized connection's Retries+3 waits of MaxRTO at most (an
// orphan's OrphanRetries+3, as it gives up after OrphanRetries instead:
// the larger of the two counts, since one Config serves both), which are
// one wait before the first transmission (a segment held by pacing, at
// most an RTO: pacingGapLimit), one tail loss probe that put the timeout
// back (RFC 8985 §7.3), the first retransmission timeout, and the
// Retries more before it gives up (behind a zero window the first
// timeout becomes a probe and the probes count instead); keepalive's
// Idle and Count intervals (RFC 1122 §4.2.3.6); an orphan's
// FinWait2Timeout; and TIME_WAIT's 2×MSL (RFC 9293 §3.4.2). Tests
// assert it, and a driver may use it to size its own watchdogs.
func (c *Config) LivenessBound(k *Keepalive) time.Duration {
	maxRTO := max(c.maxRTO(), c.initialRTO())
	backoff := func(tries int) time.Duration {
		var sum time.Duration
		for d, i := c.initialRTO(), 0; i <= tries; i++ {
			sum += d
			d = min(2*d, maxRTO)
		}
		return sum
	}
	bound := max(backoff(c.synRetries()), backoff(c.synAckRetries()))
	bound = max(bound, time.Duration(max(c.retries(), c.orphanRetries())+3)*maxRTO)
	bound = max(bound, orDefault(c.FinWait2Timeout, DefaultFinWait2Timeout), 2*c.msl())
	if k != nil {
		idle := orDefault(k.Idle, DefaultKeepaliveIdle)
		interval := orDefault(k.Interval, DefaultKeepaliveInterval)
		bound = max(bound, idle+time.Duration(orDefault(k.Count, DefaultKeepaliveCount))*interval)
	}
	return bound
}
