package sim_test

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// A drop-tail queue of ten full packets in front of a 10 Mbit/s link:
// a bulk sender overflows it, the packets that did not fit are dropped,
// counted and traced as "queue full", the queue never holds more than
// its limit, every byte still arrives, and the same seed gives the same
// trace.
func TestLinkQueueDropTail(t *testing.T) {
	data := bytes.Repeat([]byte("queue "), 100_000) // 600 kB
	run := func(queue int) (*sim.Network, *sim.Host, *sim.Host) {
		l := sim.LinkConfig{Delay: 10 * time.Millisecond, Bandwidth: 10e6, QueueBytes: queue}
		n, client, server := pair(1, l, &tcp.Config{MSL: time.Second})
		up, _ := transfer(t, n, client, server, data, nil)
		if !bytes.Equal(up, data) {
			t.Fatalf("queue %d: %d bytes arrived of %d", queue, len(up), len(data))
		}
		return n, client, server
	}
	n, client, server := run(15000)
	ls := n.LinkStats(client, server)
	hs := client.Stats()
	traced := 0
	for _, e := range n.Events() {
		if e.Kind == trace.SegmentDropped && e.Text == "queue full" {
			traced++
		}
	}
	t.Logf("queue 15000: %+v; client %d drops, %d payload bytes", ls, hs.QueueDrops, hs.PayloadBytesQueueDropped)
	if ls.QueueDrops == 0 || hs.QueueDrops != ls.QueueDrops || uint64(traced) != ls.QueueDrops {
		t.Errorf("drops: link %d, host %d, traced %d; want equal and above 0", ls.QueueDrops, hs.QueueDrops, traced)
	}
	if ls.MaxQueueBytes > 15000 || ls.MaxQueueBytes < 15000-1500 {
		t.Errorf("most queued %d bytes, want within a packet of the 15000 limit", ls.MaxQueueBytes)
	}
	if hs.PayloadBytesQueueDropped == 0 || client.Stats().PayloadBytesLost != 0 {
		t.Errorf("payload queue-dropped %d, lost %d: want >0 and 0", hs.PayloadBytesQueueDropped, hs.PayloadBytesLost)
	}
	again, _, _ := run(15000)
	if !reflect.DeepEqual(n.Events(), again.Events()) {
		t.Error("two runs with the same seed gave different traces")
	}
	unlimited, uc, us := run(0)
	if d := unlimited.LinkStats(uc, us).QueueDrops; d != 0 {
		t.Errorf("unlimited queue dropped %d packets", d)
	}
	if q := unlimited.LinkStats(uc, us).MaxQueueBytes; q <= 15000 {
		t.Errorf("unlimited queue held at most %d bytes; the test needs more than the limit", q)
	}
}

// SetLink changes a link mid-run: the sender's smoothed RTT follows the
// path's round trip from 20 ms to 100 ms and back.
func TestSetLinkChangesDelay(t *testing.T) {
	base := sim.LinkConfig{Delay: 10 * time.Millisecond, Bandwidth: 10e6}
	n, client, server := pair(1, base, &tcp.Config{MSL: time.Second})
	var c *sim.Conn
	n.At(0, func() { c, _ = client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	// A kilobyte every 10 ms: an RTT sample from nearly every ACK.
	for i := range 300 {
		n.At(100*time.Millisecond+time.Duration(i)*10*time.Millisecond, func() { c.Write(make([]byte, 1000)) })
	}
	srtt := map[time.Duration]time.Duration{}
	for _, at := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		n.At(at, func() { srtt[at] = c.Stats().SRTT })
	}
	slow := base
	slow.Delay = 50 * time.Millisecond
	n.At(time.Second, func() {
		if err := n.SetLink(client, server, slow); err != nil {
			t.Error(err)
		}
	})
	n.At(2*time.Second, func() { n.SetLink(client, server, base) })
	n.Run(4 * time.Second)
	t.Logf("SRTT at 1 s %v, 2 s %v, 3 s %v", srtt[time.Second], srtt[2*time.Second], srtt[3*time.Second])
	// Delayed ACKs add up to a write's 10 ms to each sample.
	s1, s2, s3 := srtt[time.Second], srtt[2*time.Second], srtt[3*time.Second]
	if s1 < 20*time.Millisecond || s1 > 35*time.Millisecond || s2 < s1+50*time.Millisecond || s3 > s1+10*time.Millisecond {
		t.Errorf("SRTT %v, %v, %v; want 20-35 ms, 50 ms more, then back within 10 ms of the first", s1, s2, s3)
	}
	if err := n.SetLink(client, client, base); err == nil {
		t.Error("SetLink of hosts with no link between them: no error")
	}
}
