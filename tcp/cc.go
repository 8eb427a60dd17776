package tcp

import (
	"math"
	"time"
)

// CongestionControl decides how many bytes a connection may have in
// flight: the congestion window of RFC 5681. The engine tells it what
// happened — data acknowledged, loss found by duplicate ACKs or SACK, a
// retransmission timeout — and asks it for the window. Loss recovery
// itself (what to retransmit, RFC 6675 and RFC 6582) is the engine's.
//
// NewReno, NewCubic and NewBBR are the three provided;
// Config.CongestionControl chooses, CUBIC by default as in Linux. One may
// also undo its response to a timeout or a fast recovery found spurious
// (UndoableCongestionControl).
type CongestionControl interface {
	// Window is the congestion window, in bytes.
	Window() int
	// SlowStartThreshold is ssthresh, in bytes.
	SlowStartThreshold() int
	// Acked reports bytes newly acknowledged outside loss recovery, with
	// the smoothed RTT (0 if none yet).
	Acked(bytes int, srtt time.Duration, now time.Time)
	// Congestion reports loss found by duplicate ACKs or SACK with
	// flight bytes outstanding: the start of fast recovery. The window
	// becomes the new ssthresh, which the engine's Proportional Rate
	// Reduction (RFC 9937) brings the data in flight down to over the
	// recovery's round trip.
	Congestion(flight int, now time.Time)
	// Timeout reports a retransmission timeout with flight bytes
	// outstanding: the window falls to one segment (RFC 5681 §3.1).
	Timeout(flight int, now time.Time)
	// Restart reports that the connection was idle for longer than an
	// RTO: the window falls back to the initial window (RFC 5681 §4.1).
	Restart(now time.Time)
}

// UndoableCongestionControl is a CongestionControl that can take back
// its response to the last Timeout or Congestion once it proves
// spurious: the ACK that ends a timeout, or that acknowledges a fast
// recovery's first retransmission, echoes a timestamp older than the
// retransmission's, so it acknowledges the original transmission (Eifel
// detection, RFC 3522); or the peer reports every retransmission of a
// fast recovery as a duplicate (D-SACK, RFC 3708). The response
// (RFC 4015 §4, RFC 3708 §5) restores the window and ssthresh as they
// were. It is optional: a connection checks for it once, when it makes
// its congestion control, and one without it keeps its reduced window
// after a spurious timeout or recovery. NewReno and Cubic implement it.
type UndoableCongestionControl interface {
	CongestionControl
	// Undo returns to the state before the last Timeout or Congestion,
	// with a window no smaller than the present one (as Linux's
	// tcp_undo_cwnd_reduction); a second Undo does nothing.
	Undo()
}

// RecoveryOptOut is a CongestionControl that keeps its own window
// through fast recovery. By default the engine paces fast recovery with
// Proportional Rate Reduction (RFC 9937): it takes the window the
// controller set when recovery began for a target (ssthresh) that the
// flight reaches over the round trip, and while the pipe is above it,
// lets out on each ACK a share of what the ACK delivered, the window
// notwithstanding; below it, what was delivered, and a segment more on
// an ACK that finds no new loss. That suits a controller whose response
// to loss is that one reduction (Reno, CUBIC). BBR (draft-ietf-ccwg-bbr
// §5.6.4.4) makes no reduction on entry: it sets its window on every
// ACK from its model's bounds, which a round with loss or ProbeRTT may
// cut below the pipe, and under PRR those cuts would be overridden by
// PRR's share. A controller that opts
// out has, in recovery, the pipe (RFC 6675 §4) held to Window, as
// outside it; the retransmissions still come first. It is optional,
// looked for once, when the connection makes its congestion control.
type RecoveryOptOut interface {
	CongestionControl
	// OwnsRecovery reports whether the window holds in fast recovery:
	// true means no PRR.
	OwnsRecovery() bool
}

// noUndo gives a CongestionControl without Undo one that does nothing.
type noUndo struct{ CongestionControl }

func (noUndo) Undo() {}

// undoable returns cc with its Undo, or one that does nothing if it has
// none.
func undoable(cc CongestionControl) UndoableCongestionControl {
	if u, ok := cc.(UndoableCongestionControl); ok {
		return u
	}
	return noUndo{cc}
}

// initialWindow is RFC 6928's initial window: ten segments (as Linux),
// or less for large segments.
func initialWindow(mss int) int { return min(10*mss, max(2*mss, 14600)) }

// NewReno is the congestion control of RFC 5681 (slow start with
// appropriate byte counting, RFC 3465, L = 2; congestion avoidance of one
// segment per window; halving on loss), its initial slow start under
// HyStart++ (RFC 9406, hystart.go) unless Config.NoHyStart.
type NewReno struct {
	mss, cwnd, ssthresh int
	acked               int    // bytes counted towards the next increase in congestion avoidance
	prior               [2]int // cwnd and ssthresh before the last reduction, for Undo
	priorHS             hyStartPhase
	hs                  hyStart
}

// NewNewReno returns RFC 5681 congestion control for segments of mss
// bytes.
func NewNewReno(mss int) CongestionControl {
	return &NewReno{mss: mss, cwnd: initialWindow(mss), ssthresh: initialSsthresh}
}

// Window implements CongestionControl.
func (r *NewReno) Window() int { return r.cwnd }

// SlowStartThreshold implements CongestionControl.
func (r *NewReno) SlowStartThreshold() int { return r.ssthresh }

// Acked implements CongestionControl.
func (r *NewReno) Acked(bytes int, _ time.Duration, _ time.Time) {
	if r.cwnd < r.ssthresh {
		r.cwnd += r.hs.increase(bytes, r.mss) // RFC 3465 §2.2, or RFC 9406 §4.2
		return
	}
	r.acked += bytes
	if r.acked >= r.cwnd { // RFC 5681 §3.1 eq. 3 by byte counting
		r.acked -= r.cwnd
		r.cwnd += r.mss
	}
}

// Congestion implements CongestionControl (RFC 5681 §3.2 step 2).
func (r *NewReno) Congestion(flight int, _ time.Time) {
	r.prior, r.priorHS = [2]int{r.cwnd, r.ssthresh}, r.hs.phase
	r.hs.end() // RFC 9406 §4.2
	r.ssthresh = max(flight/2, 2*r.mss)
	r.cwnd, r.acked = r.ssthresh, 0
}

// Timeout implements CongestionControl (RFC 5681 §3.1 eq. 4).
func (r *NewReno) Timeout(flight int, _ time.Time) {
	r.prior, r.priorHS = [2]int{r.cwnd, r.ssthresh}, r.hs.phase
	r.hs.end()
	r.ssthresh = max(flight/2, 2*r.mss)
	r.cwnd, r.acked = r.mss, 0
}

// Restart implements CongestionControl.
func (r *NewReno) Restart(time.Time) {
	r.cwnd = min(r.cwnd, initialWindow(r.mss))
	r.hs.restart()
}

// Undo implements UndoableCongestionControl: it returns to the window
// before the last timeout or recovery, which proved spurious
// (RFC 4015 §4, RFC 3708 §5).
func (r *NewReno) Undo() {
	if r.prior[0] != 0 {
		r.cwnd, r.ssthresh = max(r.cwnd, r.prior[0]), max(r.ssthresh, r.prior[1])
		r.prior, r.hs.phase = [2]int{}, r.priorHS
	}
}

// Cubic is CUBIC congestion control (RFC 9438): after a loss the window
// follows a cubic function of the time since, flat around the window
// where the loss happened, so it regains its rate quickly on long fat
// paths while staying at least as fast as Reno (the "Reno-friendly"
// region, §4.3). Its initial slow start runs HyStart++ (RFC 9406,
// hystart.go), as Linux's CUBIC runs HyStart, unless Config.NoHyStart.
type Cubic struct {
	mss, cwnd, ssthresh int
	wMax                float64   // window before the last reduction, in segments
	wLastMax            float64   // for fast convergence (§4.7)
	k                   float64   // seconds from epoch to reach wMax
	epoch               time.Time // start of the current congestion-avoidance epoch; zero: none
	wEst                float64   // the Reno-friendly estimate, in segments (§4.3)
	acked               int       // bytes counted in slow start or towards wEst
	prior               *Cubic    // the state before the last reduction, for Undo; nil: none
	hs                  hyStart
}

// CUBIC's constants (RFC 9438 §4.1, §4.6).
const (
	cubicC    = 0.4
	cubicBeta = 0.7
)

// NewCubic returns CUBIC congestion control for segments of mss bytes.
func NewCubic(mss int) CongestionControl {
	return &Cubic{mss: mss, cwnd: initialWindow(mss), ssthresh: initialSsthresh}
}

// Window implements CongestionControl.
func (c *Cubic) Window() int { return c.cwnd }

// SlowStartThreshold implements CongestionControl.
func (c *Cubic) SlowStartThreshold() int { return c.ssthresh }

// Acked implements CongestionControl.
func (c *Cubic) Acked(bytes int, srtt time.Duration, now time.Time) {
	if c.cwnd < c.ssthresh {
		c.cwnd += c.hs.increase(bytes, c.mss) // slow start as Reno's (§4.10)
		return
	}
	seg := float64(c.mss)
	cwnd := float64(c.cwnd) / seg
	if c.epoch.IsZero() {
		c.epoch = now
		if cwnd < c.wMax {
			c.k = math.Cbrt((c.wMax - cwnd) / cubicC) // §4.2 eq. 2, from the current window
		} else {
			c.k, c.wMax = 0, cwnd
		}
		c.wEst = cwnd
	}
	t := now.Sub(c.epoch) + srtt // the window one RTT ahead (§4.2)
	target := cubicC*math.Pow(t.Seconds()-c.k, 3) + c.wMax
	// Reno-friendly estimate (§4.3): grows by α per window acknowledged,
	// α = 3(1-β)/(1+β).
	alpha := 3 * (1 - cubicBeta) / (1 + cubicBeta)
	if c.wEst >= c.wMax {
		alpha = 1
	}
	c.wEst += alpha * float64(bytes) / float64(c.cwnd)
	switch {
	case c.wEst > target:
		target = c.wEst
	case target > 1.5*cwnd:
		target = 1.5 * cwnd // §4.2: at most ×1.5 per RTT
	}
	if target > cwnd {
		// (target - cwnd)/cwnd segments per segment acknowledged.
		c.acked += bytes
		inc := int((target - cwnd) / cwnd * float64(c.acked))
		if inc > 0 {
			c.cwnd += inc
			c.acked = 0
		}
	}
}

// Congestion implements CongestionControl (RFC 9438 §4.6, §4.7).
func (c *Cubic) Congestion(flight int, _ time.Time) {
	c.save()
	c.reduce(flight)
	c.hs.end() // RFC 9406 §4.2
}

// save keeps the state before a reduction, for Undo, in the copy the
// last one kept: a connection allocates it once.
func (c *Cubic) save() {
	p := c.prior
	if p == nil {
		p = new(Cubic)
	}
	*p = *c
	p.prior = nil
	c.prior = p
}

// reduce is the multiplicative decrease (RFC 9438 §4.6) with fast
// convergence (§4.7).
func (c *Cubic) reduce(flight int) {
	cwnd := float64(c.cwnd) / float64(c.mss)
	if cwnd < c.wLastMax { // fast convergence: another flow is taking its share
		c.wLastMax = cwnd
		c.wMax = cwnd * (1 + cubicBeta) / 2
	} else {
		c.wLastMax = cwnd
		c.wMax = cwnd
	}
	c.ssthresh = max(int(float64(flight)*cubicBeta), 2*c.mss)
	c.cwnd, c.acked = c.ssthresh, 0
	c.epoch = time.Time{}
}

// Timeout implements CongestionControl (RFC 9438 §4.8).
func (c *Cubic) Timeout(flight int, _ time.Time) {
	c.save()
	c.reduce(flight)
	c.hs.end()
	c.cwnd = c.mss
}

// Undo implements UndoableCongestionControl: it returns to the state
// before the last timeout or recovery, which proved spurious
// (RFC 4015 §4, RFC 3708 §5, RFC 9438 §4.9).
func (c *Cubic) Undo() {
	if p := c.prior; p != nil {
		cwnd := c.cwnd
		*c = *p // p.prior is nil: a second Undo does nothing
		c.cwnd = max(c.cwnd, cwnd)
	}
}

// Restart implements CongestionControl.
func (c *Cubic) Restart(time.Time) {
	c.cwnd = min(c.cwnd, initialWindow(c.mss))
	c.epoch = time.Time{}
	c.hs.restart()
}
