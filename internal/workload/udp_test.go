package workload

import (
	"testing"
	"time"
)

// Datagrams counts datagrams through seqack and through the kernel, and
// fails on a Net without UDP.
func TestDatagrams(t *testing.T) {
	for name, n := range map[string]Net{"seqack": seqack(t, 1500), "kernel": Kernel()} {
		for _, size := range []int{64, 1024} {
			rate, err := Datagrams(n, size, 50*time.Millisecond)
			if err != nil || rate <= 0 {
				t.Errorf("%s, %d bytes: %v datagrams/s, %v", name, size, rate, err)
			}
		}
	}
	n := seqack(t, 1500)
	n.ListenPacket = nil
	if _, err := Datagrams(n, 64, time.Millisecond); err == nil {
		t.Error("Datagrams on a Net without UDP succeeded")
	}
}
