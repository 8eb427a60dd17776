package pcap

import (
	"errors"

	"github.com/seqack/seqack/link"
)

// Wrap returns an endpoint that is ep, except that every packet it sends
// and every packet it delivers is first recorded in w, as tcpdump on the
// interface would record it: w must be a capture of LinkTypeRaw.
//
// A packet is recorded before it is handed on, since it belongs to ep
// (or to the stack it is delivered to) from then on; so a packet that ep
// refuses (link.ErrClosed, link.ErrQueueFull) still appears in the
// capture, as a packet dropped by a full driver queue does in tcpdump's.
// Packets over the MTU, which ep is bound to refuse, are not recorded.
//
// Closing the returned endpoint closes ep and flushes w; the writer
// beneath w is the caller's to close. A failure to write the capture
// never stops the traffic: w keeps the first error, and Flush returns it.
func Wrap(ep link.Endpoint, w *Writer) link.Endpoint {
	return &endpoint{ep: ep, w: w}
}

// endpoint is the link.Endpoint Wrap returns.
type endpoint struct {
	ep link.Endpoint
	w  *Writer
}

// MTU implements link.Endpoint.
func (e *endpoint) MTU() int { return e.ep.MTU() }

// WritePacket implements link.Endpoint, recording packet.
func (e *endpoint) WritePacket(packet []byte) error {
	if len(packet) <= e.ep.MTU() {
		e.w.writeNow(packet)
	}
	return e.ep.WritePacket(packet)
}

// WritePackets implements link.Endpoint, recording the packets.
func (e *endpoint) WritePackets(packets [][]byte) (int, error) {
	mtu := e.ep.MTU()
	for _, p := range packets {
		if len(p) > mtu {
			break // the endpoint stops here
		}
		e.w.writeNow(p)
	}
	return e.ep.WritePackets(packets)
}

// Attach implements link.Endpoint, recording each packet delivered.
func (e *endpoint) Attach(deliver func(packet []byte)) {
	e.ep.Attach(func(packet []byte) {
		e.w.writeNow(packet)
		deliver(packet)
	})
}

// Close implements link.Endpoint, and flushes the capture.
func (e *endpoint) Close() error {
	return errors.Join(e.ep.Close(), e.w.Flush())
}

var _ link.Endpoint = (*endpoint)(nil)
