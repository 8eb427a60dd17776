// Package pipe joins two link endpoints in memory: what one writes the
// other receives, in order, with a configurable MTU up to 65535. Packets
// are handed over, not copied: the writer's buffer is the one delivered.
// Each end delivers from a goroutine of its own, taking every packet
// queued since it last looked in one go, so a burst costs one wake-up.
// Loopback is a pipe with one end, whose packets come back to it.
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

	offload bool // checksums left out: see SetChecksumOffload

	mu      sync.Mutex
	queue   [][]byte      // packets waiting to be delivered to this end
	ready   chan struct{} // signalled when queue becomes non-empty
	deliver func([]byte)
	batched func([][]byte) // set by AttachBatch instead of deliver
	closed  bool
	done    chan struct{}
	once    sync.Once
}

// New returns the two ends of a pipe with the given MTU (clamped to
// 68..65535).
func New(mtu int) (*Endpoint, *Endpoint) {
	mtu = min(max(mtu, 68), MaxMTU)
	a := &Endpoint{mtu: mtu, ready: make(chan struct{}, 1), done: make(chan struct{})}
	b := &Endpoint{mtu: mtu, ready: make(chan struct{}, 1), done: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// Loopback returns an endpoint whose packets come back to itself, as a
// host's loopback interface: what is written to it is delivered to the
// function attached to it, in order, from the endpoint's own goroutine,
// never from inside the write, so that a receiver that sends in answer
// (and holds a lock while it sends) is not re-entered. The MTU is
// clamped as New's.
func Loopback(mtu int) *Endpoint {
	e := &Endpoint{mtu: min(max(mtu, 68), MaxMTU), ready: make(chan struct{}, 1), done: make(chan struct{})}
	e.peer = e
	return e
}

// SetChecksumOffload makes this end report link.ChecksumOffloader: the
// stacks at both ends may then leave TCP checksums out, since memory does
// not flip bits. Set it on both ends, before attaching, and only when
// both are stacks: a reader of raw packets would see zero checksums.
func (e *Endpoint) SetChecksumOffload(on bool) { e.offload = on }

// ChecksumOffload implements link.ChecksumOffloader.
func (e *Endpoint) ChecksumOffload() bool { return e.offload }

// MTU implements link.Endpoint.
func (e *Endpoint) MTU() int { return e.mtu }

// WritePacket implements link.Endpoint: it puts packet, without copying
// it, on the peer's queue.
func (e *Endpoint) WritePacket(packet []byte) error {
	_, err := e.WritePackets([][]byte{packet})
	return err
}

// WritePackets implements link.Endpoint: the packets join the peer's
// queue together, and the peer's goroutine is woken once.
func (e *Endpoint) WritePackets(packets [][]byte) (int, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return 0, link.ErrClosed
	}
	n := 0
	for n < len(packets) && len(packets[n]) <= e.mtu {
		n++
	}
	taken, err := e.peer.enqueue(packets[:n])
	if err == nil && n < len(packets) {
		err = link.ErrTooBig
	}
	return taken, err
}

// enqueue adds packets to this end's queue, as many as fit.
func (e *Endpoint) enqueue(packets [][]byte) (int, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		for _, p := range packets {
			link.Recycle(p) // the other end is gone: lost, as on a wire
		}
		return len(packets), nil
	}
	n := min(len(packets), queueLen-len(e.queue))
	wasEmpty := len(e.queue) == 0
	e.queue = append(e.queue, packets[:n]...)
	e.mu.Unlock()
	if wasEmpty && n > 0 {
		select {
		case e.ready <- struct{}{}:
		default:
		}
	}
	if n < len(packets) {
		return n, link.ErrQueueFull
	}
	return n, nil
}

// Attach implements link.Endpoint. The first call (of Attach or
// AttachBatch) starts the goroutine that delivers this end's packets.
func (e *Endpoint) Attach(deliver func([]byte)) {
	e.attach(deliver, nil)
}

// AttachBatch implements link.BatchAttacher: each wake-up's packets are
// handed up in one call.
func (e *Endpoint) AttachBatch(deliver func([][]byte)) {
	e.attach(nil, deliver)
}

func (e *Endpoint) attach(one func([]byte), batch func([][]byte)) {
	e.mu.Lock()
	first := e.deliver == nil && e.batched == nil
	e.deliver, e.batched = one, batch
	e.mu.Unlock()
	if first {
		go e.run()
	}
}

// run delivers queued packets, all that have gathered at each wake-up.
func (e *Endpoint) run() {
	var batch [][]byte
	for {
		select {
		case <-e.ready:
		case <-e.done:
			return
		}
		e.mu.Lock()
		batch, e.queue = e.queue, batch[:0]
		deliver, batched := e.deliver, e.batched
		e.mu.Unlock()
		if batched != nil {
			batched(batch)
		} else {
			for _, p := range batch {
				deliver(p)
			}
		}
		clear(batch) // the packets are the receiver's now
	}
}

// Close implements link.Endpoint.
func (e *Endpoint) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		e.closed = true
		for _, p := range e.queue {
			link.Recycle(p) // never to be delivered
		}
		e.queue = nil
		e.mu.Unlock()
		close(e.done)
	})
	return nil
}

var (
	_ link.Endpoint      = (*Endpoint)(nil)
	_ link.BatchAttacher = (*Endpoint)(nil)
)
