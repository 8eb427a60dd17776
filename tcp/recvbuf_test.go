package tcp

import (
	"bytes"
	"slices"
	"testing"
	"unsafe"

	"github.com/seqack/seqack/wire"
)

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
					prevEnd := q.ooo[i-1].end
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
	if len(q.ooo) != maxOutOfOrderPieces || q.ooo[0].len() != 2 {
		t.Errorf("a touching piece was not merged: %d pieces, first %d bytes", len(q.ooo), q.ooo[0].len())
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

// streamByte is the byte at offset off of the stream the receive queue
// tests send: it differs from its neighbours, so a byte misplaced shows.
func streamByte(off uint32) byte { return byte(off*7 + off>>8) }

// FuzzReceiveQueue checks the receive queue against a model that keeps
// the bytes held beyond the hole in a map by offset: whatever the order,
// overlap, size and packet buffers of the segments, the queue holds the
// same bytes as the model, in pieces that are sorted, apart and hold
// exactly their bytes, counts them, SACKs the latest first, reads back
// the stream, never writes into a packet it kept, and holds memory
// within a small multiple of the bytes it counts. Each three bytes of
// the input are a segment: its offset beyond the next byte expected (a
// byte, times 4 when its top bit is set), its length (a byte, times 16
// when its top bit is set) and whether it comes in a packet buffer.
func FuzzReceiveQueue(f *testing.F) {
	f.Add([]byte{5, 3, 0, 1, 2, 1, 0, 1, 0})
	f.Add([]byte{10, 2, 0, 14, 2, 1, 12, 2, 0, 0, 20, 1})
	f.Add([]byte{0x81, 0x82, 1, 2, 1, 0, 1, 1, 0, 0, 1, 1, 0x90, 0x90, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const base = Seq(0xffff_ff00) // straddle the wrap
		const window = 1 << 14
		var q receiveQueue
		next := base
		model := map[uint32]byte{} // offsets from base held beyond next
		var read []byte
		type kept struct{ buf, copy []byte }
		var packets []kept
		for ; len(ops) >= 3; ops = ops[3:] {
			off, n := uint32(ops[0]), int(ops[1])
			if off&0x80 != 0 {
				off = (off & 0x7f) * 4
			}
			if n&0x80 != 0 {
				n = (n & 0x7f) * 16
			}
			n = max(n, 1)
			// The segment, offset from base, as the engine would
			// hand it over: trimmed to the window, what precedes next
			// dropped.
			start := next.Sub(base) + off
			end := min(start+uint32(n), next.Sub(base)+window)
			if start >= end {
				continue
			}
			seg := make([]byte, end-start)
			for i := range seg {
				seg[i] = streamByte(start + uint32(i))
			}
			var buf []byte
			if ops[2]&1 != 0 { // in a packet: 40 bytes of headers, then the payload
				buf = append(make([]byte, 40, 40+len(seg)), seg...)
				seg = buf[40:]
			}
			// The model: a segment that touches no piece when the
			// queue holds all it may is dropped.
			touches := false
			for o := start - 1; o <= end; o++ {
				if _, ok := model[o]; ok && o >= next.Sub(base) {
					touches = true
					break
				}
			}
			dropped := start != next.Sub(base) && !touches && pieces(model, next.Sub(base)) >= maxOutOfOrderPieces
			if !dropped {
				for o := start; o < end; o++ {
					model[o] = streamByte(o)
				}
			}
			modelNext := next.Sub(base)
			for _, ok := model[modelNext]; ok; _, ok = model[modelNext] {
				delete(model, modelNext)
				modelNext++
			}
			var k bool
			next, k = q.store(base.Add(start), next, seg, buf)
			if k {
				packets = append(packets, kept{buf, slices.Clone(buf)})
			}
			if next.Sub(base) != modelNext {
				t.Fatalf("next %d, model's %d", next.Sub(base), modelNext)
			}
			checkOutOfOrder(t, &q, next, base, model)
			if !dropped && start != next.Sub(base) && q.oooN > 0 && start > next.Sub(base) {
				var blocks [4]wire.SACKBlock
				if q.sackBlocks(blocks[:]) == 0 || !base.Add(start).InRange(Seq(blocks[0].Left), Seq(blocks[0].Right)) {
					t.Fatalf("first SACK block %v does not hold the latest segment at %d", blocks[0], start)
				}
			}
			// Read a little now and then, as an application would.
			if ops[2]&2 != 0 {
				p := make([]byte, 100)
				read = append(read, p[:q.data.read(p, nil)]...)
			}
		}
		for q.data.len() > 0 {
			p := make([]byte, 1000)
			read = append(read, p[:q.data.read(p, nil)]...)
		}
		if uint32(len(read)) != next.Sub(base) {
			t.Fatalf("read %d bytes, next is %d", len(read), next.Sub(base))
		}
		for i, b := range read {
			if b != streamByte(uint32(i)) {
				t.Fatalf("byte %d read %#x, sent %#x", i, b, streamByte(uint32(i)))
			}
		}
		for _, p := range packets {
			if !bytes.Equal(p.buf[:cap(p.buf)], p.copy[:cap(p.buf)]) {
				t.Fatal("a kept packet was written to")
			}
		}
	})
}

// pieces counts the runs of consecutive offsets held in model from next
// on.
func pieces(model map[uint32]byte, next uint32) int {
	n := 0
	for o := range model {
		if _, ok := model[o-1]; o >= next && (!ok || o == next) {
			n++
		}
	}
	return n
}

// checkOutOfOrder compares the queue's pieces with model, and checks
// their order, their parts and the memory they hold.
func checkOutOfOrder(t *testing.T, q *receiveQueue, next, base Seq, model map[uint32]byte) {
	t.Helper()
	prev, n := next, 0
	for i := range q.ooo {
		p := &q.ooo[i]
		if !p.seq.GreaterThan(prev) || !p.check() {
			t.Fatalf("piece %d [%d, %d) after %d: out of order, touching, or its parts do not add up", i, p.seq.Sub(base), p.end.Sub(base), prev.Sub(base))
		}
		o := p.seq.Sub(base)
		for _, c := range p.parts.all() {
			for _, b := range c.data {
				if want, ok := model[o]; !ok || b != want {
					t.Fatalf("piece %d holds %#x at %d, model %#x (held %v)", i, b, o, want, ok)
				}
				o++
			}
		}
		n += p.len()
		prev = p.end
	}
	mem, parts := oooMemory(q)
	if n != len(model) || n != q.oooBytes() {
		t.Fatalf("pieces hold %d bytes, count %d, model %d", n, q.oooBytes(), len(model))
	}
	// Blocks hold at most four times their bytes (twice, and half
	// filled), or minBlock; the lists of parts at most four slots a
	// part, and eight more.
	slot := int(unsafe.Sizeof(chunk{}))
	if limit := 4*n + (minBlock+4*slot)*parts + 8*slot*len(q.ooo); mem > limit {
		t.Fatalf("%d bytes of memory for %d bytes in %d parts of %d pieces, over %d", mem, n, parts, len(q.ooo), limit)
	}
}

// oooMemory returns the bytes of memory the queue's pieces hold, blocks
// and lists of parts, and how many parts they have.
func oooMemory(q *receiveQueue) (mem, parts int) {
	for i := range q.ooo {
		for _, c := range q.ooo[i].parts.all() {
			mem += cap(c.buf)
			parts++
		}
		mem += cap(q.ooo[i].parts.items) * int(unsafe.Sizeof(chunk{}))
	}
	return mem, parts
}

// Floods of tiny segments cannot make the queue hold much more memory
// than the bytes it counts against the window: small payloads are
// copied into shared blocks, and a 1-byte segment next to a kept packet
// (which is at least smallPart long) costs a small block.
func TestOutOfOrderMemoryBound(t *testing.T) {
	const n = 200_000
	for _, c := range []struct {
		name  string
		off   func(i int) uint32 // offset beyond a 1-byte hole of segment i
		size  func(i int) int    // its payload
		cap   int                // of the packet buffer it comes in, 0 for none
		ratio float64            // the most memory a byte counted may hold
	}{
		{"extend", func(i int) uint32 { return uint32(1 + i) }, func(int) int { return 1 }, 0, 2.1},
		{"prepend", func(i int) uint32 { return uint32(n - i) }, func(int) int { return 1 }, 0, 2.1},
		// 255 pieces of a byte with a byte between them, then the bytes
		// between, then again further on.
		{"fill holes", func(i int) uint32 {
			g, k := i/510, i%510
			if k < 255 {
				return uint32(1 + 510*g + 2*k)
			}
			return uint32(2 + 510*g + 2*(k-255))
		}, func(int) int { return 1 }, 0, 2.1},
		// Packets of 1024 bytes, each in a 2048-byte buffer (kept),
		// with a 1-byte segment after each: the byte cannot go into
		// the packet.
		{"packets and bytes", func(i int) uint32 { return uint32(1 + 1025*(i/2) + 1024*(i%2)) }, func(i int) int { return 1024 - 1023*(i%2) }, 2048, 2.5},
		// Packets of 128 bytes, each in a 256-byte buffer, with a byte
		// after each: small payloads are copied, into shared blocks.
		{"small packets and bytes", func(i int) uint32 { return uint32(1 + 129*(i/2) + 128*(i%2)) }, func(i int) int { return 128 - 127*(i%2) }, 256, 2.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var q receiveQueue
			next := Seq(1000)
			held := 0
			count := n
			if c.cap > 0 {
				count = n / 10 // as many packets as bytes in the floods
			}
			for i := range count {
				payload := make([]byte, c.size(i), max(c.size(i), c.cap))
				var buf []byte
				if c.cap > 0 {
					buf = payload
				}
				if _, stored := q.insertOutOfOrder(next.Add(c.off(i)), payload, buf); stored {
					held += len(payload)
				}
			}
			mem, parts := oooMemory(&q)
			ratio := float64(mem) / float64(q.oooBytes())
			t.Logf("%d bytes held in %d pieces, %d parts: %d bytes of memory, %.2f a byte", q.oooBytes(), len(q.ooo), parts, mem, ratio)
			if q.oooBytes() != held || ratio > c.ratio {
				t.Errorf("%d bytes held (want %d) in %d bytes of memory: %.2f a byte, want at most %.1f", q.oooBytes(), held, mem, ratio, c.ratio)
			}
		})
	}
}
