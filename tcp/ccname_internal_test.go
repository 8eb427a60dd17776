package tcp

import (
	"testing"
	"time"
)

// sampleLog is NewReno taking delivery-rate samples and keeping them.
type sampleLog struct {
	*NewReno
	samples []RateSample
}

func (l *sampleLog) OnRateSample(rs RateSample, _ time.Time) { l.samples = append(l.samples, rs) }

// A controller that takes delivery-rate samples, switched to with data
// in flight, gets samples of what is sent after the switch only: the
// sampler has no records of the flight before it, which must not be
// counted as delivered with the first new segment.
func TestSwitchToSampler(t *testing.T) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	in := func(c *Conn, text string) {
		t.Helper()
		seg, err := ParseSegment(text)
		if err != nil {
			t.Fatal(err)
		}
		c.Input(&seg, now)
	}
	c := NewConn(&Config{CongestionControl: NewNewReno, NoSACK: true, NoTimestamps: true, DelayedAck: -1}, 1000)
	c.Connect(now)
	now = now.Add(20 * time.Millisecond)
	in(c, "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.Write(make([]byte, 4*1460), now)
	c.Outgoing()
	log := &sampleLog{NewReno: NewNewReno(1460).(*NewReno)}
	c.reinitCongestionControl(func(int) CongestionControl { return log }, now)
	c.Write(make([]byte, 1460), now) // sent after the switch: 6841:8301
	if got := len(c.Outgoing()); got != 1 {
		t.Fatalf("%d segments sent after the switch, want 1", got)
	}
	now = now.Add(20 * time.Millisecond)
	in(c, ". 5001:5001(0) ack 6841 win 65535") // the flight sent before the switch
	in(c, ". 5001:5001(0) ack 8301 win 65535")
	var delivered int64
	for _, rs := range log.samples {
		delivered += rs.NewlyDelivered
	}
	if delivered != 1460 {
		t.Errorf("samples %+v deliver %d bytes, want the 1460 sent after the switch", log.samples, delivered)
	}
}
