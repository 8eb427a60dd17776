package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// What a listener does with a segment that finds no connection
// (RFC 9293 §3.10.7.2, LISTEN): first, a RST is ignored; second, an ACK
// is answered with <SEQ=SEG.ACK><CTL=RST>; third, a SYN opens a
// connection; fourth, anything else — no SYN, no ACK, no RST — is
// dropped, not reset.
func TestListenerSegmentWithoutConnection(t *testing.T) {
	for _, tc := range []struct{ seg, want string }{
		{"S 5000:5000(0) win 65535 <mss 1460>", "conn"},
		{". 5000:5000(0) ack 4242 win 65535", "reset"},
		{"S. 5000:5000(0) ack 4242 win 65535", "reset"},
		{"R 5000:5000(0) win 0", "drop"},
		{"R. 5000:5000(0) ack 4242 win 0", "drop"},
		{"SR 5000:5000(0) win 0", "drop"},
		{"- 5000:5000(0) win 65535", "drop"},
		{"P 5000:5010(10) win 65535", "drop"},
		{"F 5000:5000(0) win 65535", "drop"},
		{"FPU 5000:5010(10) win 65535", "drop"},
	} {
		server, _ := newRawPeer(t)
		if _, err := server.Listen("tcp", ":80"); err != nil {
			t.Fatal(err)
		}
		seg, err := tcp.ParseSegment(tc.seg)
		if err != nil {
			t.Fatal(err)
		}
		local, remote := netip.MustParseAddrPort("192.0.2.1:80"), netip.MustParseAddrPort("192.0.2.2:40000")
		if got, _ := server.Demux(local, remote, &seg, time.Now()); got != tc.want {
			t.Errorf("%s to a listener: %s, want %s", tc.seg, got, tc.want)
		}
	}
}
