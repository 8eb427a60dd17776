package link

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

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
// capacity (others are left to the garbage collector). A slice of a
// shared buffer drops one holder of it instead (see SharedBuffer). The
// caller must not use b afterwards.
func Recycle(b []byte) {
	if key := endKey(b); key != 0 && dropShared(key) {
		return
	}
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

// SharedBufferSize is the length of the buffers SharedBuffer returns: a
// largest IP packet (65535 bytes) and more, after SharedHeadroom bytes
// of room for headers.
const SharedBufferSize = 65536 + SharedHeadroom

// SharedHeadroom is the room at the start of a shared buffer: a send
// queue puts payload after it, and a packet made in place starts inside
// it, with its headers. Hold and Recycle know a slice of a shared buffer
// only if it starts within this room.
const SharedHeadroom = 128

// Shared buffers let a packet leave without its payload being copied: a
// TCP send queue keeps payload in one, the stack writes the headers into
// the room before a segment's payload and hands the packet, still inside
// the queue's buffer, to the link. The queue keeps the bytes for
// retransmission while the link, and the stack at the far end of a pipe,
// hold the same memory. Each holder counts: Hold adds one, Recycle drops
// one, and the last to drop it returns the buffer to its pool. Anyone
// given a packet may therefore only read it (see Endpoint).
//
// A shared buffer is known by the address of its last byte, which every
// slice into it reaches through its capacity, so a packet carved from
// anywhere in its headroom needs no other handle. Only slices whose
// capacity could reach the end of a shared buffer are looked up, so
// packets in ordinary buffers pay nothing. Each buffer has its entry in
// the table from its making to its collection as garbage; the table
// holds it weakly, so that one a holder forgot to Recycle is collected,
// and its entry goes with it.
var shared = struct {
	mu      sync.RWMutex
	buffers map[uintptr]*sharedEntry // keyed by the address of the buffer's last byte
	pool    sync.Pool                // *[SharedBufferSize]byte with no holder
}{buffers: map[uintptr]*sharedEntry{}}

// sharedEntry is a shared buffer and how many hold it (0 while pooled).
type sharedEntry struct {
	buf     weak.Pointer[[SharedBufferSize]byte]
	holders atomic.Int32
}

// SharedBuffer returns a shared buffer of SharedBufferSize bytes with one
// holder, the caller.
func SharedBuffer() []byte {
	a, ok := shared.pool.Get().(*[SharedBufferSize]byte)
	if !ok {
		a = new([SharedBufferSize]byte)
		key := endKey(a[:])
		runtime.AddCleanup(a, forgetShared, key)
		e := &sharedEntry{buf: weak.Make(a)}
		e.holders.Store(1)
		shared.mu.Lock()
		shared.buffers[key] = e
		shared.mu.Unlock()
		return a[:]
	}
	lookupShared(endKey(a[:])).holders.Store(1)
	return a[:]
}

// endKey is the table's key for the shared buffer b may lie in: the
// address of the last byte its capacity reaches, or 0 if b cannot lie in
// one (it would start past the headroom).
func endKey(b []byte) uintptr {
	if c := cap(b); c > SharedBufferSize-SharedHeadroom && c <= SharedBufferSize {
		return uintptr(unsafe.Pointer(&b[:c][c-1]))
	}
	return 0
}

// lookupShared returns the entry for key, or nil.
func lookupShared(key uintptr) *sharedEntry {
	shared.mu.RLock()
	e := shared.buffers[key]
	shared.mu.RUnlock()
	return e
}

// forgetShared drops the table's entry for a shared buffer collected as
// garbage (unless a new buffer has taken its address since).
func forgetShared(key uintptr) {
	shared.mu.Lock()
	if e, ok := shared.buffers[key]; ok && e.buf.Value() == nil {
		delete(shared.buffers, key)
	}
	shared.mu.Unlock()
}

// Hold adds a holder to the shared buffer b lies in, and reports whether
// there was one: a caller that wants to keep a packet beyond its owner's
// Recycle holds it first. It reports false for other buffers.
func Hold(b []byte) bool {
	key := endKey(b)
	if key == 0 {
		return false
	}
	e := lookupShared(key)
	if e == nil {
		return false
	}
	for {
		n := e.holders.Load()
		if n <= 0 {
			return false // pooled: nobody may hold it
		}
		if e.holders.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// dropShared drops a holder of the shared buffer whose key is key,
// returning the buffer to its pool when none is left. It reports whether
// key is a shared buffer's.
func dropShared(key uintptr) bool {
	e := lookupShared(key)
	if e == nil {
		return false
	}
	for {
		n := e.holders.Load()
		if n <= 0 {
			return true // held by nobody already: a second Recycle, ignored
		}
		if e.holders.CompareAndSwap(n, n-1) {
			if n == 1 {
				if a := e.buf.Value(); a != nil {
					shared.pool.Put(a)
				}
			}
			return true
		}
	}
}

// SharedBuffersInUse returns how many shared buffers have holders: those
// of send queues not yet acknowledged, and of packets on their way or
// kept in a receive queue. A count that stays up once connections are
// closed is a leak.
func SharedBuffersInUse() int {
	shared.mu.RLock()
	defer shared.mu.RUnlock()
	n := 0
	for _, e := range shared.buffers {
		if e.holders.Load() > 0 {
			n++
		}
	}
	return n
}
