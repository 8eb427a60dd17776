package wgnet

import (
	"os"
	"sync"
	"sync/atomic"

	"github.com/seqack/seqack/link"
	"golang.zx2c4.com/wireguard/tun"
)

// BatchSize is how many packets a Read returns and a Write takes at most
// in one call: wireguard-go's conn.IdealBatchSize, so that one wake-up
// of its encryption goroutines carries a full batch.
const BatchSize = 128

// QueueLen bounds the packets the stack has sent that the device's Read
// has not taken yet; past it the stack's writes are dropped, as a full
// interface queue drops (TCP retransmits). 4096 packets of an MTU of 1420
// are under 6 MiB.
const QueueLen = 4096

// QueueBytes bounds the bytes of those packets as well: with segments
// of up to 64 KiB (SegmentOffload), QueueLen alone would allow 256 MiB.
const QueueBytes = 8 << 20

// Counters are a device's own counts of what it dropped.
type Counters struct {
	// Oversize counts packets the stack sent that did not fit the
	// buffers Read was given, dropped.
	Oversize atomic.Uint64
	// SegmentsCut counts the TCP segments longer than the MTU that Read
	// cut into MTU-sized packets (link.SegmentOffloader).
	SegmentsCut atomic.Uint64
	// QueueFull counts packets the stack sent while Read's queue was
	// full, dropped.
	QueueFull atomic.Uint64
	// Malformed counts packets written to the device that were empty or
	// longer than the largest IP packet, dropped.
	Malformed atomic.Uint64
}

// endpoint is the link.Endpoint the stack attaches to: the packets the
// stack writes wait in a queue for the device's Read, and those the
// device's Write is given go up to the stack.
type endpoint struct {
	mtu int

	mu      sync.Mutex
	queue   [][]byte      // packets the stack sent, waiting for Read
	queued  int           // their bytes
	ready   chan struct{} // signalled when queue becomes non-empty
	closed  bool
	done    chan struct{} // closed by Close
	deliver func([][]byte)

	// delivering counts Writes inside deliver, for Close to wait on
	// (no packet reaches the stack after Close returns).
	delivering sync.WaitGroup

	counters Counters
}

func newEndpoint(mtu int) *endpoint {
	return &endpoint{mtu: mtu, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// MTU implements link.Endpoint.
func (e *endpoint) MTU() int { return e.mtu }

// WritePacket implements link.Endpoint.
func (e *endpoint) WritePacket(packet []byte) error {
	_, err := e.WritePackets([][]byte{packet})
	return err
}

// WritePackets implements link.Endpoint: the packets join Read's queue,
// as many as fit, and a waiting Read is woken once.
func (e *endpoint) WritePackets(packets [][]byte) (int, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return 0, link.ErrClosed
	}
	n := 0
	for n < len(packets) && len(packets[n]) <= max(e.mtu, maxSegment) {
		n++
	}
	tooBig := n < len(packets)
	fit := n
	n = min(n, QueueLen-len(e.queue))
	for i := range n {
		if e.queued+len(packets[i]) > QueueBytes {
			n = i
			break
		}
		e.queued += len(packets[i])
	}
	wasEmpty := len(e.queue) == 0
	e.queue = append(e.queue, packets[:n]...)
	e.mu.Unlock()
	if wasEmpty && n > 0 {
		select {
		case e.ready <- struct{}{}:
		default:
		}
	}
	switch {
	case n < fit:
		e.counters.QueueFull.Add(uint64(fit - n))
		return n, link.ErrQueueFull
	case tooBig:
		return n, link.ErrTooBig
	}
	return n, nil
}

// Attach implements link.Endpoint.
func (e *endpoint) Attach(deliver func([]byte)) {
	e.AttachBatch(func(packets [][]byte) {
		for _, p := range packets {
			deliver(p)
		}
	})
}

// AttachBatch implements link.BatchAttacher: a Write's packets go up in
// one call.
func (e *endpoint) AttachBatch(deliver func([][]byte)) {
	e.mu.Lock()
	e.deliver = deliver
	e.mu.Unlock()
}

// Close implements link.Endpoint: queued packets are dropped, a blocked
// Read returns, and no Write reaches the stack any more.
func (e *endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for _, p := range e.queue {
		link.Recycle(p)
	}
	e.queue, e.queued = nil, 0
	e.mu.Unlock()
	close(e.done)
	return nil
}

// read waits for packets the stack sent and copies as many as fit
// into bufs, each at offset, their lengths in sizes. It returns
// os.ErrClosed once the endpoint is closed.
func (e *endpoint) read(bufs [][]byte, sizes []int, offset int) (int, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return 0, os.ErrClosed
		}
		if len(e.queue) > 0 {
			break
		}
		e.mu.Unlock()
		select {
		case <-e.ready:
		case <-e.done:
		}
	}
	// e.mu is held.
	n, taken := 0, 0
	for taken < len(e.queue) && n < len(bufs) && n < len(sizes) {
		p := e.queue[taken]
		e.queued -= len(p) // given back below if p stays
		if len(p) > e.mtu {
			// A segment to cut (SegmentOffload): it goes whole or
			// waits for the next Read if the bufs left are too few.
			pieces, _, _ := segmentPieces(p, e.mtu)
			if pieces > 0 && n > 0 && pieces > min(len(bufs), len(sizes))-n {
				e.queued += len(p)
				break
			}
			taken++
			if cut := cutSegment(p, e.mtu, bufs[n:], sizes[n:], offset); cut > 0 {
				e.counters.SegmentsCut.Add(1)
				n += cut
			} else {
				e.counters.Oversize.Add(1)
			}
			link.Recycle(p)
			continue
		}
		taken++
		if len(p) > len(bufs[n])-offset {
			e.counters.Oversize.Add(1)
			link.Recycle(p)
			continue
		}
		sizes[n] = copy(bufs[n][offset:], p)
		link.Recycle(p)
		n++
	}
	rest := copy(e.queue, e.queue[taken:])
	clear(e.queue[rest:])
	e.queue = e.queue[:rest]
	if rest > 0 {
		select {
		case e.ready <- struct{}{}:
		default:
		}
	}
	e.mu.Unlock()
	return n, nil
}

// maxPacket is the longest IP packet (IPv4's total length; an IPv6
// jumbogram does not cross a tunnel).
const maxPacket = 65535

// write copies each packet of bufs, from offset, into a packet buffer
// and hands them to the stack in one batch.
func (e *endpoint) write(bufs [][]byte, offset int) (int, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return 0, os.ErrClosed
	}
	deliver := e.deliver
	e.delivering.Add(1)
	e.mu.Unlock()
	defer e.delivering.Done()
	if deliver == nil {
		return len(bufs), nil // not attached: nobody to take them
	}
	var batch [BatchSize][]byte
	packets := batch[:0]
	for _, b := range bufs {
		if offset > len(b) || len(b)-offset == 0 || len(b)-offset > maxPacket {
			e.counters.Malformed.Add(1)
			continue
		}
		p := link.Buffer(len(b) - offset)
		copy(p, b[offset:])
		packets = append(packets, p)
		if len(packets) == cap(packets) {
			deliver(packets)
			packets = packets[:0]
		}
	}
	if len(packets) > 0 {
		deliver(packets)
	}
	return len(bufs), nil
}

var (
	_ link.Endpoint         = (*endpoint)(nil)
	_ link.BatchAttacher    = (*endpoint)(nil)
	_ link.SegmentOffloader = (*endpoint)(nil)
	_ tun.Device            = (*Device)(nil)
)
