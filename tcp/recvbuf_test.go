package tcp

import "testing"

// The receive queue puts pieces arriving in any order back together.
func TestReceiveQueueReassembly(t *testing.T) {
	const base = Seq(0xfffffffa) // straddle the wrap
	text := "abcdefghijklmnopqrstuvwxyz"
	for _, c := range []struct {
		name   string
		pieces [][2]int // [start, end) offsets into text, in arrival order
	}{
		{"in order", [][2]int{{0, 5}, {5, 26}}},
		{"reversed", [][2]int{{20, 26}, {10, 20}, {5, 10}, {0, 5}}},
		{"overlaps", [][2]int{{3, 9}, {7, 15}, {14, 26}, {0, 4}}},
		{"duplicate holes", [][2]int{{10, 12}, {10, 12}, {11, 20}, {20, 26}, {0, 10}}},
		{"one piece covers many", [][2]int{{2, 3}, {5, 6}, {8, 9}, {1, 25}, {0, 1}, {25, 26}}},
		{"touching pieces merge", [][2]int{{4, 8}, {8, 12}, {12, 26}, {0, 4}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var q receiveQueue
			next := base
			for _, p := range c.pieces {
				seq := base.Add(uint32(p[0]))
				payload := []byte(text[p[0]:p[1]])
				// The engine trims what it already has before storing.
				if seq.LessThan(next) {
					skip := next.Sub(seq)
					if int(skip) >= len(payload) {
						continue
					}
					payload, seq = payload[skip:], next
				}
				next, _ = q.store(seq, next, payload, nil)
				for i := 1; i < len(q.ooo); i++ {
					prevEnd := q.ooo[i-1].seq.Add(uint32(len(q.ooo[i-1].data)))
					if !q.ooo[i].seq.GreaterThan(prevEnd) {
						t.Fatalf("pieces overlap or touch: %v", q.ooo)
					}
				}
			}
			buf := make([]byte, 100)
			n := q.data.read(buf, nil)
			if got := string(buf[:n]); got != text || next != base.Add(26) || len(q.ooo) != 0 {
				t.Fatalf("read %q, next %d, %d pieces left", got, next.Sub(base), len(q.ooo))
			}
			if q.data.len() != 0 || q.data.chunks.len() != 0 {
				t.Errorf("drained queue holds chunks: %+v", q.data)
			}
		})
	}
}

// Many tiny pieces with holes between them: the queue holds a bounded
// number, drops what would add another, and still merges what touches a
// piece it holds.
func TestReceiveQueueBoundsPieces(t *testing.T) {
	var q receiveQueue
	next := Seq(1000)
	for i := 0; i < 2*maxOutOfOrderPieces; i++ {
		q.store(next.Add(uint32(2+3*i)), next, []byte{byte(i)}, nil)
	}
	if len(q.ooo) != maxOutOfOrderPieces {
		t.Fatalf("%d pieces held, want %d", len(q.ooo), maxOutOfOrderPieces)
	}
	// A byte next to the first piece merges with it: still allowed.
	q.store(next.Add(3), next, []byte{'x'}, nil)
	if len(q.ooo) != maxOutOfOrderPieces || len(q.ooo[0].data) != 2 {
		t.Errorf("a touching piece was not merged: %d pieces, first %d bytes", len(q.ooo), len(q.ooo[0].data))
	}
}

// The in-order queue keeps packet buffers whose payload fills at least
// half of them, copies the rest (into the room after the last chunk when
// it fits and is the engine's own, never into a kept packet), and hands each kept buffer back exactly once, after the last
// of its bytes is read.
func TestChunkQueueKeepsPacketsAndReleasesOnce(t *testing.T) {
	packet := func(fill byte, payload, size int) (buf, p []byte) {
		buf = make([]byte, 40+payload, size) // 40 bytes of headers, then the payload
		for i := range buf[40:] {
			buf[40+i] = fill + byte(i%7)
		}
		return buf, buf[40:]
	}
	var q chunkQueue
	var want []byte
	released := map[*byte]int{}
	release := func(b []byte) { released[&b[:1][0]]++ }

	big, bigPayload := packet('a', 1448, 2048)
	if !q.keepPacket(big, bigPayload) {
		t.Fatal("a 1448-byte payload in a 2048-byte buffer was not kept")
	}
	want = append(want, bigPayload...)
	small, smallPayload := packet('k', 100, 2048)
	if q.keepPacket(small, smallPayload) {
		t.Fatal("a 100-byte payload in a 2048-byte buffer was kept")
	}
	q.write(smallPayload) // not into the kept packet, which may be shared: a chunk of its own
	want = append(want, smallPayload...)
	if q.chunks.len() != 2 {
		t.Fatalf("%d chunks after a copy following a kept packet, want 2", q.chunks.len())
	}
	if tail := big[len(big):cap(big)]; string(tail) != string(make([]byte, len(tail))) {
		t.Fatal("the queue wrote into a kept packet's buffer")
	}
	q.write(smallPayload[:50]) // fits in the room after the engine's own chunk
	want = append(want, smallPayload[:50]...)
	large := make([]byte, 5000)
	for i := range large {
		large[i] = byte(i)
	}
	q.write(large) // does not fit: a chunk of its own
	want = append(want, large...)
	if q.chunks.len() != 3 || q.len() != len(want) {
		t.Fatalf("%d chunks, %d bytes; want 3, %d", q.chunks.len(), q.len(), len(want))
	}

	var got []byte
	buf := make([]byte, 700) // reads that cut through chunks
	for q.len() > 0 {
		n := q.read(buf, release)
		got = append(got, buf[:n]...)
		if n := released[&big[:1][0]]; n != 0 && q.len() > len(want)-len(bigPayload)-len(smallPayload) {
			t.Fatalf("packet released while %d of its bytes were unread", q.len()-(len(want)-len(bigPayload)-len(smallPayload)))
		}
	}
	if string(got) != string(want) {
		t.Fatal("bytes read differ from bytes queued")
	}
	if released[&big[:1][0]] != 1 || len(released) != 1 {
		t.Errorf("released %v, want the kept packet once", released)
	}
	q.compact()
	if q.chunks.items != nil {
		t.Error("compact kept the chunk list of an empty queue")
	}
}

// The queue's chunk list is reused: a steady stream of packets, each read
// as it arrives, allocates nothing once warm.
func TestChunkQueueSteadyStateAllocates(t *testing.T) {
	var q chunkQueue
	buf := make([]byte, 2048)
	out := make([]byte, 4096)
	for range 4 {
		q.keepPacket(buf, buf[52:1500])
	}
	q.read(out, nil)
	allocs := testing.AllocsPerRun(1000, func() {
		q.keepPacket(buf, buf[52:1500])
		q.keepPacket(buf, buf[52:1500])
		q.read(out, nil)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per round, want 0", allocs)
	}
}
