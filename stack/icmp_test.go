package stack_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// rawPeer is the far end of a pipe driven by hand: the test reads the
// stack's packets and writes crafted ones.
type rawPeer struct {
	t    *testing.T
	ep   *pipe.Endpoint
	in   chan []byte
	addr netip.Addr
}

// newRawPeer returns a stack at 192.0.2.1 (2001:db8::1) whose only
// neighbour, 192.0.2.2 (2001:db8::2), is the raw peer.
func newRawPeer(t *testing.T) (*stack.Stack, *rawPeer) {
	return newRawPeerVia(t, func(ep *pipe.Endpoint) link.Endpoint { return ep })
}

// newRawPeerVia is newRawPeer with the stack's end of the pipe wrapped by
// via before the stack attaches to it.
func newRawPeerVia(t *testing.T, via func(*pipe.Endpoint) link.Endpoint) (*stack.Stack, *rawPeer) {
	a, b := pipe.New(1500)
	s := stack.New(stack.Options{})
	s.AddInterface(via(a), netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	p := &rawPeer{t: t, ep: b, in: make(chan []byte, 1024), addr: netip.MustParseAddr("192.0.2.2")}
	b.Attach(func(pkt []byte) { p.in <- pkt })
	t.Cleanup(func() { s.Close(); b.Close() })
	return s, p
}

// next returns the next packet the stack sent.
func (p *rawPeer) next() []byte {
	p.t.Helper()
	select {
	case pkt := <-p.in:
		return pkt
	case <-time.After(5 * time.Second):
		p.t.Fatal("the stack sent nothing")
		return nil
	}
}

// nextTCP returns the next TCP segment the stack sent, with its packet.
func (p *rawPeer) nextTCP() (tcp.Segment, wire.TCPHeader, []byte) {
	p.t.Helper()
	for {
		pkt := p.next()
		_, h, payload, err := wire.ParseTCPPacket(pkt)
		if err != nil {
			continue
		}
		return tcp.SegmentFromHeader(&h, payload), h, pkt
	}
}

// sendTCP sends seg from the peer to the stack.
func (p *rawPeer) sendTCP(dst netip.Addr, srcPort, dstPort uint16, seg tcp.Segment) {
	if err := p.ep.WritePacket(p.packetTCP(dst, srcPort, dstPort, seg)); err != nil {
		p.t.Fatal(err)
	}
}

// packetTCP builds the packet carrying seg from the peer to dst.
func (p *rawPeer) packetTCP(dst netip.Addr, srcPort, dstPort uint16, seg tcp.Segment) []byte {
	h := seg.Header(srcPort, dstPort)
	buf := make([]byte, 100+len(seg.Payload))
	n, err := wire.BuildTCPPacket(buf, p.addr, dst, 64, &h, seg.Payload)
	if err != nil {
		p.t.Fatal(err)
	}
	return buf[:n]
}

// sendICMPv4 sends an ICMPv4 error quoting the stack's packet.
func (p *rawPeer) sendICMPv4(typ, code uint8, rest uint32, quoted []byte) {
	h := wire.ICMPHeader{Type: typ, Code: code}
	binary.BigEndian.PutUint32(h.Rest[:], rest)
	body := wire.ErrorQuote(4, quoted)[:28]
	buf := make([]byte, 20+8+len(body))
	ip := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: p.addr, Dst: netip.MustParseAddr("192.0.2.1")}
	off, _ := ip.Marshal(buf, 8+len(body))
	wire.BuildICMPv4(buf[off:], &h, body)
	p.ep.WritePacket(buf)
}

// A port unreachable for our SYN is a hard error: Dial fails at once
// with ECONNREFUSED instead of retrying for two minutes (RFC 1122
// §4.2.3.9, as Linux does). An error quoting a sequence number we never
// sent is ignored (RFC 5927 §4.1).
func TestICMPPortUnreachableRefusesDial(t *testing.T) {
	s, peer := newRawPeer(t)
	errc := make(chan error, 1)
	go func() {
		_, err := s.Dial("tcp", "192.0.2.2:80")
		errc <- err
	}()
	syn, _, pkt := peer.nextTCP()
	bogus := append([]byte(nil), pkt...)
	binary.BigEndian.PutUint32(bogus[24:], uint32(syn.Seq)+12345) // TCP sequence number
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodePortUnreachable, 0, bogus)
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodePortUnreachable, 0, pkt)
	select {
	case err := <-errc:
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial: %v, want ECONNREFUSED", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dial did not fail")
	}
	if got := s.Stats().ICMPErrorsIgnored.Load(); got != 1 {
		t.Errorf("%d ICMP errors ignored, want the 1 with a bogus sequence number", got)
	}
}

// Fragmentation needed (RFC 1191) quoting an outstanding segment shrinks
// the MSS and resends what is outstanding in segments that fit.
func TestICMPFragmentationNeededShrinksSegments(t *testing.T) {
	s, peer := newRawPeer(t)
	connc := make(chan error, 1)
	var conn *stack.Conn
	go func() {
		c, err := s.Dial("tcp", "192.0.2.2:80")
		if err == nil {
			conn = c.(*stack.Conn)
		}
		connc <- err
	}()
	syn, h, _ := peer.nextTCP()
	peer.sendTCP(netip.MustParseAddr("192.0.2.1"), 80, h.SrcPort, tcp.Segment{
		Seq: 7000, Ack: syn.Seq + 1, Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
		Options: wire.TCPOptions{MSS: 1460, HasMSS: true},
	})
	peer.nextTCP() // the third ACK
	if err := <-connc; err != nil {
		t.Fatal(err)
	}
	go conn.Write(make([]byte, 3000))
	first, _, pkt := peer.nextTCP()
	if len(first.Payload) != 1460 {
		t.Fatalf("first segment carries %d bytes, want 1460", len(first.Payload))
	}
	peer.nextTCP()
	peer.nextTCP()
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodeFragNeeded, 1000, pkt)
	again, _, _ := peer.nextTCP()
	if again.Seq != first.Seq || len(again.Payload) != 1000-40 {
		t.Fatalf("after the ICMP error: %v, want a resend from %d of 960 bytes", again, first.Seq)
	}
	if got := conn.Info().MSS; got != 960 {
		t.Errorf("Info().MSS %d, want 960", got)
	}
}

// A packet of a protocol the stack does not run is answered with ICMPv4
// protocol unreachable, or ICMPv6 parameter problem pointing at the Next
// Header field (RFC 1122 §3.2.2.1, RFC 8200 §4). The protocol is 253,
// set aside for experiments (RFC 3692).
func TestProtocolUnreachable(t *testing.T) {
	s, peer := newRawPeer(t)
	for _, c := range []struct {
		src, dst           string
		wantType, wantCode uint8
		wantPointer        uint32
	}{
		{"192.0.2.2", "192.0.2.1", wire.ICMPv4DestUnreachable, wire.ICMPv4CodeProtocolUnreachable, 0},
		{"2001:db8::2", "2001:db8::1", wire.ICMPv6ParamProblem, wire.ICMPv6CodeUnrecognizedNextHeader, 6},
	} {
		src, dst := netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst)
		buf := make([]byte, 60)
		var n int
		if src.Is4() {
			h := wire.IPv4Header{TTL: 64, Protocol: 253, Src: src, Dst: dst}
			n, _ = h.Marshal(buf, 8)
		} else {
			h := wire.IPv6Header{NextHeader: 253, HopLimit: 64, Src: src, Dst: dst}
			n, _ = h.Marshal(buf, 8)
		}
		sent := buf[:n+8]
		peer.ep.WritePacket(append([]byte(nil), sent...))
		reply := peer.next()
		ip, err := wire.ParseIP(reply)
		if err != nil {
			t.Fatal(err)
		}
		var h wire.ICMPHeader
		var body []byte
		if ip.Version == 4 {
			h, body, err = wire.ParseICMPv4(ip.Payload)
		} else {
			h, body, err = wire.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
		}
		if err != nil || ip.Dst != src || h.Type != c.wantType || h.Code != c.wantCode || h.MTU() != c.wantPointer || string(body) != string(sent) {
			t.Errorf("%s: reply %+v to %v quoting %d bytes (%v)", c.src, h, ip.Dst, len(body), err)
		}
	}
	if got := s.Stats().UnknownProtocol.Load(); got != 2 {
		t.Errorf("UnknownProtocol %d, want 2", got)
	}
}

// The stack's counters add up as netstat -s would show them.
func TestStackCounters(t *testing.T) {
	s, peer := newRawPeer(t)
	go s.Dial("tcp", "192.0.2.2:80")
	syn, h, _ := peer.nextTCP()
	// A segment with a broken TCP checksum is counted and dropped.
	seg := tcp.Segment{Seq: 1, Ack: syn.Seq + 1, Flags: wire.FlagACK, Payload: []byte("x")}
	th := seg.Header(80, h.SrcPort)
	buf := make([]byte, 100)
	n, _ := wire.BuildTCPPacket(buf, peer.addr, netip.MustParseAddr("192.0.2.1"), 64, &th, seg.Payload)
	buf[n-1] ^= 0xff
	peer.ep.WritePacket(buf[:n])
	peer.sendTCP(netip.MustParseAddr("192.0.2.1"), 80, h.SrcPort, tcp.Segment{Seq: 0, Ack: syn.Seq + 1, Flags: wire.FlagRST | wire.FlagACK})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().TCP.ResetsReceived.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := s.Stats()
	for name, c := range map[string]struct{ got, want uint64 }{
		"TCP.ActiveOpens":      {st.TCP.ActiveOpens.Load(), 1},
		"TCP.SegmentsSent":     {st.TCP.SegmentsSent.Load(), 1},
		"TCP.SegmentsReceived": {st.TCP.SegmentsReceived.Load(), 1},
		"TCP.ResetsReceived":   {st.TCP.ResetsReceived.Load(), 1},
		"PacketsSent":          {st.PacketsSent.Load(), 1},
		"PacketsReceived":      {st.PacketsReceived.Load(), 2},
		"BadChecksums":         {st.BadChecksums.Load(), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", name, c.got, c.want)
		}
	}
}
