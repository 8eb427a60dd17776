package tunnel

import (
	"testing"
	"time"

	"github.com/seqack/seqack/internal/workload"
)

// The stream and connection workloads run through a tunnel over each
// netstack.
func TestWorkloads(t *testing.T) {
	for _, kind := range []string{Seqack, GVisor} {
		n, closeNet, err := New(kind)
		if err != nil {
			t.Fatal(err)
		}
		if bps, err := workload.Bulk(n, 50*time.Millisecond); err != nil || bps <= 0 {
			t.Errorf("%s: bulk %v B/s, %v", kind, bps, err)
		}
		if cps, err := workload.Handshake(n, 50*time.Millisecond); err != nil || cps <= 0 {
			t.Errorf("%s: handshake %v conn/s, %v", kind, cps, err)
		}
		closeNet()
	}
	if _, _, err := New("lwip"); err == nil {
		t.Error("New with an unknown netstack succeeded")
	}
}
