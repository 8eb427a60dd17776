package sim_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// soakSeeds is how many seeds each soak runs: SEQACK_SOAK_SEEDS, else
// def (a fifth of it under -short).
func soakSeeds(def int) int {
	if s, err := strconv.Atoi(os.Getenv("SEQACK_SOAK_SEEDS")); err == nil && s > 0 {
		return s
	}
	if testing.Short() {
		return def / 5
	}
	return def
}

// TestSoak runs many seeds, each with its own random mix of loss, delay,
// jitter, duplication, reordering and corruption (caught by checksums)
// and its own TCP settings, sending random data both ways and closing:
// no seed may lose, duplicate or damage a byte, deadlock, or leave a
// connection behind, and each connection closes within its liveness
// bound of the last segment it heard (checkLiveness). SEQACK_SOAK_SEEDS
// sets how many (default 1000; 200 under -short).
func TestSoak(t *testing.T) {
	for seed := int64(1); seed <= int64(soakSeeds(1000)); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 0x50a4))
		link := randomHarshLink(r)
		cfg := tcp.PlainConfig()
		cfg.MSL = time.Second
		cfg.NoSACK = r.IntN(2) != 0
		cfg.NoTimestamps = r.IntN(2) != 0
		cfg.Nagle = r.IntN(2) != 0
		if r.IntN(2) == 0 {
			cfg.CongestionControl = tcp.NewNewReno
		}
		if r.IntN(2) == 0 {
			cfg.ReceiveBufferSize, cfg.MaxReceiveBufferSize = 8192, 1<<20
		}
		if r.IntN(3) == 0 {
			cfg.DelayedAck = -1
		}
		soakOne(t, seed, r, link, cfg, 64<<10, 16<<10)
	}
}

// randomHarshLink draws TestSoak's link: a delay of 1-50 ms, jitter up
// to 4 ms, 1-100 Mbit/s, and up to 10% loss and 5% each of duplication,
// reordering and corruption.
func randomHarshLink(r *rand.Rand) sim.LinkConfig {
	return sim.LinkConfig{
		Delay:     time.Duration(1+r.IntN(50)) * time.Millisecond,
		Jitter:    time.Duration(r.IntN(5)) * time.Millisecond,
		Bandwidth: int64(1+r.IntN(100)) * 1e6,
		Loss:      r.Float64() * 0.1,
		Duplicate: r.Float64() * 0.05,
		Reorder:   r.Float64() * 0.05,
		Corrupt:   r.Float64() * 0.05,
	}
}

// TestSoakModern is TestSoak with the zero Config's companions (SACK,
// timestamps, RACK-TLP, HyStart++, undo) and each congestion control,
// BBR with its pacing and its own recovery window among them, some of
// them switched off at random, as the modern connections users run are
// soaked by nothing else but the fuzzers: the same harsh mixes, the same
// checks. SEQACK_SOAK_SEEDS sets how many (default 1000; 200 under
// -short).
func TestSoakModern(t *testing.T) {
	controls := []func(int) tcp.CongestionControl{tcp.NewBBR, tcp.NewCubic, tcp.NewNewReno}
	for seed := int64(1); seed <= int64(soakSeeds(1000)); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 0x60de))
		link := randomHarshLink(r)
		cfg := &tcp.Config{MSL: time.Second, CongestionControl: controls[r.IntN(len(controls))]}
		cfg.NoSACK = r.IntN(4) == 0
		cfg.NoTimestamps = r.IntN(4) == 0
		cfg.NoRACK = r.IntN(4) == 0
		cfg.NoHyStart = r.IntN(4) == 0
		cfg.Pacing = r.IntN(2) == 0
		if r.IntN(3) == 0 {
			cfg.ReceiveBufferSize, cfg.SendBufferSize = 2048+r.IntN(6<<10+1), 2048+r.IntN(6<<10+1)
		}
		soakOne(t, seed, r, link, cfg, 64<<10, 16<<10)
	}
}

// TestSoakSmallBuffers is the soak of seqack issue 18: send and receive
// buffers of 2–8 KiB, so that windows close often, over a harsh mix
// (2–8% loss, 5% reordering, 2% duplication, 1% corruption, jitter).
// Before the fix, 5.5% of such seeds ended with a connection that would
// never send again: an ACK with window 0 arriving with data in flight
// left no timer running. SEQACK_SOAK_SEEDS sets how many (default 2000;
// 400 under -short).
func TestSoakSmallBuffers(t *testing.T) {
	for seed := int64(1); seed <= int64(soakSeeds(2000)); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 0x5b0f))
		link := sim.LinkConfig{
			Delay:     time.Duration(1+r.IntN(30)) * time.Millisecond,
			Jitter:    time.Duration(1+r.IntN(5)) * time.Millisecond,
			Bandwidth: int64(1+r.IntN(100)) * 1e6,
			Loss:      0.02 + r.Float64()*0.06,
			Duplicate: 0.02,
			Reorder:   0.05,
			Corrupt:   0.01,
		}
		cfg := tcp.PlainConfig()
		cfg.MSL = time.Second
		cfg.MSS = uint16(536 + r.IntN(925))
		cfg.ReceiveBufferSize = 2048 + r.IntN(6<<10+1)
		cfg.SendBufferSize = 2048 + r.IntN(6<<10+1)
		cfg.NoSACK = r.IntN(2) != 0
		cfg.NoTimestamps = r.IntN(2) != 0
		cfg.Nagle = r.IntN(2) != 0
		cfg.NoRACK = r.IntN(2) != 0
		if r.IntN(2) == 0 {
			cfg.CongestionControl = tcp.NewNewReno
		}
		if r.IntN(3) == 0 {
			cfg.DelayedAck = -1
		}
		soakOne(t, seed, r, link, cfg, 64<<10, 16<<10)
	}
}

// soakOne sends up to maxUp random bytes from client to server and up to
// maxDown back over link, both sides with cfg, and checks every byte,
// that nothing is left behind and that the connections were live.
func soakOne(t *testing.T, seed int64, r *rand.Rand, link sim.LinkConfig, cfg *tcp.Config, maxUp, maxDown int) {
	t.Helper()
	up, down := make([]byte, r.IntN(maxUp)), make([]byte, r.IntN(maxDown))
	for _, b := range [][]byte{up, down} {
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
	n, client, server := pair(seed, link, cfg)
	gotUp, gotDown := transfer(t, n, client, server, up, down)
	if err := checkLiveness(n, cfg, client, server); err != nil {
		t.Fatalf("seed %d (%+v, %+v): %v", seed, link, *cfg, err)
	}
	if sha256.Sum256(gotUp) != sha256.Sum256(up) || sha256.Sum256(gotDown) != sha256.Sum256(down) {
		t.Fatalf("seed %d (%+v, %+v): data damaged: up %d/%d bytes, down %d/%d", seed, link, *cfg, len(gotUp), len(up), len(gotDown), len(down))
	}
}

// checkLiveness checks, once a run has ended, that no connection is left
// behind (one with no timer running would never have moved again), and
// that each host's connection reached CLOSED within cfg's LivenessBound
// of the last segment delivered to it: a connection whose peer falls
// silent finishes or fails in bound.
func checkLiveness(n *sim.Network, cfg *tcp.Config, hosts ...*sim.Host) error {
	return checkLivenessAt(n, cfg, false, hosts...)
}

// checkLivenessAt is checkLiveness; with atRest, a connection may be left
// at rest, owing its peer nothing and with no timer running (after its
// peer gave up, the simulated application still reads: RFC 9293 lets it
// wait in FIN_WAIT_2, ESTABLISHED or CLOSE_WAIT).
func checkLivenessAt(n *sim.Network, cfg *tcp.Config, atRest bool, hosts ...*sim.Host) error {
	for _, h := range hosts {
		for _, c := range h.Conns() {
			switch c.State() {
			case tcp.Established, tcp.CloseWait, tcp.FinWait2:
				if atRest && c.TCP().Deadline().IsZero() && c.Stats().SendQueue == 0 {
					continue
				}
			}
			return fmt.Errorf("%s's connection left in %v (error %v, deadline %v, stats %+v)", h.Name(), c.State(), c.Err(), c.TCP().Deadline(), c.Stats())
		}
	}
	bound := cfg.LivenessBound(nil)
	for _, h := range hosts {
		var heard, closed time.Duration
		for _, e := range n.Events() {
			switch {
			case e.Host != h.Name():
			case e.Kind == trace.SegmentDelivered && closed == 0:
				heard = e.At
			case e.Kind == trace.StateChanged && e.To == tcp.Closed:
				closed = e.At
			}
		}
		if closed-heard > bound {
			return fmt.Errorf("%s's connection closed %v after the last segment it heard, past its liveness bound of %v", h.Name(), closed-heard, bound)
		}
	}
	return nil
}
