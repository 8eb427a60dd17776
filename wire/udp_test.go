package wire_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/wire"
)

// udpPacket builds an IP packet carrying a UDP datagram from src:1000 to
// dst:53 and returns it with the offset of the UDP header.
func udpPacket(t testing.TB, src, dst netip.Addr, payload string) ([]byte, int) {
	t.Helper()
	b := make([]byte, 100+len(payload))
	n, err := wire.BuildUDPPacket(b, netip.AddrPortFrom(src, 1000), netip.AddrPortFrom(dst, 53), 0, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	off := wire.IPv4MinHeaderLen
	if src.Is6() {
		off = wire.IPv6HeaderLen
	}
	return b[:n], off
}

func TestUDPRoundTrip(t *testing.T) {
	for _, pair := range [][2]netip.Addr{{v4a, v4b}, {v6a, v6b}} {
		p, _ := udpPacket(t, pair[0], pair[1], "hello")
		ip, err := wire.ParseIP(p)
		if err != nil {
			t.Fatal(err)
		}
		if ip.Protocol != wire.ProtocolUDP || ip.Src != pair[0] || ip.Dst != pair[1] {
			t.Fatalf("ip = %+v", ip)
		}
		h, payload, err := wire.ParseUDP(ip.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if h.SrcPort != 1000 || h.DstPort != 53 || h.Length != 13 || string(payload) != "hello" {
			t.Errorf("%v: header %+v payload %q", pair[0], h, payload)
		}
		if !wire.VerifyUDPChecksum(ip.Payload, ip.Src, ip.Dst) {
			t.Errorf("%v: checksum refused", pair[0])
		}
	}
}

// The checksum cases of RFC 768 and RFC 8200 §8.1.
func TestUDPChecksum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		edit     func(d []byte)
		want     bool
	}{
		{"v4 computed", v4a, v4b, func([]byte) {}, true},
		{"v6 computed", v6a, v6b, func([]byte) {}, true},
		{"v4 zero: none computed, accepted", v4a, v4b, func(d []byte) { d[6], d[7] = 0, 0 }, true},
		{"v6 zero: refused", v6a, v6b, func(d []byte) { d[6], d[7] = 0, 0 }, false},
		{"v4 payload flipped", v4a, v4b, func(d []byte) { d[8] ^= 1 }, false},
		{"v6 payload flipped", v6a, v6b, func(d []byte) { d[8] ^= 1 }, false},
		{"v4 port flipped", v4a, v4b, func(d []byte) { d[1] ^= 0x80 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, off := udpPacket(t, tt.src, tt.dst, "hello")
			d := p[off:]
			tt.edit(d)
			if got := wire.VerifyUDPChecksum(d, tt.src, tt.dst); got != tt.want {
				t.Errorf("VerifyUDPChecksum = %v, want %v", got, tt.want)
			}
		})
	}
}

// A datagram whose checksum computes to zero is sent with 0xffff, which
// verifies (RFC 768: zero would mean none was computed).
func TestUDPChecksumZeroSentAsOnes(t *testing.T) {
	p, off := udpPacket(t, v4a, v4b, "\x00\x00")
	// With the payload word w, the sum is S+w; w = checksum(w=0) makes
	// it all ones, so the checksum computes to zero.
	c := binary.BigEndian.Uint16(p[off+6:])
	p, off = udpPacket(t, v4a, v4b, string([]byte{byte(c >> 8), byte(c)}))
	if got := binary.BigEndian.Uint16(p[off+6:]); got != 0xffff {
		t.Fatalf("checksum field = %#04x, want 0xffff", got)
	}
	if !wire.VerifyUDPChecksum(p[off:], v4a, v4b) {
		t.Fatal("0xffff checksum refused")
	}
}

func TestParseUDPMalformed(t *testing.T) {
	p, off := udpPacket(t, v4a, v4b, "hello")
	d := p[off:]
	tests := []struct {
		name   string
		b      []byte
		length uint16
		kind   error
	}{
		{"truncated header", d[:7], 13, wire.ErrTruncated},
		{"length below header", d, 7, wire.ErrTotalLength},
		{"length past end", d, 14, wire.ErrTotalLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append([]byte(nil), tt.b...)
			if len(b) >= 6 {
				binary.BigEndian.PutUint16(b[4:], tt.length)
			}
			if _, _, err := wire.ParseUDP(b); !errors.Is(err, tt.kind) {
				t.Errorf("err = %v, want %v", err, tt.kind)
			}
		})
	}
	// Padding past Length is not payload.
	padded := append(append([]byte(nil), d...), 0, 0, 0)
	if _, payload, err := wire.ParseUDP(padded); err != nil || string(payload) != "hello" {
		t.Errorf("padded: payload %q, err %v", payload, err)
	}
}

func TestBuildUDPPacketLimits(t *testing.T) {
	big := make([]byte, wire.UDPMaxPayload(false)+1)
	buf := make([]byte, 70000)
	if _, err := wire.BuildUDPPacket(buf, netip.AddrPortFrom(v4a, 1), netip.AddrPortFrom(v4b, 2), 0, big); err == nil {
		t.Error("v4 payload of 65508 bytes built")
	}
	if _, err := wire.BuildUDPPacket(buf, netip.AddrPortFrom(v4a, 1), netip.AddrPortFrom(v6b, 2), 0, nil); !errors.Is(err, wire.ErrAddressFamily) {
		t.Errorf("mixed families: %v", err)
	}
	if _, err := wire.BuildUDPPacket(buf[:20], netip.AddrPortFrom(v4a, 1), netip.AddrPortFrom(v4b, 2), 0, nil); !errors.Is(err, wire.ErrBufferTooSmall) {
		t.Errorf("short buffer: %v", err)
	}
}

// FuzzParseUDP: parsing arbitrary bytes never panics, and the payload
// is within the datagram.
func FuzzParseUDP(f *testing.F) {
	p, off := udpPacket(f, v4a, v4b, "hello")
	f.Add(p[off:])
	f.Add([]byte{0, 1, 0, 2, 0, 8, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := wire.ParseUDP(b)
		if err != nil {
			return
		}
		if len(payload) != int(h.Length)-wire.UDPHeaderLen || int(h.Length) > len(b) {
			t.Fatalf("length %d, payload %d, datagram %d", h.Length, len(payload), len(b))
		}
		wire.VerifyUDPChecksum(b[:h.Length], v6a, v6b)
	})
}
