package tcp_test

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// More than 2^32 bytes through one connection, from initial sequence
// numbers just below the wrap: both directions cross 2^32 twice, with
// timestamps (PAWS) on, and every byte arrives in order (CRC-32 of each
// stream compared).
func TestSequenceWraparound(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 4 GiB")
	}
	cfg := plain(tcp.Config{MSS: 65495, ReceiveBufferSize: 4 << 20, SendBufferSize: 4 << 20}, withSACK, withTimestamps, withoutNagle)
	now := epoch
	a, b := tcp.NewConn(cfg, 0xffff0000), tcp.NewConn(cfg, 0xfffff000)
	b.Listen()
	a.Connect(now)
	shuttle := func() {
		for moved := true; moved; {
			moved = false
			for _, s := range a.Outgoing() {
				b.Input(&s, now)
				moved = true
			}
			for _, s := range b.Outgoing() {
				a.Input(&s, now)
				moved = true
			}
		}
	}
	shuttle()
	const total = 1<<32 + 4<<20
	chunk := make([]byte, 256<<10)
	buf := make([]byte, 1<<20)
	sent, received := crc32.NewIEEE(), crc32.NewIEEE()
	var wrote, read int64
	var i uint64
	for read < total {
		if wrote < total {
			binary.BigEndian.PutUint64(chunk, i)
			n, _ := a.Write(chunk, now)
			sent.Write(chunk[:n])
			wrote += int64(n)
			if n == len(chunk) {
				i++
			}
		}
		shuttle()
		for {
			n, _ := b.Read(buf, now)
			if n == 0 {
				break
			}
			received.Write(buf[:n])
			read += int64(n)
		}
		shuttle()
		now = now.Add(time.Millisecond) // the timestamp clock moves on
	}
	if sent.Sum32() != received.Sum32() || a.State() != tcp.Established || b.State() != tcp.Established {
		t.Fatalf("after %d bytes: CRC sent %08x received %08x, states %v %v", read, sent.Sum32(), received.Sum32(), a.State(), b.State())
	}
	if s := a.Stats(); s.Retransmissions != 0 {
		t.Errorf("%d retransmissions on a lossless path", s.Retransmissions)
	}
}
