package tcp

import (
	"testing"
	"time"
)

// sampleSink is CUBIC that takes delivery-rate samples and drops them,
// so that a connection keeps the sampler's records (FuzzPair).
type sampleSink struct{ CongestionControl }

func newSampleSink(mss int) CongestionControl { return sampleSink{NewCubic(mss)} }

func (sampleSink) OnRateSample(RateSample, time.Time) {}

// A connection that drains between writes gives its buffers back as it
// goes quiet (Compact, as the stack calls it); the sampler's records go
// to a pool with them, and the next flight starts with an array of the
// size the last one needed, rather than growing one from a record again
// on every write (a bulk sender over the in-memory pipe, seqack bench).
func TestRateRecordsRecycled(t *testing.T) {
	cfg := PlainConfig()
	cfg.CongestionControl = NewBBR
	tx, rx := NewConn(cfg, 1000), NewConn(cfg, 5000)
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	rx.Listen()
	tx.Connect(now)
	shuttle := func() {
		for moved := true; moved; {
			moved = false
			now = now.Add(time.Microsecond)
			for _, s := range tx.Outgoing() {
				rx.Input(&s, now)
				moved = true
			}
			for _, s := range rx.Outgoing() {
				tx.Input(&s, now)
				moved = true
			}
		}
	}
	shuttle()
	data, buf := make([]byte, 64<<10), make([]byte, 64<<10)
	write := func() (records int) {
		for sent := 0; sent < len(data); {
			n, _ := tx.Write(data[sent:], now)
			sent += n
			records = max(records, tx.cc.rate.records.len())
			shuttle()
			for rx.Buffered() > 0 {
				rx.Read(buf, now)
			}
			shuttle()
		}
		now = rx.Deadline() // the delayed ACK of the last segment: the flight drains
		rx.HandleTimer(now)
		shuttle()
		tx.Compact()
		return records
	}
	most := write()
	r := tx.cc.rate
	if cap(r.records.items) != 0 || int(r.sizeHint) < most {
		t.Fatalf("after Compact: records' array of %d, size remembered %d; want none, and at least %d", cap(r.records.items), r.sizeHint, most)
	}
	tx.Write(data[:1], now)
	if c := cap(r.records.items); c < most {
		t.Errorf("the next flight's first record has an array of %d, want room for the %d the last flight had", c, most)
	}
}
