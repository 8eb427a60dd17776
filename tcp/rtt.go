package tcp

import "time"

// rttEstimator is a connection's round-trip time estimator and
// retransmission timeout (RFC 6298): SRTT and RTTVAR from the samples
// (§2), the RTO they give, its exponential backoff (§5.5), and the
// timing of one segment at a time without samples from retransmitted
// ones (Karn's algorithm, §3). It knows sequence numbers and instants,
// not the connection: the Conn tells it what was sent and acknowledged,
// and reads srtt, rttvar, rto and min directly. 48 bytes, held by value.
type rttEstimator struct {
	srtt, rttvar time.Duration // 0 until the first sample
	rto          time.Duration
	// min is the least round trip measured to the nanosecond: by the
	// timing of a segment (the handshake's included) or by the
	// delivery-rate sampler (rate.go), not by a timestamp echo, whose
	// milliseconds would round it down. 0 before the first. It is the
	// min_rtt of draft-cheng-iccrg-delivery-rate-estimation §3.3 and of
	// ss's minrtt; unlike BBR's min_rtt filter it never expires.
	min   time.Duration
	start instant // when the segment being timed was sent; 0: none is
	seq   Seq     // the acknowledgment that ends its timing
	// backoffs counts the doublings of the RTO since the last sample or
	// restore: Linux's icsk_backoff (tcpi_backoff), which it resets
	// on an RTT sample as RFC 6298 §5.7 lets it.
	backoffs uint8
}

// rtoBounds are the least and the greatest RTO (RFC 6298 §2.4, §2.5).
type rtoBounds struct{ min, max time.Duration }

// rtoBounds returns the Config's bounds on the RTO.
func (c *Config) rtoBounds() rtoBounds { return rtoBounds{c.minRTO(), c.maxRTO()} }

// clockGranularity is G of RFC 6298 §2: the least the variance term
// adds to the RTO.
const clockGranularity = time.Millisecond

// computed is the RTO from SRTT and RTTVAR (RFC 6298 §2.2, §2.3), within
// b (§2.4, §2.5).
func (e *rttEstimator) computed(b rtoBounds) time.Duration {
	return min(max(e.srtt+max(clockGranularity, 4*e.rttvar), b.min), b.max)
}

// minSample is the least round trip a sample counts as: Linux's
// resolution (it keeps SRTT in microseconds, at least 1). A sample under
// it, a path inside one host, would leave SRTT at 0, which means "no
// sample yet": the RTO and the probe timeout (RFC 8985 §7.2) would stay
// at their initial values on the fastest paths.
const minSample = time.Microsecond

// sample folds a round-trip measurement r into SRTT and RTTVAR and
// recomputes the RTO (RFC 6298 §2.2, §2.3: α = 1/8, β = 1/4).
func (e *rttEstimator) sample(r time.Duration, b rtoBounds) {
	r = max(r, minSample)
	if e.srtt == 0 {
		e.srtt, e.rttvar = r, r/2
	} else {
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = (3*e.rttvar + d) / 4
		e.srtt = (7*e.srtt + r) / 8
	}
	e.rto = e.computed(b)
	e.backoffs = 0
}

// backoff doubles the RTO, up to b.max, as an expiry of the timer it
// sets asks (RFC 6298 §5.5).
func (e *rttEstimator) backoff(b rtoBounds) {
	e.rto = min(2*e.rto, b.max)
	if e.backoffs < ^uint8(0) {
		e.backoffs++
	}
}

// restore takes back the backoff of zero-window probes once the window
// opens: the RTO from the samples, or without any at least initial.
func (e *rttEstimator) restore(initial time.Duration, b rtoBounds) {
	e.backoffs = 0
	if e.srtt == 0 {
		e.rto = max(e.rto, initial)
		return
	}
	e.rto = e.computed(b)
}

// timing reports whether a segment is being timed.
func (e *rttEstimator) timing() bool { return e.start != 0 }

// sent starts timing a segment of new data sent at at, whose
// acknowledgment is one at or beyond end, unless one is being timed
// already: one measurement per round trip (RFC 6298 §3).
func (e *rttEstimator) sent(end Seq, at instant) {
	if e.start == 0 {
		e.start, e.seq = at, end
	}
}

// resent applies Karn's algorithm (RFC 6298 §3) to a retransmission
// starting at seq: if it covers the segment being timed, the ACK will
// not tell which transmission it answers, and the timing stops.
func (e *rttEstimator) resent(seq Seq) {
	if e.start != 0 && seq.LessThan(e.seq) {
		e.start = 0
	}
}

// cancel stops the timing: what is in flight will be sent again (a
// timeout, fast recovery, a smaller MSS).
func (e *rttEstimator) cancel() { e.start = 0 }

// samples reports whether an acknowledgment of ack gives a sample:
// without a timestamp echo, if it ends the timing; with one (echo), if
// it ends the timing or, when none runs, reaches the end of the flight
// the last echo sample saw (seq). Every echo could give a sample,
// retransmissions included (RFC 7323 §4), but one per round trip is
// taken, as without timestamps.
func (e *rttEstimator) samples(ack Seq, echo bool) bool {
	if e.start == 0 {
		return echo && ack.GreaterThanEq(e.seq)
	}
	return ack.GreaterThanEq(e.seq)
}

// acked samples the round trip of the timed segment, whose
// acknowledgment arrived at at (samples said it ends the timing), and
// returns it.
func (e *rttEstimator) acked(at instant, b rtoBounds) time.Duration {
	r := time.Duration(at - e.start)
	e.start = 0
	e.sample(r, b)
	e.noteMin(r)
	return r
}

// noteMin keeps the least round trip r measured to the nanosecond.
func (e *rttEstimator) noteMin(r time.Duration) {
	if r > 0 && (e.min == 0 || r < e.min) {
		e.min = r
	}
}

// echoed samples r, a round trip measured by a timestamp echo that
// arrived at at (samples said it gives one). The next echo sample waits
// until next (SND.MAX) is acknowledged, or for the ACK of the next
// segment timed (sent), whichever is timed: the timing restarts with a
// transmission, never at an ACK's arrival, whose distance to a later
// ACK is not a round trip. An echo shorter than the timestamp clock's
// tick (r is 0: the round trip took under a millisecond) is replaced by
// the timing that ended with it, if one did: a path inside one host
// keeps its sub-millisecond SRTT, as Linux, which times its segments in
// microseconds and falls back on the echo only when it has nothing
// better (tcp_ack_update_rtt).
func (e *rttEstimator) echoed(r time.Duration, next Seq, at instant, b rtoBounds) {
	if e.start != 0 {
		timed := time.Duration(at - e.start)
		e.noteMin(timed) // the timing ended too, to the nanosecond
		if r < clockGranularity {
			r = timed
		}
	}
	e.sample(r, b)
	e.start, e.seq = 0, next
}
