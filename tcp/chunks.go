package tcp

// chunkQueue is the in-order part of the receive queue: the bytes
// received and not yet read, as a list of chunks. A chunk is either the
// buffer of an arriving packet, kept whole so that its payload is never
// copied before Read (see Segment.Buffer), or a buffer of the engine's
// own that small payloads are copied into. Read copies out of the chunks
// and releases each as it empties; the list's backing array is kept for
// speed until Compact, so that a busy connection allocates nothing.
type chunkQueue struct {
	chunks fifo[chunk]
	n      int // bytes queued
}

// chunk is one buffer of the queue.
type chunk struct {
	buf    []byte // the buffer to release once read
	data   []byte // its unread bytes; cap(data) reaches the end of buf
	packet bool   // buf is a packet the driver gave up: it goes back through Config.ReleaseBuffer
}

// minChunk is the size of the buffers small payloads are copied into.
const minChunk = 4096

func (q *chunkQueue) len() int { return q.n }

// keepPacket queues payload, which lies in the packet buffer buf, by
// keeping buf itself. It reports false, keeping nothing, when the payload
// fills less than half of buf: holding a large buffer for a few bytes
// would let memory run far beyond the window the bytes are counted in.
// The rule bounds what the queue holds to twice the bytes it counts.
func (q *chunkQueue) keepPacket(buf, payload []byte) bool {
	if !worthKeeping(buf, payload) {
		return false
	}
	q.chunks.push(chunk{buf: buf, data: payload, packet: true})
	q.n += len(payload)
	return true
}

// push queues the chunk c as it is: a packet kept, or a buffer of the
// engine's own, which the queue now owns.
func (q *chunkQueue) push(c chunk) {
	q.chunks.push(c)
	q.n += len(c.data)
}

// write queues a copy of p: into the room left after the last chunk's
// bytes if it fits there and the chunk is the engine's, else into a new
// buffer of the engine's. A kept packet is never written to: its buffer
// may be shared with the sender's retransmission queue (see
// Segment.Frame).
func (q *chunkQueue) write(p []byte) {
	if len(p) == 0 {
		return
	}
	q.n += len(p)
	if last := q.chunks.back(); last != nil && !last.packet && cap(last.data)-len(last.data) >= len(p) {
		last.data = append(last.data, p...) // within cap: no allocation
		return
	}
	buf := getBuffer(max(len(p), minChunk))
	q.chunks.push(chunk{buf: buf, data: buf[:copy(buf, p)]})
}

// read moves up to len(p) bytes from the front of the queue into p,
// handing each chunk it empties to release (or to the engine's pool).
func (q *chunkQueue) read(p []byte, release func([]byte)) int {
	n := 0
	for n < len(p) && q.chunks.len() > 0 {
		c := q.chunks.front()
		k := copy(p[n:], c.data)
		c.data = c.data[k:]
		n += k
		if len(c.data) == 0 {
			releaseChunk(c, release)
			q.chunks.pop()
		}
	}
	q.n -= n
	return n
}

// releaseChunk gives c's buffer back to where it came from.
func releaseChunk(c *chunk, release func([]byte)) {
	switch {
	case !c.packet:
		putBuffer(c.buf)
	case release != nil:
		release(c.buf)
	}
}

// compact drops the backing array if nothing is queued: an idle
// connection holds no memory for its receive queue.
func (q *chunkQueue) compact() {
	if q.n == 0 && q.chunks.len() == 0 {
		q.chunks = fifo[chunk]{}
	}
}
