package tcp

// oooPiece is one contiguous run of bytes received beyond a hole: the
// bytes [seq, end), held as the list of buffers they arrived in rather
// than as one slice, so that extending a piece at either end, or joining
// two pieces when the hole between them fills, costs what the new bytes
// cost and not what the piece already holds. A part is the arriving
// packet itself, kept whole as the in-order queue keeps it (see
// chunkQueue.keepPacket), or a block of the engine's own that small
// payloads are copied into, grown by doubling up to minChunk, so that a
// flood of 1-byte segments costs amortized O(1) each and holds at most
// about twice the bytes it counts.
type oooPiece struct {
	seq, end Seq
	parts    deque[chunk] // in sequence order; their bytes make up [seq, end)
	// recent is receiveQueue.oooTick when a segment last landed in the
	// piece: SACK blocks are reported most recent first (sackBlocks).
	recent uint32
}

// smallPart is the size below which a part of the engine's own is copied
// into its neighbour when pieces join or reach the in-order queue, rather
// than kept as a part of its own: many tiny parts would cost more in
// bookkeeping than the bytes they hold.
const smallPart = 1024

// minBlock is the smallest block small payloads are copied into.
const minBlock = 64

// len returns the bytes the piece holds.
func (p *oooPiece) len() int { return int(p.end.Sub(p.seq)) }

// pushBack adds b after the piece's last byte, keeping buf, the packet b
// lies in, rather than a copy when b is not small and fills at least
// half of it (nil: no packet to keep). Small payloads are copied, so
// that they share blocks: a kept packet's neighbour cannot be written
// into, and a part costs more than a few bytes to keep track of. It
// reports whether it kept buf.
func (p *oooPiece) pushBack(b, buf []byte) bool {
	p.end = p.end.Add(uint32(len(b)))
	if len(b) >= smallPart && worthKeeping(buf, b) {
		p.parts.pushBack(chunk{buf: buf, data: b, packet: true})
		return true
	}
	p.copyBack(b)
	return false
}

// pushFront adds b before the piece's first byte, as pushBack does after
// its last.
func (p *oooPiece) pushFront(b, buf []byte) bool {
	p.seq = p.seq.Add(-uint32(len(b)))
	if len(b) >= smallPart && worthKeeping(buf, b) {
		p.parts.pushFront(chunk{buf: buf, data: b, packet: true})
		return true
	}
	p.copyFront(b)
	return false
}

// copyBack copies b after the last part's bytes: into the room left in
// its block if the part is the engine's, else into a block twice the
// size of what the part must then hold, with room on both sides (while
// that is at most minChunk), else into a new block. A kept packet is
// never written to (see chunkQueue.write).
func (p *oooPiece) copyBack(b []byte) {
	if last := p.parts.back(); last != nil && !last.packet {
		if cap(last.data)-len(last.data) >= len(b) {
			last.data = append(last.data, b...) // within cap: no allocation
			return
		}
		if len(last.data)+len(b) <= minChunk/2 {
			regrow(last, last.data, b)
			return
		}
	}
	blk := newBlock(len(b))
	p.parts.pushBack(chunk{buf: blk, data: blk[:copy(blk, b)]})
}

// copyFront copies b before the first part's bytes, as copyBack does
// after the last part's: a new block holds them at its end, leaving room
// in front.
func (p *oooPiece) copyFront(b []byte) {
	if first := p.parts.front(); first != nil && !first.packet {
		off := len(first.buf) - cap(first.data) // room before the part's bytes
		if off >= len(b) {
			start := off - len(b)
			copy(first.buf[start:], b)
			first.data = first.buf[start : off+len(first.data)]
			return
		}
		if len(first.data)+len(b) <= minChunk/2 {
			regrow(first, b, first.data)
			return
		}
	}
	blk := newBlock(len(b))
	start := len(blk) - len(b)
	copy(blk[start:], b)
	p.parts.pushFront(chunk{buf: blk, data: blk[start:]})
}

// regrow moves the part c into a new block of at least twice the bytes
// it is to hold, a then b, in the block's middle: growing a part copies
// what it holds, and the room left on each side, at least half of that,
// pays for the copy before it is needed again (amortized O(1) a byte).
// a or b may be c's bytes.
func regrow(c *chunk, a, b []byte) {
	n := len(a) + len(b)
	old := c.buf
	c.buf = newBlock(2 * n)
	start := (len(c.buf) - n) / 2
	copy(c.buf[start+copy(c.buf[start:], a):], b)
	c.data = c.buf[start : start+n]
	putBuffer(old)
}

// appendPart adds the part c of another piece after this piece's parts,
// copying it into the last part if it is a small one of the engine's.
// The caller sets end.
func (p *oooPiece) appendPart(c chunk) {
	if !c.packet && len(c.data) < smallPart {
		p.copyBack(c.data)
		putBuffer(c.buf)
		return
	}
	p.parts.pushBack(c)
}

// prependPart adds the part c of another piece before this piece's
// parts, as appendPart does after them. The caller sets seq.
func (p *oooPiece) prependPart(c chunk) {
	if !c.packet && len(c.data) < smallPart {
		p.copyFront(c.data)
		putBuffer(c.buf)
		return
	}
	p.parts.pushFront(c)
}

// join makes p hold p's bytes, then gap, then next's: the piece p and
// the piece next with the hole between them filled by gap, which lies in
// the packet buf. The piece with fewer parts moves into the other, so
// that no part moves more than a logarithmic number of times however
// the pieces join. It reports whether it kept buf.
func (p *oooPiece) join(gap, buf []byte, next *oooPiece) bool {
	var kept bool
	if p.parts.len() >= next.parts.len() {
		kept = p.pushBack(gap, buf)
		for _, c := range next.parts.all() {
			p.appendPart(c)
		}
		p.end = next.end
	} else {
		kept = next.pushFront(gap, buf)
		parts := p.parts.all()
		for i := len(parts) - 1; i >= 0; i-- {
			next.prependPart(parts[i])
		}
		next.seq = p.seq
		*p = *next
	}
	*next = oooPiece{}
	return kept
}

// check reports whether the parts hold exactly the bytes [seq, end), for
// tests and checkInvariants.
func (p *oooPiece) check() bool {
	n := 0
	for _, c := range p.parts.all() {
		if len(c.data) == 0 {
			return false
		}
		n += len(c.data)
	}
	return n > 0 && n == p.len()
}

// worthKeeping reports whether payload, lying in the packet buffer buf,
// fills enough of it to keep buf rather than copy payload: at least
// half. Holding a large buffer for a few bytes would let memory run far
// beyond the window the bytes are counted in; the rule bounds what a
// queue holds to twice the bytes it counts.
func worthKeeping(buf, payload []byte) bool {
	return buf != nil && len(payload) > 0 && 2*len(payload) >= cap(buf)
}

// newBlock returns a block for at least n bytes of the engine's own: the
// pools' buffers from minChunk on, a smaller power of two (at least
// minBlock) below.
func newBlock(n int) []byte {
	if n >= minChunk/2 {
		return getBuffer(max(n, minChunk))
	}
	size := minBlock
	for size < n {
		size *= 2
	}
	return make([]byte, size)
}

// deque is a list that grows at both ends in amortized O(1): items[head:]
// are held, in order, with room before head for pushFront.
type deque[T any] struct {
	items []T
	head  int
}

func (d *deque[T]) len() int { return len(d.items) - d.head }

// all returns the items, in order.
func (d *deque[T]) all() []T { return d.items[d.head:] }

// front returns the first item, or nil if there is none.
func (d *deque[T]) front() *T {
	if d.head == len(d.items) {
		return nil
	}
	return &d.items[d.head]
}

// back returns the last item, or nil if there is none.
func (d *deque[T]) back() *T {
	if d.head == len(d.items) {
		return nil
	}
	return &d.items[len(d.items)-1]
}

func (d *deque[T]) pushBack(x T) { d.items = append(d.items, x) }

// pushFront adds x before the first item, moving the items into an
// array with as much room in front as they fill when there is none.
func (d *deque[T]) pushFront(x T) {
	if d.head == 0 {
		n := len(d.items)
		room := max(n, 4)
		items := make([]T, room+n, 2*(room+n))
		copy(items[room:], d.items)
		d.items, d.head = items, room
	}
	d.head--
	d.items[d.head] = x
}
