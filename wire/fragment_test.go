package wire_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/wire"
)

// fragmentAll cuts packet p into fragments of at most mtu bytes.
func fragmentAll(t testing.TB, p []byte, mtu int, id uint32) [][]byte {
	t.Helper()
	hdr := wire.IPv4MinHeaderLen
	if p[0]>>4 == 6 {
		hdr = wire.IPv6HeaderLen
	}
	per := wire.FragmentDataLen(p, mtu)
	var out [][]byte
	for off := 0; off < len(p)-hdr; off += per {
		b := make([]byte, mtu)
		n, err := wire.BuildFragment(b, p, id, off, min(per, len(p)-hdr-off))
		if err != nil {
			t.Fatal(err)
		}
		if n > mtu {
			t.Fatalf("fragment of %d bytes for MTU %d", n, mtu)
		}
		out = append(out, b[:n])
	}
	return out
}

// A UDP packet cut into fragments and put together again from what
// ParseFragment finds is the packet it was, for IPv4 and IPv6.
func TestFragmentRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 500) // 8000 bytes
	for _, pair := range [][2]netip.Addr{{v4a, v4b}, {v6a, v6b}} {
		p := make([]byte, 8100)
		n, err := wire.BuildUDPPacket(p, netip.AddrPortFrom(pair[0], 7), netip.AddrPortFrom(pair[1], 9), 0, payload)
		if err != nil {
			t.Fatal(err)
		}
		p = p[:n]
		frags := fragmentAll(t, p, 1500, 0x1234)
		if len(frags) != 6 {
			t.Errorf("%v: %d fragments, want 6", pair[0], len(frags))
		}
		var first wire.Fragment
		var data []byte
		for i, b := range frags {
			if _, err := wire.ParseIP(b); !errors.Is(err, wire.ErrFragment) {
				t.Fatalf("ParseIP of fragment %d: %v, want ErrFragment", i, err)
			}
			f, err := wire.ParseFragment(b)
			if err != nil {
				t.Fatalf("fragment %d: %v", i, err)
			}
			if f.ID != 0x1234 || f.Src != pair[0] || f.Dst != pair[1] || f.Protocol != wire.ProtocolUDP ||
				f.Offset != len(data) || f.More != (i < len(frags)-1) {
				t.Fatalf("fragment %d: %+v", i, f)
			}
			if i == 0 {
				first = f
			}
			data = append(data, f.Data...)
		}
		whole := make([]byte, first.ReassembledHeaderLen()+len(data))
		h, err := first.PutReassembledHeader(whole, len(data))
		if err != nil {
			t.Fatal(err)
		}
		copy(whole[h:], data)
		ip, err := wire.ParseIP(whole)
		if err != nil {
			t.Fatal(err)
		}
		if ip.Protocol != wire.ProtocolUDP || !wire.VerifyUDPChecksum(ip.Payload, ip.Src, ip.Dst) {
			t.Fatalf("reassembled %+v", ip)
		}
		if _, got, _ := wire.ParseUDP(ip.Payload); !bytes.Equal(got, payload) {
			t.Fatalf("reassembled payload differs")
		}
		if !bytes.Equal(whole[:4], p[:4]) || !bytes.Equal(whole[8:10], p[8:10]) || !bytes.Equal(whole[12:], p[12:]) {
			t.Errorf("the reassembled packet differs beyond ID, flags and checksum")
		}
	}
}

// What RFC 791 and RFC 8200 §4.5 ask of a fragment on its own.
func TestParseFragmentRefuses(t *testing.T) {
	p := make([]byte, 200)
	n, _ := wire.BuildUDPPacket(p, netip.AddrPortFrom(v6a, 7), netip.AddrPortFrom(v6b, 9), 0, make([]byte, 100))
	p = p[:n]
	frag := func(off, length int, more bool) []byte {
		b := make([]byte, 48+max(length, 104))
		if _, err := wire.BuildFragment(b, p, 1, 0, 104); err != nil {
			t.Fatal(err)
		}
		b = b[:48+length]
		b[4], b[5] = byte((8+length)>>8), byte(8+length)
		v := uint16(off)
		if more {
			v |= 1
		}
		b[42], b[43] = byte(v>>8), byte(v)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"not a multiple of 8 with M", frag(0, 12, true), wire.ErrTotalLength},
		{"empty with M", frag(8, 0, true), wire.ErrTotalLength},
		{"past 65535", frag(65528, 16, false), wire.ErrTotalLength},
		{"atomic fragment", frag(0, 16, false), wire.ErrProtocol},
	} {
		if _, err := wire.ParseFragment(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := wire.ParseFragment(frag(65520, 15, false)); err != nil {
		t.Errorf("a last fragment ending at 65535: %v", err)
	}
	// An atomic fragment is a whole packet (RFC 6946).
	if ip, err := wire.ParseIP(frag(0, 16, false)); err != nil || len(ip.Payload) != 16 {
		t.Errorf("atomic fragment: %+v, %v", ip, err)
	}
	// IPv4: a fragment past 65535 bytes (the "ping of death").
	p4 := make([]byte, 200)
	n, _ = wire.BuildUDPPacket(p4, netip.AddrPortFrom(v4a, 7), netip.AddrPortFrom(v4b, 9), 0, make([]byte, 100))
	b := make([]byte, 200)
	m, _ := wire.BuildFragment(b, p4[:n], 1, 0, 104)
	b = b[:m]
	b[6], b[7] = 0x1f, 0xff // offset 65528
	b[10], b[11] = 0, 0
	sum := wire.Checksum(b[:20], 0)
	b[10], b[11] = byte(sum>>8), byte(sum)
	if _, err := wire.ParseFragment(b); !errors.Is(err, wire.ErrTotalLength) {
		t.Errorf("IPv4 past 65535: %v", err)
	}
}
