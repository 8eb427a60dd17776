package sim_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// FuzzTransfer runs two hosts — whole packets built, checksummed and
// parsed — through a link whose loss, duplication, reordering,
// corruption, delay and the hosts' TCP settings the fuzzer chooses,
// sending data both ways: the bytes arrive intact (all of them, unless a
// side gave up after its retransmissions, when what arrived is a prefix),
// the run ends, and every connection closes within its liveness bound of
// the last segment it heard (or, after a give-up, rests at the end).
func FuzzTransfer(f *testing.F) {
	f.Add(int64(1), uint8(5), uint8(2), uint8(2), uint8(2), uint8(10), uint16(20000), uint8(0))
	f.Add(int64(7), uint8(30), uint8(10), uint8(20), uint8(10), uint8(1), uint16(3000), uint8(0xff))
	f.Add(int64(124), uint8(5), uint8(2), uint8(5), uint8(1), uint8(12), uint16(31000), uint8(32|64))  // small buffers
	f.Add(int64(9), uint8(8), uint8(2), uint8(5), uint8(1), uint8(20), uint16(30000), uint8(128|64|3)) // BBR, RACK-TLP
	f.Fuzz(func(t *testing.T, seed int64, loss, dup, reorder, corrupt, delayMs uint8, size uint16, flags uint8) {
		link := sim.LinkConfig{
			Delay: time.Duration(delayMs%100+1) * time.Millisecond,
			// Up to 25% loss and 10% of each other fault: harsh, yet a
			// transfer still ends within the hour the helper allows.
			Loss:      float64(loss%26) / 100,
			Duplicate: float64(dup%11) / 100,
			Reorder:   float64(reorder%11) / 100,
			Corrupt:   float64(corrupt%11) / 100,
		}
		cfg := tcp.PlainConfig()
		cfg.MSL = time.Second
		cfg.NoSACK, cfg.NoTimestamps, cfg.Nagle = flags&1 == 0, flags&2 == 0, flags&4 == 0
		switch {
		case flags&8 != 0:
			cfg.CongestionControl = tcp.NewNewReno
		case flags&128 != 0:
			cfg.CongestionControl = tcp.NewBBR
		}
		if flags&16 != 0 {
			cfg.DelayedAck = -1
		}
		if flags&32 != 0 {
			// Small buffers, so that windows close often; they take
			// many more round trips, so the mix is the soak's harsh one
			// (up to 10% loss, 5% corruption) for the hour to suffice.
			cfg.ReceiveBufferSize, cfg.SendBufferSize = 2048+int(size)%(6<<10), 2048+int(seed&0xfff)
			link.Loss, link.Corrupt = min(link.Loss, 0.10), min(link.Corrupt, 0.05)
		}
		cfg.NoRACK = flags&64 == 0
		r := rand.New(rand.NewPCG(uint64(seed), 2))
		up, down := make([]byte, int(size)%40000), make([]byte, int(size)%5000)
		for _, b := range [][]byte{up, down} {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
		}
		n, client, server := pair(seed, link, cfg)
		gotUp, gotDown := transfer(t, n, client, server, up, down)
		if !bytes.HasPrefix(up, gotUp) || !bytes.HasPrefix(down, gotDown) {
			t.Fatalf("data damaged: up %d/%d, down %d/%d", len(gotUp), len(up), len(gotDown), len(down))
		}
		gaveUp := false
		for _, e := range n.Events() {
			gaveUp = gaveUp || e.Kind == trace.Note && strings.Contains(e.Text, "timed out")
		}
		if !gaveUp && (sha256.Sum256(gotUp) != sha256.Sum256(up) || sha256.Sum256(gotDown) != sha256.Sum256(down)) {
			t.Fatalf("data lost without a timeout: up %d/%d, down %d/%d", len(gotUp), len(up), len(gotDown), len(down))
		}
		// No connection is left behind, and each closed within its
		// liveness bound of the last segment it heard. A simulated
		// application reads on after close(), so a side whose peer gave
		// up may wait at rest in FIN_WAIT_2 (unbounded unless orphaned,
		// as in Linux).
		if err := checkLivenessAt(n, cfg, gaveUp, client, server); err != nil {
			t.Fatal(err)
		}
	})
}
