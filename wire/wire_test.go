package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/seqack/seqack/wire"
)

var (
	v4a = netip.MustParseAddr("192.0.2.1")
	v4b = netip.MustParseAddr("192.0.2.2")
	v6a = netip.MustParseAddr("2001:db8::1")
	v6b = netip.MustParseAddr("2001:db8::2")
)

// referenceChecksum is RFC 1071's algorithm, word by word.
func referenceChecksum(b []byte, initial uint32) uint16 {
	sum := initial
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func TestChecksumMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 400)
	for n := 0; n <= 300; n++ {
		for off := 0; off < 8; off++ {
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			b := buf[off : off+n]
			init := r.Uint32() & 0xffff
			if got, want := wire.Checksum(b, init), referenceChecksum(b, init); got != want {
				t.Fatalf("len %d offset %d: Checksum = %#04x, want %#04x", n, off, got, want)
			}
		}
	}
	// All ones: the sum saturates and must still fold correctly.
	ff := bytes.Repeat([]byte{0xff}, 1000)
	if got, want := wire.Checksum(ff, 0xffff), referenceChecksum(ff, 0xffff); got != want {
		t.Fatalf("all-ones: %#04x, want %#04x", got, want)
	}
}

// RFC 1071 §3's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
func TestChecksumRFC1071Example(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := wire.PartialChecksum(b, 0); got != 0xddf2 {
		t.Fatalf("sum = %#04x, want 0xddf2", got)
	}
	if got := wire.Checksum(b, 0); got != ^uint16(0xddf2) {
		t.Fatalf("checksum = %#04x", got)
	}
}

func TestChecksumIncrementalUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 60)
	for i := 0; i < 1000; i++ {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		before := wire.Checksum(b, 0)
		at := 2 * r.IntN(14)
		old32 := binary.BigEndian.Uint32(b[at:])
		new32 := r.Uint32()
		binary.BigEndian.PutUint32(b[at:], new32)
		if got, want := wire.ChecksumUpdate32(before, old32, new32), wire.Checksum(b, 0); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
			t.Fatalf("update = %#04x, recomputed %#04x", got, want)
		}
	}
}

func synHeader() wire.TCPHeader {
	h := wire.TCPHeader{SrcPort: 40000, DstPort: 80, Seq: 0xfffffff0, Flags: wire.FlagSYN, Window: 65535}
	h.Options.MSS, h.Options.HasMSS = 1460, true
	h.Options.SACKPermitted = true
	h.Options.TSVal, h.Options.TSEcr, h.Options.HasTimestamps = 100, 0, true
	h.Options.WindowScale, h.Options.HasWindowScale = 7, true
	return h
}

// The SYN's options are laid out as Linux lays them out.
func TestTCPOptionLayoutLikeLinux(t *testing.T) {
	h := synHeader()
	b := make([]byte, 60)
	n, err := h.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1, 3, 3, 7}
	if n != 40 || h.Len() != 40 || !bytes.Equal(b[20:n], want) {
		t.Fatalf("options % x (n=%d), want % x", b[20:n], n, want)
	}
}

func TestTCPRoundTrip(t *testing.T) {
	cases := map[string]wire.TCPHeader{"syn": synHeader()}
	ack := wire.TCPHeader{SrcPort: 1, DstPort: 2, Seq: 7, Ack: 9, Flags: wire.FlagACK | wire.FlagPSH, Window: 512, Urgent: 3}
	ack.Options.TSVal, ack.Options.TSEcr, ack.Options.HasTimestamps = 5, 6, true
	ack.Options.NumSACK = 3
	ack.Options.SACK = [4]wire.SACKBlock{{10, 20}, {30, 40}, {50, 60}}
	cases["ack+ts+sack"] = ack
	cases["bare"] = wire.TCPHeader{SrcPort: 65535, Seq: 1, Flags: wire.FlagRST}
	sack4 := wire.TCPHeader{Flags: wire.FlagACK}
	sack4.Options.NumSACK = 4
	sack4.Options.SACK = [4]wire.SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
	cases["four sack blocks"] = sack4
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			b := make([]byte, 80)
			n, err := h.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			copy(b[n:], "data")
			got, payload, err := wire.ParseTCP(b[:n+4])
			if err != nil {
				t.Fatal(err)
			}
			if string(payload) != "data" || int(got.DataOffset) != n {
				t.Fatalf("payload %q, offset %d (wrote %d)", payload, got.DataOffset, n)
			}
			got.RawOptions, got.DataOffset = nil, 0
			if !reflect.DeepEqual(got, h) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, h)
			}
		})
	}
}

// SACK blocks that do not fit beside other options are left out.
func TestTCPSACKBlocksTrimmedTo40Bytes(t *testing.T) {
	h := wire.TCPHeader{Flags: wire.FlagACK}
	h.Options.HasTimestamps = true
	h.Options.NumSACK = 4
	b := make([]byte, 60)
	n, err := h.Marshal(b)
	if err != nil || n != 60 || h.Len() != 60 {
		t.Fatalf("n=%d len=%d err=%v", n, h.Len(), err)
	}
	got, _, err := wire.ParseTCP(b[:n])
	if err != nil || got.Options.NumSACK != 3 {
		t.Fatalf("NumSACK=%d err=%v, want 3 blocks beside timestamps", got.Options.NumSACK, err)
	}
}

func TestParseTCPErrors(t *testing.T) {
	base := func(off byte, opts ...byte) []byte {
		b := make([]byte, 20, 60)
		b[12] = off << 4
		return append(b, opts...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, wire.ErrTruncated},
		{"19 bytes", make([]byte, 19), wire.ErrTruncated},
		{"data offset 4", base(4), wire.ErrHeaderLength},
		{"data offset past end", base(6), wire.ErrTruncated},
		{"option length 0", base(6, 2, 0, 0, 0), wire.ErrOption},
		{"option length 1", base(6, 30, 1, 0, 0), wire.ErrOption},
		{"option past header", base(6, 1, 1, 30, 8), wire.ErrOption},
		{"kind without length", base(6, 1, 1, 1, 30), wire.ErrOption},
		{"MSS length 3", base(6, 2, 3, 0, 0), wire.ErrOption},
		{"wscale length 4", base(6, 3, 4, 0, 0), wire.ErrOption},
		{"sackOK length 3", base(6, 4, 3, 0, 0), wire.ErrOption},
		{"SACK length 6", base(7, 5, 6, 0, 0, 0, 0, 0, 0), wire.ErrOption},
		{"TS length 8", base(7, 8, 8, 0, 0, 0, 0, 0, 0), wire.ErrOption},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := wire.ParseTCP(c.b)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var pe *wire.ParseError
			if !errors.As(err, &pe) || pe.Layer != "tcp" {
				t.Fatalf("err %v is not a tcp *ParseError", err)
			}
		})
	}
	// Unknown options are skipped by length, EOL ends the list.
	h, _, err := wire.ParseTCP(base(8, 99, 4, 0, 0, 2, 4, 1, 0, 0, 2, 0, 0))
	if err != nil || !h.Options.HasMSS || h.Options.MSS != 256 {
		t.Fatalf("unknown option: %+v %v", h.Options, err)
	}
}

func buildPacket(t testing.TB, src, dst netip.Addr, payload string) []byte {
	t.Helper()
	h := synHeader()
	b := make([]byte, 1600)
	n, err := wire.BuildTCPPacket(b, src, dst, 0, &h, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func TestTCPPacketRoundTrip(t *testing.T) {
	for _, fam := range []struct {
		name     string
		src, dst netip.Addr
		hdr      int
	}{{"ipv4", v4a, v4b, 20}, {"ipv6", v6a, v6b, 40}} {
		t.Run(fam.name, func(t *testing.T) {
			p := buildPacket(t, fam.src, fam.dst, "hello")
			if len(p) != fam.hdr+40+5 {
				t.Fatalf("length %d", len(p))
			}
			ip, h, payload, err := wire.ParseTCPPacket(p)
			if err != nil {
				t.Fatal(err)
			}
			if ip.Src != fam.src || ip.Dst != fam.dst || ip.TTL != 64 || ip.Protocol != wire.ProtocolTCP || string(payload) != "hello" || h.Seq != 0xfffffff0 || !h.Options.HasTimestamps {
				t.Fatalf("parsed %+v %+v %q", ip, h, payload)
			}
			// Every single-bit flip past the IP header is caught by the
			// TCP checksum (or makes the header unparsable).
			for bit := fam.hdr * 8; bit < len(p)*8; bit++ {
				q := append([]byte(nil), p...)
				q[bit/8] ^= 1 << (bit % 8)
				if _, _, _, err := wire.ParseTCPPacket(q); err == nil {
					t.Fatalf("flip of bit %d not detected", bit)
				}
			}
		})
	}
}

func TestParseIPErrors(t *testing.T) {
	good := buildPacket(t, v4a, v4b, "x")
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	good6 := buildPacket(t, v6a, v6b, "x")
	mod6 := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good6...)) }
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, wire.ErrTruncated},
		{"version 5", mod(func(b []byte) []byte { b[0] = 0x55; return b }), wire.ErrVersion},
		{"v4 short", good[:19], wire.ErrTruncated},
		{"v4 IHL 4", mod(func(b []byte) []byte { b[0] = 0x44; return b }), wire.ErrHeaderLength},
		{"v4 total length too big", mod(func(b []byte) []byte { b[3] += 10; return b }), wire.ErrTotalLength},
		{"v4 total length below header", mod(func(b []byte) []byte { b[2], b[3] = 0, 10; return b }), wire.ErrTotalLength},
		{"v4 header checksum", mod(func(b []byte) []byte { b[8]--; return b }), wire.ErrChecksum},
		{"v4 TCP checksum", mod(func(b []byte) []byte { b[len(b)-1]++; return b }), wire.ErrChecksum},
		{"v6 short", good6[:39], wire.ErrTruncated},
		{"v6 payload length lies", mod6(func(b []byte) []byte { b[5] += 1; return b }), wire.ErrTotalLength},
		{"v6 TCP checksum", mod6(func(b []byte) []byte { b[len(b)-1]++; return b }), wire.ErrChecksum},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, _, err := wire.ParseTCPPacket(c.b); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Trailing link-layer padding after the IPv4 total length is ignored.
	padded := append(append([]byte(nil), good...), 0, 0, 0, 0)
	if _, _, payload, err := wire.ParseTCPPacket(padded); err != nil || string(payload) != "x" {
		t.Fatalf("padded: %q %v", payload, err)
	}
}

// ipv6WithExtensions returns good6 with n destination-options headers
// inserted before the TCP header.
func ipv6WithExtensions(t *testing.T, n int) []byte {
	good6 := buildPacket(t, v6a, v6b, "x")
	tcpPart := good6[40:]
	var ext []byte
	for i := 0; i < n; i++ {
		next := byte(60)
		if i == n-1 {
			next = wire.ProtocolTCP
		}
		ext = append(ext, next, 0, 1, 4, 0, 0, 0, 0) // PadN filling 8 bytes
	}
	p := append(append(append([]byte(nil), good6[:40]...), ext...), tcpPart...)
	if n > 0 {
		p[6] = 60
	}
	binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
	return p
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	ip, err := wire.ParseIP(ipv6WithExtensions(t, 3))
	if err != nil || ip.Protocol != wire.ProtocolTCP {
		t.Fatalf("3 headers: %+v %v", ip, err)
	}
	if _, _, _, err := wire.ParseTCPPacket(ipv6WithExtensions(t, 3)); err != nil {
		t.Fatalf("TCP behind extension headers: %v", err)
	}
	if _, err := wire.ParseIP(ipv6WithExtensions(t, 9)); !errors.Is(err, wire.ErrExtensionHeader) {
		t.Fatalf("9 headers: %v", err)
	}
	p := ipv6WithExtensions(t, 1)
	p[41] = 200 // header length far past the end
	if _, err := wire.ParseIP(p); !errors.Is(err, wire.ErrTruncated) {
		t.Fatalf("long header: %v", err)
	}
}

func TestICMP(t *testing.T) {
	b := make([]byte, 100)
	h := wire.ICMPHeader{Type: wire.ICMPv4EchoRequest, Rest: [4]byte{0, 7, 0, 9}}
	n, err := wire.BuildICMPv4(b, &h, []byte("ping"))
	if err != nil {
		t.Fatal(err)
	}
	got, body, err := wire.ParseICMPv4(b[:n])
	if err != nil || got.EchoID() != 7 || got.EchoSeq() != 9 || string(body) != "ping" || got.IsError(4) {
		t.Fatalf("%+v %q %v", got, body, err)
	}
	b[n-1]++
	if _, _, err := wire.ParseICMPv4(b[:n]); !errors.Is(err, wire.ErrChecksum) {
		t.Fatalf("corrupt: %v", err)
	}
	orig := buildPacket(t, v6a, v6b, "x")
	ptb := wire.ICMPHeader{Type: wire.ICMPv6PacketTooBig, Rest: [4]byte{0, 0, 0x05, 0x00}}
	b = make([]byte, 1500)
	n, err = wire.BuildICMPv6(b, v6b, v6a, &ptb, wire.ErrorQuote(6, orig))
	if err != nil {
		t.Fatal(err)
	}
	got, body, err = wire.ParseICMPv6(b[:n], v6b, v6a)
	if err != nil || got.MTU() != 1280 || !got.IsError(6) || !bytes.Equal(body, orig) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, _, err := wire.ParseICMPv6(b[:n], v6a, netip.MustParseAddr("2001:db8::3")); !errors.Is(err, wire.ErrChecksum) {
		t.Fatalf("wrong pseudo-header: %v", err)
	}
	if _, _, err := wire.ParseICMPv4(b[:7]); !errors.Is(err, wire.ErrTruncated) {
		t.Fatalf("short: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	h := synHeader()
	if _, err := wire.BuildTCPPacket(make([]byte, 50), v4a, v4b, 0, &h, nil); !errors.Is(err, wire.ErrBufferTooSmall) {
		t.Fatalf("small buffer: %v", err)
	}
	if _, err := wire.BuildTCPPacket(make([]byte, 200), v4a, v6b, 0, &h, nil); !errors.Is(err, wire.ErrAddressFamily) {
		t.Fatalf("mixed families: %v", err)
	}
	if _, err := h.Marshal(make([]byte, 39)); !errors.Is(err, wire.ErrBufferTooSmall) {
		t.Fatalf("marshal: %v", err)
	}
}

func TestNoAllocations(t *testing.T) {
	h := synHeader()
	payload := make([]byte, 1460)
	buf := make([]byte, 1600)
	p4 := buildPacket(t, v4a, v4b, string(payload))
	p6 := buildPacket(t, v6a, v6b, string(payload))
	for name, f := range map[string]func(){
		"Marshal":           func() { h.Marshal(buf) },
		"BuildTCPPacket v4": func() { wire.BuildTCPPacket(buf, v4a, v4b, 0, &h, payload) },
		"BuildTCPPacket v6": func() { wire.BuildTCPPacket(buf, v6a, v6b, 0, &h, payload) },
		"ParseTCPPacket v4": func() { wire.ParseTCPPacket(p4) },
		"ParseTCPPacket v6": func() { wire.ParseTCPPacket(p6) },
		"Checksum":          func() { wire.Checksum(payload, 0) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

// A packet built with a partial checksum carries the pseudo-header's
// sum; a link that finishes it (sums the segment from the TCP header on,
// checksum field included, and stores the complement) gets the checksum
// BuildTCPPacket computes.
func TestPartialChecksumFinishes(t *testing.T) {
	for _, pair := range [][2]string{{"192.0.2.1", "192.0.2.2"}, {"2001:db8::1", "2001:db8::2"}} {
		src, dst := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		h := wire.TCPHeader{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: wire.FlagACK, Window: 5}
		payload := []byte("a payload of odd length")
		full, partial := make([]byte, 100), make([]byte, 100)
		n, err := wire.BuildTCPPacket(full, src, dst, 64, &h, payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wire.BuildTCPPacketPartialChecksum(partial, src, dst, 64, &h, payload); err != nil {
			t.Fatal(err)
		}
		ip, _ := wire.ParseIP(partial[:n])
		if wire.VerifyTCPChecksum(ip.Payload, src, dst) {
			t.Errorf("%s: a partial checksum verifies", pair[0])
		}
		at := n - len(ip.Payload)
		binary.BigEndian.PutUint16(partial[at+16:], wire.Checksum(partial[at:n], 0))
		if string(partial[:n]) != string(full[:n]) {
			t.Errorf("%s: finished partial checksum %x, want %x", pair[0], partial[at+16:at+18], full[at+16:at+18])
		}
	}
}
