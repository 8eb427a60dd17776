package sim_test

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
)

// bloatedResult is the outcome of a bulk transfer over the bloated path.
type bloatedResult struct {
	took       time.Duration // virtual time to deliver everything
	goodput    float64       // bits per second at the receiver, over took
	segments   uint64        // data segments sent
	resent     uint64        // segments sent again
	earlyResnt uint64        // segments sent again in the first 2 s: slow start's overshoot
	fill       time.Duration // when the receiver first got 90% of the link's rate over 100 ms
	exitCwnd   int           // the window when ssthresh first fell from its initial value, in segments
	exitAt     time.Duration // and when
}

func (r bloatedResult) String() string {
	return fmt.Sprintf("%.2f Mbit/s (%v); %d of %d segments resent (%.2f%%), %d in the first 2 s; link 90%% full after %v; slow start ended at %v with cwnd %d segments",
		r.goodput/1e6, r.took.Round(time.Millisecond), r.resent, r.segments, 100*float64(r.resent)/float64(r.segments),
		r.earlyResnt, r.fill, r.exitAt, r.exitCwnd)
}

// bloatedTransfer sends size bytes over the emulated bloated path of
// internal/interop (bench/results/2026-12-07-linux-bbr-all.txt): 100
// Mbit/s, 40 ms RTT, no random loss, a 2.5 MB drop-tail queue (5×BDP),
// with the sender's TCP configured by cfg.
func bloatedTransfer(t testing.TB, cfg tcp.Config, size int) bloatedResult {
	t.Helper()
	const rate = 100e6
	n := sim.New(sim.Config{Seed: 1, DiscardEvents: true})
	cfg.ReceiveBufferSize, cfg.SendBufferSize, cfg.MaxReceiveBufferSize = 16<<20, 16<<20, -1
	rcfg := tcp.Config{ReceiveBufferSize: 16 << 20, MaxReceiveBufferSize: -1}
	client := n.AddHost("client", netip.MustParseAddr("10.0.0.1"), &cfg)
	server := n.AddHost("server", netip.MustParseAddr("10.0.0.2"), &rcfg)
	n.Link(client, server, sim.LinkConfig{Delay: 20 * time.Millisecond, Bandwidth: rate, QueueBytes: 2_500_000})
	var r bloatedResult
	b := startOneWay(n, client, server, size)
	// Every 10 ms: the sender's window, and the receiver's rate.
	const every = 10 * time.Millisecond
	var gotAt []int
	var tick func()
	tick = func() {
		gotAt = append(gotAt, b.got)
		if k := len(gotAt) - 1; r.fill == 0 && k >= 10 && float64(b.got-gotAt[k-10])*8/0.1 >= 0.9*rate {
			r.fill = n.Elapsed()
		}
		if b.sender != nil {
			st := b.sender.Stats()
			if r.exitAt == 0 && st.SlowStartThreshold != 0 && st.SlowStartThreshold < math.MaxInt32 {
				r.exitAt, r.exitCwnd = n.Elapsed(), st.CongestionWindow/1448
			}
			if n.Elapsed() <= 2*time.Second {
				r.earlyResnt = st.Retransmissions
			}
		}
		if b.done == 0 {
			n.After(every, tick)
		}
	}
	n.At(0, tick)
	if err := n.Run(time.Hour); err != nil {
		t.Fatal(err)
	}
	if b.got != size || b.sender == nil {
		t.Fatalf("received %d of %d bytes", b.got, size)
	}
	r.took = b.done
	st := b.sender.Stats()
	r.goodput = float64(size) * 8 / r.took.Seconds()
	r.segments, r.resent = uint64(st.DataSegmentsSent), st.Retransmissions
	return r
}

// On the bloated path (a 5×BDP drop-tail queue) CUBIC's slow start
// without HyStart++ doubles its window until the queue overflows and
// loses a large share of a window at once (in the emulated path against
// Linux, bench/results/2026-12-07-linux-bbr-all.txt: 5.8% of its
// segments resent, where Linux's CUBIC, with HyStart, resent 0.2%).
// With HyStart++ (RFC 9406) slow start gives way to Conservative Slow
// Start once the queue starts to build: what slow start resends must
// fall to half or less, with the goodput no lower and the link full no
// later. It does not fall to nothing: the least RTT of a round is that
// of the segments the round before sent first, so a rise is seen a round
// late, with the window at 2 to 4.5 BDPs here; CSS then grows it 2.4 to
// 3 times more over its five rounds, past the 6 BDPs the path holds,
// and the overshoot is CSS's quarter of a round where slow start's was
// a whole one (Linux's HyStart leaves slow start at once, on the RTT
// rise or when a round's ACK train lasts half the least RTT).
// SEQACK_BLOAT_MB sets the size of the transfers (default 16 MiB; 64
// for the figures in the README, as on the emulated path).
func TestBloatedPathHyStart(t *testing.T) {
	if raceEnabled {
		// Slow start's loss recovery without HyStart++ (thousands of
		// SACK holes) takes half a minute a run under the detector.
		t.Skip("a measurement; the race detector makes it take a minute")
	}
	size := 16 << 20 // past slow start and its recovery
	if mb, err := strconv.Atoi(os.Getenv("SEQACK_BLOAT_MB")); err == nil && mb > 0 {
		size = mb << 20
	}
	for _, cc := range []struct {
		name string
		make func(mss int) tcp.CongestionControl
	}{{"cubic", tcp.NewCubic}, {"newreno", tcp.NewNewReno}} {
		t.Run(cc.name, func(t *testing.T) {
			if testing.Short() && cc.name != "cubic" {
				t.Skip("-short: CUBIC only")
			}
			off := bloatedTransfer(t, tcp.Config{CongestionControl: cc.make, NoHyStart: true}, size)
			on := bloatedTransfer(t, tcp.Config{CongestionControl: cc.make}, size)
			t.Logf("without HyStart++: %v", off)
			t.Logf("with HyStart++:    %v", on)
			if off.earlyResnt == 0 {
				t.Fatalf("without HyStart++ slow start resent nothing: the path does not test it")
			}
			if on.earlyResnt*2 > off.earlyResnt {
				t.Errorf("slow start resent %d segments with HyStart++, %d without: want half or less", on.earlyResnt, off.earlyResnt)
			}
			if on.goodput < off.goodput {
				t.Errorf("goodput %.2f Mbit/s with HyStart++, %.2f without", on.goodput/1e6, off.goodput/1e6)
			}
			if on.fill == 0 || on.fill > off.fill+200*time.Millisecond {
				t.Errorf("link full after %v with HyStart++, %v without", on.fill, off.fill)
			}
		})
	}
}
