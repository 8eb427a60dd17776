package pcap

import (
	"errors"

	"github.com/seqack/seqack/link"
)

// Wrap returns an endpoint that is ep, except that every packet it sends
// and every packet it delivers is first recorded in w, as tcpdump on the
// interface would record it: w must be a capture of LinkTypeRaw.
//
// Recording changes nothing the stack sees: the returned endpoint has
// every optional interface of ep, with ep's answers. It reports ep's
// link.ChecksumOffloader and link.SegmentOffloader answers (false and 0
// where ep has no such method, which a stack reads as it reads their
// absence), and it is a link.BatchAttacher exactly when ep is one, so a
// stack's type assertion on it is as true as on ep. A stack on a
// recorded TUN device thus still hands it segments larger than the MTU
// (TSO), and the capture holds them as tcpdump on a Linux interface with
// segmentation offload does.
//
// Checksums in the capture are those the wire carries: where the stack
// leaves a TCP checksum for the link to finish (a segment the link cuts
// up, or any segment on a link with checksum offload), the record has it
// finished, so that Wireshark and tshark verify every record. The packet
// handed on is not touched.
//
// A packet is recorded before it is handed on, since it belongs to ep
// (or to the stack it is delivered to) from then on; so a packet that ep
// refuses (link.ErrClosed, link.ErrQueueFull) still appears in the
// capture, as a packet dropped by a full driver queue does in tcpdump's.
// Packets longer than ep takes (its MTU, or its SegmentOffload size),
// which ep is bound to refuse, are not recorded.
//
// Closing the returned endpoint closes ep and flushes w; the writer
// beneath w is the caller's to close. A failure to write the capture
// never stops the traffic: w keeps the first error, and Flush returns it.
func Wrap(ep link.Endpoint, w *Writer) link.Endpoint {
	e := &endpoint{ep: ep, w: w}
	e.csum, _ = ep.(link.ChecksumOffloader)
	e.seg, _ = ep.(link.SegmentOffloader)
	if b, ok := ep.(link.BatchAttacher); ok {
		return &batchEndpoint{endpoint: e, batch: b}
	}
	return e
}

// endpoint is the link.Endpoint Wrap returns for an endpoint that is not
// a link.BatchAttacher.
type endpoint struct {
	ep   link.Endpoint
	w    *Writer
	csum link.ChecksumOffloader // ep's, or nil
	seg  link.SegmentOffloader  // ep's, or nil
}

// batchEndpoint is the link.Endpoint Wrap returns for a
// link.BatchAttacher.
type batchEndpoint struct {
	*endpoint
	batch link.BatchAttacher
}

// MTU implements link.Endpoint.
func (e *endpoint) MTU() int { return e.ep.MTU() }

// ChecksumOffload implements link.ChecksumOffloader with the wrapped
// endpoint's answer (false if it has none).
func (e *endpoint) ChecksumOffload() bool { return e.csum != nil && e.csum.ChecksumOffload() }

// SegmentOffload implements link.SegmentOffloader with the wrapped
// endpoint's answer (0 if it has none).
func (e *endpoint) SegmentOffload() int {
	if e.seg == nil {
		return 0
	}
	return e.seg.SegmentOffload()
}

// limit is the longest packet ep takes.
func (e *endpoint) limit() int { return max(e.ep.MTU(), e.SegmentOffload()) }

// recordSent records a packet on its way out. Its TCP checksum is
// partial where the link is to finish it: on a link with checksum
// offload, and in a segment over the MTU that the link cuts up.
func (e *endpoint) recordSent(p []byte, mtu int) {
	e.w.writeNow(p, len(p) > mtu || e.ChecksumOffload())
}

// WritePacket implements link.Endpoint, recording packet.
func (e *endpoint) WritePacket(packet []byte) error {
	if mtu := e.ep.MTU(); len(packet) <= e.limit() {
		e.recordSent(packet, mtu)
	}
	return e.ep.WritePacket(packet)
}

// WritePackets implements link.Endpoint, recording the packets.
func (e *endpoint) WritePackets(packets [][]byte) (int, error) {
	mtu, limit := e.ep.MTU(), e.limit()
	for _, p := range packets {
		if len(p) > limit {
			break // the endpoint stops here
		}
		e.recordSent(p, mtu)
	}
	return e.ep.WritePackets(packets)
}

// Attach implements link.Endpoint, recording each packet delivered.
func (e *endpoint) Attach(deliver func(packet []byte)) {
	e.ep.Attach(func(packet []byte) {
		e.w.writeNow(packet, e.ChecksumOffload())
		deliver(packet)
	})
}

// AttachBatch implements link.BatchAttacher, recording each packet of a
// burst before the burst is delivered.
func (e *batchEndpoint) AttachBatch(deliver func(packets [][]byte)) {
	e.batch.AttachBatch(func(packets [][]byte) {
		finish := e.ChecksumOffload()
		for _, p := range packets {
			e.w.writeNow(p, finish)
		}
		deliver(packets)
	})
}

// Close implements link.Endpoint, and flushes the capture.
func (e *endpoint) Close() error {
	return errors.Join(e.ep.Close(), e.w.Flush())
}

var (
	_ link.Endpoint          = (*endpoint)(nil)
	_ link.ChecksumOffloader = (*endpoint)(nil)
	_ link.SegmentOffloader  = (*endpoint)(nil)
	_ link.BatchAttacher     = (*batchEndpoint)(nil)
)
