// Package tun is a link.Endpoint on a Linux TUN device, so that a seqack
// stack exchanges IP packets with the kernel of the machine it runs on:
// whatever the kernel routes into the device, the stack receives, and
// whatever the stack sends comes out of the device into the kernel's own
// IP stack, as if it had arrived on a network card.
//
// The device is opened without packet information (IFF_TUN|IFF_NO_PI), so
// each read(2) returns one bare IPv4 or IPv6 packet and each write(2) takes
// one; by default with a virtio-net header before it (IFF_VNET_HDR), as a
// virtual network card has, through which the kernel hands up whole TCP
// segments of up to 64 KiB instead of MTU-sized packets, and takes the
// stack's the same way, cutting them into packets itself
// (link.SegmentOffloader); Config.Plain turns that off. A device that seqack creates is down and has no address on the
// kernel's side; the kernel's end is set up with ip(8):
//
//	ip addr add 192.0.2.1/24 dev seqack0
//	ip addr add 2001:db8::1/64 dev seqack0 nodad
//	ip link set seqack0 up
//
// or from the program itself with ConfigureKernel, which does the same
// through rtnetlink (so that a binary given CAP_NET_ADMIN by setcap keeps
// it; ip(8), run as a child, would not).
//
// Creating a device needs root or CAP_NET_ADMIN. Open creates it (or
// attaches to an existing persistent one: the user a device was made for
// with `ip tuntap add ... user NAME` needs no capability, as long as it
// asks for the MTU the device has); FromFD wraps a file descriptor
// opened by someone else, such as a privileged parent process.
package tun

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/seqack/seqack/link"
)

// DefaultMTU is the MTU Open and FromFD use when given 0: Ethernet's, so
// that the stack's segments fit any path the kernel may forward them on.
const DefaultMTU = 1500

// MaxMTU is the largest MTU an Endpoint carries: the IPv4 total length
// limit (an IPv6 jumbogram would need RFC 2675, which seqack lacks).
const MaxMTU = 65535

// minMTU is the smallest MTU accepted: RFC 791 requires every IPv4 host
// to handle 68-byte datagrams. IPv6 needs 1280 (RFC 8200 §5); the kernel
// disables IPv6 on a device below that, and so, in effect, does the
// stack's peer.
const minMTU = 68

// Config holds the settings OpenConfig takes.
type Config struct {
	// MTU is the device's MTU; 0 means DefaultMTU.
	MTU int
	// Plain opens the device without the kernel's offloads. By default
	// the device has virtio-net headers (IFF_VNET_HDR) and the offloads
	// they carry: the kernel hands up a TCP segment of up to 64 KiB in
	// one read rather than cut into MTU-sized packets (each delivered as
	// one large packet, its checksum completed by the endpoint), which
	// saves a read(2) and a trip through the stack per packet. With
	// Plain, every packet read is one the size it would have on a wire:
	// what a packetdrill script checks, or a link that loses packets on
	// purpose, wants.
	Plain bool
}

// Endpoint is a TUN device as a link.Endpoint. Its methods may be called
// from many goroutines at once.
type Endpoint struct {
	file    *os.File // non-blocking, so the runtime poller parks readers and Close wakes them
	name    string
	mtu     int
	bufSize int // capacity of the buffers packets are read into: more than mtu, see readLoop

	deliver atomic.Pointer[func([]byte)]
	started atomic.Bool
	closed  atomic.Bool
	once    sync.Once

	// vnet, if set, reads and writes packets with virtio-net headers
	// (IFF_VNET_HDR), through which the kernel hands up large segments.
	vnet packetIO
	// dropped counts packets read that were larger than the MTU, or
	// that the kernel offloaded in a way the endpoint does not take.
	dropped  atomic.Uint64
	largeIn  atomic.Uint64 // packets read as large segments (LargeSegmentsReceived)
	largeOut atomic.Uint64 // ... written (LargeSegmentsSent)

	errMu   sync.Mutex
	readErr error // why the reader stopped, if not because of Close
}

// newEndpoint wraps f, a non-blocking file that reads and writes one
// packet per call.
func newEndpoint(f *os.File, name string, mtu int) *Endpoint {
	e := &Endpoint{
		file: f,
		name: name,
		mtu:  mtu,
	}
	// The buffer is a byte larger than the MTU so that a packet larger
	// than the MTU (the kernel's side of the device set to a larger one)
	// is seen as such rather than silently truncated by read(2). It comes
	// from link's pools, and the stack gives it back once processed; the
	// packets written go back to the pools too, so a transfer allocates
	// nothing.
	e.bufSize = MaxMTU + 1
	for _, size := range []int{2048, 16384, 65536} {
		if mtu < size {
			e.bufSize = size
			break
		}
	}
	return e
}

// packetIO reads and writes packets when the device puts a header
// before each (vnet_linux.go).
type packetIO interface {
	readPacket(buf []byte) (int, verdict, error)
	writePacket(packet []byte, mtu int) error
}

// verdict is what the endpoint makes of a packet read.
type verdict uint8

const (
	deliver      verdict = iota
	deliverLarge         // a TCP segment the kernel did not cut into packets
	drop
)

// largeBufSize is the buffer a device with offloads reads into: an IP
// packet of up to 64 KiB.
const largeBufSize = 65536

// checkMTU validates an MTU given to Open or FromFD; 0 means DefaultMTU.
func checkMTU(mtu int) (int, error) {
	if mtu == 0 {
		return DefaultMTU, nil
	}
	if mtu < minMTU || mtu > MaxMTU {
		return 0, fmt.Errorf("tun: MTU %d out of range %d..%d", mtu, minMTU, MaxMTU)
	}
	return mtu, nil
}

// Name returns the device's name, e.g. "seqack0" or, when the kernel
// picked it, "tun0".
func (e *Endpoint) Name() string { return e.name }

// MTU implements link.Endpoint.
func (e *Endpoint) MTU() int { return e.mtu }

// Dropped returns how many packets the kernel handed up that were larger
// than the MTU and so were dropped.
func (e *Endpoint) Dropped() uint64 { return e.dropped.Load() }

// SegmentOffload implements link.SegmentOffloader: a device with
// virtio-net headers takes TCP segments of up to 64 KiB and has the
// kernel cut them into MTU-sized packets (see Config).
func (e *Endpoint) SegmentOffload() int {
	if e.vnet == nil {
		return 0
	}
	return MaxMTU
}

// LargeSegmentsReceived returns how many packets the kernel handed up
// as one large TCP segment each (generic segmentation offload, on a
// device with offloads): each is many MTU-sized packets' worth of data.
func (e *Endpoint) LargeSegmentsReceived() uint64 { return e.largeIn.Load() }

// LargeSegmentsSent returns how many TCP segments over the MTU were
// written for the kernel to cut into packets (see SegmentOffload).
func (e *Endpoint) LargeSegmentsSent() uint64 { return e.largeOut.Load() }

// Err returns why the reader stopped before Close, such as the device
// being deleted under it (EBADFD), or nil.
func (e *Endpoint) Err() error {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	return e.readErr
}

// WritePacket implements link.Endpoint: the packet goes to the kernel
// with one write(2), which takes it whole or not at all.
func (e *Endpoint) WritePacket(packet []byte) error {
	if e.closed.Load() {
		return link.ErrClosed
	}
	var err error
	switch {
	case e.vnet != nil:
		err = e.vnet.writePacket(packet, e.mtu)
	case len(packet) > e.mtu:
		return link.ErrTooBig
	default:
		_, err = e.file.Write(packet)
	}
	switch {
	case err == nil:
		if len(packet) > e.mtu {
			e.largeOut.Add(1)
		}
	case errors.Is(err, link.ErrTooBig):
		return err
	case e.closed.Load() || errors.Is(err, os.ErrClosed):
		return link.ErrClosed
	default:
		return fmt.Errorf("tun: write to %s: %w", e.name, err)
	}
	link.Recycle(packet) // ours now: back to the pools, to be read into or sent again
	return nil
}

// WritePackets implements link.Endpoint. A TUN device takes one packet
// per write(2) (writev would join them into one), so a batch is a loop;
// it stops at the first packet that fails.
func (e *Endpoint) WritePackets(packets [][]byte) (int, error) {
	for i, p := range packets {
		if err := e.WritePacket(p); err != nil {
			return i, err
		}
	}
	return len(packets), nil
}

// Attach implements link.Endpoint. The first call starts the goroutine
// that reads packets from the device; later calls only change the
// function they go to.
func (e *Endpoint) Attach(deliver func(packet []byte)) {
	e.deliver.Store(&deliver)
	if e.started.CompareAndSwap(false, true) {
		go e.readLoop()
	}
}

// readLoop reads packets until the endpoint is closed or the device
// fails, handing each to the attached function in a buffer of its own.
func (e *Endpoint) readLoop() {
	for {
		buf := link.Buffer(e.bufSize)
		var n int
		var err error
		v := deliver
		if e.vnet != nil {
			n, v, err = e.vnet.readPacket(buf)
		} else {
			n, err = e.file.Read(buf)
		}
		if err == nil && n == 0 && v == deliver {
			// A TUN device never reads an empty packet (it has none to
			// give, read(2) fails with EAGAIN and the poller waits); a
			// descriptor that does is at its end.
			err = io.EOF
		}
		if err != nil {
			if e.closed.Load() || errors.Is(err, os.ErrClosed) {
				return
			}
			e.errMu.Lock()
			e.readErr = fmt.Errorf("tun: read from %s: %w", e.name, err)
			e.errMu.Unlock()
			return
		}
		if v == drop || n > e.mtu && v != deliverLarge {
			e.dropped.Add(1)
			link.Recycle(buf)
			continue
		}
		if v == deliverLarge {
			e.largeIn.Add(1)
		}
		if e.closed.Load() {
			return
		}
		(*e.deliver.Load())(buf[:n])
	}
}

// Close implements link.Endpoint: it closes the file descriptor, which
// wakes the reader and, for a device that is not persistent, deletes the
// device.
func (e *Endpoint) Close() error {
	var err error
	e.once.Do(func() {
		e.closed.Store(true)
		if cerr := e.file.Close(); cerr != nil {
			err = fmt.Errorf("tun: close %s: %w", e.name, cerr)
		}
	})
	return err
}

var (
	_ link.Endpoint         = (*Endpoint)(nil)
	_ link.SegmentOffloader = (*Endpoint)(nil)
)
