package tcp

// FrameHeadroom is the room the send queue leaves before the payload in
// each buffer Config.SendBuffer gives it: enough for an IPv4 or IPv6
// header and a TCP header with all its options (60 + 60 bytes), so that a
// driver can make the packet in place (see Segment.Frame).
const FrameHeadroom = 128

// minFramedMSS is the smallest MSS at which the send queue keeps its
// bytes in framed blocks when Config.SendBuffer offers them (64 KiB
// each, with the stack's link.SharedBuffer). From it up, a block holds
// at most twice the bytes it queues, the bound the receive queue keeps
// too, and a segment's copy costs far more than sharing its buffer
// (link's BenchmarkSharedBufferRoundTrip against BenchmarkCopy65483).
// Below it the ring is used, and the driver copies each segment.
const minFramedMSS = 32 << 10

// blockQueue is the send queue in the form that lets segments leave
// without a copy: a list of buffers from Config.SendBuffer, each holding
// at most one segment's payload after FrameHeadroom bytes of room. A
// segment sent for the first time from the start of a block carries the
// block as its Frame; the driver writes the headers into the room and
// hands the packet on while the queue keeps the block for retransmission.
// Any other segment (a retransmission, one starting inside a block after
// a partial send or a partial ACK) is copied by the driver as from the
// ring. The list's backing array is kept until Compact.
type blockQueue struct {
	blocks fifo[sendBlock]
	n      int // bytes queued
}

// sendBlock is one buffer of a blockQueue.
type sendBlock struct {
	buf   []byte // from Config.SendBuffer; back through Config.ReleaseBuffer
	start int    // the first byte queued
	end   int    // just past the last byte queued
	limit int    // end stops here: FrameHeadroom and one segment's payload
	// framed: a segment went out as a Frame of this block. Its headroom
	// now holds that packet's headers, which a holder downstream may
	// still be reading: no other segment may be framed in it.
	framed bool
}

func (q *blockQueue) len() int { return q.n }

// write appends p, filling the newest block up to its limit and taking
// new ones from newBuf, each for at most size bytes of payload. A write
// of half a block or more starts a block of its own if a segment has
// already left from the newest one: its first segment then starts a
// block and leaves framed, where appending would put it (and, with a
// sender that writes a little over a segment at a time, every other
// segment) inside one. Smaller writes fill the newest block. Either way
// the blocks hold at most about twice the bytes they queue.
func (q *blockQueue) write(p []byte, newBuf func() []byte, size int) {
	q.n += len(p)
	fresh := len(p) >= size/2
	for len(p) > 0 {
		b := q.blocks.back()
		if b == nil || b.end == b.limit || fresh && b.framed {
			buf := newBuf()
			q.blocks.push(sendBlock{buf: buf, start: FrameHeadroom, end: FrameHeadroom,
				limit: min(len(buf), FrameHeadroom+size)})
			b = q.blocks.back()
		}
		k := copy(b.buf[b.end:b.limit], p)
		b.end += k
		p = p[k:]
		fresh = false
	}
}

// peek returns up to n bytes starting off bytes into the queue, cut at
// the end of the block they start in. When they start a block that has
// not been framed yet, frame is the block up to the payload's end, with
// the room before it. A segment sent in it spends the room (spend).
func (q *blockQueue) peek(off, n int) (payload, frame []byte) {
	blocks := q.blocks.all()
	for i := range blocks {
		b := &blocks[i]
		size := b.end - b.start
		if off >= size {
			off -= size
			continue
		}
		payload = b.buf[b.start+off : b.start+off+min(n, size-off)]
		if off == 0 && b.start == FrameHeadroom && !b.framed && len(payload) > 0 {
			frame = b.buf[:b.start+len(payload)]
		}
		return payload, frame
	}
	return nil, nil
}

// spend marks the block frame lies in as framed: a segment is leaving in
// it, and its headroom may no longer be written.
func (q *blockQueue) spend(frame []byte) {
	blocks := q.blocks.all()
	for i := range blocks {
		if b := &blocks[i]; &b.buf[0] == &frame[0] {
			b.framed = true
			return
		}
	}
}

// discard drops n bytes from the front of the queue, releasing each
// block it empties.
func (q *blockQueue) discard(n int, release func([]byte)) {
	q.n -= n
	for n > 0 {
		b := q.blocks.front()
		k := min(n, b.end-b.start)
		b.start += k
		n -= k
		if b.start == b.end {
			q.pop(release)
		}
	}
}

// pop releases the oldest block.
func (q *blockQueue) pop(release func([]byte)) {
	if release != nil {
		release(q.blocks.front().buf)
	}
	q.blocks.pop()
}

// release drops everything queued.
func (q *blockQueue) release(release func([]byte)) {
	for q.blocks.len() > 0 {
		q.pop(release)
	}
	q.n = 0
}

// The send queue is the ring, or framed blocks when the driver offers
// buffers to frame segments in and segments are large (see
// minFramedMSS). The form is chosen when the queue is empty, so that
// only one of the two ever holds bytes.

// queued returns the bytes in the send queue.
func (c *Conn) queued() int {
	if c.blocks != nil {
		return c.send.len() + c.blocks.len()
	}
	return c.send.len()
}

// queue appends p to the send queue.
func (c *Conn) queue(p []byte) {
	if len(p) == 0 {
		return
	}
	if c.send.len() == 0 && (c.blocks == nil || c.blocks.len() == 0) {
		framed := c.cfg.SendBuffer != nil && c.state.Synchronized() && c.effectiveMSS() >= minFramedMSS
		switch {
		case framed && c.blocks == nil:
			c.blocks = new(blockQueue)
		case !framed:
			c.blocks = nil
		}
	}
	if c.blocks == nil {
		c.send.write(p)
		return
	}
	size := c.effectiveMSS()
	if c.tsOK {
		size -= 12 // NOP, NOP, TS (10), as payloadMSS counts them
	}
	c.blocks.write(p, c.cfg.SendBuffer, size)
}

// peekQueued returns up to n bytes off bytes into the send queue, and
// the frame they may be sent in (see blockQueue.peek).
func (c *Conn) peekQueued(off, n int) (payload, frame []byte) {
	if c.blocks != nil && c.blocks.len() > 0 {
		return c.blocks.peek(off, n)
	}
	return c.send.peek(off, n), nil
}

// dequeue drops n acknowledged bytes from the front of the send queue.
func (c *Conn) dequeue(n int) {
	if c.blocks != nil && c.blocks.len() > 0 {
		c.blocks.discard(n, c.cfg.ReleaseBuffer)
		return
	}
	c.send.discard(n)
}

// releaseQueue drops the whole send queue.
func (c *Conn) releaseQueue() {
	c.push.reset(c.sendSeq)
	c.send.release()
	if c.blocks != nil {
		c.blocks.release(c.cfg.ReleaseBuffer)
	}
}
