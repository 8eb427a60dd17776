package tcp

import (
	"math/bits"
	"sync"
	"unsafe"
)

// ring is a byte queue in a circular buffer: the send queue (bytes
// written and not yet acknowledged). Its buffer is taken from a pool
// when the first byte arrives, doubled as needed, and returned when the
// queue drains, so an idle connection holds no buffer at all. The next
// buffer is taken at the size the last one reached: a queue that drains
// and fills again, as a bulk sender's does, is not grown (and copied)
// from small again each time.
type ring struct {
	buf []byte // len(buf) is a power of two, or 0 when empty
	n   int    // bytes queued
	// head is the index of the first byte, last len(buf) when it was
	// last released: both under 2^31, as a send buffer is at most 1 GiB
	// (maxBufferSize), and 4 bytes each keep Conn in its size class.
	head, last int32
}

func (r *ring) len() int { return r.n }

// write appends p, growing the buffer to hold it.
func (r *ring) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if r.n+len(p) > len(r.buf) {
		r.grow(r.n + len(p))
	}
	tail := (int(r.head) + r.n) & (len(r.buf) - 1)
	k := copy(r.buf[tail:], p)
	copy(r.buf, p[k:])
	r.n += len(p)
}

// grow moves the queue into a buffer of at least size bytes.
func (r *ring) grow(size int) {
	if r.buf == nil {
		size = max(size, int(r.last))
	}
	nb := getBuffer(size)
	if r.n > 0 {
		k := copy(nb, r.buf[r.head:min(int(r.head)+r.n, len(r.buf))])
		copy(nb[k:], r.buf[:r.n-k])
	}
	putBuffer(r.buf)
	r.buf, r.head = nb, 0
}

// discard drops n bytes from the front of the queue.
func (r *ring) discard(n int) {
	r.n -= n
	r.head = int32((int(r.head) + n) & (len(r.buf) - 1))
	if r.n == 0 {
		r.release()
	}
}

// release gives the buffer back to the pool.
func (r *ring) release() {
	putBuffer(r.buf)
	*r = ring{last: int32(max(len(r.buf), int(r.last)))}
}

// forget drops the memory of the size the buffer reached, once the
// connection is idle.
func (r *ring) forget() { r.last = 0 }

// peek returns up to n bytes starting off bytes into the queue, without
// wrapping: a span that crosses the end of the buffer is cut there, so a
// segment built from it is at most one byte shorter than asked once per
// trip around the buffer.
func (r *ring) peek(off, n int) []byte {
	n = min(n, r.n-off)
	if n <= 0 {
		return nil
	}
	start := (int(r.head) + off) & (len(r.buf) - 1)
	return r.buf[start:min(start+n, len(r.buf))]
}

// Buffers come from pools of power-of-two sizes from 4 KiB to 64 MiB.
const (
	minBufferShift = 12
	maxBufferShift = 26
)

// bufferPools recycles queue buffers between connections. It is a cache
// only: what it holds never changes behaviour. It holds each buffer as a
// pointer to its first byte, which goes in and out of a sync.Pool without
// allocating (a slice header would be boxed on every Put); the pool's
// index gives the length back.
var bufferPools [maxBufferShift - minBufferShift + 1]sync.Pool

// getBuffer returns a buffer of at least size bytes, its length a power
// of two.
func getBuffer(size int) []byte {
	shift := max(bits.Len(uint(size-1)), minBufferShift)
	if shift > maxBufferShift {
		return make([]byte, 1<<shift)
	}
	if p, ok := bufferPools[shift-minBufferShift].Get().(*byte); ok {
		return unsafe.Slice(p, 1<<shift)
	}
	return make([]byte, 1<<shift)
}

// putBuffer returns b, which getBuffer made, to its pool.
func putBuffer(b []byte) {
	shift := bits.Len(uint(len(b))) - 1
	if len(b) == 0 || 1<<shift != len(b) || shift < minBufferShift || shift > maxBufferShift {
		return
	}
	bufferPools[shift-minBufferShift].Put(&b[0])
}
