// Package pipe joins two link endpoints in memory: what one writes the
// other receives, in order, with a configurable MTU up to 65535. Packets
// are handed over, not copied: the writer's buffer is the one delivered. Tests,
// examples and benchmarks use it to join two stacks.
package pipe

import (
	"sync"

	"github.com/seqack/seqack/link"
)

// MaxMTU is the largest MTU a pipe carries (the IPv4 total length limit).
const MaxMTU = 65535

// queueLen bounds the packets waiting for delivery on each side; a full
// queue drops, as a real interface's would.
const queueLen = 4096

// Endpoint is one end of a pipe.
type Endpoint struct {
	mtu  int
	peer *Endpoint
	in   chan []byte // packets waiting to be delivered to this end

	mu      sync.Mutex
	deliver func([]byte)
	closed  bool
	done    chan struct{}
	once    sync.Once
}

// New returns the two ends of a pipe with the given MTU (clamped to
// 68..65535).
func New(mtu int) (*Endpoint, *Endpoint) {
	mtu = min(max(mtu, 68), MaxMTU)
	a := &Endpoint{mtu: mtu, in: make(chan []byte, queueLen), done: make(chan struct{})}
	b := &Endpoint{mtu: mtu, in: make(chan []byte, queueLen), done: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// MTU implements link.Endpoint.
func (e *Endpoint) MTU() int { return e.mtu }

// WritePacket implements link.Endpoint: it puts packet, without copying
// it, on the peer's queue.
func (e *Endpoint) WritePacket(packet []byte) error {
	if len(packet) > e.mtu {
		return link.ErrTooBig
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return link.ErrClosed
	}
	select {
	case e.peer.in <- packet:
		return nil
	case <-e.peer.done:
		return nil // the other end is gone: the packet is lost, as on a wire
	default:
		return link.ErrQueueFull
	}
}

// Attach implements link.Endpoint. The first call starts the goroutine
// that delivers this end's packets.
func (e *Endpoint) Attach(deliver func([]byte)) {
	e.mu.Lock()
	first := e.deliver == nil
	e.deliver = deliver
	e.mu.Unlock()
	if first {
		go e.run()
	}
}

func (e *Endpoint) run() {
	for {
		select {
		case p := <-e.in:
			e.mu.Lock()
			deliver := e.deliver
			e.mu.Unlock()
			deliver(p)
		case <-e.done:
			return
		}
	}
}

// Close implements link.Endpoint.
func (e *Endpoint) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.done)
	})
	return nil
}

var _ link.Endpoint = (*Endpoint)(nil)
