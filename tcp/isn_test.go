package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

func TestISNGenerator(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	g := tcp.NewISNGenerator([]byte("secret"), epoch)
	a := netip.MustParseAddrPort("10.0.0.1:40000")
	b := netip.MustParseAddrPort("10.0.0.2:80")
	c := netip.MustParseAddrPort("10.0.0.1:40001")
	if first, again := g.ISN(a, b, epoch), g.ISN(a, b, epoch); first != again {
		t.Error("same tuple and time, different ISNs")
	}
	if g.ISN(a, b, epoch) == g.ISN(c, b, epoch) {
		t.Error("different ports, same ISN")
	}
	if g.ISN(a, b, epoch) == g.ISN(b, a, epoch) {
		t.Error("the two directions share an ISN: client_isn and server_isn must be independent")
	}
	// RFC 6528: the clock part advances every 4 µs.
	if d := g.ISN(a, b, epoch.Add(time.Second)).Sub(g.ISN(a, b, epoch)); d != 250000 {
		t.Errorf("one second later the ISN moved by %d, want 250000", d)
	}
	other := tcp.NewISNGenerator([]byte("another secret"), epoch)
	if other.ISN(a, b, epoch) == g.ISN(a, b, epoch) {
		t.Error("different keys, same ISN")
	}
}
