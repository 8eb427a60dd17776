package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Pacing (pacing.go). The connections have the 20 ms RTT of the rate
// tables (rate_test.go): SRTT is 20 ms when data is first written.

// fixedPacer is a congestion control (NewReno's window) that sets its
// own pacing rate.
type fixedPacer struct {
	tcp.CongestionControl
	rate float64
}

// PacingRate implements tcp.Pacer.
func (p *fixedPacer) PacingRate() float64 { return p.rate }

func pacedConn(t *testing.T, cfg tcp.Config) *testConn {
	t.Helper()
	cfg.DelayedAck = -1
	if cfg.CongestionControl == nil {
		cfg.CongestionControl = tcp.NewNewReno
	}
	c := newTestConn(t, plain(cfg, withoutNagle), ourISS)
	c.Connect(c.now)
	c.later(20 * time.Millisecond)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.settle()
	return c
}

// With Config.Pacing, slow start paces at twice cwnd/SRTT: 14600 bytes
// per 10 ms, a segment a millisecond. A millisecond's worth may leave
// early, so two go at once, then one each millisecond, each at the
// deadline the engine gives.
func TestPacingFromWindow(t *testing.T) {
	c := pacedConn(t, tcp.Config{Pacing: true})
	c.do(step{call: "write 5840", out: []string{". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001"}})
	if s := c.Stats(); s.PacingRate != 1_460_000 {
		t.Errorf("pacing rate %d bytes/s, want 1460000", s.PacingRate)
	}
	c.do(step{call: "timer", wait: time.Millisecond, out: []string{". 3921:5381(1460) ack 5001"}})
	c.do(step{call: "timer", wait: time.Millisecond, out: []string{"P. 5381:6841(1460) ack 5001"}})
	if len(c.timers) != 0 {
		t.Errorf("timers fired %v: pacing is no timer of the RFCs, and tells the observer nothing", c.timers)
	}
	// Everything sent: the deadline is the retransmission timer's, 200
	// ms after the first segment left.
	if d := c.Deadline().Sub(epoch); d != 220*time.Millisecond {
		t.Errorf("deadline %v after the last segment, want the RTO's at 220ms", d)
	}
}

// Without Config.Pacing a window-based controller sends its window at
// once, as Linux does without fq.
func TestPacingOff(t *testing.T) {
	c := pacedConn(t, tcp.Config{})
	c.do(step{call: "write 5840", out: []string{". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001",
		". 3921:5381(1460) ack 5001", "P. 5381:6841(1460) ack 5001"}})
	if s := c.Stats(); s.PacingRate != 0 {
		t.Errorf("pacing rate %d, want 0", s.PacingRate)
	}
}

// A controller that implements Pacer is paced at its rate, whatever
// Config.Pacing says: 146000 bytes/s is a segment each 10 ms, and the
// millisecond of slack lets none go early.
func TestPacingByController(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: func(mss int) tcp.CongestionControl {
		return &fixedPacer{CongestionControl: tcp.NewNewReno(mss), rate: 146000}
	}})
	c.do(step{call: "write 4380", out: []string{". 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", wait: 9 * time.Millisecond, out: []string{". 2461:3921(1460) ack 5001"}})
	c.do(step{call: "timer", wait: 10 * time.Millisecond, out: []string{"P. 3921:5381(1460) ack 5001"}})
	if s := c.Stats(); s.PacingRate != 146000 {
		t.Errorf("pacing rate %d, want 146000", s.PacingRate)
	}
}

// An ACK while a segment waits does not let it go early; pure ACKs are
// not paced.
func TestPacingHoldsThroughACK(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: func(mss int) tcp.CongestionControl {
		return &fixedPacer{CongestionControl: tcp.NewNewReno(mss), rate: 146000}
	}})
	c.do(step{call: "write 2920", out: []string{". 1001:2461(1460) ack 5001"}})
	c.later(5 * time.Millisecond)
	c.do(step{in: "P. 5001:5101(100) ack 1001 win 65535", out: []string{". 2461:2461(0) ack 5101"}})
	c.do(step{call: "timer", wait: 4 * time.Millisecond, out: []string{"P. 2461:3921(1460) ack 5101"}})
}

// However low the rate, a paced connection sends at least a segment per
// smoothed round trip: at 1 byte/s the second segment would wait 24
// minutes, and a rate collapsed by a silent peer (BBR's bandwidth
// estimate after minutes of timeouts) held a connection's queued data
// past its liveness bound (FuzzPair). SRTT is 20 ms here.
func TestPacingGapAtMostSRTT(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: func(mss int) tcp.CongestionControl {
		return &fixedPacer{CongestionControl: tcp.NewNewReno(mss), rate: 1}
	}})
	c.do(step{call: "write 2920", out: []string{". 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", wait: 19 * time.Millisecond, out: []string{"P. 2461:3921(1460) ack 5001"}})
}

// rateAndPace is a controller that takes rate samples and paces.
type rateAndPace struct {
	tcp.CongestionControl
	samples int
}

func (r *rateAndPace) OnRateSample(tcp.RateSample, time.Time) { r.samples++ }
func (r *rateAndPace) PacingRate() float64                    { return 1e12 }

// Pacing, rate samples and their consumer allocate nothing per segment.
func TestNoAllocationsPerSegmentPacedAndSampled(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ctl := &rateAndPace{}
	cfg := plain(tcp.Config{ReceiveBufferSize: 1 << 20, SendBufferSize: 1 << 20, Pacing: true,
		CongestionControl: func(mss int) tcp.CongestionControl { ctl.CongestionControl = tcp.NewCubic(mss); return ctl }},
		withSACK, withTimestamps, withoutNagle)
	if n := allocsPerSegment(cfg); n != 0 {
		t.Errorf("%.2f allocations per segment, want 0", n)
	}
	if ctl.samples == 0 {
		t.Error("the controller got no rate samples")
	}
}

// On a path with no bottleneck — the clock moves a microsecond per pass
// of segments, the sender is the limit — BBR's pacing rate stays far
// above what the sender produces, and pacing never holds a segment: the
// sender's deadline is never a pacing deadline (which would be under a
// millisecond away, where the retransmission timer is 200 ms), so a
// driver wakes no timer for it (issue 16: pacing must not cost
// throughput on the in-memory pipe).
func TestPacingHoldsNothingWithoutBottleneck(t *testing.T) {
	p := newClockedPair(plain(tcp.Config{CongestionControl: tcp.NewBBR}))
	data := make([]byte, 64<<10)
	buf := make([]byte, 64<<10)
	for range 128 { // 8 MiB
		for sent := 0; sent < len(data); {
			n, _ := p.tx.Write(data[sent:], p.now)
			sent += n
			p.shuttle()
			if d := p.tx.Deadline(); !d.IsZero() && d.Sub(p.now) < 10*time.Millisecond {
				t.Fatalf("after %d bytes the sender's deadline is %v away: pacing holds a segment (%+v)",
					p.tx.Stats().BytesSent, d.Sub(p.now), p.tx.Stats())
			}
			for p.rx.Buffered() > 0 {
				p.rx.Read(buf, p.now)
			}
			p.shuttle()
		}
	}
	s := p.tx.Stats()
	if s.PacingRate < 10*s.DeliveryRate || s.DeliveryRate == 0 {
		t.Errorf("pacing rate %d bytes/s, delivery rate %d: want the pacing rate far above", s.PacingRate, s.DeliveryRate)
	}
}

// A driver's timer may fire late (Go's timers, on a busy host, by a
// millisecond or more). As Linux's tcp_update_skb_after_send does for
// OS jitter, a segment sent late makes the next wait less by its
// lateness, at most half its own gap: at 146000 bytes/s a segment is
// due every 10 ms after the write, and timers 0.5 ms past each
// segment's time (1.5 ms past their deadlines) leave the next deadline
// on that grid; one 3 ms late also gets its 3 ms back, and one 8 ms late
// only 5. After 100 ms idle the first segment goes at once, and the
// next is due half a gap later: a burst after idle is at most twice the
// rate for one segment.
func TestPacingKeepsScheduleThroughLateTimer(t *testing.T) {
	c := pacedConn(t, tcp.Config{CongestionControl: func(mss int) tcp.CongestionControl {
		return &fixedPacer{CongestionControl: tcp.NewNewReno(mss), rate: 146000}
	}})
	start := c.now
	c.do(step{call: "write 8760", out: []string{". 1001:2461(1460) ack 5001"}})
	for i, tc := range []struct {
		due  time.Duration // the segment's time, from the write
		late time.Duration // past it, when the timer fires
		out  string
	}{
		{10 * time.Millisecond, 500 * time.Microsecond, ". 2461:3921(1460) ack 5001"},
		{20 * time.Millisecond, 500 * time.Microsecond, ". 3921:5381(1460) ack 5001"},
		{30 * time.Millisecond, 3 * time.Millisecond, ". 5381:6841(1460) ack 5001"},
		{40 * time.Millisecond, 8 * time.Millisecond, ". 6841:8301(1460) ack 5001"},
		{53 * time.Millisecond, 0, "P. 8301:9761(1460) ack 5001"}, // 40 + 8 + 10 - 5
	} {
		if got, want := c.Deadline().Sub(start), tc.due-time.Millisecond; got != want {
			t.Errorf("segment %d: deadline %v after the write, want %v (its time less the slack)", i+2, got, want)
		}
		c.now = start.Add(tc.due + tc.late)
		c.HandleTimer(c.now)
		c.out(tc.out)
	}
	c.do(step{in: ". 5001:5001(0) ack 9761 win 65535"})
	c.later(100 * time.Millisecond)
	write := c.now
	c.do(step{call: "write 2920", out: []string{". 9761:11221(1460) ack 5001"}})
	if got, want := c.Deadline().Sub(write), 4*time.Millisecond; got != want {
		t.Errorf("after idle: deadline %v after the write, want %v (half the 10 ms gap, less the slack)", got, want)
	}
}
