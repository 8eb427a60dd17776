package sim_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
)

// sampled is CUBIC that keeps the delivery-rate samples it is given.
type sampled struct {
	tcp.CongestionControl
	samples *[]tcp.RateSample
}

func (s sampled) OnRateSample(rs tcp.RateSample, _ time.Time) { *s.samples = append(*s.samples, rs) }

// Delivery-rate samples measure the bottleneck: through a 10 Mbit/s
// link the bulk sender's samples that are not application-limited never
// exceed what the link carries of payload (1460 of every 1500 bytes of
// a full packet, 1.2167 MB/s), and the best of them come close to it;
// CUBIC's queue at the bottleneck does not inflate them.
func TestRateSamplesMeasureBottleneck(t *testing.T) {
	var samples []tcp.RateSample
	cfg := &tcp.Config{MSL: time.Second, NoTimestamps: true, CongestionControl: func(mss int) tcp.CongestionControl {
		return sampled{tcp.NewCubic(mss), &samples}
	}}
	n, client, server := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond, Bandwidth: 10e6}, cfg)
	data := bytes.Repeat([]byte("rate "), 400_000) // 2 MB
	up, _ := transfer(t, n, client, server, data, nil)
	if !bytes.Equal(up, data) {
		t.Fatalf("%d bytes arrived of %d", len(up), len(data))
	}
	const payloadRate = 10e6 / 8 * 1460 / 1500
	best, valid := 0.0, 0
	for _, rs := range samples {
		if rs.Interval == 0 || rs.AppLimited {
			continue
		}
		valid++
		best = max(best, rs.Rate())
	}
	t.Logf("%d samples, %d valid and not app-limited; best %.0f B/s, %.3f of the link's payload rate", len(samples), valid, best, best/payloadRate)
	if valid < 100 || best > 1.01*payloadRate || best < 0.9*payloadRate {
		t.Errorf("best rate %.0f B/s of %d samples, want within [0.9, 1.01] of %.0f", best, valid, payloadRate)
	}
}

// A sender that writes less than its window allows — a kilobyte every
// 30 ms over a 20 ms round trip — has every sample marked
// application-limited: none of them says what the path could carry.
func TestRateSamplesAppLimited(t *testing.T) {
	var samples []tcp.RateSample
	cfg := &tcp.Config{MSL: time.Second, CongestionControl: func(mss int) tcp.CongestionControl {
		return sampled{tcp.NewCubic(mss), &samples}
	}}
	n, client, _ := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond, Bandwidth: 10e6}, cfg)
	var c *sim.Conn
	n.At(0, func() { c, _ = client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	for i := range 30 {
		n.At(100*time.Millisecond+time.Duration(i)*30*time.Millisecond, func() { c.Write(make([]byte, 1000)) })
	}
	if err := n.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(samples) < 15 { // one an ACK: the peer's delayed ACK covers two writes at times
		t.Errorf("%d samples of 30 writes, want at least 15", len(samples))
	}
	for i, rs := range samples {
		if !rs.AppLimited {
			t.Errorf("sample %d (%d bytes in %v) not application-limited", i, rs.Delivered, rs.Interval)
		}
	}
}
