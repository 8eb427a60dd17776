package stack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/wire"
)

// FuzzPingInput feeds arbitrary packets to a stack with ping sockets of
// both families, connected and not, and never panics; whatever a socket
// queued reads back whole.
func FuzzPingInput(f *testing.F) {
	us, them := netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1")
	us6, them6 := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1")
	const ident = 0x1234
	packet := func(src, dst netip.Addr, h wire.ICMPHeader, body []byte) []byte {
		buf := make([]byte, 48+len(body))
		var off int
		if src.Is4() {
			ih := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: dst}
			off, _ = ih.Marshal(buf, 8+len(body))
			wire.BuildICMPv4(buf[off:], &h, body)
		} else {
			ih := wire.IPv6Header{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: src, Dst: dst}
			off, _ = ih.Marshal(buf, 8+len(body))
			wire.BuildICMPv6(buf[off:], src, dst, &h, body)
		}
		return buf[:off+8+len(body)]
	}
	echo := func(typ uint8) wire.ICMPHeader {
		h := wire.ICMPHeader{Type: typ}
		binary.BigEndian.PutUint16(h.Rest[0:], ident)
		return h
	}
	f.Add(packet(them, us, echo(wire.ICMPv4EchoReply), []byte("data")))
	f.Add(packet(them6, us6, echo(wire.ICMPv6EchoReply), []byte("data")))
	request := packet(us, them, echo(wire.ICMPv4EchoRequest), []byte("data"))
	f.Add(packet(them, us, wire.ICMPHeader{Type: wire.ICMPv4DestUnreachable, Code: 1}, request))
	request6 := packet(us6, them6, echo(wire.ICMPv6EchoRequest), []byte("data"))
	f.Add(packet(them6, us6, wire.ICMPHeader{Type: wire.ICMPv6DestUnreachable}, request6))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, b := pipe.New(1500)
		defer a.Close()
		s := New(Options{})
		defer s.Close()
		s.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
		var socks []*PingConn
		for i, raddr := range []netip.Addr{them, them6, {}} {
			laddr := netip.Addr{}
			if !raddr.IsValid() {
				laddr = netip.IPv4Unspecified()
			}
			c, err := s.DialPing(laddr, raddr)
			if err != nil {
				t.Fatal(err)
			}
			s.ping.unbind(c) // the identifier the seeds carry, and the next one
			c.ident = ident + uint16(i/2)
			s.ping.socks[pingKey{c.v6, c.ident}] = c
			socks = append(socks, c)
		}
		s.deliverBatch(s.nics[0], [][]byte{bytes.Clone(p), bytes.Clone(p)})
		for _, c := range socks {
			c.mu.Lock()
			for _, q := range c.queue.items[c.queue.head:] {
				m := q.msg
				if len(m.msg) < wire.ICMPHeaderLen || !bytes.Contains(p, m.msg[wire.ICMPHeaderLen:]) {
					t.Errorf("queued % x, which the packet does not hold", m.msg)
				}
			}
			c.mu.Unlock()
		}
	})
}
