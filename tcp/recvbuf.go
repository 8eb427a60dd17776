package tcp

import (
	"slices"
	"time"

	"github.com/seqack/seqack/wire"
)

// receiveQueue holds received data: the in-order bytes not yet read, and
// out-of-order pieces waiting for the hole before them to fill (RFC 9293
// §3.10.7.4, seventh: segments beyond RCV.NXT are held for later
// processing). Buffers are allocated when data arrives and released when
// they drain. Storing a segment costs what its new bytes cost, plus a
// search among the pieces: never what the queue already holds.
type receiveQueue struct {
	data      chunkQueue // in-order, unread
	ooo       []oooPiece // out of order, sorted by seq, not overlapping or touching
	oooN      uint32     // bytes held in ooo (within the window, so under 2^30): 4 bytes keep Conn in its size class
	oooFinSeq Seq        // where the FIN beyond a hole (oooFin) arrived
	oooTick   uint32     // counts out-of-order segments stored: oooPiece.recent's clock
	fin       bool       // the peer's FIN has been reached in order
	oooFin    bool       // a FIN arrived beyond a hole, at oooFinSeq
}

func (q *receiveQueue) readable() int { return q.data.len() }

// finished reports whether every byte before the peer's FIN has been read.
func (q *receiveQueue) finished() bool { return q.fin && q.data.len() == 0 }

// oooBytes returns the bytes held beyond holes.
func (q *receiveQueue) oooBytes() int { return int(q.oooN) }

// store files payload, which starts at seq, given that the next byte
// expected is next. It returns the new next, and whether it kept buf,
// the packet buffer payload lies in (nil if none), rather than a copy of
// payload. payload must already be trimmed to the receive window.
func (q *receiveQueue) store(seq, next Seq, payload, buf []byte) (Seq, bool) {
	if len(payload) == 0 {
		return next, false
	}
	end := seq.Add(uint32(len(payload)))
	if seq == next && (len(q.ooo) == 0 || end.LessThan(q.ooo[0].seq)) {
		kept := buf != nil && q.data.keepPacket(buf, payload)
		if !kept {
			q.data.write(payload)
		}
		return end, kept
	}
	kept, stored := q.insertOutOfOrder(seq, payload, buf)
	if seq != next {
		if stored {
			q.oooTick++
			q.ooo[q.pieceAt(seq)].recent = q.oooTick
		}
		return next, kept
	}
	// The segment reached the first piece, which now starts at next:
	// its parts join the in-order queue as they are.
	p := &q.ooo[0]
	for _, c := range p.parts.all() {
		if !c.packet && len(c.data) < smallPart {
			q.data.write(c.data)
			putBuffer(c.buf)
		} else {
			q.data.push(c)
		}
	}
	next = p.end
	q.oooN -= uint32(p.len())
	q.ooo = slices.Delete(q.ooo, 0, 1)
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

// insertOutOfOrder adds the bytes of payload, which starts at seq, that
// no piece holds yet, joining the pieces it overlaps or touches so that
// pieces never overlap and stay sorted. A piece that would be one too
// many is dropped (the sender will send it again). It reports whether it
// kept buf, the packet payload lies in, and whether it stored payload.
func (q *receiveQueue) insertOutOfOrder(seq Seq, payload, buf []byte) (kept, stored bool) {
	start, end := seq, seq.Add(uint32(len(payload)))
	// The first piece that ends at or after start: pieces before it
	// neither overlap nor touch the segment.
	i, _ := slices.BinarySearchFunc(q.ooo, start, func(p oooPiece, s Seq) int {
		if p.end.LessThan(s) {
			return -1
		}
		return 1
	})
	if i == len(q.ooo) || q.ooo[i].seq.GreaterThan(end) { // touches no piece
		if len(q.ooo) >= maxOutOfOrderPieces {
			return false, false
		}
		p := oooPiece{seq: start, end: start}
		kept = p.pushBack(payload, buf)
		q.ooo = slices.Insert(q.ooo, i, p)
		q.oooN += uint32(len(payload))
		return kept, true
	}
	// The bytes [lo, hi) of the segment are new: keep buf if they are
	// all of it.
	take := func(lo, hi Seq) (b, keep []byte) {
		b = payload[lo.Sub(start):hi.Sub(start)]
		q.oooN += uint32(len(b))
		if len(b) == len(payload) {
			keep = buf
		}
		return b, keep
	}
	p := &q.ooo[i]
	if start.LessThan(p.seq) {
		kept = p.pushFront(take(start, p.seq))
	}
	for i+1 < len(q.ooo) && q.ooo[i+1].seq.LessThanEq(end) {
		gap, keep := take(q.ooo[i].end, q.ooo[i+1].seq)
		kept = q.ooo[i].join(gap, keep, &q.ooo[i+1]) || kept
		q.ooo = slices.Delete(q.ooo, i+1, i+2)
	}
	if p := &q.ooo[i]; end.GreaterThan(p.end) {
		kept = p.pushBack(take(p.end, end)) || kept
	}
	return kept, true
}

// pieceAt returns the index of the piece that holds the byte at seq,
// which one must.
func (q *receiveQueue) pieceAt(seq Seq) int {
	i, _ := slices.BinarySearchFunc(q.ooo, seq, func(p oooPiece, s Seq) int {
		if p.end.LessThanEq(s) {
			return -1
		}
		return 1
	})
	return i
}

// held returns the part of [start, end) that the first out-of-order
// piece it overlaps holds already: bytes received twice, for a D-SACK
// block (RFC 2883 §4). It is empty if there is none.
func (q *receiveQueue) held(start, end Seq) seqRange {
	i, _ := slices.BinarySearchFunc(q.ooo, start, func(p oooPiece, s Seq) int {
		if p.end.LessThanEq(s) {
			return -1
		}
		return 1
	})
	if i == len(q.ooo) || !q.ooo[i].seq.LessThan(end) {
		return seqRange{}
	}
	return seqRange{maxSeq(start, q.ooo[i].seq), minSeq(end, q.ooo[i].end)}
}

// sackBlocks fills blocks with the out-of-order pieces as SACK blocks
// (RFC 2018 §4): first the piece holding the latest segment received,
// then the others most recently reported first ("repeating the most
// recently reported SACK blocks"), at most len(blocks). Every
// out-of-order segment is acknowledged at once (RFC 5681 §4.2), so a
// piece was last reported when it last grew, as Linux orders its
// selective_acks. It returns how many it filled.
func (q *receiveQueue) sackBlocks(blocks []wire.SACKBlock) int {
	n := 0
	var last uint32 // the recency of the block just put: the next is older
	for n < len(blocks) {
		best := -1
		for i := range q.ooo {
			r := q.ooo[i].recent
			if (n == 0 || q.older(r, last)) && (best < 0 || q.older(q.ooo[best].recent, r)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		p := &q.ooo[best]
		blocks[n] = wire.SACKBlock{Left: uint32(p.seq), Right: uint32(p.end)}
		last = p.recent
		n++
	}
	return n
}

// older reports whether a piece last grown at tick a was grown before
// one at b: ages are told apart by their distance from the latest tick,
// so the count may wrap.
func (q *receiveQueue) older(a, b uint32) bool { return q.oooTick-a > q.oooTick-b }

// dropOutOfOrder forgets the pieces, giving each kept packet to release
// and each block of the engine's own back to its pool.
func (q *receiveQueue) dropOutOfOrder(release func([]byte)) {
	for i := range q.ooo {
		for j := range q.ooo[i].parts.all() {
			releaseChunk(&q.ooo[i].parts.all()[j], release)
		}
	}
	q.ooo, q.oooN = nil, 0
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
	rtt := max(c.rtt.srtt, time.Millisecond)  // timestamps measure in milliseconds
	read := c.rcvNxt - Seq(c.recv.readable()) // how far the application has read
	if c.tuneTime == 0 {
		c.tuneSeq, c.tuneTime = read, c.at(now)
		return
	}
	if c.since(c.tuneTime, now) < rtt {
		return
	}
	if want := 2 * int(read.Sub(c.tuneSeq)); want > c.rcvBufSize() {
		c.rcvBuf = int32(min(want, ceiling, maxBufferSize))
	}
	c.tuneSeq, c.tuneTime = read, c.at(now)
}

// maxSeq is max in sequence space (minSeq is in scoreboard.go).
func maxSeq(a, b Seq) Seq {
	if a.LessThan(b) {
		return b
	}
	return a
}
