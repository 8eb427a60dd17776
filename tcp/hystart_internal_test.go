package tcp

import (
	"fmt"
	"testing"
	"time"
)

// hsStep is one ACK given to HyStart++ (RFC 9406 §4.2) in a table: the
// round it belongs to, its RTT sample, and what HyStart++ should be
// after it.
type hsStep struct {
	round int           // the ACK ends round-1 and so begins round (windowEnd is round's start); rounds start at 1
	rtt   time.Duration // the sample
	n     int           // how many such ACKs, in that round; 0 means 1
	want  hyStartPhase  // the phase after the last of them
	exit  bool          // sampled reports slow start over, at the first of them
}

// ms is a duration in milliseconds, for the tables.
func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// hsRound returns n ACKs of round r, all with RTT rtt, that leave the
// phase want.
func hsRound(r int, rtt time.Duration, n int, want hyStartPhase) hsStep {
	return hsStep{round: r, rtt: rtt, n: n, want: want}
}

// runHyStart feeds steps to a HyStart++ just started. Round r's ACKs
// acknowledge sequence numbers from r·1000 on; each new round's first
// ACK covers the windowEnd the previous round set (SND.NXT when it
// began), and sets the next one 1000 further.
func runHyStart(t *testing.T, h *hyStart, steps []hsStep) {
	t.Helper()
	round, ack := 1, Seq(1000)
	h.start(ack, false) // the first round ends at once, with the first ACK
	for i, s := range steps {
		for k := range max(s.n, 1) {
			if s.round != round {
				round, ack = s.round, Seq(1000*s.round)
			} else {
				ack++
			}
			next := Seq(1000 * (round + 1))
			exit := h.sampled(s.rtt, ack, next)
			if k == 0 && exit != s.exit {
				t.Fatalf("step %d (round %d, RTT %v): exit %v, want %v", i, s.round, s.rtt, exit, s.exit)
			}
			if k > 0 && exit {
				t.Fatalf("step %d (round %d, RTT %v): exit on ACK %d of %d", i, s.round, s.rtt, k+1, s.n)
			}
		}
		if h.phase != s.want {
			t.Fatalf("step %d (round %d, %d× RTT %v): phase %v, want %v (last round's min %v, this one's %v, %d samples)",
				i, s.round, max(s.n, 1), s.rtt, h.phase, s.want, h.lastRoundMinRTT, h.currentRoundMinRTT, h.samples)
		}
	}
}

// hyStartOf returns the HyStart++ state of cc, a Cubic or a NewReno.
func hyStartOf(cc CongestionControl) *hyStart {
	if r, ok := cc.(*NewReno); ok {
		return &r.hs
	}
	return &cc.(*Cubic).hs
}

func (p hyStartPhase) String() string {
	switch p {
	case hsOff:
		return "off"
	case hsSlowStart:
		return "slow start"
	case hsCSS:
		return "CSS"
	case hsDone:
		return "done"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// The state machine of RFC 9406 §4.2, one ACK (or a run of alike ACKs)
// a line: rounds begin when an ACK covers the SND.NXT of the last
// round's start; a round with N_RTT_SAMPLE samples whose least RTT is
// the last round's plus clamp(last/8, 4 ms, 16 ms) moves slow start to
// CSS; a round of CSS whose least RTT falls below the one CSS began with
// moves it back; CSS ends slow start after CSS_ROUNDS rounds, the one
// it began in included.
func TestHyStartStateMachine(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []hsStep
	}{
		{"steady RTT: slow start throughout", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(40), 8, hsSlowStart),
			hsRound(3, ms(44.9), 30, hsSlowStart), // below 40 + 5
		}},
		{"a rise with fewer than N_RTT_SAMPLE samples is not looked at", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(80), 7, hsSlowStart),
			hsRound(3, ms(40), 1, hsSlowStart), // the round ended with 7: none was enough
		}},
		{"the first round has no last round to rise over", []hsStep{
			hsRound(1, ms(90), 30, hsSlowStart),
			hsRound(2, ms(100), 8, hsSlowStart), // 90 + 11.25 > 100
			hsRound(3, ms(112.5), 8, hsCSS),
		}},
		{"a rise of lastRoundMinRTT/8 enters CSS at the 8th sample", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(45), 7, hsSlowStart),
			hsRound(2, ms(45), 1, hsCSS),
		}},
		{"the least RTT of the round counts", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(41), 1, hsSlowStart),
			hsRound(2, ms(60), 30, hsSlowStart), // the round's least is 41
		}},
		{"MIN_RTT_THRESH: 4 ms over 20 ms", []hsStep{
			hsRound(1, ms(20), 8, hsSlowStart),
			hsRound(2, ms(23.9), 8, hsSlowStart),
			hsRound(3, ms(27.9), 8, hsCSS), // 23.9 + 4
		}},
		{"MAX_RTT_THRESH: 16 ms over 200 ms", []hsStep{
			hsRound(1, ms(200), 8, hsSlowStart),
			hsRound(2, ms(215.9), 8, hsSlowStart),
			hsRound(3, ms(231.9), 8, hsCSS), // 215.9 + 16
		}},
		{"CSS back to slow start when the RTT falls below its baseline", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(50), 8, hsCSS), // baseline 50
			hsRound(3, ms(50), 20, hsCSS),
			hsRound(4, ms(49), 7, hsCSS), // not yet N_RTT_SAMPLE samples
			hsRound(4, ms(49), 1, hsSlowStart),
			// and slow start has HyStart++ again: the last round's least is 49
			hsRound(5, ms(49), 8, hsSlowStart),
			hsRound(6, ms(56), 8, hsCSS),
		}},
		{"CSS back to slow start within the round it began in", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(50), 8, hsCSS),
			hsRound(2, ms(49), 1, hsSlowStart),
		}},
		{"CSS_ROUNDS: the partial round and four more, then congestion avoidance", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(50), 8, hsCSS), // round 2 counts
			hsRound(3, ms(60), 8, hsCSS),
			hsRound(4, ms(70), 8, hsCSS),
			hsRound(5, ms(80), 8, hsCSS),
			hsRound(6, ms(90), 7, hsCSS),
			{round: 7, rtt: ms(100), exit: true, want: hsDone},
			hsRound(8, ms(40), 8, hsDone), // over for good: no samples taken
		}},
		{"rounds of CSS without samples count", []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(50), 8, hsCSS),
			hsRound(3, ms(60), 1, hsCSS),
			hsRound(4, ms(60), 1, hsCSS),
			hsRound(5, ms(60), 1, hsCSS),
			hsRound(6, ms(60), 1, hsCSS),
			{round: 7, rtt: ms(60), exit: true, want: hsDone},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h hyStart
			runHyStart(t, &h, c.steps)
		})
	}
}

// After an idle period the window restarts from the initial one
// (RFC 5681 §4.1), and HyStart++ grows it in slow start proper, with
// no RTT from before the pause (RFC 9406 §4.3); once slow start has
// ended, the restart is plain.
func TestHyStartRestart(t *testing.T) {
	const mss = 1000
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, newCC := range []func(int) CongestionControl{NewCubic, NewNewReno} {
		cc := newCC(mss)
		h := hyStartOf(cc)
		runHyStart(t, h, []hsStep{
			hsRound(1, ms(40), 8, hsSlowStart),
			hsRound(2, ms(50), 8, hsCSS),
		})
		cc.Restart(now)
		if h.phase != hsSlowStart || h.lastRoundMinRTT != hsNone || h.currentRoundMinRTT != hsNone || h.samples != 0 {
			t.Fatalf("%T after Restart: phase %v, last round's least RTT %v, this one's %v, %d samples; want slow start afresh",
				cc, h.phase, h.lastRoundMinRTT, h.currentRoundMinRTT, h.samples)
		}
		// The first round after the pause has nothing to rise over.
		for i := range 8 {
			h.sampled(ms(80), Seq(3000+i), 4000)
		}
		if h.phase != hsSlowStart {
			t.Errorf("%T: the first round after the pause moved HyStart++ to %v", cc, h.phase)
		}
		h.end()
		cc.Restart(now)
		if h.phase != hsDone {
			t.Errorf("%T: Restart after slow start ended: phase %v, want done", cc, h.phase)
		}
	}
}

// The window's growth per ACK in slow start (RFC 9406 §4.2, §4.3):
// min(N, L·SMSS) with L = 8 unpaced and no limit paced, a quarter of
// that in CSS; RFC 3465's L = 2 without HyStart++ or after it.
func TestHyStartIncrease(t *testing.T) {
	const mss = 1000
	for _, c := range []struct {
		phase hyStartPhase
		paced bool
		bytes int
		want  int
	}{
		{hsOff, false, 1000, 1000},
		{hsOff, false, 10000, 2000},
		{hsDone, false, 10000, 2000},
		{hsSlowStart, false, 2000, 2000},
		{hsSlowStart, false, 10000, 8000},
		{hsSlowStart, true, 100000, 100000},
		{hsCSS, false, 2000, 500},
		{hsCSS, false, 10000, 2000},
		{hsCSS, true, 100000, 25000},
	} {
		h := hyStart{phase: c.phase, paced: c.paced}
		if got := h.increase(c.bytes, mss); got != c.want {
			t.Errorf("%v (paced %v): %d bytes ACKed grow the window %d, want %d", c.phase, c.paced, c.bytes, got, c.want)
		}
	}
}

// Loss in slow start or CSS ends slow start as it always does (RFC 9406
// §4.2), and HyStart++ for good (§4.3): no later sample moves the
// window, and a later slow start is plain. Undoing the reduction (a
// spurious loss) gives HyStart++ back as it was.
func TestHyStartLoss(t *testing.T) {
	const mss = 1000
	for _, c := range []struct {
		name string
		make func(int) CongestionControl
	}{{"cubic", NewCubic}, {"newreno", NewNewReno}} {
		for _, loss := range []string{"congestion", "timeout"} {
			t.Run(c.name+"/"+loss, func(t *testing.T) {
				now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
				cc := c.make(mss)
				h := hyStartOf(cc)
				runHyStart(t, h, []hsStep{
					hsRound(1, ms(40), 8, hsSlowStart),
					hsRound(2, ms(50), 8, hsCSS),
				})
				w := cc.Window()
				cc.Acked(4*mss, 0, now)
				if got := cc.Window() - w; got != mss {
					t.Fatalf("in CSS 4 segments ACKed grew the window by %d, want 1 segment", got)
				}
				if loss == "congestion" {
					cc.Congestion(cc.Window(), now)
				} else {
					cc.Timeout(cc.Window(), now)
				}
				if h.phase != hsDone {
					t.Fatalf("after a %s: phase %v, want done", loss, h.phase)
				}
				if h.sampled(ms(40), 3000, 4000) || h.phase != hsDone {
					t.Fatalf("a sample after the %s moved HyStart++ to %v", loss, h.phase)
				}
				if cc.Window() < cc.SlowStartThreshold() {
					w := cc.Window()
					cc.Acked(10*mss, 0, now)
					if got := cc.Window() - w; got != 2*mss {
						t.Errorf("slow start after the %s grew by %d for 10 segments, want RFC 3465's 2", loss, got)
					}
				}
				cc.(UndoableCongestionControl).Undo()
				if h.phase != hsCSS {
					t.Errorf("after Undo: phase %v, want CSS again", h.phase)
				}
			})
		}
	}
}
