package wire_test

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/seqack/seqack/wire"
)

func addPacketSeeds(f *testing.F) {
	f.Add(buildPacket(f, v4a, v4b, "hello"))
	f.Add(buildPacket(f, v6a, v6b, ""))
	f.Add([]byte{0x45, 0, 0, 20})
	f.Add([]byte{0x60})
}

// FuzzParseTCPPacket: parsing arbitrary bytes never panics, and a packet
// that parses rebuilds into one that parses to the same fields.
func FuzzParseTCPPacket(f *testing.F) {
	addPacketSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, h, payload, err := wire.ParseTCPPacket(b)
		if err != nil {
			return
		}
		out := make([]byte, 65536+100)
		n, err := wire.BuildTCPPacket(out, ip.Src, ip.Dst, ip.TTL, &h, payload)
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		ip2, h2, payload2, err := wire.ParseTCPPacket(out[:n])
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if ip2.Src != ip.Src || ip2.Dst != ip.Dst || string(payload2) != string(payload) {
			t.Fatalf("addresses or payload changed")
		}
		h.RawOptions, h2.RawOptions = nil, nil
		h.Checksum, h2.Checksum, h.DataOffset, h2.DataOffset = 0, 0, 0, 0
		if h.Options.NumSACK > 0 && h2.Options.NumSACK < h.Options.NumSACK {
			return // blocks that did not fit beside other options were left out
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("header changed:\n%+v\n%+v", h, h2)
		}
	})
}

// FuzzParseTCP: TCP header parsing never panics and round-trips.
func FuzzParseTCP(f *testing.F) {
	f.Add(buildPacket(f, v4a, v4b, "x")[20:])
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 2, 0, 0, 0, 0, 0, 0, 2, 4, 5, 0xb4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, _, err := wire.ParseTCP(b)
		if err != nil {
			return
		}
		out := make([]byte, 60)
		n, err := h.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		h2, _, err := wire.ParseTCP(out[:n])
		if err != nil {
			t.Fatal(err)
		}
		if h.Options.NumSACK != h2.Options.NumSACK {
			return // left out to fit 40 bytes
		}
		if h.Options != h2.Options || h.Seq != h2.Seq || h.Ack != h2.Ack || h.Flags != h2.Flags || h.Window != h2.Window {
			t.Fatalf("changed:\n%+v\n%+v", h, h2)
		}
	})
}

// FuzzParseICMP: ICMP and IP parsing never panic.
func FuzzParseICMP(f *testing.F) {
	addPacketSeeds(f)
	f.Add([]byte{8, 0, 0xf7, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		wire.ParseICMPv4(b)
		wire.ParseICMPv6(b, netip.IPv6Loopback(), netip.IPv6Loopback())
		if ip, err := wire.ParseIP(b); err == nil && len(ip.Payload) > len(b) {
			t.Fatal("payload longer than the packet")
		}
		wire.ParseIPv4(b)
		wire.ParseIPv6(b)
		wire.IPv6ProtocolOffset(b)
		if f, err := wire.ParseFragment(b); err == nil {
			if len(f.Header)+len(f.Data) > len(b) || f.End() > 0xffff {
				t.Fatalf("fragment %+v past the packet", f)
			}
			wire.BuildFragment(make([]byte, len(b)+8), b, 1, 0, len(f.Data)&^7)
			f.PutReassembledHeader(make([]byte, len(f.Header)), 8)
		}
		if q, err := wire.ParseQuoted(b); err == nil && len(q.Payload) > len(b) {
			t.Fatal("quoted payload longer than the quote")
		}
	})
}
