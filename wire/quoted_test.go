package wire_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/seqack/seqack/wire"
)

// An ICMP error quotes the start of the offending packet; ParseQuoted
// reads addresses, protocol and the TCP ports and sequence number from
// the usual 28-byte (IPv4) or longer (IPv6) quote, ignoring the length
// fields the cut invalidates.
func TestParseQuoted(t *testing.T) {
	for _, c := range []struct {
		name   string
		packet []byte
		quote  int // bytes quoted
	}{
		{"ipv4 28 bytes", buildPacket(t, v4a, v4b, "hello"), 28},
		{"ipv6 48 bytes", buildPacket(t, v6a, v6b, "hello"), 48},
		{"ipv6 behind 3 extension headers", ipv6WithExtensions(t, 3), 40 + 3*8 + 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			ip, err := wire.ParseIP(c.packet)
			if err != nil {
				t.Fatal(err)
			}
			q, err := wire.ParseQuoted(c.packet[:c.quote])
			if err != nil {
				t.Fatal(err)
			}
			if q.Src != ip.Src || q.Dst != ip.Dst || q.Protocol != wire.ProtocolTCP || len(q.Payload) != 8 {
				t.Fatalf("quoted %+v, packet %+v", q, ip)
			}
			if binary.BigEndian.Uint32(q.Payload[4:]) != binary.BigEndian.Uint32(ip.Payload[4:]) {
				t.Error("sequence number differs")
			}
		})
	}
	v4 := buildPacket(t, v4a, v4b, "x")
	for _, c := range []struct {
		name  string
		quote []byte
		want  error
	}{
		{"empty", nil, wire.ErrTruncated},
		{"short ipv4", v4[:19], wire.ErrTruncated},
		{"short ipv6", buildPacket(t, v6a, v6b, "x")[:39], wire.ErrTruncated},
		{"bad version", append([]byte{0x50}, v4[1:28]...), wire.ErrVersion},
		{"ihl past the quote", append([]byte{0x4f}, v4[1:28]...), wire.ErrHeaderLength},
		{"non-initial fragment", func() []byte {
			q := append([]byte(nil), v4[:28]...)
			q[7] = 1
			return q
		}(), wire.ErrProtocol},
		{"ipv6 extension header cut", ipv6WithExtensions(t, 3)[:50], wire.ErrTruncated},
	} {
		if _, err := wire.ParseQuoted(c.quote); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestIPv6ProtocolOffset(t *testing.T) {
	for n, want := range map[int]int{0: 6, 1: 40, 3: 56} {
		p := ipv6WithExtensions(t, n)
		if n == 0 {
			p = buildPacket(t, v6a, v6b, "x")
		}
		if got, err := wire.IPv6ProtocolOffset(p); err != nil || got != want {
			t.Errorf("%d extension headers: offset %d, %v; want %d", n, got, err, want)
		}
	}
	if _, err := wire.IPv6ProtocolOffset(make([]byte, 10)); !errors.Is(err, wire.ErrTruncated) {
		t.Errorf("short packet: %v", err)
	}
}
