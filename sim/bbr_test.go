package sim_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// BBR (draft-ietf-ccwg-bbr) on the lossy path of lossy_test.go (100
// Mbit/s, 40 ms RTT, 1% random loss each way): loss that is not
// congestion must not collapse its rate as it does CUBIC's; issue 16's
// target is ten times SACK+CUBIC's goodput. With RACK-TLP, which finds
// lost retransmissions without a timeout, BBR resends about what was
// lost; without it each lost retransmission costs a timeout, which
// resends the flight and tells BBR the probe went too high (the path
// scenarios, ccpath_test.go, run the default configuration).
func TestLossyPathBBR(t *testing.T) {
	size := 16 << 20
	if testing.Short() {
		size = 4 << 20
	}
	cubic := tcp.Config{NoRACK: true}
	bbr := tcp.Config{CongestionControl: tcp.NewBBR, NoRACK: true}
	rack := tcp.Config{CongestionControl: tcp.NewBBR}
	c := lossyTransfer(t, &cubic, size, 1)
	b := lossyTransfer(t, &bbr, size, 1)
	r := lossyTransfer(t, &rack, size, 1)
	t.Logf("CUBIC:          %v", c)
	t.Logf("BBR:            %v (%.1f× CUBIC)", b, b.goodput/c.goodput)
	t.Logf("BBR, RACK-TLP:  %v (%.1f× CUBIC)", r, r.goodput/c.goodput)
	for _, x := range []lossyResult{b, r} {
		if x.goodput < 10*c.goodput {
			t.Errorf("BBR %.1f Mbit/s is not 10× CUBIC's %.1f", x.goodput/1e6, c.goodput/1e6)
		}
	}
	if float64(r.retransmitted) > 1.1*float64(r.lost) {
		t.Errorf("BBR with RACK-TLP resent %d bytes for %d lost: over 1.1×", r.retransmitted, r.lost)
	}
}
