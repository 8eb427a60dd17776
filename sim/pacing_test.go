package sim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// The simulator honours the engine's pacing through Deadline alone: with
// Config.Pacing, a bulk sender's data leaves spread out, at most a
// millisecond's worth (pacingSlack) of the pacing rate at a time, where
// without it each ACK releases a burst; both deliver every byte.
func TestPacingInSimulator(t *testing.T) {
	data := bytes.Repeat([]byte("paced "), 50_000) // 300 kB
	burst := func(pacing bool) (int, time.Duration) {
		cfg := &tcp.Config{MSL: time.Second, Pacing: pacing}
		n, client, server := pair(1, sim.LinkConfig{Delay: 20 * time.Millisecond, Bandwidth: 100e6}, cfg)
		up, _ := transfer(t, n, client, server, data, nil)
		if !bytes.Equal(up, data) {
			t.Fatalf("pacing %v: %d bytes arrived of %d", pacing, len(up), len(data))
		}
		// The most data segments the client sent within any 100 µs.
		var sent []time.Duration
		for _, e := range n.Events() {
			if e.Kind == trace.SegmentSent && e.Host == "client" && len(e.Segment.Payload) > 0 {
				sent = append(sent, e.At)
			}
		}
		most := 0
		for i := range sent {
			j := i
			for j < len(sent) && sent[j]-sent[i] < 100*time.Microsecond {
				j++
			}
			most = max(most, j-i)
		}
		return most, sent[len(sent)-1]
	}
	unpaced, tookUnpaced := burst(false)
	paced, tookPaced := burst(true)
	t.Logf("largest burst in 100 µs: %d segments unpaced (last sent at %v), %d paced (at %v)", unpaced, tookUnpaced, paced, tookPaced)
	if paced >= unpaced || paced > 10 {
		t.Errorf("largest burst %d segments paced, %d unpaced: want fewer paced, and at most 10", paced, unpaced)
	}
}
