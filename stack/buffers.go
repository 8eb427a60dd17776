package stack

import "sync"

// Packet buffers are recycled: the stack builds each outgoing packet in a
// buffer from these pools and hands it to the link, which owns it from
// then on; each arriving packet, once processed, goes into the pools. Two
// stacks joined by a pipe so trade the same buffers back and forth.
// The pools are a cache: what they hold never changes behaviour.
var packetPools = [...]struct {
	size int
	pool sync.Pool
}{{size: 256}, {size: 2048}, {size: 16384}, {size: 65536}}

// getPacket returns a buffer of length n, n at most 65536.
func getPacket(n int) []byte {
	for i := range packetPools {
		p := &packetPools[i]
		if n <= p.size {
			if b, ok := p.pool.Get().(*[]byte); ok {
				return (*b)[:n]
			}
			return make([]byte, n, p.size)
		}
	}
	return make([]byte, n)
}

// putPacket gives a packet buffer, whatever its origin, to the pool whose
// size is its capacity; others are left to the garbage collector.
func putPacket(b []byte) {
	for i := range packetPools {
		p := &packetPools[i]
		if cap(b) == p.size {
			b = b[:0]
			p.pool.Put(&b)
			return
		}
	}
}
