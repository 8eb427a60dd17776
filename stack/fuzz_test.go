package stack

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// FuzzDeliver feeds arbitrary packets to a stack with a listener and
// never panics; malformed packets are counted.
func FuzzDeliver(f *testing.F) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	syn := tcp.Segment{Seq: 1, Flags: wire.FlagSYN, Window: 1000}
	h := syn.Header(40000, 80)
	buf := make([]byte, 100)
	n, _ := wire.BuildTCPPacket(buf, src, dst, 64, &h, nil)
	f.Add(buf[:n])
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2})
	f.Add([]byte{0x60})
	f.Fuzz(func(t *testing.T, p []byte) {
		a, b := pipe.New(1500)
		defer a.Close()
		s := New(Options{})
		defer s.Close()
		s.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
		if _, err := s.Listen("tcp", ":80"); err != nil {
			t.Fatal(err)
		}
		// Twice in one batch, as copies the stack may keep: the second
		// meets whatever the first created, under the same lock.
		s.deliverBatch(s.nics[0], [][]byte{bytes.Clone(p), bytes.Clone(p)})
	})
}
