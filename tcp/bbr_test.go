package tcp_test

import (
	"math"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// BBR's state machine (bbr.go, draft-ietf-ccwg-bbr §5.3), driven by
// literal rate samples: each row of a table is one ACK that ends a
// packet-timed round trip, delivering a round's worth of data at a rate
// over an RTT, with the flight left once it is taken. The MSS is 1000
// bytes; at 10 Mbit/s and 40 ms a round delivers 50000 bytes, the BDP.

// bbrRound is one ACK, a round trip after the last.
type bbrRound struct {
	mbit     float64       // the rate delivered over the round, Mbit/s
	rtt      time.Duration // the round trip; 0: 40 ms
	inflight float64       // the flight once the ACK is taken, in BDPs at mbit; 0: 2
	app      bool          // the sample is application-limited
	want     string        // the state after the ACK; "" to skip the check
}

// bbrPath feeds rate samples to a BBR.
type bbrPath struct {
	t         *testing.T
	b         *tcp.BBR
	now       time.Time
	delivered int64
	trail     []string // the states entered, in order
}

func newBBRPath(t *testing.T) *bbrPath {
	return &bbrPath{t: t, b: tcp.NewBBR(1000).(*tcp.BBR), now: epoch, trail: []string{"Startup"}}
}

// ack takes one row: a sample of a packet sent when the last round
// ended, which starts the next.
func (p *bbrPath) ack(r bbrRound) {
	p.t.Helper()
	rtt := cmpOr(r.rtt, 40*time.Millisecond)
	delivered := int64(r.mbit * 1e6 / 8 * rtt.Seconds())
	inflight := int(cmpOrF(r.inflight, 2) * float64(delivered))
	p.now = p.now.Add(rtt)
	rs := tcp.RateSample{Delivered: delivered, Interval: rtt, SendElapsed: rtt, AckElapsed: rtt,
		PriorDelivered: p.delivered, TotalDelivered: p.delivered + delivered, NewlyDelivered: delivered,
		TxInFlight: inflight + int(delivered), RTT: rtt, AppLimited: r.app, InFlight: inflight, SACK: true}
	p.delivered += delivered
	p.b.OnRateSample(rs, p.now)
	if s := p.b.State(); s != p.trail[len(p.trail)-1] {
		p.trail = append(p.trail, s)
	}
	if r.want != "" && p.b.State() != r.want {
		p.t.Fatalf("after %+v at %v: state %s, want %s (trail %v)", r, p.now.Sub(epoch), p.b.State(), r.want, p.trail)
	}
}

// run takes rows in order.
func (p *bbrPath) run(rows ...bbrRound) {
	p.t.Helper()
	for _, r := range rows {
		p.ack(r)
	}
}

// repeat takes row n times.
func (p *bbrPath) repeat(n int, r bbrRound) {
	p.t.Helper()
	for range n {
		p.ack(r)
	}
}

// until takes row until the state is want, at most n times, and returns
// how many it took.
func (p *bbrPath) until(want string, n int, r bbrRound) int {
	p.t.Helper()
	for i := 1; i <= n; i++ {
		p.ack(r)
		if p.b.State() == want {
			return i
		}
	}
	p.t.Fatalf("not %s after %d rounds of %+v: %s (trail %v)", want, n, r, p.b.State(), p.trail)
	return 0
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cmpOrF(f, def float64) float64 {
	if f == 0 {
		return def
	}
	return f
}

// mbit converts bytes per second to Mbit/s.
func mbit(bps float64) float64 { return bps * 8 / 1e6 }

// startupToCruise brings a BBR through Startup at rates that plateau at
// 10 Mbit/s, and Drain, into ProbeBW_CRUISE.
func startupToCruise(t *testing.T) *bbrPath {
	p := newBBRPath(t)
	p.run(
		bbrRound{mbit: 1, want: "Startup"},
		bbrRound{mbit: 2, want: "Startup"},
		bbrRound{mbit: 4, want: "Startup"},
		bbrRound{mbit: 8, want: "Startup"},
		bbrRound{mbit: 10, want: "Startup"}, // 25% more than 8: still growing
		bbrRound{mbit: 10, want: "Startup"}, // a round without 25% growth
		bbrRound{mbit: 11, want: "Startup"}, // two
		bbrRound{mbit: 10, want: "Drain"},   // three: the pipe is full
		bbrRound{mbit: 10, inflight: 1, want: "ProbeBW_CRUISE"},
	)
	return p
}

// Startup exits to Drain once the bandwidth has grown by less than 25%
// for three rounds, and Drain to ProbeBW once the flight is down to the
// BDP (§5.3.1.2, §5.3.2); Drain paces at half the bandwidth, Startup at
// 2.77 times.
func TestBBRStartupDrainProbeBW(t *testing.T) {
	p := newBBRPath(t)
	p.run(bbrRound{mbit: 1}, bbrRound{mbit: 2}, bbrRound{mbit: 4})
	if got, want := mbit(p.b.PacingRate()), 2.77*4*0.99; math.Abs(got-want) > 0.01 {
		t.Errorf("Startup paces at %.3f Mbit/s, want %.3f (2.77 × 4 × 0.99)", got, want)
	}
	p.run(
		bbrRound{mbit: 8, want: "Startup"},
		bbrRound{mbit: 10, want: "Startup"},
		bbrRound{mbit: 10, want: "Startup"},
		bbrRound{mbit: 11, want: "Startup"},
		bbrRound{mbit: 10, want: "Drain"},
	)
	if got, want := mbit(p.b.PacingRate()), 0.5*11*0.99; math.Abs(got-want) > 0.01 {
		t.Errorf("Drain paces at %.3f Mbit/s, want %.3f (0.5 × max_bw × 0.99)", got, want)
	}
	p.run(
		bbrRound{mbit: 10, inflight: 1.5, want: "Drain"}, // 1.5 BDP in flight: not drained
		bbrRound{mbit: 10, inflight: 1, want: "ProbeBW_CRUISE"},
	)
	want := []string{"Startup", "Drain", "ProbeBW_CRUISE"} // through ProbeBW_DOWN within the ACK
	if !equalTrail(p.trail, want) {
		t.Errorf("states %v, want %v", p.trail, want)
	}
}

// Drain gives up after three rounds if the flight stays high: the
// bandwidth was overestimated (§5.3.2).
func TestBBRDrainTimesOut(t *testing.T) {
	p := newBBRPath(t)
	p.run(bbrRound{mbit: 10}, bbrRound{mbit: 10}, bbrRound{mbit: 10})
	p.run(bbrRound{mbit: 10, want: "Drain"})
	p.run(
		bbrRound{mbit: 10, inflight: 3, want: "Drain"},
		bbrRound{mbit: 10, inflight: 3, want: "Drain"},
		bbrRound{mbit: 10, inflight: 3, want: "Drain"},
		bbrRound{mbit: 10, inflight: 3, want: "ProbeBW_DOWN"},
	)
}

// Application-limited samples do not count toward a full pipe: an
// application that never fills it keeps BBR in Startup (draft
// appendix A.7).
func TestBBRAppLimitedStaysInStartup(t *testing.T) {
	p := newBBRPath(t)
	p.repeat(20, bbrRound{mbit: 3, app: true, want: "Startup"})
}

// ProbeBW cycles DOWN, CRUISE, REFILL, UP (§5.3.3): CRUISE lasts until
// as many rounds as the BDP has segments (55 at 11 Mbit/s and 40 ms;
// Reno's time scale, below the 2-3 s of BBR's own), REFILL one round, UP
// until the bandwidth stops growing for three rounds; DOWN ends once
// the flight is at most the BDP. Each paces at its gain.
func TestBBRProbeBWCycle(t *testing.T) {
	p := startupToCruise(t)
	steady := bbrRound{mbit: 11, inflight: 1}
	n := p.until("ProbeBW_REFILL", 100, steady)
	if n < 53 || n > 56 {
		t.Errorf("CRUISE lasted %d rounds, want 54 or 55 (the BDP in segments, less 0 or 1)", n)
	}
	gain := func(want float64) {
		t.Helper()
		if got := p.b.PacingRate() / (p.b.MaxBandwidth() * 0.99); math.Abs(got-want) > 0.001 {
			t.Errorf("%s paces at %.3f × max_bw, want %.2f", p.b.State(), got, want)
		}
	}
	gain(1)
	p.run(bbrRound{mbit: 11, inflight: 1, want: "ProbeBW_UP"})
	gain(1.25)
	p.run(
		bbrRound{mbit: 11, inflight: 1.25, want: "ProbeBW_UP"},
		bbrRound{mbit: 11, inflight: 1.25, want: "ProbeBW_UP"},
		bbrRound{mbit: 11, inflight: 1.25, want: "ProbeBW_DOWN"},
	)
	gain(0.9)
	p.run(bbrRound{mbit: 11, inflight: 1.2, want: "ProbeBW_DOWN"}) // the queue UP made is not drained yet
	p.run(bbrRound{mbit: 11, inflight: 1, want: "ProbeBW_CRUISE"})
	gain(1)
	want := []string{"Startup", "Drain", "ProbeBW_CRUISE", "ProbeBW_REFILL", "ProbeBW_UP", "ProbeBW_DOWN", "ProbeBW_CRUISE"}
	if !equalTrail(p.trail, want) {
		t.Errorf("states %v, want %v", p.trail, want)
	}
}

// A probe that finds more bandwidth stays in UP while it grows.
func TestBBRProbeUpFindsBandwidth(t *testing.T) {
	p := startupToCruise(t)
	p.until("ProbeBW_UP", 100, bbrRound{mbit: 11, inflight: 1})
	p.run(
		bbrRound{mbit: 14, inflight: 1.25, want: "ProbeBW_UP"},
		bbrRound{mbit: 18, inflight: 1.25, want: "ProbeBW_UP"},
		bbrRound{mbit: 23, inflight: 1.25, want: "ProbeBW_UP"},
	)
	if got := mbit(p.b.MaxBandwidth()); got != 23 {
		t.Errorf("max_bw %.1f Mbit/s, want 23", got)
	}
}

// max_bw is the largest sample of the current and the previous ProbeBW
// cycle (§5.5.3-5.5.6); a cycle ends a round after its probe (UP). When
// the path's rate halves during a cycle, the old maximum outlives that
// cycle's end and stays through the whole of the next, its probe
// included, and is gone when that one ends.
func TestBBRMaxBwFilterAging(t *testing.T) {
	p := startupToCruise(t)
	slow := bbrRound{mbit: 5, inflight: 1}
	// The cycle under way (begun as Drain ended) ends at the first ACK;
	// the next runs until a round after its UP.
	p.run(slow)
	p.until("ProbeBW_UP", 200, slow)
	p.until("ProbeBW_DOWN", 10, slow)
	if got := mbit(p.b.MaxBandwidth()); got != 11 {
		t.Fatalf("max_bw %.1f Mbit/s as the next cycle's probe ends, want 11", got)
	}
	p.run(slow) // a round after UP: the cycle ends
	if got := mbit(p.b.MaxBandwidth()); got != 5 {
		t.Errorf("max_bw %.1f Mbit/s, want 5", got)
	}
}

// Application-limited samples below max_bw neither lower it nor age its
// filter, however long they last; one above it is taken, as it shows
// the estimate too low (§5.5.4).
func TestBBRAppLimitedSamples(t *testing.T) {
	p := startupToCruise(t)
	p.repeat(500, bbrRound{mbit: 2, inflight: 0.5, app: true}) // 20 s, many cycles' worth
	if got := mbit(p.b.MaxBandwidth()); got != 11 {
		t.Errorf("max_bw %.1f Mbit/s after app-limited samples at 2, want 11", got)
	}
	p.run(bbrRound{mbit: 12, inflight: 0.5, app: true})
	if got := mbit(p.b.MaxBandwidth()); got != 12 {
		t.Errorf("max_bw %.1f Mbit/s after an app-limited sample at 12, want 12", got)
	}
}

// ProbeRTT (§5.3.4): with no RTT as low as the 5-second filter's for 5
// s, BBR holds the flight to half the BDP for 200 ms and a round, then
// returns to ProbeBW; min_rtt itself is a 10-second minimum.
func TestBBRProbeRTT(t *testing.T) {
	p := startupToCruise(t) // 360 ms of 40 ms rounds
	entered := p.now
	queued := bbrRound{mbit: 11, inflight: 1, rtt: 50 * time.Millisecond}
	for p.b.State() != "ProbeRTT" && p.now.Sub(entered) < 10*time.Second {
		p.ack(queued)
	}
	if p.b.State() != "ProbeRTT" {
		t.Fatalf("no ProbeRTT after 10 s: %v", p.trail)
	}
	if d := p.now.Sub(epoch); d <= 5040*time.Millisecond || d > 5090*time.Millisecond {
		t.Errorf("ProbeRTT at %v, want the first ACK 5 s after the first 40 ms sample (at 40 ms)", d)
	}
	if cwnd, limit := p.b.Window(), int(0.5*11e6/8*0.040); cwnd > limit {
		t.Errorf("cwnd %d in ProbeRTT, want at most half the BDP, %d", cwnd, limit)
	}
	drained := bbrRound{mbit: 11, inflight: 0.4, rtt: 45 * time.Millisecond}
	p.run(drained) // the flight is down to the ProbeRTT window: the 200 ms start
	start := p.now
	p.until("ProbeBW_CRUISE", 20, drained)
	if d := p.now.Sub(start); d <= 200*time.Millisecond || d > 245*time.Millisecond {
		t.Errorf("ProbeRTT lasted %v once drained, want the first round end past 200 ms", d)
	}
	if got := p.b.MinRTT(); got != 40*time.Millisecond {
		t.Errorf("min_rtt %v, want 40ms: the 10 s window holds it", got)
	}
	for p.now.Sub(epoch) < 11*time.Second {
		p.ack(drained)
	}
	if got := p.b.MinRTT(); got != 45*time.Millisecond {
		t.Errorf("min_rtt %v after 11 s, want 45ms: the 40 ms sample is out of its window", got)
	}
}

// Loss over 2% of what was in flight, while probing, sets
// inflight_longterm (inflight_hi) where the loss rate crossed 2%, and
// ends the probe (§5.5.10.2); at 2% or below it sets nothing, nor above
// it within chance: of 100 segments in flight, a flow losing 2% loses
// more than 4.8 (2 + 2·√(100·0.02·0.98)) only one time in 40
// (bbr.go, lossRateAbove).
func TestBBRLossSetsInflightLongterm(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lost     int64
		want     int // inflight_longterm, -1 unset
		wantLeft string
	}{
		{"1.5%", 1500, -1, "ProbeBW_UP"},
		{"2%", 2000, -1, "ProbeBW_UP"},
		{"4.8%, within chance", 4800, -1, "ProbeBW_UP"},
		// lost_prefix = (0.02·99000 - 4000)/0.98 = -2061.2: 96938 bytes in flight
		{"5%", 5000, 96938, "ProbeBW_DOWN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startupToCruise(t)
			p.until("ProbeBW_UP", 100, bbrRound{mbit: 11, inflight: 1})
			p.b.OnLost(tcp.LostSample{Bytes: 1000, TxInFlight: 100000, Lost: tc.lost, Delivered: p.delivered, SACK: true}, p.now)
			if got := p.b.InflightLongterm(); got != tc.want {
				t.Errorf("inflight_longterm %d, want %d", got, tc.want)
			}
			if p.b.State() != tc.wantLeft {
				t.Errorf("state %s, want %s", p.b.State(), tc.wantLeft)
			}
		})
	}
}

// Loss outside a probe is no reason to set inflight_longterm: it lowers
// the short-term bounds (bw_shortterm, inflight_shortterm: bw_lo,
// inflight_lo) a round later, by at most 30% a round (§5.5.10.3).
func TestBBRLossInCruiseLowersShortTerm(t *testing.T) {
	p := startupToCruise(t)
	p.run(bbrRound{mbit: 11, inflight: 1})
	cwnd := p.b.Window()
	p.b.OnLost(tcp.LostSample{Bytes: 5000, TxInFlight: 55000, Lost: 5000, Delivered: p.delivered, SACK: true}, p.now)
	if got := p.b.InflightLongterm(); got != -1 {
		t.Errorf("inflight_longterm %d after a loss in CRUISE, want unset", got)
	}
	p.run(bbrRound{mbit: 5, inflight: 0.5, want: "ProbeBW_CRUISE"})
	if got, want := p.b.Window(), int(0.7*float64(cwnd)); got != want {
		t.Errorf("cwnd %d after a round with loss, want 70%% of %d, %d", got, cwnd, want)
	}
}

// Random loss is not congestion: a round in CRUISE that lost no more
// than BBR.LossThresh (2%) of what it sent, or more only by chance,
// leaves the short-term bounds where they were, the window and the
// pacing rate as on a path without loss; a round above it lowers them
// (seqack's departure from the draft, which lowers them after any round
// with loss: bbr.go, lossRoundTooHigh). A round here delivers 55
// segments of 1000 bytes: of the 58 a round with 3 lost sent, a flow
// losing 2% loses more than 3.3 (1.16 + 2·√(58·0.02·0.98)) one time in
// 40.
func TestBBRRandomLossKeepsShortTerm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lost  []int // bytes deemed lost in each of the rounds
		lower bool  // the window falls below the lossless path's
	}{
		{"0.5%", []int{250, 250, 250, 250}, false},
		{"1.8% in one round", []int{1000}, false},
		{"1% each round", []int{500, 500, 500, 500, 500, 500}, false},
		{"3 segments, within chance", []int{3000}, false},
		{"3.5 segments, 6%", []int{3500}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lossy, clean := startupToCruise(t), startupToCruise(t)
			for _, lost := range tc.lost {
				lossy.b.OnLost(tcp.LostSample{Bytes: lost, TxInFlight: 55000, Lost: int64(lost), Delivered: lossy.delivered, SACK: true}, lossy.now)
				r := bbrRound{mbit: 11, inflight: 1, want: "ProbeBW_CRUISE"}
				lossy.run(r)
				clean.run(r)
			}
			lower := lossy.b.Window() < clean.b.Window() || lossy.b.PacingRate() < clean.b.PacingRate()
			if lower != tc.lower {
				t.Errorf("cwnd %d, pacing %.2f Mbit/s after loss; %d, %.2f Mbit/s without: lowered %v, want %v",
					lossy.b.Window(), mbit(lossy.b.PacingRate()), clean.b.Window(), mbit(clean.b.PacingRate()), lower, tc.lower)
			}
		})
	}
}

// equalTrail reports whether two state trails are the same.
func equalTrail(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Through a connection: BBR paces from its first flight, at 2.77 times
// the initial window over the handshake's RTT (InitPacingRate, §5.6.2):
// 2.77 × 14600 bytes / 20 ms = 2022100 bytes/s, a segment each 722 µs.
// A millisecond's worth may leave at once (pacing.go), so two segments
// go with the write and the rest one by one, each at the deadline the
// connection gives; an ACK then brings BBR its first sample.
func TestBBRPacesAndSends(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: tcp.NewBBR})
	c.do(step{call: "write 5840", out: []string{". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001"}})
	if s := c.Stats(); s.PacingRate != 2022100 {
		t.Errorf("pacing rate %d bytes/s, want 2022100", s.PacingRate)
	}
	c.do(step{call: "timer", out: []string{". 3921:5381(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 5381:6841(1460) ack 5001"}})
	if d := c.now.Sub(epoch) - 20*time.Millisecond; d < 1150*time.Microsecond || d > 1200*time.Microsecond {
		t.Errorf("the fourth segment left %v after the write, want 3 × 722 µs less the millisecond of slack", d)
	}
	c.later(20*time.Millisecond - 1166*time.Microsecond)
	c.do(step{in: ". 5001:5001(0) ack 6841 win 65535"})
	if s := c.Stats(); s.DeliveryRate == 0 || s.CongestionWindow != 14600+5840 {
		t.Errorf("after the ACK: delivery rate %d, cwnd %d; want a rate, and 20440 (Startup grows by what is delivered)", s.DeliveryRate, s.CongestionWindow)
	}
}

// In fast recovery BBR keeps its own window (RecoveryOptOut), without
// packet conservation (bbr.go): the ACK that starts recovery SACKs
// 13140 bytes, and Startup's window grows by them as on any ACK, from
// 14600 to 27740, with nothing left in flight. The hole goes again
// first, then new data until that window is full, 19 segments in all,
// where conservation would have let out 9 and PRR fewer; the ACK that
// ends recovery restores the window saved at its start if it is larger
// (§5.6.4.4).
func TestBBRFastRecoveryKeepsItsWindow(t *testing.T) {
	cfg := tcp.Config{CongestionControl: tcp.NewBBR, DelayedAck: -1}
	c := newTestConn(t, plain(cfg, withSACK, withoutNagle), ourISS)
	c.Connect(c.now)
	c.later(20 * time.Millisecond)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	c.settle()
	c.Write(make([]byte, 60000), c.now)
	for i := 0; i < 20 && c.Stats().SendQueue > 0; i++ {
		c.Outgoing()
		if len(c.Outgoing()) == 0 && c.Deadline().Sub(c.now) > 10*time.Millisecond {
			break // the window is full
		}
		c.fireTimer()
	}
	c.Outgoing()
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:15601>",
		out: []string{". 1001:2461(1460) ack 5001", ". 15601:17061(1460) ack 5001"}})
	if s := c.Stats(); !s.InRecovery || s.CongestionWindow != 27740 {
		t.Errorf("in recovery %v, cwnd %d; want true, 27740 (14600 + 13140 delivered)", s.InRecovery, s.CongestionWindow)
	}
	sent := 2
	for c.Deadline().Sub(c.now) < 5*time.Millisecond { // paced, the RTO far off
		c.fireTimer()
		sent += len(c.Outgoing())
	}
	if sent != 19 {
		t.Errorf("%d segments sent in recovery, want 19: 27740 bytes", sent)
	}
	c.later(20 * time.Millisecond)
	c.in(". 5001:5001(0) ack 15601 win 65535")
	if s := c.Stats(); s.InRecovery || s.CongestionWindow < 14600 {
		t.Errorf("after the full ACK: in recovery %v, cwnd %d; want false, at least the 14600 saved", s.InRecovery, s.CongestionWindow)
	}
}

// ownRecovery is NewReno opting out of PRR.
type ownRecovery struct{ tcp.CongestionControl }

// OwnsRecovery implements tcp.RecoveryOptOut.
func (ownRecovery) OwnsRecovery() bool { return true }

// A controller that opts out of PRR (RecoveryOptOut) has its window
// hold in fast recovery. Ten segments out, three SACKed above the first:
// recovery starts with 8760 bytes in the pipe, and NewReno halves the
// window to 7300. PRR lets out 7300/8760 of the 4380 delivered (3650
// bytes: the fast retransmit and a new segment); the window alone lets
// out nothing but the fast retransmit, which always goes.
func TestRecoveryOptOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		cc   func(int) tcp.CongestionControl
		out  []string
	}{
		{"PRR", tcp.NewNewReno, []string{". 1001:2461(1460) ack 5001", ". 15601:17061(1460) ack 5001"}},
		{"opt-out", func(mss int) tcp.CongestionControl { return ownRecovery{tcp.NewNewReno(mss)} },
			[]string{". 1001:2461(1460) ack 5001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tcp.Config{CongestionControl: tc.cc, DelayedAck: -1}
			c := newTestConn(t, plain(cfg, withSACK, withoutNagle), ourISS)
			c.Connect(c.now)
			c.later(20 * time.Millisecond)
			c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
			c.settle()
			c.Write(make([]byte, 60000), c.now)
			if n := len(c.Outgoing()); n != 10 {
				t.Fatalf("%d segments in the initial window, want 10", n)
			}
			c.later(20 * time.Millisecond)
			c.do(step{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: tc.out})
		})
	}
}

// A timeout lets one segment out and saves the window; the losses it
// marks do not overwrite what was saved, and the window comes back when
// the timeout's recovery ends (OnEnterRTO, RestoreCwnd, §5.6.4.4).
func TestBBRTimeoutRestoresWindow(t *testing.T) {
	p := startupToCruise(t)
	p.run(bbrRound{mbit: 11, inflight: 1})
	before := p.b.Window()
	p.b.Timeout(before, p.now)
	p.b.OnLost(tcp.LostSample{Bytes: 1000, TxInFlight: 55000, Lost: 1000, Delivered: p.delivered, SACK: true}, p.now)
	if got := p.b.Window(); got != 1000 {
		t.Errorf("cwnd %d after the timeout, want one segment", got)
	}
	p.now = p.now.Add(40 * time.Millisecond)
	p.b.OnRateSample(tcp.RateSample{Delivered: 1000, Interval: 40 * time.Millisecond, PriorDelivered: p.delivered,
		TotalDelivered: p.delivered + 1000, NewlyDelivered: 1000, TxInFlight: 1000, InRecovery: true, SACK: true}, p.now)
	p.delivered += 1000
	if got := p.b.Window(); got >= before {
		t.Errorf("cwnd %d in the timeout's recovery, want it below the %d saved", got, before)
	}
	p.now = p.now.Add(40 * time.Millisecond)
	p.b.OnRateSample(tcp.RateSample{Delivered: 2000, Interval: 40 * time.Millisecond, PriorDelivered: p.delivered,
		TotalDelivered: p.delivered + 2000, NewlyDelivered: 2000, TxInFlight: 2000, SACK: true}, p.now)
	if got := p.b.Window(); got < before {
		t.Errorf("cwnd %d once the recovery is over, want the %d saved", got, before)
	}
}

// With segmentation offload a paced connection's segments carry at most
// a millisecond at its pacing rate, and two segments at least (the send
// quantum, §5.6.3): 2022100 bytes/s makes 2022, so 2920. The first
// segment, sent before the connection has a congestion control, is the
// initial window whole. The ACK comes after its time: the first segment
// it lets out makes the next wait half its gap (pacing.go), so that one
// goes within the millisecond of slack too.
func TestBBRSendQuantum(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: tcp.NewBBR, SegmentOffload: 65536})
	c.do(step{call: "write 29200", out: []string{". 1001:15601(14600) ack 5001"}})
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 15601 win 65535", out: []string{". 15601:18521(2920) ack 5001", ". 18521:21441(2920) ack 5001"}})
}

// BBR, its samples and its pacing allocate nothing per segment, on a
// clock that moves (paced segments wait for it).
func TestNoAllocationsPerSegmentBBR(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cfg := plain(tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20, CongestionControl: tcp.NewBBR},
		withSACK, withTimestamps, withoutNagle)
	p := newClockedPair(cfg)
	data, buf := make([]byte, 1460), make([]byte, 64<<10)
	for range 100 { // warm up: pools, slices, the window
		p.send(data, buf)
	}
	if n := testing.AllocsPerRun(1000, func() { p.send(data, buf) }); n != 0 {
		t.Errorf("%.2f allocations per segment, want 0", n)
	}
	if s := p.tx.Stats(); s.BytesSent != 1101*1460 || s.DeliveryRate == 0 || s.PacingRate == 0 {
		t.Errorf("sent %d bytes, delivery rate %d, pacing rate %d; want %d, and rates", s.BytesSent, s.DeliveryRate, s.PacingRate, 1101*1460)
	}
}

// A connection switched to BBR after it has sent keeps its window, as
// Linux's bbr_init leaves snd_cwnd, and is paced from then on, at the
// initial rate of the handshake's RTT (2.77 × 14600 bytes / 20 ms).
func TestBBRSwitchedTo(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: tcp.NewCubic})
	c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.later(20 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535"})
	before := c.Stats().CongestionWindow
	if err := c.SetCongestionControl("bbr", c.now); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.CongestionWindow != before || s.PacingRate != 2022100 || c.CongestionControlName() != "bbr" {
		t.Errorf("cwnd %d, pacing rate %d, name %q; want %d, 2022100, bbr", s.CongestionWindow, s.PacingRate, c.CongestionControlName(), before)
	}
}

// A short connection with BBR — connect, a byte each way, close, as
// seqack bench's handshake workload — allocates no more than one with
// CUBIC: the sampler's first records live in its own state
// (rateSampler.first), not in an array grown for them (issue 16: the
// handshake with BBR must cost no more than with CUBIC).
func TestBBRShortConnectionAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	allocs := func(cc func(int) tcp.CongestionControl) float64 {
		cfg := plain(tcp.Config{MSL: time.Second, CongestionControl: cc})
		return testing.AllocsPerRun(200, func() { newClockedPair(cfg).echoAndClose() })
	}
	cubic, bbr := allocs(tcp.NewCubic), allocs(tcp.NewBBR)
	if bbr > cubic {
		t.Errorf("a short connection pair allocates %.0f times with BBR, %.0f with CUBIC", bbr, cubic)
	}
}
