package stack

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/wire"
)

// udpTotal is the sum of the UDP counters one arriving datagram moves:
// each is queued, refused for want of a port or of queue room, or
// dropped as malformed or with a bad checksum.
func udpTotal(st *UDPStats) uint64 {
	return st.DatagramsReceived.Load() + st.NoPort.Load() + st.ReceiveBufferDrops.Load() +
		st.Malformed.Load() + st.BadChecksums.Load()
}

// FuzzUDPInput feeds arbitrary packets to a stack with UDP sockets (a
// dual-stack one, one connected, one with a tiny queue): it never
// panics, and every UDP datagram for the stack is counted once, queued
// or dropped for a reason.
func FuzzUDPInput(f *testing.F) {
	peer4, peer6 := netip.MustParseAddrPort("192.0.2.1:5000"), netip.MustParseAddrPort("[2001:db8::1]:5000")
	for _, c := range []struct {
		src, dst netip.AddrPort
		payload  string
	}{
		{peer4, netip.MustParseAddrPort("192.0.2.2:53"), "query"},
		{peer6, netip.MustParseAddrPort("[2001:db8::2]:53"), "query"},
		{peer4, netip.MustParseAddrPort("192.0.2.2:54"), "to the tiny queue"},
		{peer6, netip.MustParseAddrPort("[2001:db8::2]:99"), "no port"},
	} {
		b := make([]byte, 200)
		n, err := wire.BuildUDPPacket(b, c.src, c.dst, 0, []byte(c.payload))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:n])
		zero := bytes.Clone(b[:n])
		off := wire.IPv4MinHeaderLen
		if c.src.Addr().Is6() {
			off = wire.IPv6HeaderLen
		}
		zero[off+6], zero[off+7] = 0, 0
		f.Add(zero)
		f.Add(b[:off+7])
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		a, b := pipe.New(1500)
		defer a.Close()
		s := New(Options{})
		defer s.Close()
		s.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
		for _, addr := range []string{":53", "192.0.2.2:54"} {
			c, err := s.ListenPacket("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadBuffer(1)
		}
		if _, err := s.DialUDP("udp", netip.MustParseAddrPort("[::]:53"), peer6); err != nil {
			t.Fatal(err)
		}
		before := udpTotal(&s.stats.UDP)
		s.deliverBatch(s.nics[0], [][]byte{bytes.Clone(p), bytes.Clone(p)})
		ip, err := wire.ParseIP(p)
		if err != nil || ip.Protocol != wire.ProtocolUDP || !s.accepts(s.nics[0], ip.Src, ip.Dst) {
			return
		}
		if got := udpTotal(&s.stats.UDP) - before; got != 2 {
			t.Fatalf("2 datagrams moved the UDP counters by %d", got)
		}
	})
}
