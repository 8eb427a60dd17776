package sim_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
)

// A connection held open for days of virtual time with keepalives (RFC
// 1122 §4.2.3.6, Linux's 2 h / 75 s / 9): while the peer is there the
// probes are answered and the connection lives; when the peer vanishes
// the probes go unanswered and the connection ends with ErrTimedOut, 2 h
// plus nine probes after the last word from the peer.
func TestKeepaliveForDays(t *testing.T) {
	n := sim.New(sim.Config{Seed: 1, DiscardEvents: true})
	cfg := tcp.PlainConfig()
	client := n.AddHost("client", clientAddr, cfg)
	server := n.AddHost("server", serverAddr, cfg)
	n.Link(client, server, sim.LinkConfig{Delay: 10 * time.Millisecond})
	server.Listen(80)
	var conn *sim.Conn
	var ended time.Duration
	client.OnEvent(func(c *sim.Conn, ev tcp.Events) {
		if ev&tcp.EventTimedOut != 0 {
			ended = n.Elapsed()
		}
	})
	n.At(0, func() {
		conn, _ = client.Dial(0, netip.AddrPortFrom(serverAddr, 80))
		conn.SetKeepalive(&tcp.Keepalive{})
	})
	const days = 3 * 24 * time.Hour
	if err := n.Run(days); !errors.Is(err, sim.ErrTimeLimit) {
		t.Fatalf("run: %v", err)
	}
	if conn.State() != tcp.Established {
		t.Fatalf("after three days of keepalives: %v (%v)", conn.State(), conn.Err())
	}
	probes := conn.Stats().SegmentsSent
	if want := uint64(days / (2 * time.Hour)); probes < want {
		t.Errorf("%d segments sent in three days, want a probe every 2 h (%d)", probes, want)
	}
	crash := n.Elapsed()
	server.Crash()
	if err := n.Run(days + 4*time.Hour); err != nil && !errors.Is(err, sim.ErrTimeLimit) {
		t.Fatalf("run: %v", err)
	}
	if conn.State() != tcp.Closed || !errors.Is(conn.Err(), tcp.ErrTimedOut) {
		t.Fatalf("after the peer vanished: %v, %v; want CLOSED with ErrTimedOut", conn.State(), conn.Err())
	}
	// The last answer came at most 2 h before the crash; then 2 h of
	// silence and nine unanswered probes 75 s apart.
	if d := ended - crash; d <= 9*75*time.Second || d > 4*time.Hour+10*75*time.Second {
		t.Errorf("gave up %v after the peer vanished, want 2 h and nine probes at most after its last answer", d)
	}
}
