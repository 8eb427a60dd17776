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
				next = q.store(seq, next, payload)
				for i := 1; i < len(q.ooo); i++ {
					prevEnd := q.ooo[i-1].seq.Add(uint32(len(q.ooo[i-1].data)))
					if !q.ooo[i].seq.GreaterThan(prevEnd) {
						t.Fatalf("pieces overlap or touch: %v", q.ooo)
					}
				}
			}
			buf := make([]byte, 100)
			n := q.read(buf)
			if got := string(buf[:n]); got != text || next != base.Add(26) || len(q.ooo) != 0 {
				t.Fatalf("read %q, next %d, %d pieces left", got, next.Sub(base), len(q.ooo))
			}
			if q.data.buf != nil {
				t.Error("drained buffer not released")
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
		q.store(next.Add(uint32(2+3*i)), next, []byte{byte(i)})
	}
	if len(q.ooo) != maxOutOfOrderPieces {
		t.Fatalf("%d pieces held, want %d", len(q.ooo), maxOutOfOrderPieces)
	}
	// A byte next to the first piece merges with it: still allowed.
	q.store(next.Add(3), next, []byte{'x'})
	if len(q.ooo) != maxOutOfOrderPieces || len(q.ooo[0].data) != 2 {
		t.Errorf("a touching piece was not merged: %d pieces, first %d bytes", len(q.ooo), len(q.ooo[0].data))
	}
}
