package stack_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/workload"
)

// Over a path that loses nothing and never reorders, nothing is deemed
// lost: no RACK loss, and no retransmission but the odd tail loss probe
// (a last segment may wait for a delayed ACK longer than the probe
// timeout). The stack's goroutines hand the engine clocks read at
// different moments; RACK must not take that for loss. (It did: a
// second of bulk transfer here counted hundreds of RACK losses.)
func TestLosslessPathRetransmitsNothing(t *testing.T) {
	client, server := joinedStacks(t, 1500, true)
	n := workload.Net{
		Listen: server.Listen,
		Dial: func(network, addr string) (net.Conn, error) {
			return client.DialContext(context.Background(), network, addr)
		},
		Addr: "192.0.2.2:80",
	}
	if _, err := workload.Bulk(n, time.Second); err != nil {
		t.Fatal(err)
	}
	k := &client.Stats().TCP
	t.Logf("%d retransmissions, %d RACK losses, %d tail loss probes", k.Retransmissions.Load(), k.RACKLosses.Load(), k.TLPProbes.Load())
	if k.RACKLosses.Load() != 0 || k.Retransmissions.Load() > k.TLPProbes.Load() {
		t.Errorf("a lossless path: %d retransmissions, %d RACK losses, %d probes", k.Retransmissions.Load(), k.RACKLosses.Load(), k.TLPProbes.Load())
	}
}
