package stack_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/workload"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// Over a path that loses nothing and never reorders, a stack with
// RACK-TLP on (the default) deems nothing lost: no RACK loss, and no retransmission but the odd tail loss probe
// (a last segment may wait for a delayed ACK longer than the probe
// timeout). The stack's goroutines hand the engine clocks read at
// different moments; RACK must not take that for loss. (It did: a
// second of bulk transfer here counted hundreds of RACK losses.)
func TestLosslessPathRetransmitsNothing(t *testing.T) {
	a, b := pipe.New(1500)
	a.SetChecksumOffload(true)
	b.SetChecksumOffload(true)
	cfg := &tcp.Config{}
	client, server := stack.New(stack.Options{TCP: cfg}), stack.New(stack.Options{TCP: cfg})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	defer client.Close()
	defer server.Close()
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
