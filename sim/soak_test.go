package sim_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
)

// TestSoak runs many seeds, each with its own random mix of loss, delay,
// jitter, duplication, reordering and corruption (caught by checksums)
// and its own TCP settings, sending random data both ways and closing:
// no seed may lose, duplicate or damage a byte, deadlock, or leave a
// connection behind. SEQACK_SOAK_SEEDS sets how many (default 1000; 200
// under -short).
func TestSoak(t *testing.T) {
	seeds := 1000
	if testing.Short() {
		seeds = 200
	}
	if s, err := strconv.Atoi(os.Getenv("SEQACK_SOAK_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	for seed := int64(1); seed <= int64(seeds); seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 0x50a4))
		link := sim.LinkConfig{
			Delay:     time.Duration(1+r.IntN(50)) * time.Millisecond,
			Jitter:    time.Duration(r.IntN(5)) * time.Millisecond,
			Bandwidth: int64(1+r.IntN(100)) * 1e6,
			Loss:      r.Float64() * 0.1,
			Duplicate: r.Float64() * 0.05,
			Reorder:   r.Float64() * 0.05,
			Corrupt:   r.Float64() * 0.05,
		}
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
		up, down := make([]byte, r.IntN(64<<10)), make([]byte, r.IntN(16<<10))
		for _, b := range [][]byte{up, down} {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
		}
		n, client, server := pair(seed, link, cfg)
		gotUp, gotDown := transfer(t, n, client, server, up, down)
		if sha256.Sum256(gotUp) != sha256.Sum256(up) || sha256.Sum256(gotDown) != sha256.Sum256(down) {
			t.Fatalf("seed %d (%+v, %+v): data damaged: up %d/%d bytes, down %d/%d", seed, link, *cfg, len(gotUp), len(up), len(gotDown), len(down))
		}
		if len(client.Conns())+len(server.Conns()) != 0 {
			t.Fatalf("seed %d: connections left behind", seed)
		}
	}
}
