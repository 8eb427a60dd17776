package stack_test

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// A UDP datagram of 8000 bytes crosses a 1500-byte link in fragments
// both ways, over IPv4 and IPv6: the client's is cut and put together
// by the server, the echo cut by the server and put together by the
// client.
func TestUDPFragmentedEcho(t *testing.T) {
	client, server := twoStacks(t, 1500)
	sock := listenUDP(t, server, "udp", ":7")
	go udpEcho(sock)
	msg := make([]byte, 8000)
	for i := range msg {
		msg[i] = byte(i * 13)
	}
	for _, to := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		conn, err := client.Dial("udp", to)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if n, err := conn.Write(msg); err != nil || n != len(msg) {
			t.Fatalf("%s: write %d, %v", to, n, err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 10000)
		n, err := conn.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("%s: read %d bytes, %v", to, n, err)
		}
	}
	for name, st := range map[string]*stack.Stats{"client": client.Stats(), "server": server.Stats()} {
		f := st.Snapshot().Frag
		// 8008 bytes of UDP: 6 IPv4 fragments of 1480 bytes, 6 IPv6 of 1448.
		if f.DatagramsFragmented != 2 || f.FragmentsCreated != 12 || f.Reassembled != 2 || f.FragmentsReceived != 12 || f.FragmentsDropped != 0 {
			t.Errorf("%s: %+v", name, f)
		}
	}
}

// reassembleReply collects the fragments of one packet the stack sent
// to peer, each within the MTU, and returns the payload they carry.
func reassembleReply(t *testing.T, peer *rawPeer) (frags []wire.Fragment) {
	t.Helper()
	for {
		p := peer.next()
		if len(p) > 1500 {
			t.Fatalf("a packet of %d bytes on a 1500-byte link", len(p))
		}
		f, err := wire.ParseFragment(p)
		if err != nil {
			t.Fatalf("not a fragment: %v", err)
		}
		frags = append(frags, f)
		if !f.More {
			return frags
		}
	}
}

// `ping -s 3000`: an echo request in fragments is put together and
// answered, and the reply, too large for the link, leaves in fragments
// (RFC 792, RFC 4443 §4.1), over IPv4 and IPv6.
func TestPingFragmented(t *testing.T) {
	s, peer := newRawPeer(t)
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i)
	}
	for _, c := range []struct {
		src, dst  netip.Addr
		request   uint8
		reply     uint8
		fragments int
	}{
		{peer.addr, netip.MustParseAddr("192.0.2.1"), wire.ICMPv4EchoRequest, wire.ICMPv4EchoReply, 3},
		{netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1"), wire.ICMPv6EchoRequest, wire.ICMPv6EchoReply, 3},
	} {
		h := wire.ICMPHeader{Type: c.request, Rest: [4]byte{0, 1, 0, 7}}
		p := make([]byte, 40+8+len(data))
		var n int
		if c.src.Is4() {
			ip := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: c.src, Dst: c.dst}
			n, _ = ip.Marshal(p, 8+len(data))
			wire.BuildICMPv4(p[n:], &h, data)
		} else {
			ip := wire.IPv6Header{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: c.src, Dst: c.dst}
			n, _ = ip.Marshal(p, 8+len(data))
			wire.BuildICMPv6(p[n:], c.src, c.dst, &h, data)
		}
		p = p[:n+8+len(data)]
		// The fragments go out last first, as some hosts send them.
		per := wire.FragmentDataLen(p, 1500)
		for off := (len(p) - n - 1) / per * per; off >= 0; off -= per {
			b := make([]byte, 1500)
			m, err := wire.BuildFragment(b, p, 99, off, min(per, len(p)-n-off))
			if err != nil {
				t.Fatal(err)
			}
			peer.ep.WritePacket(b[:m])
		}
		frags := reassembleReply(t, peer)
		if len(frags) != c.fragments {
			t.Errorf("%v: the reply in %d fragments, want %d", c.src, len(frags), c.fragments)
		}
		slices.SortFunc(frags, func(a, b wire.Fragment) int { return a.Offset - b.Offset })
		var reply []byte
		for _, f := range frags {
			if f.Offset != len(reply) || f.Src != c.dst || f.Dst != c.src {
				t.Fatalf("%v: fragment %+v", c.src, f)
			}
			reply = append(reply, f.Data...)
		}
		if reply[0] != c.reply || !bytes.Equal(reply[4:8], h.Rest[:]) || !bytes.Equal(reply[8:], data) {
			t.Errorf("%v: reply of type %d, %d bytes", c.src, reply[0], len(reply))
		}
	}
	if f := s.Stats().Snapshot().Frag; f.Reassembled != 2 || f.DatagramsFragmented != 2 || f.FragmentsCreated != 6 {
		t.Errorf("%+v", f)
	}
}

// newFragPeer is newRawPeer for a stack with the given reassembly
// options.
func newFragPeer(t *testing.T, opts stack.ReassemblyOptions) (*stack.Stack, *rawPeer) {
	a, b := pipe.New(1500)
	s := stack.New(stack.Options{Reassembly: opts})
	s.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	p := &rawPeer{t: t, ep: b, in: make(chan []byte, 1024), addr: netip.MustParseAddr("192.0.2.2")}
	b.Attach(func(pkt []byte) { p.in <- pkt })
	t.Cleanup(func() { s.Close(); b.Close() })
	return s, p
}

// udpFragments cuts a UDP datagram of n payload bytes from src:7 to
// dst:9 into fragments of at most 1500 bytes, with identification id.
func udpFragments(t *testing.T, src, dst netip.Addr, n int, id uint32) [][]byte {
	t.Helper()
	p := make([]byte, wire.UDPPacketLen(src.Is6(), n))
	if _, err := wire.BuildUDPPacket(p, netip.AddrPortFrom(src, 7), netip.AddrPortFrom(dst, 9), 0, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	hdr := wire.IPv4MinHeaderLen
	if src.Is6() {
		hdr = wire.IPv6HeaderLen
	}
	per := wire.FragmentDataLen(p, 1500)
	var out [][]byte
	for off := 0; off < len(p)-hdr; off += per {
		b := make([]byte, 1500)
		m, err := wire.BuildFragment(b, p, id, off, min(per, len(p)-hdr-off))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b[:m])
	}
	return out
}

// A datagram never completed is dropped at its timeout, and answered
// with an ICMP time exceeded (fragment reassembly) only if its first
// fragment came (RFC 792, RFC 4443 §3.3).
func TestReassemblyTimeExceeded(t *testing.T) {
	s, peer := newFragPeer(t, stack.ReassemblyOptions{Timeout: 50 * time.Millisecond, TimeoutIPv6: 50 * time.Millisecond})
	for _, c := range []struct {
		src, dst netip.Addr
		typ      uint8
	}{
		{peer.addr, netip.MustParseAddr("192.0.2.1"), wire.ICMPv4TimeExceeded},
		{netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1"), wire.ICMPv6TimeExceeded},
	} {
		frags := udpFragments(t, c.src, c.dst, 3000, 5)
		peer.ep.WritePacket(frags[1]) // the first never comes: no ICMP
		frags = udpFragments(t, c.src, c.dst, 3000, 6)
		peer.ep.WritePacket(frags[0])
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
		if err != nil || h.Type != c.typ || h.Code != 1 || ip.Dst != c.src || !bytes.Equal(body, wire.ErrorQuote(ip.Version, frags[0])) {
			t.Errorf("%v: %+v quoting %d bytes, %v", c.src, h, len(body), err)
		}
	}
	waitFor(t, func() bool { return s.Stats().Frag.Timeouts.Load() == 4 })
	select {
	case p := <-peer.in:
		t.Errorf("another packet: %x", p[:min(len(p), 40)])
	case <-time.After(100 * time.Millisecond):
	}
	if b, n := s.FragmentsHeld(); b != 0 || n != 0 {
		t.Errorf("%d bytes in %d datagrams still held", b, n)
	}
}

// A flood of fragments that never make a datagram, overlapping ones,
// and malformed ones: the memory held stays under the bound, each
// fragment is counted, and a datagram sent in the flood still arrives.
func TestFragmentFlood(t *testing.T) {
	const bound = 256 << 10
	s, peer := newFragPeer(t, stack.ReassemblyOptions{HighThresh: bound, LowThresh: bound / 2})
	sock := listenUDP(t, s, "udp", ":9")
	src, dst := peer.addr, netip.MustParseAddr("192.0.2.1")
	sent := 0
	send := func(p []byte) {
		if peer.ep.WritePacket(p) == nil { // not lost to a full pipe
			sent++
		}
	}
	for id := range 2000 {
		send(udpFragments(t, src, dst, 3000, uint32(id))[1])
		if id%100 == 0 {
			if b, _ := s.FragmentsHeld(); b > bound {
				t.Fatalf("%d bytes held, bound %d", b, bound)
			}
		}
	}
	// Overlapping: the second fragment moved back 8 bytes.
	over := udpFragments(t, src, dst, 3000, 7000)
	send(over[0])
	moved := append([]byte(nil), over[1]...)
	moved[7] -= 1 // offset 1480 - 8 (the checksum is mended below)
	moved[10], moved[11] = 0, 0
	sum := wire.Checksum(moved[:20], 0)
	moved[10], moved[11] = byte(sum>>8), byte(sum)
	send(moved)
	send(over[2])
	// Malformed: more to follow, 7 bytes.
	bad := append([]byte(nil), over[0][:27]...)
	bad[2], bad[3] = 0, 27
	bad[10], bad[11] = 0, 0
	sum = wire.Checksum(bad[:20], 0)
	bad[10], bad[11] = byte(sum>>8), byte(sum)
	send(bad)
	for _, f := range udpFragments(t, src, dst, 3000, 9000) {
		send(f)
	}
	sock.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := sock.ReadFrom(make([]byte, 4000)); n != 3000 || err != nil {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	waitFor(t, func() bool { return s.Stats().Frag.FragmentsReceived.Load() == uint64(sent) })
	f := s.Stats().Snapshot().Frag
	b, n := s.FragmentsHeld()
	if b > bound || f.Evictions == 0 || f.Overlaps != 1 || f.Malformed != 1 || f.Reassembled != 1 {
		t.Errorf("%d bytes in %d datagrams held; %+v", b, n, f)
	}
	// Every fragment is in a datagram delivered, held, or dropped.
	if held := uint64(sent) - f.FragmentsDropped - 3; held != uint64(n) {
		t.Errorf("%d fragments sent, %d dropped, %d datagrams held: %+v", sent, f.FragmentsDropped, n, f)
	}
}

// An IPv6 atomic fragment (offset 0, no M flag) is a whole packet,
// delivered at once and never mixed with the fragments of a datagram of
// the same identification (RFC 6946 §4).
func TestAtomicFragment(t *testing.T) {
	s, peer := newRawPeer(t)
	sock := listenUDP(t, s, "udp", ":9")
	src, dst := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1")
	frags := udpFragments(t, src, dst, 3000, 77)
	peer.ep.WritePacket(frags[0])
	p := make([]byte, wire.UDPPacketLen(true, 100))
	wire.BuildUDPPacket(p, netip.AddrPortFrom(src, 7), netip.AddrPortFrom(dst, 9), 0, bytes.Repeat([]byte("a"), 100))
	atomic := make([]byte, len(p)+8)
	n, err := wire.BuildFragment(atomic, p, 77, 0, len(p)-40)
	if err != nil {
		t.Fatal(err)
	}
	peer.ep.WritePacket(atomic[:n])
	for _, f := range frags[1:] {
		peer.ep.WritePacket(f)
	}
	buf := make([]byte, 4000)
	for _, want := range []int{100, 3000} {
		sock.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, _, err := sock.ReadFrom(buf); n != want || err != nil {
			t.Fatalf("read %d bytes, %v; want %d", n, err, want)
		}
	}
	if f := s.Stats().Snapshot().Frag; f.FragmentsReceived != uint64(len(frags)) || f.Reassembled != 1 {
		t.Errorf("%+v", f)
	}
}

// A ping socket's echo request of 3000 bytes leaves in fragments, and
// the reply, in fragments too, reaches it whole, IPv4 and IPv6.
func TestPingSocketFragmented(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	data := string(bytes.Repeat([]byte("0123456789"), 300))
	for _, peer := range []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::2")} {
		c, err := client.DialPing(netip.Addr{}, peer)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(echoRequest(t, peer.Is6(), 1, data)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4000)
		n, err := c.Read(buf)
		if err != nil || n != 8+len(data) || string(buf[8:n]) != data {
			t.Errorf("%v: a reply of %d bytes, %v", peer, n, err)
		}
	}
	if f := client.Stats().Snapshot().Frag; f.DatagramsFragmented != 2 || f.Reassembled != 2 {
		t.Errorf("%+v", f)
	}
}

// A forwarded UDP flow (any destination) takes datagrams in fragments,
// and its replies leave in fragments too, IPv4 and IPv6.
func TestForwardUDPFragmented(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	fwd.SetUDPForwarder(stack.UDPForwarder{Handler: func(r *stack.UDPForwardRequest) {
		c, err := r.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 10000)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(buf[:n])
		}
	}})
	msg := bytes.Repeat([]byte("fragmented "), 700)
	for _, dst := range []string{"198.51.100.7:53", "[2001:db8::99]:5353"} {
		c, err := client.Dial("udp", dst)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 10000)
		if n, err := c.Read(buf); err != nil || !bytes.Equal(buf[:n], msg) {
			t.Errorf("%s: echo of %d bytes, %v", dst, n, err)
		}
	}
	if f := fwd.Stats().Snapshot().Frag; f.Reassembled != 2 || f.DatagramsFragmented != 2 {
		t.Errorf("%+v", f)
	}
}
