package tcp_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation).
// The connections here have a 20 ms RTT: the SYN goes at 0 ms, the
// SYN+ACK arrives at 20 ms (min_rtt 20 ms, the RTO its 200 ms floor),
// and data written then leaves at once, MSS 1460, NewReno's initial
// window of ten segments:
//
//	seg 1: 1001:2461    seg 3: 3921:5381    seg 5: 6841:8301
//	seg 2: 2461:3921    seg 4: 5381:6841    seg 6: 8301:9761 ...
//
// A sample is written "delivered/interval", "app" added if it is
// application-limited, and "delivered/-" if it gives no rate; "lost
// a/b" says a bytes were deemed lost while the measured transmission
// was in flight (RS.lost), b since the last sample (RS.newly_lost).

// sampleLog is a congestion control that records the delivery-rate
// samples it is given.
type sampleLog struct {
	tcp.CongestionControl
	got []tcp.RateSample
}

// OnRateSample implements tcp.RateSampleConsumer.
func (l *sampleLog) OnRateSample(rs tcp.RateSample, _ time.Time) { l.got = append(l.got, rs) }

// sampleText writes a sample as the tables do.
func sampleText(rs tcp.RateSample) string {
	s := strconv.FormatInt(rs.Delivered, 10) + "/-"
	if rs.Interval > 0 {
		s = fmt.Sprintf("%d/%v", rs.Delivered, rs.Interval)
	}
	if rs.AppLimited {
		s += " app"
	}
	if rs.Lost > 0 || rs.NewlyLost > 0 {
		s += fmt.Sprintf(" lost %d/%d", rs.Lost, rs.NewlyLost)
	}
	return s
}

// rateStep is one step of a rate table: at a time since the SYN, one
// stimulus (a segment in, "write N" or "timer"), and the samples its
// ACK gives. out, if not nil, is every segment that must be sent.
type rateStep struct {
	at      time.Duration
	in      string
	call    string
	samples []string
	out     []string
}

// rateConn returns a connection through its handshake whose congestion
// control (NewReno) logs its samples.
func rateConn(t *testing.T, cfg tcp.Config, with ...func(*tcp.Config)) (*testConn, *sampleLog) {
	t.Helper()
	log := &sampleLog{}
	cfg.DelayedAck = -1
	cfg.CongestionControl = func(mss int) tcp.CongestionControl {
		log.CongestionControl = tcp.NewNewReno(mss)
		return log
	}
	c := newTestConn(t, plain(cfg, append(with, withoutNagle)...), ourISS)
	c.Connect(c.now)
	c.later(20 * time.Millisecond)
	if cfg.NoSACK {
		c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	} else {
		c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	}
	c.settle()
	return c, log
}

func (c *testConn) rateSteps(log *sampleLog, steps []rateStep) {
	c.t.Helper()
	for _, s := range steps {
		if s.call != "timer" {
			c.now = epoch.Add(s.at)
		}
		log.got = nil
		switch {
		case s.in != "":
			c.in(s.in)
		case strings.HasPrefix(s.call, "write "):
			n, _ := strconv.Atoi(strings.TrimPrefix(s.call, "write "))
			c.Write(make([]byte, n), c.now)
		case s.call == "timer":
			c.fireTimer()
			if c.now != epoch.Add(s.at) {
				c.t.Errorf("timer fired at %v, want %v", c.now.Sub(epoch), s.at)
			}
		default:
			c.t.Fatalf("bad step %+v", s)
		}
		var got []string
		for _, rs := range log.got {
			got = append(got, sampleText(rs))
		}
		if strings.Join(got, ", ") != strings.Join(s.samples, ", ") {
			c.t.Errorf("at %v, %s%s: samples %q, want %q", s.at, s.in, s.call, got, s.samples)
		}
		if s.out != nil {
			c.out(s.out...)
		} else {
			c.Outgoing()
		}
	}
}

func TestRateSamples(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		name  string
		cfg   tcp.Config
		sack  bool
		steps []rateStep
	}{{
		// The first flight is application-limited: nothing was written
		// before it (DRE §3.4). Its first ACK gives a round trip's
		// delivery; a stretch ACK counts both segments over the time
		// since the flight's first delivery time.
		name: "one flight, cumulative ACKs",
		steps: []rateStep{
			{at: 20 * ms, call: "write 4380", out: []string{". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001", "P. 3921:5381(1460) ack 5001"}},
			{at: 40 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/20ms app"}},
			{at: 42 * ms, in: ". 5001:5001(0) ack 5381 win 65535", samples: []string{"4380/22ms app"}},
			{at: 43 * ms, in: ". 5001:5001(0) ack 5381 win 65535"}, // a duplicate delivers nothing
		},
	}, {
		// A bulk sender: the segments sent after the first delivery are
		// not application-limited. The two sent at 40 ms measure
		// 16060 bytes (all delivered from 40 to 60 ms) over the 20 ms
		// both their flight's sending (20 to 40 ms) and its ACKs took.
		name: "bulk",
		steps: []rateStep{
			{at: 20 * ms, call: "write 65535"},
			{at: 40 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/20ms app"},
				out: []string{". 15601:17061(1460) ack 5001", ". 17061:18521(1460) ack 5001"}},
			{at: 41 * ms, in: ". 5001:5001(0) ack 15601 win 65535", samples: []string{"14600/21ms app"}},
			{at: 60 * ms, in: ". 5001:5001(0) ack 18521 win 65535", samples: []string{"16060/20ms"}},
		},
	}, {
		// An application that writes a segment at a time leaves the
		// connection idle: each write marks it application-limited until
		// what was in flight then (nothing) is delivered, and a write
		// after a pause marks the whole window it fills, until its first
		// ACK; what is sent after that ACK measures the path. (The window
		// did not grow while the writer left it unused (cwnduse.go): the
		// big write fills the initial ten segments, to 18521.)
		name: "application-limited writer",
		steps: []rateStep{
			{at: 20 * ms, call: "write 1460"},
			{at: 40 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/20ms app"}},
			{at: 50 * ms, call: "write 1460", out: []string{"P. 2461:3921(1460) ack 5001"}},
			{at: 70 * ms, in: ". 5001:5001(0) ack 3921 win 65535", samples: []string{"1460/20ms app"}},
			{at: 70 * ms, call: "write 65535"}, // 10 segments, to 18521
			{at: 90 * ms, in: ". 5001:5001(0) ack 5381 win 65535", samples: []string{"1460/20ms app"},
				out: []string{". 18521:19981(1460) ack 5001", ". 19981:21441(1460) ack 5001"}},
			{at: 91 * ms, in: ". 5001:5001(0) ack 21441 win 65535", samples: []string{"16060/20ms"}},
			{at: 110 * ms, in: ". 5001:5001(0) ack 22901 win 65535", samples: []string{"1460/19ms"}},
		},
	}, {
		// SACKed segments are delivered when SACKed, and counted once:
		// the ACK that finally covers them counts only the hole's
		// retransmission. Three segments SACKed above the hole deem it
		// lost (RFC 6675's IsLost; RACK, with no reordering seen, at
		// once) while the segment measured was in flight. That retransmission took fresh copies when it
		// was sent (43 ms), with nothing else in flight (the rest SACKed)
		// so it begins a flight of its own (DRE §3.2): 1460 bytes
		// delivered from 43 to 63 ms.
		name: "SACK",
		sack: true,
		steps: []rateStep{
			{at: 20 * ms, call: "write 7300"},
			{at: 40 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/20ms app"}},
			{at: 41 * ms, in: ". 5001:5001(0) ack 2461 win 65535 <sack 3921:5381>", samples: []string{"2920/21ms app"}},
			{at: 42 * ms, in: ". 5001:5001(0) ack 2461 win 65535 <sack 3921:6841>", samples: []string{"4380/22ms app"}},
			{at: 43 * ms, in: ". 5001:5001(0) ack 2461 win 65535 <sack 3921:8301>", samples: []string{"5840/23ms app lost 1460/1460"},
				out: []string{". 2461:3921(1460) ack 5001"}},
			{at: 63 * ms, in: ". 5001:5001(0) ack 8301 win 65535", samples: []string{"1460/20ms"}},
		},
	}, {
		// Without SACK, the third duplicate ACK deems the segment at
		// SND.UNA lost (RFC 6582), counted before its fast retransmit
		// takes its copies: the ACK that ends the recovery measures the
		// retransmission, sent after the loss, and says it was lost
		// since the last sample.
		name: "NewReno's recovery",
		steps: []rateStep{
			{at: 20 * ms, call: "write 5840"},
			{at: 40 * ms, in: ". 5001:5001(0) ack 1001 win 65535"},
			{at: 41 * ms, in: ". 5001:5001(0) ack 1001 win 65535"},
			{at: 42 * ms, in: ". 5001:5001(0) ack 1001 win 65535", out: []string{". 1001:2461(1460) ack 5001"}},
			{at: 62 * ms, in: ". 5001:5001(0) ack 6841 win 65535", samples: []string{"5840/20ms app lost 0/1460"}},
		},
	}, {
		// The ACK of an original transmission, 5 ms after its
		// retransmission by the timeout: taken for the retransmission's,
		// its interval is shorter than min_rtt, and it gives no rate
		// (DRE §3.3). The timeout deemed the segment lost before its
		// retransmission was sent: newly lost, but not while the
		// retransmission was in flight.
		name: "spurious retransmission",
		steps: []rateStep{
			{at: 20 * ms, call: "write 2920"},
			{at: 40 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/20ms app"}},
			{at: 240 * ms, call: "timer", out: []string{"P. 2461:3921(1460) ack 5001"}},
			{at: 245 * ms, in: ". 5001:5001(0) ack 3921 win 65535", samples: []string{"1460/- lost 0/1460"}},
		},
	}, {
		// With segmentation offload one record covers a segment of 14600
		// bytes; the peer ACKs it in parts, and each part counts as it
		// is ACKed.
		name: "a large segment ACKed in parts",
		cfg:  tcp.Config{SegmentOffload: 65536},
		steps: []rateStep{
			{at: 20 * ms, call: "write 14600", out: []string{"P. 1001:15601(14600) ack 5001"}},
			{at: 40 * ms, in: ". 5001:5001(0) ack 3921 win 65535", samples: []string{"2920/20ms app"}},
			{at: 41 * ms, in: ". 5001:5001(0) ack 6841 win 65535", samples: []string{"5840/21ms app"}},
			{at: 42 * ms, in: ". 5001:5001(0) ack 15601 win 65535", samples: []string{"14600/22ms app"}},
		},
	}} {
		for _, rack := range []bool{false, true} {
			if rack && !tt.sack {
				continue
			}
			t.Run(fmt.Sprintf("%s/RACK %v", tt.name, rack), func(t *testing.T) {
				cfg := tt.cfg
				var with []func(*tcp.Config)
				if rack {
					with = append(with, withRACK)
				}
				if tt.sack {
					with = append(with, withSACK)
				} else {
					cfg.NoSACK = true
				}
				c, log := rateConn(t, cfg, with...)
				c.rateSteps(log, tt.steps)
			})
		}
	}
}

// Stats reports the latest valid sample's rate and min_rtt, which the
// handshake already measures.
func TestRateStats(t *testing.T) {
	c, log := rateConn(t, tcp.Config{NoSACK: true})
	if s := c.Stats(); s.MinRTT != 20*time.Millisecond || s.DeliveryRate != 0 {
		t.Errorf("after the handshake: min RTT %v, delivery rate %d; want 20ms, 0", s.MinRTT, s.DeliveryRate)
	}
	ms := time.Millisecond
	c.rateSteps(log, []rateStep{
		{at: 20 * ms, call: "write 2920"},
		{at: 39 * ms, in: ". 5001:5001(0) ack 2461 win 65535", samples: []string{"1460/19ms app"}},
	})
	if s := c.Stats(); s.MinRTT != 19*time.Millisecond || s.DeliveryRate != 1460*1000/19 || !s.DeliveryRateAppLimited {
		t.Errorf("min RTT %v, delivery rate %d (app-limited %v); want 19ms, %d, true", s.MinRTT, s.DeliveryRate, s.DeliveryRateAppLimited, 1460*1000/19)
	}
	c.rateSteps(log, []rateStep{
		{at: 239 * ms, call: "timer"},
		{at: 240 * ms, in: ". 5001:5001(0) ack 3921 win 65535", samples: []string{"1460/- lost 0/1460"}},
	})
	if s := c.Stats(); s.DeliveryRate != 1460*1000/19 {
		t.Errorf("delivery rate %d after a sample with no rate, want the last valid one's, %d", s.DeliveryRate, 1460*1000/19)
	}
}

// A congestion control that takes no samples pays for none: no rate in
// Stats, though min_rtt is kept.
func TestRateOnlyForConsumers(t *testing.T) {
	c := pacedConn(t, tcp.Config{}) // NewReno
	c.do(step{call: "write 2920", out: []string{". 1001:2461(1460) ack 5001", "P. 2461:3921(1460) ack 5001"}})
	c.later(19 * time.Millisecond)
	c.do(step{in: ". 5001:5001(0) ack 3921 win 65535"})
	if s := c.Stats(); s.DeliveryRate != 0 || s.MinRTT != 19*time.Millisecond {
		t.Errorf("delivery rate %d, min RTT %v; want 0, 19ms", s.DeliveryRate, s.MinRTT)
	}
}
