package tcp

import (
	"math"
	"time"
)

// BBR congestion control, version 3, as draft-ietf-ccwg-bbr-06 ("the
// draft" below) describes it: a model-based controller that estimates
// the path's bottleneck bandwidth (BBR.max_bw, a windowed maximum of
// delivery-rate samples over two bandwidth-probing cycles) and its
// round-trip propagation delay (BBR.min_rtt, a windowed minimum of RTT
// samples over 10 s), and sends at about that bandwidth (pacing) with
// about that bandwidth-delay product in flight (cwnd), rather than
// filling the bottleneck's buffer until it overflows. Loss is a signal
// it heeds — above 2% per round trip while probing it bounds the flight
// (BBR.inflight_longterm, "inflight_hi" in earlier drafts); in a round
// with loss above 2% while not probing it lowers its short-term bounds
// (BBR.bw_shortterm and BBR.inflight_shortterm, "bw_lo" and
// "inflight_lo") by at most 30% — so random loss of a percent does not
// collapse its rate as it does Reno's or CUBIC's. Two departures from
// the draft, both to tell random loss from congestion: a loss rate is
// above 2% only beyond chance, by two standard deviations of a count
// at 2% (lossRateAbove), and the short-term bounds fall only after a
// round above it, where the draft lowers them after any round with loss
// (lossRoundTooHigh).
//
// The states (§5.3): Startup doubles the rate each round (pacing gain
// 2.77) until the bandwidth stops growing by 25% for three rounds, or
// loss passes 2% in a round of fast recovery; Drain (gain 0.5) empties
// the queue Startup made; ProbeBW cycles through DOWN (0.9, until the
// flight is at most the BDP), CRUISE (1.0, for 2-3 s or about 63
// rounds, whichever is less), REFILL (1.0, a round) and UP (1.25, until
// the bandwidth plateaus or loss is too high); ProbeRTT (cwnd half the
// BDP for 200 ms and a round) runs when the 5-second ProbeRTT filter
// has not seen a lower RTT, to let the queue drain and min_rtt refresh.
//
// BBR takes its inputs from the engine's delivery-rate sampler
// (rate.go: a RateSample per ACK, with RS.lost, tx_in_flight and the
// in-flight data; a LostSample per transmission deemed lost) and sets
// the pacing rate the engine paces at (pacing.go, Pacer). It keeps its
// window through fast recovery without PRR (RecoveryOptOut): on entry
// it saves the window, which its model goes on bounding, and on exit
// restores it (§5.6.4.4). It does not hold the flight to what is
// delivered for the first round (packet conservation): Linux's BBR v1
// and draft-ietf-ccwg-bbr-01 §4.6.4.4 did, BBRv3 and the draft today do
// not. On a path with 1% random loss every round trip has a loss, and
// conservation froze the flight wherever the loss found it, below the
// pipe: seqack's BBR sent 88 Mbit/s on average in ProbeBW_CRUISE, paced
// at 97.5, on issue 16's emulated path. A timeout saves the window
// too and lets one segment out. Restart after idle
// keeps the window and paces at BBR.bw (§5.4). Undo is the draft's
// HandleSpuriousLossDetection (§5.5.11).
//
// The send quantum (§5.6.3) is the engine's for any paced connection:
// a millisecond at the pacing rate may leave together, and with
// segmentation offload a segment carries no more (pacing.go,
// sendQuantum); BBR keeps the same C.send_quantum for its offload
// budget (3 quanta, §5.5.8.1).
//
// ECN: the engine neither negotiates ECN nor sees CE marks, so BBR has
// no ECN response; the draft (§3.7) specifies none beyond treating CE as
// congestion when ECN is on.
//
// All state lives in the *BBR behind the connection's congestion
// pointer (504 bytes, made with the first data), none in tcp.Conn. Times are kept as durations since the first event BBR sees.
type BBR struct {
	mss        int
	cwnd       int
	priorCwnd  int     // BBR.prior_cwnd: the last window unmodulated by loss recovery or ProbeRTT
	pacingRate float64 // C.pacing_rate, bytes per second
	pacingGain float64
	cwndGain   float64
	quantum    int // C.send_quantum
	// quantumRate is the pacing rate quantum was computed for (setSendQuantum).
	quantumRate float64

	base   time.Time     // the instant times below count from
	baseAt instant       // base as the engine's instant, once known (baseKnown)
	now    time.Duration // the time of the event at hand
	rng    uint64        // xorshift state for the randomized probe wait

	state     bbrState
	undoState bbrState // BBR.undo_state; bbrNone if none
	ackPhase  bbrAckPhase

	roundStart             bool // BBR.round_start
	idleRestart            bool // BBR.idle_restart
	fullBwReached          bool // BBR.full_bw_reached
	fullBwNow              bool // BBR.full_bw_now
	lossRoundStart         bool // BBR.loss_round_start
	lossInRound            bool // BBR.is_loss_in_round
	bwProbeSample          bool // BBR.is_bw_probe_sample
	prevProbeTooHigh       bool // BBR.prev_probe_too_high
	prevProbePrecautionary bool // BBR.prev_probe_precautionary
	probeRTTRoundDone      bool // BBR.probe_rtt_round_done
	probeRTTExpired        bool // BBR.probe_rtt_expired
	inRecovery             bool // in loss recovery: since Congestion or Timeout, until a sample says it is over
	sack                   bool // C.has_selective_acks
	rateInit               bool // the pacing rate was set from an RTT
	baseKnown              bool // baseAt is set

	maxBw       [2]float64 // BBR.max_bw_filter: the previous and the current ProbeBW cycle's maxima
	maxBwMax    float64    // max(maxBw[0], maxBw[1]): BBR.max_bw, asked for more than once an ACK
	bw          float64    // BBR.bw
	bwShortterm float64    // BBR.bw_shortterm (bw_lo)
	bwLatest    float64    // BBR.bw_latest
	fullBw      float64    // BBR.full_bw

	minRTT            time.Duration // BBR.min_rtt; 0: none yet
	minRTTSeconds     float64       // minRTT.Seconds(), for BDPMultiple on every ACK without a division
	minRTTStamp       time.Duration // BBR.min_rtt_stamp
	probeRTTMinDelay  time.Duration // BBR.probe_rtt_min_delay; 0: none yet
	probeRTTMinStamp  time.Duration // BBR.probe_rtt_min_stamp
	probeRTTDoneStamp time.Duration // BBR.probe_rtt_done_stamp; -1: none
	cycleStamp        time.Duration // BBR.cycle_stamp
	bwProbeWait       time.Duration // BBR.bw_probe_wait
	extraAckedStart   time.Duration // BBR.extra_acked_interval_start

	inflightLongterm  int // BBR.inflight_longterm (inflight_hi); bbrInfinity: unset
	inflightShortterm int // BBR.inflight_shortterm (inflight_lo)
	inflightLatest    int // BBR.inflight_latest
	maxInflight       int // BBR.max_inflight

	extraAcked          windowedMax // BBR.extra_acked_filter, over round counts
	extraAckedDelivered int64       // BBR.extra_acked_delivered

	delivered          int64 // C.delivered as of the last sample
	inflight           int   // C.inflight as of the last sample
	roundCount         int64 // BBR.round_count
	nextRoundDelivered int64 // BBR.next_round_delivered
	lossRoundDelivered int64 // BBR.loss_round_delivered
	drainStartRound    int64 // BBR.drain_start_round
	roundsSinceProbeUp int64 // BBR.rounds_since_probe_up
	roundLost          int64 // bytes deemed lost since the loss round began (lossRoundTooHigh)
	roundDelivered     int64 // C.delivered when the loss round began

	bwProbeUpAcked     int // BBR.bw_probe_up_acked
	probeUpAckedPerInc int // BBR.probe_up_acked_per_inc

	undoBwShortterm       float64 // BBR.undo_bw_shortterm
	undoInflightShortterm int     // BBR.undo_inflight_shortterm
	undoInflightLongterm  int     // BBR.undo_inflight_longterm

	fullBwCount     int32 // BBR.full_bw_count
	lossEvents      int32 // ACKs with newly lost data this round, in Startup (BBRStartupFullLossCnt)
	bwProbeUpRounds int32 // BBR.bw_probe_up_rounds

	// The pacing gap of the last segment (pacing.go, pacingMove): a
	// segment of gapN bytes at gapRate waits gap after the one before.
	// The rate changes at most once an ACK, so a burst of full segments
	// pays one division.
	gapN    int32
	gapRate float64
	gap     time.Duration

	// ProbeRTT marks the connection application-limited
	// (MarkConnectionAppLimited): samples of transmissions sent while
	// C.delivered was in [appLimitedFrom, appLimitedTo] count as
	// app-limited. 0 appLimitedTo: none.
	appLimitedFrom, appLimitedTo int64
}

// bbrState is a state of BBR's state machine (§5.1).
type bbrState uint8

const (
	bbrStartup bbrState = iota
	bbrDrain
	bbrProbeBWDown
	bbrProbeBWCruise
	bbrProbeBWRefill
	bbrProbeBWUp
	bbrProbeRTT
	bbrNone // no undo state
)

var bbrStateNames = [...]string{"Startup", "Drain", "ProbeBW_DOWN", "ProbeBW_CRUISE", "ProbeBW_REFILL",
	"ProbeBW_UP", "ProbeRTT", "None"}

// String returns the draft's name of the state.
func (s bbrState) String() string { return bbrStateNames[s] }

// bbrAckPhase is BBR.ack_phase (§2.14).
type bbrAckPhase uint8

const (
	acksInit bbrAckPhase = iota
	acksRefilling
	acksProbeStarting
	acksProbeFeedback
	acksProbeStopping
)

// BBR's constants (§2.5-2.16).
const (
	bbrStartupPacingGain  = 2.77 // 4·ln 2
	bbrDrainPacingGain    = 0.5
	bbrDefaultCwndGain    = 2
	bbrProbeUpPacingGain  = 1.25
	bbrProbeUpCwndGain    = 2.25
	bbrProbeDownGain      = 0.9
	bbrProbeRTTCwndGain   = 0.5
	bbrPacingMargin       = 0.99 // 1% below BBR.bw
	bbrLossThresh         = 0.02
	bbrBeta               = 0.7
	bbrHeadroom           = 0.15
	bbrFullBwThresh       = 1.25
	bbrFullBwCount        = 3
	bbrStartupFullLossCnt = 6
	bbrExtraAckedRounds   = 10
	bbrRenoRoundsBound    = 63
	bbrMinRTTFilterLen    = 10 * time.Second
	bbrProbeRTTInterval   = 5 * time.Second
	bbrProbeRTTDuration   = 200 * time.Millisecond
	bbrInfinity           = math.MaxInt
)

// NewBBR returns BBR congestion control (draft-ietf-ccwg-bbr) for
// segments of mss bytes: a *BBR, which paces (Pacer), takes
// delivery-rate samples (RateSampleConsumer, FlightObserver) and keeps
// its window through fast recovery (RecoveryOptOut).
func NewBBR(mss int) CongestionControl {
	b := &BBR{mss: mss, cwnd: initialWindow(mss), undoState: bbrNone, probeRTTDoneStamp: -1,
		inflightLongterm: bbrInfinity, probeUpAckedPerInc: bbrInfinity, rng: 0x9e3779b97f4a7c15}
	b.resetCongestionSignals()
	b.resetShortTermModel()
	b.quantum = 2 * mss
	b.enterStartup()
	return b
}

// connStarted takes the handshake's SRTT for the initial pacing rate
// (InitPacingRate, §5.6.2) and a seed for the randomized probe waits.
func (b *BBR) connStarted(srtt time.Duration, seed uint64) {
	if seed != 0 {
		b.rng = seed
	}
	b.initPacingRate(srtt)
}

// initPacingRate is InitPacingRate (§5.6.2): the initial window over
// SRTT, or over 1 ms without one, at the Startup gain.
func (b *BBR) initPacingRate(srtt time.Duration) {
	if srtt <= 0 {
		srtt = time.Millisecond
	} else {
		b.rateInit = true
	}
	b.pacingRate = bbrStartupPacingGain * float64(initialWindow(b.mss)) / srtt.Seconds()
}

// clock sets the time of the event at hand, fixing the base on the
// first (the draft's OnInit stamps, §5.2.1).
func (b *BBR) clock(now time.Time) {
	if b.base.IsZero() {
		b.base = now
	}
	b.now = now.Sub(b.base)
}

// random returns a pseudo-random number in [0, 1).
func (b *BBR) random() float64 {
	b.rng ^= b.rng << 13
	b.rng ^= b.rng >> 7
	b.rng ^= b.rng << 17
	return float64(b.rng>>11) / (1 << 53)
}

// Window implements CongestionControl.
func (b *BBR) Window() int { return b.cwnd }

// SlowStartThreshold implements CongestionControl: BBR has none.
func (b *BBR) SlowStartThreshold() int { return math.MaxInt32 }

// PacingRate implements Pacer.
func (b *BBR) PacingRate() float64 { return b.pacingRate }

// OwnsRecovery implements RecoveryOptOut: BBR sets its window in
// recovery itself.
func (b *BBR) OwnsRecovery() bool { return true }

// State returns the name of BBR's state (§5.1), for tests and traces.
func (b *BBR) State() string { return b.state.String() }

// MaxBandwidth returns BBR.max_bw in bytes per second.
func (b *BBR) MaxBandwidth() float64 { return b.maxBwMax }

// MinRTT returns BBR.min_rtt, 0 before the first sample.
func (b *BBR) MinRTT() time.Duration { return b.minRTT }

// InflightLongterm returns BBR.inflight_longterm (inflight_hi) in bytes,
// or -1 if it is not set.
func (b *BBR) InflightLongterm() int {
	if b.inflightLongterm == bbrInfinity {
		return -1
	}
	return b.inflightLongterm
}

// Acked implements CongestionControl: BBR takes everything from the
// rate sample that follows (OnRateSample).
func (b *BBR) Acked(int, time.Duration, time.Time) {}

// Congestion implements CongestionControl: fast recovery begins
// (§5.6.4.4). The window is saved, to be restored when recovery ends.
func (b *BBR) Congestion(_ int, now time.Time) {
	b.clock(now)
	b.saveCwnd()
	b.saveStateUponLoss()
	b.inRecovery = true
}

// Timeout implements CongestionControl (OnEnterRTO, §5.6.4.4): the
// window is saved and falls to what is in flight, none after a timeout,
// plus a segment.
func (b *BBR) Timeout(_ int, now time.Time) {
	b.clock(now)
	b.saveCwnd()
	b.saveStateUponLoss()
	b.cwnd = b.mss
	b.inRecovery = true // what the timeout deems lost must not overwrite the saved window
}

// Restart implements CongestionControl: after idle BBR keeps its window
// (§5.4.2); OnIdleRestart paces the restart.
func (b *BBR) Restart(time.Time) {}

// Undo implements UndoableCongestionControl: the loss recovery proved
// spurious (HandleSpuriousLossDetection, §5.5.11.2).
func (b *BBR) Undo() {
	b.restoreCwnd()
	b.lossInRound = false
	b.resetFullBW()
	b.bwShortterm = max(b.bwShortterm, b.undoBwShortterm)
	b.inflightShortterm = max(b.inflightShortterm, b.undoInflightShortterm)
	b.inflightLongterm = max(b.inflightLongterm, b.undoInflightLongterm)
	switch {
	case b.undoState == bbrStartup && b.state != bbrStartup:
		b.fullBwReached = false
		if b.state != bbrProbeRTT {
			b.enterStartup()
		}
	case b.undoState == bbrProbeBWUp && b.state != bbrProbeBWUp:
		if b.state != bbrProbeRTT {
			b.startProbeBWRefill()
		}
	}
	b.undoState = bbrNone
}

// OnIdleRestart implements FlightObserver (HandleRestartFromIdle, §5.4.1).
func (b *BBR) OnIdleRestart(appLimited bool, now time.Time) {
	b.clock(now)
	b.idleRestarted(appLimited)
}

// onIdleRestart is OnIdleRestart with now also as the engine's instant
// at, as the sampler calls it (rate.go): see clockAt.
func (b *BBR) onIdleRestart(appLimited bool, now time.Time, at instant) {
	b.clockAt(now, at)
	b.idleRestarted(appLimited)
}

// idleRestarted is HandleRestartFromIdle once the clock is set.
func (b *BBR) idleRestarted(appLimited bool) {
	if !appLimited {
		return
	}
	b.idleRestart = true
	b.extraAckedStart = b.now
	switch {
	case b.isInProbeBW():
		b.setPacingRateWithGain(1)
	case b.state == bbrProbeRTT:
		b.checkProbeRTTDone()
	}
}

// OnLost implements FlightObserver (HandleLostPacket, §5.5.10.2).
func (b *BBR) OnLost(l LostSample, now time.Time) {
	b.clock(now)
	b.sack = l.SACK
	b.roundLost += int64(l.Bytes)
	b.noteLoss(l.Delivered)
	if !b.bwProbeSample {
		return // not a packet sent while probing bandwidth
	}
	if b.inflightTooHigh(l.Lost, l.TxInFlight) {
		b.handleInflightTooHigh(b.inflightAtLoss(l), l.AppLimited)
	}
}

// noteLoss is NoteLoss (§5.5.10.2).
func (b *BBR) noteLoss(delivered int64) {
	if !b.lossInRound { // the first loss in this round trip
		b.lossRoundDelivered = delivered
		b.saveStateUponLoss()
	}
	b.lossInRound = true
}

// inflightTooHigh is IsInflightTooHigh (§5.5.10.2): a loss rate above
// BBR.LossThresh (2%) of what was in flight, beyond chance
// (lossRateAbove), or any loss without SACK.
func (b *BBR) inflightTooHigh(lost int64, txInFlight int) bool {
	if lost <= 0 {
		return false
	}
	return !b.sack || b.lossRateAbove(lost, int64(txInFlight))
}

// lossRateAbove reports whether lost bytes of total show a loss rate
// above BBR.LossThresh: more than 2% of the segments by more than two
// standard deviations of the count a flow losing exactly 2% would see
// (n·p + 2·√(n·p·(1-p)), with n the segments in total and p 2%).
//
// This is seqack's, not the draft's: draft-ietf-ccwg-bbr-06 compares
// the count with n·p alone. A loss count is a sample, and the draft's
// test takes its noise for signal where random loss approaches the
// threshold: at 1% random loss and 345 segments in flight (100 Mbit/s,
// 40 ms) a flight's count exceeds 2% (7 or more) in 6% of round trips,
// so almost every bandwidth probe ended with inflight_longterm at what
// was in flight when a cluster of random losses came, and on issue
// 16's emulated path one seed in three left Startup at 60% of the link
// with a bound it took the rest of the transfer to raise. Two standard
// deviations put the chance of that under one in a thousand (13
// segments of 345), while congestion, which drops what exceeds a full
// queue or a policer's rate, still crosses it within the round: a probe
// at 1.25 times the bottleneck's rate loses a fifth of what it sends
// once the queue is full. The draft's test is the limit of this one for
// a large flight; on a small one the margin is wide (2 segments of 10),
// as one loss in ten segments says little about a rate of 2%.
func (b *BBR) lossRateAbove(lost, total int64) bool {
	n := float64(total) / float64(b.mss)
	mean := bbrLossThresh * n
	return float64(lost)/float64(b.mss) > mean+2*math.Sqrt(mean*(1-bbrLossThresh))
}

// inflightAtLoss is InflightAtLoss (§5.5.10.2): the flight at which the
// loss rate crossed BBR.LossThresh, within transmission l.
func (b *BBR) inflightAtLoss(l LostSample) int {
	prev := float64(l.TxInFlight - l.Bytes)
	lostPrev := float64(l.Lost - int64(l.Bytes))
	prefix := (bbrLossThresh*prev - lostPrev) / (1 - bbrLossThresh)
	return max(int(prev+prefix), 0)
}

// handleInflightTooHigh is HandleInflightTooHigh (§5.5.10.2).
func (b *BBR) handleInflightTooHigh(txInFlight int, appLimited bool) {
	b.prevProbeTooHigh = true
	b.bwProbeSample = false // only react once per bandwidth probe
	if !appLimited {
		b.inflightLongterm = max(txInFlight, int(float64(b.targetInflight())*bbrBeta))
	}
	if b.state == bbrProbeBWUp {
		b.undoState = bbrProbeBWUp
		b.startProbeBWDown()
	}
}

// bbrSample is the rate sample of an ACK as BBR reads it.
type bbrSample struct {
	*RateSample
	rate       float64 // RS.delivery_rate; 0 if none
	appLimited bool    // RS.is_app_limited, ProbeRTT's marking included
}

// OnRateSample implements RateSampleConsumer: the per-ACK steps
// (UpdateOnACK, §5.2.3).
func (b *BBR) OnRateSample(rs RateSample, now time.Time) {
	b.clock(now)
	b.takeSample(&rs)
}

// clockAt is clock for a now that is the engine's instant at: once the
// base is known as an instant, the clock moves by integer arithmetic
// rather than a time.Time subtraction. The sampler (rate.go) sets BBR's
// clock so for each sample, then hands it to takeSample in place
// (OnRateSample without a copy of the sample).
func (b *BBR) clockAt(now time.Time, at instant) {
	if !b.baseKnown {
		b.knowBase(now, at)
		return
	}
	b.now = time.Duration(at - b.baseAt) // now.Sub(b.base), exactly: instants count nanoseconds
}

// knowBase sets the clock to now, the instant at, and learns the base
// as an instant. It is not inlined, so that clockAt is.
//
//go:noinline
func (b *BBR) knowBase(now time.Time, at instant) {
	b.clock(now)
	b.baseAt, b.baseKnown = at-instant(b.now), true
}

// takeSample is OnRateSample once the clock is set.
func (b *BBR) takeSample(rs *RateSample) {
	s := bbrSample{RateSample: rs, rate: rs.Rate(), appLimited: rs.AppLimited}
	if b.appLimitedTo != 0 {
		if rs.PriorDelivered >= b.appLimitedFrom && rs.PriorDelivered <= b.appLimitedTo {
			s.appLimited = true
		}
		if rs.TotalDelivered > b.appLimitedTo {
			b.appLimitedTo = 0 // the bubble is delivered
		}
	}
	b.delivered, b.inflight, b.sack = rs.TotalDelivered, rs.InFlight, rs.SACK
	if !b.rateInit && rs.RTT > 0 {
		b.initPacingRate(rs.RTT) // no SRTT when the connection made BBR
	}
	b.trackRecovery(&s)
	b.updateModelAndState(&s)
	// UpdateControlParameters (§5.2.3), its steps called from here.
	b.setPacingRateWithGain(b.pacingGain)
	b.setSendQuantum()
	b.setCwnd(&s)
}

// trackRecovery follows the engine's loss recovery: the window saved
// when it began is restored when it ends (§5.6.4.4).
func (b *BBR) trackRecovery(s *bbrSample) {
	if !s.InRecovery && b.inRecovery {
		b.restoreCwnd()
	}
	b.inRecovery = s.InRecovery
}

// updateModelAndState is UpdateModelAndState (§5.2.3).
//
// The steps that act only in some states are called only there (the
// tests in front of them are those they begin with), which spares
// most ACKs three calls.
func (b *BBR) updateModelAndState(s *bbrSample) {
	b.updateLatestDeliverySignals(s)
	b.updateCongestionSignals(s)
	b.updateACKAggregation(s)
	b.checkFullBWReached(s)
	if !b.fullBwReached || b.state == bbrStartup {
		b.checkStartupDone(s)
	}
	if b.state == bbrDrain {
		b.checkDrainDone()
	}
	b.updateProbeBWCyclePhase(s)
	b.updateMinRTT(s)
	if b.state == bbrProbeRTT || b.probeRTTExpired || b.idleRestart {
		b.checkProbeRTT(s)
	}
	b.advanceLatestDeliverySignals(s)
	b.boundBWForModel()
}

// updateRound is UpdateRound (§5.5.1).
func (b *BBR) updateRound(s *bbrSample) {
	b.roundStart = false
	if s.PriorDelivered >= b.nextRoundDelivered {
		b.startRound()
		b.roundCount++
		b.roundsSinceProbeUp++
		b.roundStart = true
	}
}

// startRound is StartRound (§5.5.1).
func (b *BBR) startRound() { b.nextRoundDelivered = b.delivered }

// updateMaxBw is UpdateMaxBw (§5.5.5): an app-limited sample counts
// only if it is at least the estimate.
func (b *BBR) updateMaxBw(s *bbrSample) {
	b.updateRound(s)
	if s.rate > 0 && (s.rate >= b.MaxBandwidth() || !s.appLimited) {
		// The rates are positive numbers: a comparison is max without
		// its care for NaNs and signed zeros.
		if s.rate > b.maxBw[1] {
			b.maxBw[1] = s.rate
			if s.rate > b.maxBwMax {
				b.maxBwMax = s.rate
			}
		}
	}
}

// advanceMaxBwFilter is AdvanceMaxBwFilter (§5.5.6): the current
// cycle's slot becomes the previous one's. A cycle without samples does
// not push out the last one that had some.
func (b *BBR) advanceMaxBwFilter() {
	if b.maxBw[1] == 0 {
		return
	}
	b.maxBw[0], b.maxBw[1] = b.maxBw[1], 0
	b.maxBwMax = b.maxBw[0]
}

// updateLatestDeliverySignals is UpdateLatestDeliverySignals (§5.5.10.3).
func (b *BBR) updateLatestDeliverySignals(s *bbrSample) {
	b.lossRoundStart = false
	if s.rate > b.bwLatest { // max(b.bwLatest, s.rate) of two rates, never NaN or negative
		b.bwLatest = s.rate
	}
	b.inflightLatest = max(b.inflightLatest, int(s.Delivered))
	if s.PriorDelivered >= b.lossRoundDelivered {
		b.lossRoundDelivered = s.TotalDelivered
		b.lossRoundStart = true
	}
}

// advanceLatestDeliverySignals is AdvanceLatestDeliverySignals.
func (b *BBR) advanceLatestDeliverySignals(s *bbrSample) {
	if b.lossRoundStart {
		b.bwLatest = s.rate
		b.inflightLatest = int(s.Delivered)
	}
}

// resetCongestionSignals is ResetCongestionSignals; the loss count of
// lossRoundTooHigh starts again with it.
func (b *BBR) resetCongestionSignals() {
	b.lossInRound = false
	b.roundLost, b.roundDelivered = 0, b.delivered
	b.bwLatest = 0
	b.inflightLatest = 0
}

// updateCongestionSignals is UpdateCongestionSignals.
func (b *BBR) updateCongestionSignals(s *bbrSample) {
	b.updateMaxBw(s)
	if !b.lossRoundStart {
		return // wait until the end of the round trip
	}
	if b.lossInRound && !b.lossRoundTooHigh(s) {
		b.lossInRound = false // random loss, not congestion
	}
	b.adaptLowerBoundsFromCongestion()
	b.lossInRound = false
	b.roundLost, b.roundDelivered = 0, s.TotalDelivered
}

// lossRoundTooHigh reports whether the loss round lost more than
// BBR.LossThresh (2%) of what it sent, beyond chance (lossRateAbove): of
// the bytes deemed lost and delivered since it began.
//
// This is seqack's, not the draft's: draft-ietf-ccwg-bbr-06
// (UpdateCongestionSignals, §5.5.10.3) lowers the short-term bounds after
// any round with loss, as Linux's BBRv3 does (bbr_adapt_lower_bounds).
// On a path with 1% random loss every round of some hundred segments
// has loss, so between bandwidth probes bw_shortterm and
// inflight_shortterm follow what the last round delivered, less what it
// lost, round after round: they fall by a percent or more a round until
// ProbeBW_REFILL resets them (2-3 s), and with stretch ACKs, which leave
// the flight short of cwnd, faster. The draft's own bound on the loss
// rate a flow tolerates while probing (BBR.LossThresh, §5.5.10.2) tells
// random loss from congestion; here it does so for the short-term model
// too. On issue 16's emulated path (100 Mbit/s, 40 ms, 1% loss each way,
// a Linux receiver) this took seqack's BBR from 50-63 Mbit/s to 81-82.
func (b *BBR) lossRoundTooHigh(s *bbrSample) bool {
	delivered := s.TotalDelivered - b.roundDelivered
	return b.roundLost > 0 && b.lossRateAbove(b.roundLost, delivered+b.roundLost)
}

// adaptLowerBoundsFromCongestion is AdaptLowerBoundsFromCongestion:
// once per round, a round with loss (above BBR.LossThresh:
// lossRoundTooHigh) lowers the short-term model by at most BBR.Beta,
// unless BBR is probing.
func (b *BBR) adaptLowerBoundsFromCongestion() {
	if b.isProbingBW() || !b.lossInRound {
		return
	}
	if math.IsInf(b.bwShortterm, 1) { // InitLowerBounds
		b.bwShortterm = b.MaxBandwidth()
	}
	if b.inflightShortterm == bbrInfinity {
		b.inflightShortterm = b.cwnd
	}
	b.bwShortterm = max(b.bwLatest, bbrBeta*b.bwShortterm) // LossLowerBounds
	b.inflightShortterm = max(b.inflightLatest, int(bbrBeta*float64(b.inflightShortterm)))
}

// resetShortTermModel is ResetShortTermModel.
func (b *BBR) resetShortTermModel() {
	b.bwShortterm = math.Inf(1)
	b.inflightShortterm = bbrInfinity
}

// boundBWForModel is BoundBWForModel.
func (b *BBR) boundBWForModel() { b.bw = min(b.MaxBandwidth(), b.bwShortterm) }

// updateACKAggregation is UpdateACKAggregation (§5.5.9).
func (b *BBR) updateACKAggregation(s *bbrSample) {
	interval := b.now - b.extraAckedStart
	expected := int64(b.bw * interval.Seconds())
	if b.extraAckedDelivered <= expected { // the ACK rate is below the expected rate: a new interval
		b.extraAckedDelivered = 0
		b.extraAckedStart = b.now
		expected = 0
	}
	b.extraAckedDelivered += s.NewlyDelivered
	extra := min(b.extraAckedDelivered-expected, int64(b.cwnd))
	window := int64(1) // in Startup, just remember one round
	if b.fullBwReached {
		window = bbrExtraAckedRounds
	}
	b.extraAcked.update(extra, b.roundCount, window)
}

// resetFullBW is ResetFullBW (§5.3.1.2).
func (b *BBR) resetFullBW() {
	b.fullBw, b.fullBwCount, b.fullBwNow = 0, 0, false
}

// checkFullBWReached is CheckFullBWReached (§5.3.1.2): three rounds
// without 25% growth fill the pipe. A sample without a rate tells
// nothing of growth and is skipped.
func (b *BBR) checkFullBWReached(s *bbrSample) {
	if b.fullBwNow || !b.roundStart || s.appLimited || s.rate == 0 {
		return
	}
	if s.rate >= b.fullBw*bbrFullBwThresh {
		b.resetFullBW()
		b.fullBw = s.rate
		return
	}
	b.fullBwCount++
	b.fullBwNow = b.fullBwCount >= bbrFullBwCount
	if b.fullBwNow {
		b.fullBwReached = true
	}
}

// checkStartupDone is CheckStartupDone (§5.3.1).
func (b *BBR) checkStartupDone(s *bbrSample) {
	b.checkStartupHighLoss(s)
	if b.state == bbrStartup && b.fullBwReached {
		b.enterDrain()
	}
}

// checkStartupHighLoss is CheckStartupHighLoss (§5.3.1.3): at the end
// of a round of fast recovery with more than 2% lost and at least six
// losses (ACKs that found new losses stand for the discontiguous lost
// ranges, as Linux counts them), or any loss in fast recovery without
// SACK, the pipe is full; BBR.inflight_longterm becomes what seemed
// safe.
func (b *BBR) checkStartupHighLoss(s *bbrSample) {
	if b.fullBwReached {
		return
	}
	if s.NewlyLost > 0 && b.lossEvents < 15 {
		b.lossEvents++
	}
	high := s.InRecovery && (!b.sack && s.NewlyLost > 0 ||
		b.lossRoundStart && b.lossEvents >= bbrStartupFullLossCnt && b.inflightTooHigh(s.Lost, s.TxInFlight))
	if high {
		b.undoState = bbrStartup
		b.fullBwReached = true
		b.inflightLongterm = max(int(b.bdpMultiple(b.bw, 1)), b.inflightLatest)
	}
	if b.lossRoundStart {
		b.lossEvents = 0
	}
}

// enterStartup is EnterStartup (§5.3.1.1).
func (b *BBR) enterStartup() {
	b.state = bbrStartup
	b.pacingGain, b.cwndGain = bbrStartupPacingGain, bbrDefaultCwndGain
}

// enterDrain is EnterDrain (§5.3.2).
func (b *BBR) enterDrain() {
	b.state = bbrDrain
	b.pacingGain, b.cwndGain = bbrDrainPacingGain, bbrDefaultCwndGain
	b.drainStartRound = b.roundCount
}

// checkDrainDone is CheckDrainDone (§5.3.2): the queue is drained once
// the flight is at most the BDP, or three rounds have passed.
func (b *BBR) checkDrainDone() {
	if b.state == bbrDrain && (b.inflight <= b.inflightFor(b.bw, 1) || b.roundCount > b.drainStartRound+3) {
		b.enterProbeBW()
	}
}

// enterProbeBW is EnterProbeBW (§5.3.3.9).
func (b *BBR) enterProbeBW() {
	b.cwndGain = bbrDefaultCwndGain
	b.startProbeBWDown()
}

// startProbeBWDown is StartProbeBW_DOWN.
func (b *BBR) startProbeBWDown() {
	b.resetCongestionSignals()
	b.probeUpAckedPerInc = bbrInfinity
	b.pickProbeWait()
	b.cycleStamp = b.now
	b.ackPhase = acksProbeStopping
	b.startRound()
	b.state = bbrProbeBWDown
	b.pacingGain, b.cwndGain = bbrProbeDownGain, bbrDefaultCwndGain
}

// startProbeBWCruise is StartProbeBW_CRUISE.
func (b *BBR) startProbeBWCruise() {
	b.state = bbrProbeBWCruise
	b.pacingGain, b.cwndGain = 1, bbrDefaultCwndGain
}

// startProbeBWRefill is StartProbeBW_REFILL.
func (b *BBR) startProbeBWRefill() {
	b.resetShortTermModel()
	b.bwProbeUpRounds, b.bwProbeUpAcked = 0, 0
	b.prevProbePrecautionary = false
	b.ackPhase = acksRefilling
	b.startRound()
	b.state = bbrProbeBWRefill
	b.pacingGain, b.cwndGain = 1, bbrDefaultCwndGain
}

// startProbeBWUp is StartProbeBW_UP.
func (b *BBR) startProbeBWUp(s *bbrSample) {
	b.ackPhase = acksProbeStarting
	b.startRound()
	b.resetFullBW()
	b.fullBw = s.rate
	b.state = bbrProbeBWUp
	b.pacingGain, b.cwndGain = bbrProbeUpPacingGain, bbrProbeUpCwndGain
	b.raiseInflightLongtermSlope()
}

// updateProbeBWCyclePhase is UpdateProbeBWCyclePhase (§5.3.3.9).
func (b *BBR) updateProbeBWCyclePhase(s *bbrSample) {
	if !b.fullBwReached || b.adaptLongTermModel(s) || !b.isInProbeBW() {
		return
	}
	switch b.state {
	case bbrProbeBWDown:
		if b.isTimeToProbeBW() {
			return
		}
		if b.isTimeToCruise() {
			b.startProbeBWCruise()
		}
	case bbrProbeBWCruise:
		b.isTimeToProbeBW()
	case bbrProbeBWRefill:
		if b.roundStart { // after a round of REFILL, UP
			b.bwProbeSample = true
			b.startProbeBWUp(s)
		}
	case bbrProbeBWUp:
		if b.isTimeToGoDown(s) {
			b.prevProbeTooHigh = false // no high loss (yet)
			b.startProbeBWDown()
		}
	}
}

// isInProbeBW is IsInAProbeBWState.
func (b *BBR) isInProbeBW() bool { return b.state >= bbrProbeBWDown && b.state <= bbrProbeBWUp }

// isProbingBW is IsProbingBW.
func (b *BBR) isProbingBW() bool {
	return b.state == bbrStartup || b.state == bbrProbeBWRefill || b.state == bbrProbeBWUp
}

// isTimeToProbeBW is IsTimeToProbeBW (§5.3.3.8): after the randomized
// wall-clock wait, or as many rounds as Reno would need.
func (b *BBR) isTimeToProbeBW() bool {
	if b.now > b.cycleStamp+b.bwProbeWait || b.renoProbeTime() {
		b.startProbeBWRefill()
		return true
	}
	return false
}

// renoProbeTime is IsRenoCoexistenceProbeTime: as many rounds have
// passed as Reno would take to fill TargetInflight, up to 63. It asks
// on every ACK of ProbeBW_DOWN and CRUISE, so rounds >= floor(t/mss)
// is tested as (rounds+1)·mss > t, which is the same without a
// division.
func (b *BBR) renoProbeTime() bool {
	r := b.roundsSinceProbeUp
	return r >= bbrRenoRoundsBound || (r+1)*int64(b.mss) > int64(b.targetInflight())
}

// pickProbeWait is PickProbeWait: 0 or 1 rounds, 2-3 s.
func (b *BBR) pickProbeWait() {
	b.roundsSinceProbeUp = int64(b.random() * 2)
	b.bwProbeWait = 2*time.Second + time.Duration(b.random()*float64(time.Second))
}

// targetInflight is TargetInflight: the BDP, unless congestion cut cwnd.
func (b *BBR) targetInflight() int { return min(int(b.bdpMultiple(b.bw, 1)), b.cwnd) }

// isTimeToCruise is IsTimeToCruise: headroom left, and the flight at
// most the BDP.
func (b *BBR) isTimeToCruise() bool {
	return b.inflight <= b.inflightWithHeadroom() && b.inflight <= b.inflightFor(b.MaxBandwidth(), 1)
}

// isTimeToGoDown is IsTimeToGoDown.
func (b *BBR) isTimeToGoDown(s *bbrSample) bool {
	if b.prevProbeTooHigh && b.inflight >= b.inflightLongterm { // precautionary probing: deceleration
		b.prevProbePrecautionary = true
		return true
	}
	if s.CwndLimited && b.cwnd >= b.inflightLongterm {
		b.resetFullBW() // the bandwidth is limited by inflight_longterm
		b.fullBw = s.rate
	} else if b.fullBwNow {
		return true // the path's bandwidth is in use
	}
	return false
}

// inflightWithHeadroom is InflightWithHeadroom: inflight_longterm less
// 15% for other flows.
func (b *BBR) inflightWithHeadroom() int {
	if b.inflightLongterm == bbrInfinity {
		return bbrInfinity
	}
	headroom := max(b.mss, int(bbrHeadroom*float64(b.inflightLongterm)))
	return max(b.inflightLongterm-headroom, 4*b.mss)
}

// raiseInflightLongtermSlope is RaiseInflightLongtermSlope.
func (b *BBR) raiseInflightLongtermSlope() {
	growth := 1 << b.bwProbeUpRounds
	b.bwProbeUpRounds = min(b.bwProbeUpRounds+1, 30)
	b.probeUpAckedPerInc = max(b.cwnd/growth, b.mss)
}

// probeInflightLongtermUpward is ProbeInflightLongtermUpward: while the
// window is held at inflight_longterm, it grows 1, 2, 4... segments a
// round.
func (b *BBR) probeInflightLongtermUpward(s *bbrSample) {
	if !s.CwndLimited || b.cwnd < b.inflightLongterm {
		return // not fully using inflight_longterm: do not grow it
	}
	b.bwProbeUpAcked += int(s.NewlyDelivered)
	if b.bwProbeUpAcked >= b.probeUpAckedPerInc {
		delta := b.bwProbeUpAcked / b.probeUpAckedPerInc
		b.bwProbeUpAcked -= delta * b.probeUpAckedPerInc
		b.inflightLongterm += delta * b.mss
	}
	if b.roundStart {
		b.raiseInflightLongtermSlope()
	}
}

// adaptLongTermModel is AdaptLongTermModel: it tracks the ACK phase,
// ages the max_bw filter a round after a probe, and raises
// inflight_longterm while the loss rate is safe. It reports whether it
// decided a state transition.
func (b *BBR) adaptLongTermModel(s *bbrSample) bool {
	if b.ackPhase == acksProbeStarting && b.roundStart {
		b.ackPhase = acksProbeFeedback // starting to get bandwidth-probing samples
	}
	if b.ackPhase == acksProbeStopping && b.roundStart {
		// The end of the samples of the bandwidth probe.
		b.bwProbeSample = false
		b.ackPhase = acksInit
		if b.isInProbeBW() && !s.appLimited {
			b.advanceMaxBwFilter()
		}
		if b.isInProbeBW() && b.prevProbePrecautionary && !b.prevProbeTooHigh {
			b.startProbeBWRefill() // precautionary probing: acceleration
			return true
		}
	}
	if !b.inflightTooHigh(s.Lost, s.TxInFlight) {
		if b.inflightLongterm == bbrInfinity {
			return false // no upper bound to raise
		}
		b.inflightLongterm = max(b.inflightLongterm, s.TxInFlight)
		if b.state == bbrProbeBWUp {
			b.probeInflightLongtermUpward(s)
		}
	}
	return false
}

// updateMinRTT is UpdateMinRTT (§5.3.4.3): BBR.probe_rtt_min_delay is
// the least RTT of the last 5 s, BBR.min_rtt of the last 10 s.
func (b *BBR) updateMinRTT(s *bbrSample) {
	b.probeRTTExpired = b.now > b.probeRTTMinStamp+bbrProbeRTTInterval
	if s.RTT > 0 && (b.probeRTTMinDelay == 0 || s.RTT < b.probeRTTMinDelay || b.probeRTTExpired) {
		b.probeRTTMinDelay = s.RTT
		b.probeRTTMinStamp = b.now
	}
	expired := b.now > b.minRTTStamp+bbrMinRTTFilterLen
	if b.probeRTTMinDelay > 0 && (b.minRTT == 0 || b.probeRTTMinDelay < b.minRTT || expired) {
		b.minRTT, b.minRTTSeconds = b.probeRTTMinDelay, b.probeRTTMinDelay.Seconds()
		b.minRTTStamp = b.probeRTTMinStamp
	}
}

// checkProbeRTT is CheckProbeRTT (§5.3.4.3).
func (b *BBR) checkProbeRTT(s *bbrSample) {
	if b.state != bbrProbeRTT && b.probeRTTExpired && !b.idleRestart {
		b.state = bbrProbeRTT // EnterProbeRTT
		b.pacingGain, b.cwndGain = 1, bbrProbeRTTCwndGain
		b.saveCwnd()
		b.probeRTTDoneStamp = -1
		b.ackPhase = acksProbeStopping
		b.startRound()
	}
	if b.state == bbrProbeRTT {
		b.handleProbeRTT()
	}
	if s.Delivered > 0 {
		b.idleRestart = false
	}
}

// handleProbeRTT is HandleProbeRTT: the flight is held at half the BDP
// for 200 ms and a round.
func (b *BBR) handleProbeRTT() {
	// MarkConnectionAppLimited: ignore the low rates ProbeRTT causes.
	if b.appLimitedTo == 0 {
		b.appLimitedFrom = b.delivered
	}
	b.appLimitedTo = max(b.delivered+int64(b.inflight), 1)
	switch {
	case b.probeRTTDoneStamp < 0 && b.inflight <= b.probeRTTCwnd():
		b.probeRTTDoneStamp = b.now + bbrProbeRTTDuration
		b.probeRTTRoundDone = false
		b.startRound()
	case b.probeRTTDoneStamp >= 0:
		if b.roundStart {
			b.probeRTTRoundDone = true
		}
		if b.probeRTTRoundDone {
			b.checkProbeRTTDone()
		}
	}
}

// checkProbeRTTDone is CheckProbeRTTDone.
func (b *BBR) checkProbeRTTDone() {
	if b.probeRTTDoneStamp >= 0 && b.now > b.probeRTTDoneStamp {
		b.probeRTTMinStamp = b.now // schedule the next ProbeRTT
		b.restoreCwnd()
		b.exitProbeRTT()
	}
}

// exitProbeRTT is ExitProbeRTT (§5.3.4.4).
func (b *BBR) exitProbeRTT() {
	b.resetShortTermModel()
	b.probeRTTDoneStamp = -1
	if b.fullBwReached {
		b.startProbeBWDown()
		b.startProbeBWCruise()
	} else {
		b.enterStartup()
	}
}

// probeRTTCwnd is ProbeRTTCwnd (§5.6.4.5).
func (b *BBR) probeRTTCwnd() int {
	return max(int(b.bdpMultiple(b.bw, bbrProbeRTTCwndGain)), 4*b.mss)
}

// setPacingRateWithGain is SetPacingRateWithGain (§5.6.2): before the
// pipe is full, the rate only rises.
func (b *BBR) setPacingRateWithGain(gain float64) {
	rate := gain * b.bw * bbrPacingMargin
	if b.fullBwReached || rate > b.pacingRate {
		b.pacingRate = rate
	}
}

// setSendQuantum is SetSendQuantum (§5.6.3): a millisecond at the
// pacing rate, from two segments to 64 KiB.
// The quantum is computed again only when the pacing rate has changed
// since (quantumRate): most ACKs leave the rate as it was.
func (b *BBR) setSendQuantum() {
	if b.pacingRate != b.quantumRate {
		b.quantum, b.quantumRate = sendQuantum(b.pacingRate, b.mss), b.pacingRate
	}
}

// bdpMultiple is BDPMultiple (§5.6.4.2): gain times bw·min_rtt, or the
// initial window before an RTT sample.
func (b *BBR) bdpMultiple(bw, gain float64) float64 {
	if b.minRTT == 0 {
		return float64(initialWindow(b.mss))
	}
	return gain * bw * b.minRTTSeconds
}

// quantizationBudget is QuantizationBudget: at least the offload budget
// (3 send quanta, §5.5.8.1) and four segments, two more in ProbeBW_UP.
func (b *BBR) quantizationBudget(inflight int) int {
	inflight = max(inflight, 3*b.quantum, 4*b.mss)
	if b.state == bbrProbeBWUp {
		inflight += 2 * b.mss
	}
	return inflight
}

// inflightFor is Inflight(bw, gain).
func (b *BBR) inflightFor(bw, gain float64) int {
	return b.quantizationBudget(int(b.bdpMultiple(bw, gain)))
}

// setCwnd is SetCwnd (§5.6.4.6).
func (b *BBR) setCwnd(s *bbrSample) {
	b.maxInflight = b.quantizationBudget(int(b.bdpMultiple(b.bw, b.cwndGain) + b.extraAcked.get()))
	newly := int(s.NewlyDelivered)
	switch {
	case b.fullBwReached:
		b.cwnd = min(b.cwnd+newly, b.maxInflight)
	case b.cwnd < b.maxInflight || b.delivered < int64(initialWindow(b.mss)):
		b.cwnd += newly
	}
	b.cwnd = max(b.cwnd, 4*b.mss)
	if b.state == bbrProbeRTT { // BoundCwndForProbeRTT
		b.cwnd = min(b.cwnd, b.probeRTTCwnd())
	}
	b.boundCwndForModel()
}

// boundCwndForModel is BoundCwndForModel (§5.6.4.7).
func (b *BBR) boundCwndForModel() {
	limit := bbrInfinity
	switch {
	case b.isInProbeBW() && b.state != bbrProbeBWCruise:
		limit = b.inflightLongterm
	case b.state == bbrProbeRTT || b.state == bbrProbeBWCruise:
		limit = b.inflightWithHeadroom()
	}
	limit = max(min(limit, b.inflightShortterm), 4*b.mss)
	b.cwnd = min(b.cwnd, limit)
}

// saveCwnd is SaveCwnd (§5.6.4.4).
func (b *BBR) saveCwnd() {
	if !b.inRecovery && b.state != bbrProbeRTT {
		b.priorCwnd = b.cwnd
	} else {
		b.priorCwnd = max(b.priorCwnd, b.cwnd)
	}
}

// restoreCwnd is RestoreCwnd.
func (b *BBR) restoreCwnd() { b.cwnd = max(b.cwnd, b.priorCwnd) }

// saveStateUponLoss is SaveStateUponLoss (§5.5.11.1).
func (b *BBR) saveStateUponLoss() {
	b.saveCwnd()
	b.undoState = bbrNone
	b.undoBwShortterm = b.bwShortterm
	b.undoInflightShortterm = b.inflightShortterm
	b.undoInflightLongterm = b.inflightLongterm
}

// windowedMax is Kathleen Nichols' windowed max filter (as Linux's
// lib/win_minmax.c): the best, second best and third best values of the
// window, so that the maximum is known at once and, when the best ages
// out, the next is at hand.
type windowedMax [3]struct{ t, v int64 }

// get returns the maximum.
func (w *windowedMax) get() float64 { return float64(w[0].v) }

// update takes value v at time t, for a window of win. The values are
// integers (BBR's extra ACKed bytes), compared as integers.
func (w *windowedMax) update(v, t, win int64) {
	s := struct{ t, v int64 }{t, v}
	if v >= w[0].v || t-w[2].t > win { // a new maximum, or nothing left in the window
		w[0], w[1], w[2] = s, s, s
		return
	}
	switch {
	case v >= w[1].v:
		w[1], w[2] = s, s
	case v >= w[2].v:
		w[2] = s
	}
	// Age the best out, and the second best as it passes a quarter and
	// a half of the window (win_minmax.c's subwin logic).
	dt := t - w[0].t
	switch {
	case dt > win:
		w[0], w[1], w[2] = w[1], w[2], s
		if t-w[0].t > win {
			w[0], w[1], w[2] = w[1], w[2], s
		}
	case w[1].t == w[0].t && dt > win/4:
		w[1], w[2] = s, s
	case w[2].t == w[1].t && dt > win/2:
		w[2] = s
	}
}

// inheritWindow implements windowInheritor: a connection switching to
// BBR keeps its window, as Linux's does (tcp_reinit_congestion_control
// leaves snd_cwnd; bbr_init does not set it); BBR has no ssthresh.
func (b *BBR) inheritWindow(cwnd, _ int) { b.cwnd = max(cwnd, 4*b.mss) }
