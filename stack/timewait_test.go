package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// A pair in TIME_WAIT on a real stack answers forged segments at most
// once per 500 ms, as the engine does (RFC 5961 §7): it is no ACK
// reflector. Its one exception, the peer's retransmitted FIN, is
// answered every time.
func TestTimeWaitFlood(t *testing.T) {
	s, peer := newRawPeer(t)
	ln, err := s.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close() // the stack closes first, and so keeps TIME_WAIT
		}
	}()
	dst := netip.MustParseAddr("192.0.2.1")
	send := func(seg tcp.Segment) { peer.sendTCP(dst, 40000, 80, seg) }
	expect := func(what string, ok func(tcp.Segment) bool) tcp.Segment {
		t.Helper()
		seg, _, _ := peer.nextTCP()
		if !ok(seg) {
			t.Fatalf("got %v, want %s", seg, what)
		}
		return seg
	}

	// The handshake and the close, by hand; the stack's numbers come
	// from its SYN+ACK.
	send(tcp.Segment{Seq: 5000, Flags: wire.FlagSYN, Window: 65535, Options: wire.TCPOptions{MSS: 1460, HasMSS: true}})
	iss := expect("a SYN+ACK", func(s tcp.Segment) bool { return s.Flags == wire.FlagSYN|wire.FlagACK && s.Ack == 5001 }).Seq
	send(tcp.Segment{Seq: 5001, Ack: iss + 1, Flags: wire.FlagACK, Window: 65535})
	expect("the stack's FIN", func(s tcp.Segment) bool { return s.Flags.Has(wire.FlagFIN) && s.Seq == iss+1 })
	fin := tcp.Segment{Seq: 5001, Ack: iss + 2, Flags: wire.FlagACK | wire.FlagFIN, Window: 65535}
	finalAck := func(s tcp.Segment) bool { return s.Flags == wire.FlagACK && s.Seq == iss+2 && s.Ack == 5002 }
	send(fin)
	expect("the final ACK", finalAck)

	// The flood: in-window data, old segments, bad ACK numbers, SYNs.
	const n = 1000
	begin := time.Now()
	for i := range n {
		seg := tcp.Segment{Seq: 5002, Ack: iss + 2, Flags: wire.FlagACK | wire.FlagPSH, Window: 65535, Payload: []byte("forged")}
		switch i % 4 {
		case 1:
			seg.Seq, seg.Payload = 4000, nil
		case 2:
			seg.Ack, seg.Payload = iss+5000, nil
		case 3:
			seg = tcp.Segment{Seq: 4000, Flags: wire.FlagSYN, Window: 65535}
		}
		for peer.ep.WritePacket(peer.packetTCP(dst, 40000, 80, seg)) != nil {
			time.Sleep(time.Millisecond) // the pipe's queue is full: let it drain
		}
	}
	got := 0
	for quiet := time.After(200 * time.Millisecond); ; {
		select {
		case <-peer.in:
			got++
			continue
		case <-quiet:
		}
		break
	}
	elapsed := time.Since(begin)
	if limit := 1 + int(elapsed/(500*time.Millisecond)); got > limit || got == 0 {
		t.Errorf("%d forged segments in %v drew %d ACKs, want 1 to %d", n, elapsed, got, limit)
	}
	t.Logf("%d forged segments in %v: %d ACKs; %d replies held back", n, elapsed, got, s.Stats().TCP.UnacceptableLimited.Load())

	// The peer's FIN again, three times: our final ACK was lost.
	for range 3 {
		send(fin)
		expect("the final ACK again", finalAck)
	}
}
