package wire_test

import (
	"net/netip"
	"testing"

	"github.com/seqack/seqack/wire"
)

// SetTrafficClass changes the TOS or traffic class and nothing else: the
// packet still parses, its IPv4 header checksum right.
func TestSetTrafficClass(t *testing.T) {
	for _, addrs := range [][2]string{{"192.0.2.1", "192.0.2.2"}, {"2001:db8::1", "2001:db8::2"}} {
		src, dst := netip.MustParseAddr(addrs[0]), netip.MustParseAddr(addrs[1])
		h := wire.TCPHeader{SrcPort: 1, DstPort: 2, Seq: 3, Flags: wire.FlagACK, Window: 100}
		b := make([]byte, 100)
		n, err := wire.BuildTCPPacket(b, src, dst, 0, &h, []byte("data"))
		if err != nil {
			t.Fatal(err)
		}
		wire.SetTrafficClass(b[:n], 0xb8)
		if src.Is4() {
			ip, _, err := wire.ParseIPv4(b[:n])
			if err != nil || ip.TOS != 0xb8 {
				t.Errorf("IPv4: TOS %#x, %v", ip.TOS, err)
			}
		} else {
			ip, _, _, err := wire.ParseIPv6(b[:n])
			if err != nil || ip.TrafficClass != 0xb8 || ip.FlowLabel != 0 || ip.Src != src {
				t.Errorf("IPv6: %+v, %v", ip, err)
			}
		}
		if _, _, _, err := wire.ParseTCPPacket(b[:n]); err != nil {
			t.Errorf("%v: no longer parses: %v", src, err)
		}
	}
	wire.SetTrafficClass(nil, 1)             // nothing to set: no panic
	wire.SetTrafficClass([]byte{0x45, 0}, 1) // truncated
	wire.SetTrafficClass([]byte{0x60}, 1)
}
