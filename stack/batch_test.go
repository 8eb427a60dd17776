package stack_test

import (
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// batchCounter passes a pipe end through, recording the size of every
// batch the stack hands it.
type batchCounter struct {
	*pipe.Endpoint
	mu      sync.Mutex
	batches []int
}

func (b *batchCounter) WritePackets(ps [][]byte) (int, error) {
	b.mu.Lock()
	b.batches = append(b.batches, len(ps))
	b.mu.Unlock()
	return b.Endpoint.WritePackets(ps)
}

func (b *batchCounter) WritePacket(p []byte) error {
	_, err := b.WritePackets([][]byte{p})
	return err
}

func (b *batchCounter) take() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.batches
	b.batches = nil
	return got
}

var _ link.BatchAttacher = (*batchCounter)(nil)

// A burst of segments for one connection that the link hands up at once
// goes into the connection under one lock, and everything the connection
// answers leaves as one batch: one wake-up of the peer, not one per ACK.
func TestBurstAnsweredInOneBatch(t *testing.T) {
	var counter *batchCounter
	server, peer := newRawPeerVia(t, func(ep *pipe.Endpoint) link.Endpoint {
		counter = &batchCounter{Endpoint: ep}
		return counter
	})
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	serverAddr := netip.MustParseAddr("192.0.2.1")
	packet := func(seg tcp.Segment) []byte { return peer.packetTCP(serverAddr, 1000, 80, seg) }
	peer.sendTCP(serverAddr, 1000, 80, tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535, Options: wire.TCPOptions{MSS: 1460, HasMSS: true}})
	synAck, _, _ := peer.nextTCP()
	peer.sendTCP(serverAddr, 1000, 80, tcp.Segment{Seq: 1001, Ack: synAck.Seq + 1, Flags: wire.FlagACK, Window: 65535})
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	counter.take()

	// Twenty full segments, written to the pipe in one call: the server's
	// end takes them in one go.
	const segments, size = 20, 1000
	var burst [][]byte
	for i := range segments {
		payload := make([]byte, size)
		for j := range payload {
			payload[j] = byte(i*size + j)
		}
		burst = append(burst, packet(tcp.Segment{Seq: tcp.Seq(1001 + i*size), Ack: synAck.Seq + 1, Flags: wire.FlagACK, Window: 65535, Payload: payload}))
	}
	if n, err := peer.ep.WritePackets(burst); n != segments || err != nil {
		t.Fatalf("wrote %d of %d packets: %v", n, segments, err)
	}
	got := make([]byte, segments*size)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != byte(i) {
			t.Fatalf("byte %d is %d, want %d", i, got[i], byte(i))
		}
	}
	var acks []tcp.Segment
	for len(acks) == 0 || acks[len(acks)-1].Ack != tcp.Seq(1001+segments*size) {
		seg, _, _ := peer.nextTCP()
		acks = append(acks, seg)
	}
	if batches := counter.take(); len(batches) != 1 || batches[0] != len(acks) {
		t.Errorf("the burst's %d ACKs left in batches %v, want one batch", len(acks), batches)
	}
}
