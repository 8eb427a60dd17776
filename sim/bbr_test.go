package sim_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// BBR (draft-ietf-ccwg-bbr) on the lossy path of lossy_test.go (100
// Mbit/s, 40 ms RTT, 1% random loss each way): loss that is not
// congestion must not collapse its rate as it does CUBIC's. The issue's
// target is at least ten times SACK+CUBIC's goodput.
func TestLossyPathBBRVersusCubic(t *testing.T) {
	size := 16 << 20
	if testing.Short() {
		size = 4 << 20
	}
	cubic, bbr := tcp.Config{}, tcp.Config{CongestionControl: tcp.NewBBR}
	c := lossyTransfer(t, &cubic, size, 1)
	b := lossyTransfer(t, &bbr, size, 1)
	t.Logf("CUBIC: %v", c)
	t.Logf("BBR:   %v", b)
	t.Logf("ratio %.1f×", b.goodput/c.goodput)
	if b.goodput < 10*c.goodput {
		t.Errorf("BBR %.1f Mbit/s is not 10× CUBIC's %.1f", b.goodput/1e6, c.goodput/1e6)
	}
}
