package stack_test

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// timeWaits returns the pairs s holds in TIME_WAIT, as "local remote".
func timeWaits(s *stack.Stack) map[string]bool {
	pairs := map[string]bool{}
	for _, i := range s.Connections() {
		if i.State == tcp.TimeWait {
			pairs[i.Local.String()+" "+i.Remote.String()] = true
		}
	}
	return pairs
}

// waitTimeWait waits until s holds pair in TIME_WAIT.
func waitTimeWait(t *testing.T, s *stack.Stack, pair string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !timeWaits(s)[pair]; {
		if time.Now().After(deadline) {
			t.Fatalf("%s never entered TIME_WAIT: %v", pair, s.Connections())
		}
		time.Sleep(time.Millisecond)
	}
}

// expectTCP reads the stack's next segment and checks its flags.
func expectTCP(t *testing.T, peer *rawPeer, flags string) tcp.Segment {
	t.Helper()
	seg, _, _ := peer.nextTCP()
	if seg.Flags.String() != flags {
		t.Fatalf("the stack sent %v, want flags %s", &seg, flags)
	}
	return seg
}

// A SYN to a pair in TIME_WAIT with nothing listening on the port does
// not end TIME_WAIT: it is answered as TIME_WAIT answers, with an ACK,
// not a RST, and the record stays (RFC 6191 §2: a SYN reopens the pair
// only if a listener accepts it).
func TestTimeWaitStaysForSYNWithoutListener(t *testing.T) {
	s, peer := newRawPeer(t)
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := s.Dial("tcp", "192.0.2.2:80")
		if err != nil {
			t.Error(err)
		}
		dialed <- c
	}()
	syn, h, _ := peer.nextTCP()
	port, stackAddr := h.SrcPort, netip.MustParseAddr("192.0.2.1")
	send := func(seg tcp.Segment) { peer.sendTCP(stackAddr, 80, port, seg) }
	send(tcp.Segment{Seq: 5000, Ack: syn.Seq + 1, Flags: wire.FlagSYN | wire.FlagACK, Window: 65535})
	expectTCP(t, peer, ".")
	c := <-dialed
	if c == nil {
		return
	}
	c.Close() // the stack closes first and ends in TIME_WAIT
	fin := expectTCP(t, peer, "F.")
	send(tcp.Segment{Seq: 5001, Ack: fin.Seq + 1, Flags: wire.FlagFIN | wire.FlagACK, Window: 65535})
	expectTCP(t, peer, ".")
	pair := "192.0.2.1:" + strconv.Itoa(int(port)) + " 192.0.2.2:80"
	waitTimeWait(t, s, pair)

	// Blind SYNs beyond the old sequence space, as if a new connection:
	// no listener takes them.
	send(tcp.Segment{Seq: 5002 + 100000, Flags: wire.FlagSYN, Window: 65535})
	if ack := expectTCP(t, peer, "."); ack.Ack != 5002 || ack.Seq != fin.Seq+1 {
		t.Errorf("TIME_WAIT answered the SYN with %v, want . %d:%d(0) ack 5002", &ack, fin.Seq+1, fin.Seq+1)
	}
	if !timeWaits(s)[pair] {
		t.Fatalf("the SYN removed the TIME_WAIT record: %v", s.Connections())
	}
	send(tcp.Segment{Seq: 5002 + 200000, Flags: wire.FlagSYN, Window: 65535})
	select {
	case pkt := <-peer.in: // an ACK, unless TIME_WAIT's replies are rate limited
		if _, h, _, err := wire.ParseTCPPacket(pkt); err != nil || h.Flags != wire.FlagACK {
			t.Errorf("the second SYN was answered with flags %v, %v; want an ACK", h.Flags, err)
		}
	case <-time.After(100 * time.Millisecond):
	}
	if !timeWaits(s)[pair] {
		t.Fatalf("the second SYN removed the TIME_WAIT record: %v", s.Connections())
	}
	if n := s.Stats().ResetsSent.Load(); n != 0 {
		t.Errorf("%d RSTs sent", n)
	}
}

// A listener that cannot take a SYN to a pair in TIME_WAIT (its accept
// queue is full) leaves the record in place, and the SYN gets
// TIME_WAIT's ACK; once the application has accepted, the same SYN
// reopens the pair, with an ISS beyond the old connection's (RFC 6191).
func TestTimeWaitReopenedOnlyWhenListenerAccepts(t *testing.T) {
	s, peer := newRawPeer(t)
	ln, err := s.ListenBacklog("tcp", ":80", 1)
	if err != nil {
		t.Fatal(err)
	}
	stackAddr := netip.MustParseAddr("192.0.2.1")
	send := func(port uint16, seg tcp.Segment) { peer.sendTCP(stackAddr, port, 80, seg) }
	handshake := func(port uint16) tcp.Segment {
		send(port, tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535})
		synAck := expectTCP(t, peer, "S.")
		send(port, tcp.Segment{Seq: 1001, Ack: synAck.Seq + 1, Flags: wire.FlagACK, Window: 65535})
		return synAck
	}
	handshake(1000)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // the server closes first and ends in TIME_WAIT
	fin := expectTCP(t, peer, "F.")
	send(1000, tcp.Segment{Seq: 1001, Ack: fin.Seq + 1, Flags: wire.FlagFIN | wire.FlagACK, Window: 65535})
	expectTCP(t, peer, ".")
	waitTimeWait(t, s, "192.0.2.1:80 192.0.2.2:1000")

	handshake(1001) // fills the accept queue
	for deadline := time.Now().Add(5 * time.Second); !acceptQueueFull(s); {
		if time.Now().After(deadline) {
			t.Fatal("the second connection never reached the accept queue")
		}
		time.Sleep(time.Millisecond)
	}
	reopen := tcp.Segment{Seq: 1002 + 100000, Flags: wire.FlagSYN, Window: 65535}
	send(1000, reopen)
	if ack := expectTCP(t, peer, "."); ack.Ack != 1002 {
		t.Errorf("TIME_WAIT answered the SYN with %v, want ack 1002", &ack)
	}
	if !timeWaits(s)["192.0.2.1:80 192.0.2.2:1000"] {
		t.Fatalf("a SYN the listener dropped removed the TIME_WAIT record: %v", s.Connections())
	}

	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	send(1000, reopen)
	synAck := expectTCP(t, peer, "S.")
	if want := fin.Seq + 1 + 1<<17; synAck.Seq != want || synAck.Ack != reopen.Seq+1 {
		t.Errorf("SYN+ACK of the reopened pair %v, want %d:%d(0) ack %d", &synAck, want, want, reopen.Seq+1)
	}
	if timeWaits(s)["192.0.2.1:80 192.0.2.2:1000"] {
		t.Errorf("the pair is reopened but still in TIME_WAIT: %v", s.Connections())
	}
}

// acceptQueueFull reports whether s's listener holds as many
// connections not yet accepted as its backlog allows.
func acceptQueueFull(s *stack.Stack) bool {
	for _, i := range s.Connections() {
		if i.State == tcp.Listen && i.ReceiveQueue == i.SendQueue {
			return true
		}
	}
	return false
}
