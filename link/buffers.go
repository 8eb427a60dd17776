package link

import "sync"

// Packet buffers are recycled between stacks and endpoints: a stack
// builds each outgoing packet in a Buffer and hands it to the endpoint,
// which Recycles it once written (a TUN device) or passes it on (a pipe);
// an endpoint reads arriving packets into Buffers, and the stack Recycles
// each once processed. The pools are a cache: what they hold never
// changes behaviour. They hold pointers to arrays, which go in and out of
// a sync.Pool without allocating.
var (
	pool256   sync.Pool // *[256]byte
	pool2048  sync.Pool // *[2048]byte
	pool16384 sync.Pool // *[16384]byte
	pool65536 sync.Pool // *[65536]byte
)

// Buffer returns a packet buffer of length n, from the pools when n is at
// most 64 KiB.
func Buffer(n int) []byte {
	switch {
	case n <= 256:
		if a, ok := pool256.Get().(*[256]byte); ok {
			return a[:n]
		}
		return new([256]byte)[:n]
	case n <= 2048:
		if a, ok := pool2048.Get().(*[2048]byte); ok {
			return a[:n]
		}
		return new([2048]byte)[:n]
	case n <= 16384:
		if a, ok := pool16384.Get().(*[16384]byte); ok {
			return a[:n]
		}
		return new([16384]byte)[:n]
	case n <= 65536:
		if a, ok := pool65536.Get().(*[65536]byte); ok {
			return a[:n]
		}
		return new([65536]byte)[:n]
	}
	return make([]byte, n)
}

// Recycle gives a packet buffer, whatever its origin, to the pool of its
// capacity (others are left to the garbage collector). The caller must
// not use b afterwards.
func Recycle(b []byte) {
	switch cap(b) {
	case 256:
		pool256.Put((*[256]byte)(b[:256]))
	case 2048:
		pool2048.Put((*[2048]byte)(b[:2048]))
	case 16384:
		pool16384.Put((*[16384]byte)(b[:16384]))
	case 65536:
		pool65536.Put((*[65536]byte)(b[:65536]))
	}
}
