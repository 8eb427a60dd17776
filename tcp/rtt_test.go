package tcp

import (
	"testing"
	"time"
)

// The RTT estimator (RFC 6298) on its own: each case is a sequence of
// events and the SRTT, RTTVAR and RTO after them. Instants are in
// milliseconds from 1; sequence numbers are small.
func TestRTTEstimator(t *testing.T) {
	const ms = time.Millisecond
	at := func(m int) instant { return instant(time.Duration(m)*ms) + 1 }
	b := rtoBounds{min: 200 * ms, max: 120 * time.Second}

	// An event: one of the estimator's calls.
	type event func(e *rttEstimator)
	sample := func(r time.Duration) event { return func(e *rttEstimator) { e.sample(r, b) } }
	sent := func(end Seq, m int) event { return func(e *rttEstimator) { e.sent(end, at(m)) } }
	resent := func(seq Seq) event { return func(e *rttEstimator) { e.resent(seq) } }
	acked := func(ack Seq, m int) event {
		return func(e *rttEstimator) {
			if e.samples(ack, false) {
				e.acked(at(m), b)
			}
		}
	}
	echoed := func(ack Seq, r time.Duration, next Seq, m int) event {
		return func(e *rttEstimator) {
			if e.samples(ack, true) {
				e.echoed(r, next, at(m), b)
			}
		}
	}
	backoff := func(e *rttEstimator) { e.backoff(b) }
	cancel := func(e *rttEstimator) { e.cancel() }
	restore := func(e *rttEstimator) { e.restore(time.Second, b) }

	tests := []struct {
		name              string
		events            []event
		srtt, rttvar, rto time.Duration
		timing            bool
	}{
		{name: "none", rto: time.Second},
		// §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR).
		{name: "first sample", events: []event{sample(100 * ms)}, srtt: 100 * ms, rttvar: 50 * ms, rto: 300 * ms},
		// §2.3: RTTVAR = ¾·RTTVAR + ¼·|SRTT-R|, then SRTT = ⅞·SRTT + ⅛·R.
		{name: "second sample", events: []event{sample(100 * ms), sample(200 * ms)},
			srtt: 112500 * time.Microsecond, rttvar: 62500 * time.Microsecond, rto: 362500 * time.Microsecond},
		// §2.4: never below the minimum; §2.5: never above the maximum.
		{name: "floor", events: []event{sample(time.Millisecond)}, srtt: ms, rttvar: ms / 2, rto: 200 * ms},
		{name: "ceiling", events: []event{sample(100 * time.Second)}, srtt: 100 * time.Second, rttvar: 50 * time.Second, rto: 120 * time.Second},
		// §2 G: a steady RTT leaves the variance term at the clock's
		// granularity, not zero.
		// A sample under a microsecond counts as one (Linux's
		// resolution): SRTT 0 would mean no sample at all.
		{name: "granularity", events: []event{sample(0), sample(0)}, srtt: time.Microsecond, rttvar: 375 * time.Nanosecond, rto: 200 * ms},
		// §5.5: each expiry doubles the RTO, up to the maximum.
		{name: "backoff", events: []event{backoff, backoff}, rto: 4 * time.Second},
		{name: "backoff capped", events: []event{sample(50 * time.Second), backoff}, srtt: 50 * time.Second, rttvar: 25 * time.Second, rto: 120 * time.Second},
		// Restoring after a zero-window probe's backoff: from the
		// samples, or at least the initial RTO without one.
		{name: "restore", events: []event{sample(100 * ms), backoff, backoff, restore}, srtt: 100 * ms, rttvar: 50 * ms, rto: 300 * ms},
		{name: "restore without sample", events: []event{cancel, restore}, rto: time.Second},
		// §3: one segment timed at a time; its ACK ends the timing.
		{name: "timed", events: []event{sent(2000, 0), sent(3000, 10), acked(2000, 80)}, srtt: 80 * ms, rttvar: 40 * ms, rto: 240 * ms},
		{name: "partial ack", events: []event{sent(2000, 0), acked(1500, 80)}, rto: time.Second, timing: true},
		// Karn: a retransmission of the timed segment ends its timing ...
		{name: "karn", events: []event{sent(2000, 0), resent(1000), acked(2000, 80)}, rto: time.Second},
		// ... one of later data does not.
		{name: "karn above", events: []event{sent(2000, 0), resent(2000), acked(2000, 80)}, srtt: 80 * ms, rttvar: 40 * ms, rto: 240 * ms},
		{name: "cancel", events: []event{sent(2000, 0), cancel, acked(2000, 80)}, rto: time.Second},
		// RFC 7323 §4: an echoed timestamp gives a sample when no timing
		// runs, and the next waits for the flight up to SND.MAX ...
		{name: "echo", events: []event{echoed(2000, 80*ms, 5000, 80)}, srtt: 80 * ms, rttvar: 40 * ms, rto: 240 * ms},
		// ... so that the next echoes below it are not sampled ...
		{name: "echo within flight", events: []event{echoed(2000, 80*ms, 5000, 80), echoed(3000, 10*ms, 5000, 90)},
			srtt: 80 * ms, rttvar: 40 * ms, rto: 240 * ms},
		// ... and the one that reaches it is.
		// An echo under a tick (0 ms) takes the timing it ends, to
		// the nanosecond, where one runs ...
		{name: "echo under a tick", events: []event{sent(2000, 0), func(e *rttEstimator) {
			if e.samples(2000, true) {
				e.echoed(0, 5000, at(0)+instant(100*time.Microsecond), b)
			}
		}},
			srtt: 100 * time.Microsecond, rttvar: 50 * time.Microsecond, rto: 200 * ms},
		// ... and counts as the least sample where none does.
		{name: "echo under a tick, untimed", events: []event{echoed(2000, 0, 5000, 0)},
			srtt: time.Microsecond, rttvar: 500 * time.Nanosecond, rto: 200 * ms},
		{name: "echo next flight", events: []event{echoed(2000, 80*ms, 5000, 80), echoed(5000, 160*ms, 9000, 170)},
			srtt: 90 * ms, rttvar: 50 * ms, rto: 290 * ms},
		// New data sent after an echo sample is timed from its
		// transmission: the next sample waits for its ACK.
		{name: "echo then timed", events: []event{echoed(2000, 80*ms, 5000, 80), sent(6000, 81), echoed(5000, 80*ms, 9000, 85)},
			srtt: 80 * ms, rttvar: 40 * ms, rto: 240 * ms, timing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rttEstimator{rto: time.Second}
			for _, ev := range tt.events {
				ev(&e)
			}
			if e.srtt != tt.srtt || e.rttvar != tt.rttvar || e.rto != tt.rto || e.timing() != tt.timing {
				t.Errorf("srtt %v rttvar %v rto %v timing %v; want %v %v %v %v",
					e.srtt, e.rttvar, e.rto, e.timing(), tt.srtt, tt.rttvar, tt.rto, tt.timing)
			}
		})
	}
}

// samples says which acknowledgments give a sample, with and without a
// timestamp echo.
func TestRTTEstimatorSamples(t *testing.T) {
	timed := rttEstimator{start: 1, seq: 2000}
	for _, tt := range []struct {
		name string
		e    rttEstimator
		ack  Seq
		echo bool
		want bool
	}{
		{"no timing", rttEstimator{}, 2000, false, false},
		{"no timing, echo", rttEstimator{}, 2000, true, true},
		{"below", timed, 1999, false, false},
		{"below, echo", timed, 1999, true, false},
		{"ends", timed, 2000, false, true},
		{"ends, echo", timed, 2000, true, true},
		{"beyond", timed, 3000, false, true},
	} {
		if got := tt.e.samples(tt.ack, tt.echo); got != tt.want {
			t.Errorf("%s: samples %v, want %v", tt.name, got, tt.want)
		}
	}
	var e rttEstimator
	e.sent(100, 1)
	if r := e.acked(1+instant(30*time.Millisecond), rtoBounds{max: time.Minute}); r != 30*time.Millisecond || e.timing() {
		t.Errorf("acked: %v, timing %v; want 30ms, no timing", r, e.timing())
	}
}

// The least round trip is measured from a transmission to the ACK that
// covers it, to the nanosecond. With timestamps, an ACK that arrives
// soon after the one that gave the last echo sample is not a round trip
// away from it: on a bottleneck link the ACKs of one flight arrive a
// serialization time apart, and taking their distance for a round trip
// made min 5.4 ms on a 40 ms path.
func TestRTTEstimatorMinWithEcho(t *testing.T) {
	const ms = time.Millisecond
	at := func(m int) instant { return instant(time.Duration(m)*ms) + 1 }
	b := rtoBounds{min: 200 * ms, max: time.Minute}
	e := rttEstimator{rto: time.Second}
	ack := func(ack, next Seq, m int) {
		if e.samples(ack, true) {
			e.echoed(40*ms, next, at(m), b)
		}
	}
	e.sent(1000, at(0))
	ack(1000, 9000, 40)   // the first flight's ACK: 40 ms after its send
	e.sent(10000, at(41)) // new data clocked out by it
	ack(5000, 10000, 45)
	ack(9000, 10000, 46) // the rest of the first flight, a few ms later
	ack(10000, 20000, 81)
	if e.min != 40*ms {
		t.Errorf("min %v, want 40ms", e.min)
	}
}
