package tcp

import (
	"math"
	"time"
)

// HyStart++ (RFC 9406): slow start that ends before it overflows the
// bottleneck's queue. Slow start doubles the window every round trip
// until a loss; with a deep drop-tail buffer the round that finds the
// buffer full has sent twice what the path holds, and half of it is
// lost at once. HyStart++ watches the least RTT of each round instead:
// once it has risen by a threshold over the last round's (a queue is
// building), slow start gives way to Conservative Slow Start (CSS),
// which grows the window a quarter as fast; if the RTT falls back below
// the one that started CSS, the rise was jitter and slow start resumes;
// after CSS_ROUNDS rounds of CSS, slow start ends where the window is,
// ssthresh = cwnd, and congestion avoidance takes over. Loss ends slow
// start or CSS as it always does (§4.2).
//
// NewReno and Cubic run it in their initial slow start, as RFC 9406
// §4.3 recommends (Linux's CUBIC has its own HyStart on by default);
// Config.NoHyStart turns it off, and PlainConfig has it off. The RTT
// samples come from RACK (rack.go), one per ACK that delivers data: the
// round trip of the last transmission it delivers, as Linux's
// congestion controls are given. A connection without RACK-TLP (no SACK,
// or Config.NoRACK) takes one RTT sample a round, fewer than HyStart++
// needs, and so runs plain slow start, but for the larger per-ACK limit.

// HyStart++'s constants (RFC 9406 §4.3).
const (
	hsMinRTTThresh     = 4 * time.Millisecond  // MIN_RTT_THRESH
	hsMaxRTTThresh     = 16 * time.Millisecond // MAX_RTT_THRESH
	hsMinRTTDivisor    = 8                     // MIN_RTT_DIVISOR
	hsNRTTSample       = 8                     // N_RTT_SAMPLE
	hsCSSGrowthDivisor = 4                     // CSS_GROWTH_DIVISOR
	hsCSSRounds        = 5                     // CSS_ROUNDS
	// hsL is L, in segments, for a connection that is not paced: the
	// most an ACK may grow the window by (§4.3, after RFC 3465). A paced
	// one has no limit.
	hsL = 8
)

// hsNone is an RTT not measured: the RFC's infinity.
const hsNone = time.Duration(math.MaxInt64)

// hyStartPhase is where a connection is in HyStart++.
type hyStartPhase uint8

const (
	hsOff       hyStartPhase = iota // not run: plain slow start (RFC 5681, RFC 3465's L = 2)
	hsSlowStart                     // slow start, watching the RTT
	hsCSS                           // Conservative Slow Start
	hsDone                          // slow start ended: plain slow start from now on (§4.3)
)

// hyStart is a congestion control's HyStart++ state (RFC 9406 §4.2):
// the rounds, the least RTT of this one and of the last, and the phase.
// 32 bytes, held by value; the zero hyStart is off. The controller asks
// it how much an ACK grows the window in slow start (increase), and the
// connection gives it each RTT sample (sampled), which tells the
// controller when slow start ends.
type hyStart struct {
	// windowEnd is the sequence number whose acknowledgment ends the
	// round: SND.NXT when the round began.
	windowEnd Seq
	phase     hyStartPhase
	paced     bool  // L = infinity (§4.3)
	samples   uint8 // rttSampleCount this round, up to hsNRTTSample
	cssRounds uint8 // rounds begun in CSS, the one it began in included
	// lastRoundMinRTT and currentRoundMinRTT are the least RTT of the
	// last round and of this one; cssBaselineMinRTT the round's least
	// when CSS began. hsNone: none.
	lastRoundMinRTT, currentRoundMinRTT, cssBaselineMinRTT time.Duration
}

// start turns HyStart++ on, the first round ending with the
// acknowledgment of next (SND.NXT), and paced saying the connection is
// paced.
func (h *hyStart) start(next Seq, paced bool) {
	*h = hyStart{
		windowEnd: next, phase: hsSlowStart, paced: paced,
		lastRoundMinRTT: hsNone, currentRoundMinRTT: hsNone, cssBaselineMinRTT: hsNone,
	}
}

// running reports whether slow start is under HyStart++, in slow start
// proper or in CSS.
func (h *hyStart) running() bool { return h.phase == hsSlowStart || h.phase == hsCSS }

// end stops HyStart++ for good: a loss, or a timeout, ended slow start
// (§4.2), and any slow start after it is plain (§4.3).
func (h *hyStart) end() {
	if h.phase != hsOff {
		h.phase = hsDone
	}
}

// restart is for slow start from the restart window after an idle
// period (RFC 5681 §4.1), which HyStart++ may grow (RFC 9406 §4.3): in
// slow start proper, with the RTT measured afresh, since what it was
// before the pause says nothing of the queue after it.
func (h *hyStart) restart() {
	if h.running() {
		h.phase, h.samples = hsSlowStart, 0
		h.lastRoundMinRTT, h.currentRoundMinRTT, h.cssBaselineMinRTT = hsNone, hsNone, hsNone
	}
}

// increase returns how much an ACK of bytes newly acknowledged grows the
// window in slow start, for segments of mss bytes: min(N, L·SMSS), over
// CSS_GROWTH_DIVISOR in CSS (§4.2). Without HyStart++, and after it,
// RFC 3465's limit of L = 2 applies.
func (h *hyStart) increase(bytes, mss int) int {
	switch h.phase {
	case hsSlowStart:
		return h.limit(bytes, mss)
	case hsCSS:
		return h.limit(bytes, mss) / hsCSSGrowthDivisor
	}
	return min(bytes, 2*mss)
}

// limit is min(bytes, L·SMSS).
func (h *hyStart) limit(bytes, mss int) int {
	if h.paced {
		return bytes
	}
	return min(bytes, hsL*mss)
}

// sampled takes rtt, the round trip an ACK of ack measured, with next
// the sequence number the next new segment will carry (SND.NXT), and
// reports whether slow start is over: CSS has lasted CSS_ROUNDS rounds,
// and the controller is to set ssthresh to its window (§4.2). It
// begins a new round if ack ends the last (§4.2: windowEnd), then keeps
// the least RTT of the round and, with N_RTT_SAMPLE samples taken,
// moves from slow start to CSS on a rise of the RTT over the last
// round's, or back from CSS to slow start on a fall below the one CSS
// began with.
func (h *hyStart) sampled(rtt time.Duration, ack, next Seq) (exit bool) {
	if !h.running() {
		return false
	}
	if ack.GreaterThanEq(h.windowEnd) {
		h.windowEnd = next
		h.lastRoundMinRTT, h.currentRoundMinRTT, h.samples = h.currentRoundMinRTT, hsNone, 0
		if h.phase == hsCSS {
			// A round that CSS began in counts as one of its rounds.
			if h.cssRounds++; h.cssRounds >= hsCSSRounds {
				h.phase = hsDone
				return true
			}
		}
	}
	h.currentRoundMinRTT = min(h.currentRoundMinRTT, rtt)
	if h.samples < hsNRTTSample {
		h.samples++
	}
	if h.samples < hsNRTTSample {
		return false
	}
	switch h.phase {
	case hsSlowStart:
		if h.lastRoundMinRTT == hsNone {
			break // the first round: nothing to rise over
		}
		thresh := max(hsMinRTTThresh, min(h.lastRoundMinRTT/hsMinRTTDivisor, hsMaxRTTThresh))
		if h.currentRoundMinRTT >= h.lastRoundMinRTT+thresh {
			h.phase, h.cssBaselineMinRTT, h.cssRounds = hsCSS, h.currentRoundMinRTT, 0
		}
	case hsCSS:
		if h.currentRoundMinRTT < h.cssBaselineMinRTT {
			// The rise was a spike: back to slow start, HyStart++ and all.
			h.phase, h.cssBaselineMinRTT = hsSlowStart, hsNone
		}
	}
	return false
}

// startHyStart turns HyStart++ on in cc, a congestion control just
// made, if it runs it (NewReno, Cubic), it is in its initial slow start
// (RFC 9406 §4.3: ssthresh is still the initial, arbitrarily high one)
// and the Config does not turn it off.
func (c *Conn) startHyStart(cc CongestionControl) {
	var h *hyStart
	switch cc := cc.(type) {
	case *Cubic:
		h = &cc.hs
	case *NewReno:
		h = &cc.hs
	}
	if h == nil || c.cfg.NoHyStart || cc.SlowStartThreshold() != initialSsthresh {
		return
	}
	h.start(c.sndMax, pacingMode(cc, c.cfg) != pacingOff)
}

// initialSsthresh is the initial ssthresh of NewReno and Cubic:
// arbitrarily high (RFC 5681 §3.1).
const initialSsthresh = math.MaxInt32

// hyStartSample gives the connection's congestion control, if it runs
// HyStart++, the RTT sample rtt that an ACK gave (RACK's, rack.go), with
// SND.UNA and SND.NXT (SND.MAX: the same in slow start) for its rounds.
// The concrete types are switched on, not an interface asserted: this
// runs on every ACK.
func (c *Conn) hyStartSample(rtt time.Duration) {
	if c.cc == nil || rtt <= 0 {
		return
	}
	switch cc := c.cc.UndoableCongestionControl.(type) {
	case *Cubic:
		if cc.hs.running() && cc.hs.sampled(rtt, c.sndUna, c.sndMax) {
			cc.ssthresh = cc.cwnd // §4.2: CSS is over
		}
	case *NewReno:
		if cc.hs.running() && cc.hs.sampled(rtt, c.sndUna, c.sndMax) {
			cc.ssthresh = cc.cwnd
		}
	}
}
