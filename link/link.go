// Package link defines how a stack sends and receives IP packets:
// Endpoint. Implementations carry packets over something real or not:
// link/pipe joins two stacks in memory, link/tun is a Linux TUN device,
// link/pcap records what passes through another endpoint.
//
// Packets travel in pooled buffers (Buffer, Recycle) that change owner
// rather than being copied. A packet made inside a TCP send queue lies
// in a shared buffer (SharedBuffer) that the queue keeps holding for
// retransmission; Hold and Recycle count its holders.
package link

// Endpoint is a network interface as a stack sees it: something that
// takes IP packets to send and hands up IP packets received.
//
// Buffer ownership moves with the packet, so that nothing needs copying
// on the way: WritePacket takes the packet, and the caller must not touch
// it after the call (the endpoint may keep it, hand it on or drop it).
// Likewise the function set with Attach is given each arriving packet to
// keep: the endpoint does not touch it again.
//
// Owning a packet means holding its buffer until done, then handing it
// to Recycle; it does not mean writing to it. A packet may lie in a
// shared buffer whose other holders (the sender's retransmission queue)
// still read it (see SharedBuffer), so endpoints and receivers only read
// packets' bytes.
type Endpoint interface {
	// MTU is the largest IP packet, in bytes, the endpoint carries.
	MTU() int
	// WritePacket sends one IP packet. It may be called from many
	// goroutines at once.
	WritePacket(packet []byte) error
	// WritePackets sends packets in order, as one batch where the link
	// can (one wake-up of the receiver, one system call). It returns how
	// many it took, and why it stopped short; the packets taken belong
	// to the endpoint.
	WritePackets(packets [][]byte) (int, error)
	// Attach sets the function that receives each arriving packet. The
	// endpoint calls it from one goroutine of its own, never from inside
	// WritePacket, so the receiver may send from it.
	Attach(deliver func(packet []byte))
	// Close stops the endpoint: no more packets are delivered and
	// WritePacket fails with ErrClosed.
	Close() error
}

// BatchAttacher is implemented by endpoints that receive packets in
// bursts (a pipe, a ring of buffers) and can hand each burst up in one
// call. A stack that attaches this way processes a burst for one
// connection under one lock and answers it with one batch of packets:
// fewer wake-ups and, for bulk data, fewer separate ACKs.
type BatchAttacher interface {
	// AttachBatch is Attach for bursts: deliver is given the packets
	// that arrived together, in order, and keeps them as Attach's
	// function does, but not the slice, which the endpoint reuses. It
	// replaces any function set with Attach.
	AttachBatch(deliver func(packets [][]byte))
}

// ChecksumOffloader is implemented by endpoints that carry packets where
// they cannot be damaged, such as memory. When ChecksumOffload reports
// true, a stack may send TCP segments without computing their checksum
// and take the ones it receives without verifying it, as Linux does over
// loopback. A wrapper that records packets (link/pcap) passes it on and
// finishes the checksums in its record only.
type ChecksumOffloader interface {
	ChecksumOffload() bool
}

// SegmentOffloader is implemented by endpoints that take TCP segments
// larger than their MTU and cut them into MTU-sized packets on the way
// out (TCP segmentation offload), as a network card does, or a TUN
// device whose packets carry virtio-net headers. A stack that sends
// through one hands it a run of full-sized segments as one packet: one
// system call and one trip down the stack for many packets.
type SegmentOffloader interface {
	// SegmentOffload returns the longest IP packet, in bytes, the
	// endpoint takes to cut up; 0 if it takes none over the MTU. Such a
	// packet is a TCP segment whose payload is a whole number of the
	// payloads an MTU-sized packet with the same headers carries (the
	// last piece may be shorter), and whose checksum is partial
	// (wire.BuildTCPPacketPartialChecksum): each piece gets its own.
	SegmentOffload() int
}
