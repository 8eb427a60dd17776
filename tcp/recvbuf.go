package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// receiveQueue holds received data: the in-order bytes not yet read, and
// out-of-order pieces waiting for the hole before them to fill (RFC 9293
// §3.10.7.4, seventh: segments beyond RCV.NXT are held for later
// processing). Buffers are allocated when data arrives and released when
// they drain.
type receiveQueue struct {
	data      chunkQueue // in-order, unread
	ooo       []oooPiece // out of order, sorted by seq, not overlapping
	fin       bool       // the peer's FIN has been reached in order
	oooFin    bool       // a FIN arrived beyond a hole ...
	oooFinSeq Seq        // ... at this sequence number
	lastOOO   Seq        // where the latest out-of-order segment began, for SACK's first block
}

type oooPiece struct {
	seq  Seq
	data []byte
}

func (q *receiveQueue) readable() int { return q.data.len() }

// finished reports whether every byte before the peer's FIN has been read.
func (q *receiveQueue) finished() bool { return q.fin && q.data.len() == 0 }

func (q *receiveQueue) oooBytes() int {
	n := 0
	for _, p := range q.ooo {
		n += len(p.data)
	}
	return n
}

// store files payload, which starts at seq, given that the next byte
// expected is next. It returns the new next, and whether it kept buf,
// the packet buffer payload lies in (nil if none), rather than a copy of
// payload. payload must already be trimmed to the receive window.
func (q *receiveQueue) store(seq, next Seq, payload, buf []byte) (Seq, bool) {
	if len(payload) == 0 {
		return next, false
	}
	if seq != next {
		if q.insertOutOfOrder(seq, payload) {
			q.lastOOO = seq
		}
		return next, false
	}
	kept := buf != nil && q.data.keepPacket(buf, payload)
	if !kept {
		q.data.write(payload)
	}
	next = next.Add(uint32(len(payload)))
	// Pull in pieces the new data has made contiguous.
	for len(q.ooo) > 0 && q.ooo[0].seq.LessThanEq(next) {
		p := q.ooo[0]
		q.ooo = q.ooo[1:]
		if end := p.seq.Add(uint32(len(p.data))); end.GreaterThan(next) {
			q.data.write(p.data[next.Sub(p.seq):])
			next = end
		}
	}
	if len(q.ooo) == 0 {
		q.ooo = nil
	}
	return next, kept
}

// maxOutOfOrderPieces bounds the separate pieces held beyond a hole: a
// peer (or an attacker in the window) sending many tiny segments with
// gaps between them cannot make the queue long and every insertion slow.
// A lossy path with a large window has a few dozen.
const maxOutOfOrderPieces = 256

// insertOutOfOrder adds a piece, absorbing the pieces it overlaps or
// touches, so that pieces never overlap and stay sorted. A piece that
// would be one too many is dropped (the sender will send it again); it
// reports whether the piece was kept.
func (q *receiveQueue) insertOutOfOrder(seq Seq, payload []byte) bool {
	start, end := seq, seq.Add(uint32(len(payload)))
	if len(q.ooo) >= maxOutOfOrderPieces && !q.touchesPiece(start, end) {
		return false
	}
	merged := append([]byte(nil), payload...)
	kept := q.ooo[:0:0]
	inserted := false
	for _, p := range q.ooo {
		pEnd := p.seq.Add(uint32(len(p.data)))
		switch {
		case pEnd.LessThan(start): // wholly before, not touching
			kept = append(kept, p)
		case p.seq.GreaterThan(end): // wholly after, not touching
			if !inserted {
				kept = append(kept, oooPiece{start, merged})
				inserted = true
			}
			kept = append(kept, p)
		default: // overlapping or touching: absorb it
			if p.seq.LessThan(start) {
				merged = append(p.data[:start.Sub(p.seq):start.Sub(p.seq)], merged...)
				start = p.seq
			}
			if pEnd.GreaterThan(end) {
				merged = append(merged, p.data[end.Sub(p.seq):]...)
				end = pEnd
			}
		}
	}
	if !inserted {
		kept = append(kept, oooPiece{start, merged})
	}
	q.ooo = kept
	return true
}

// touchesPiece reports whether [start, end) overlaps or touches a piece
// already held: merging it adds no piece.
func (q *receiveQueue) touchesPiece(start, end Seq) bool {
	for _, p := range q.ooo {
		if !p.seq.Add(uint32(len(p.data))).LessThan(start) && !end.LessThan(p.seq) {
			return true
		}
	}
	return false
}

// sackBlocks fills blocks with the out-of-order pieces as SACK blocks
// (RFC 2018 §4): first the piece holding the latest segment received,
// then the others from the highest down, at most len(blocks). It returns
// how many it filled.
func (q *receiveQueue) sackBlocks(blocks []wire.SACKBlock) int {
	n := 0
	first := -1
	for i, p := range q.ooo {
		if q.lastOOO.GreaterThanEq(p.seq) && q.lastOOO.LessThan(p.seq.Add(uint32(len(p.data)))) {
			first = i
			break
		}
	}
	put := func(p oooPiece) {
		blocks[n] = wire.SACKBlock{Left: uint32(p.seq), Right: uint32(p.seq.Add(uint32(len(p.data))))}
		n++
	}
	if first >= 0 && n < len(blocks) {
		put(q.ooo[first])
	}
	for i := len(q.ooo) - 1; i >= 0 && n < len(blocks); i-- {
		if i != first {
			put(q.ooo[i])
		}
	}
	return n
}

func (q *receiveQueue) dropOutOfOrder() {
	q.ooo = nil
	q.oooFin = false
}

// autoTune grows the receive buffer, once per round trip, to twice what
// the application read in the last one, up to MaxReceiveBufferSize (the
// dynamic right-sizing Linux does in tcp_rcv_space_adjust): the window
// then keeps ahead of a reader that keeps up with the path.
func (c *Conn) autoTune(now time.Time) {
	ceiling := c.cfg.maxReceiveBufferSize()
	if ceiling == 0 || c.rcvLocked {
		return
	}
	rtt := max(c.srtt, time.Millisecond)      // timestamps measure in milliseconds
	read := c.rcvNxt - Seq(c.recv.readable()) // how far the application has read
	if c.tuneTime == 0 {
		c.tuneSeq, c.tuneTime = read, c.at(now)
		return
	}
	if c.since(c.tuneTime, now) < rtt {
		return
	}
	if want := 2 * int(read.Sub(c.tuneSeq)); want > c.rcvBufSize() {
		c.rcvBuf = min(want, ceiling)
	}
	c.tuneSeq, c.tuneTime = read, c.at(now)
}
