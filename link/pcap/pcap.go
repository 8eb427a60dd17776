// Package pcap writes and reads captures in the classic libpcap file
// format, which tcpdump, Wireshark and tshark read, and records what a
// link.Endpoint sends and receives into one (Wrap).
//
// seqack's links carry bare IP packets, so captures use LINKTYPE_RAW: each
// record is an IPv4 or IPv6 packet, told apart by its version nibble, with
// no link-layer header. The format is described in
// https://www.tcpdump.org/manpages/pcap-savefile.5.html and
// draft-ietf-opsawg-pcap; link types in
// https://www.tcpdump.org/linktypes.html.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/seqack/seqack/wire"
)

// LinkType is the link-layer header type of a capture: what each
// record's bytes start with.
type LinkType uint32

// LinkTypeRaw is LINKTYPE_RAW: bare IPv4 and IPv6 packets, as seqack's
// links carry them.
const LinkTypeRaw LinkType = 101

// SnapLen is the largest record a Writer writes, the snapshot length in
// its file header: tcpdump's default, more than any packet a seqack link
// carries (65535 bytes at most), so nothing is truncated.
const SnapLen = 262144

// Magic numbers of the file header. Written in the writer's byte order
// (little-endian here), they tell a reader both the byte order and the
// resolution of the timestamps.
const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
)

const (
	fileHeaderLen   = 24
	recordHeaderLen = 16
)

// Writer writes a capture. Its methods may be called from many
// goroutines at once; records are buffered, and Flush writes them out.
type Writer struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	nano bool
	hdr  [recordHeaderLen]byte
	// scratch holds a packet whose checksum writeNow finishes.
	scratch []byte
}

// NewWriter writes the file header of a capture of linkType with
// microsecond timestamps, the resolution every reader knows, to w, and
// returns a Writer for its records.
func NewWriter(w io.Writer, linkType LinkType) (*Writer, error) {
	return newWriter(w, linkType, false)
}

// NewWriterNano is NewWriter with nanosecond timestamps (magic
// 0xa1b23c4d), which tcpdump 4.6 / libpcap 1.5 and Wireshark 1.10 on
// read.
func NewWriterNano(w io.Writer, linkType LinkType) (*Writer, error) {
	return newWriter(w, linkType, true)
}

// newWriter writes the file header and returns the Writer.
func newWriter(w io.Writer, linkType LinkType, nano bool) (*Writer, error) {
	pw := &Writer{bw: bufio.NewWriterSize(w, 64<<10), nano: nano}
	var h [fileHeaderLen]byte
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	le := binary.LittleEndian
	le.PutUint32(h[0:], magic)
	le.PutUint16(h[4:], 2) // version 2.4, the only one there is
	le.PutUint16(h[6:], 4)
	// h[8:16]: thiszone and sigfigs, always 0 (timestamps are UTC).
	le.PutUint32(h[16:], SnapLen)
	le.PutUint32(h[20:], uint32(linkType))
	pw.bw.Write(h[:])
	// The header goes out at once, so that a capture with no packets is
	// still a file the tools read.
	if err := pw.bw.Flush(); err != nil {
		return nil, fmt.Errorf("pcap: write file header: %w", err)
	}
	return pw, nil
}

// WritePacket adds a record of packet, captured at t. It does not keep
// packet.
func (w *Writer) WritePacket(t time.Time, packet []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLocked(t, packet)
}

// writeNow adds a record of packet stamped with the time it takes the
// lock, so that the records of many goroutines are in time order in the
// file, as readers expect. With finish, a TCP packet is recorded with
// its checksum computed (see finishTCPChecksum).
func (w *Writer) writeNow(packet []byte, finish bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if finish {
		if p, ok := finishTCPChecksum(w.scratch[:0], packet); ok {
			w.scratch = p
			packet = p
		}
	}
	return w.writeLocked(time.Now(), packet)
}

// finishTCPChecksum appends to dst a copy of the TCP packet p with its
// TCP checksum computed (RFC 9293 §3.1, with the IPv4 or IPv6
// pseudo-header), as a link with checksum offload puts it on the wire
// (the stack left the pseudo-header's sum there: Linux's
// CHECKSUM_PARTIAL). It reports false, appending nothing, for a packet
// that is not TCP or does not parse.
func finishTCPChecksum(dst, p []byte) ([]byte, bool) {
	ip, err := wire.ParseIP(p)
	if err != nil || ip.Protocol != wire.ProtocolTCP || len(ip.Payload) < wire.TCPMinHeaderLen {
		return dst, false
	}
	// The TCP header's offset in p: ip.Payload is a slice of p.
	off := cap(p) - cap(ip.Payload)
	dst = append(dst, p...)
	seg := dst[off : off+len(ip.Payload)]
	seg[16], seg[17] = 0, 0
	sum := wire.Checksum(seg, wire.PseudoHeaderChecksum(wire.ProtocolTCP, ip.Src, ip.Dst, len(seg)))
	binary.BigEndian.PutUint16(seg[16:], sum)
	return dst, true
}

func (w *Writer) writeLocked(t time.Time, packet []byte) error {
	frac := uint32(t.Nanosecond() / 1000)
	if w.nano {
		frac = uint32(t.Nanosecond())
	}
	incl := min(len(packet), SnapLen)
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(t.Unix()))
	le.PutUint32(w.hdr[4:], frac)
	le.PutUint32(w.hdr[8:], uint32(incl))
	le.PutUint32(w.hdr[12:], uint32(len(packet)))
	w.bw.Write(w.hdr[:])
	if _, err := w.bw.Write(packet[:incl]); err != nil {
		return fmt.Errorf("pcap: write record: %w", err)
	}
	return nil
}

// Flush writes the buffered records to the underlying writer. It returns
// the first error of any write so far.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	return nil
}

// Packet is one record of a capture.
type Packet struct {
	// Time is when the packet was captured.
	Time time.Time
	// Data is the packet as captured: at most the snapshot length.
	Data []byte
	// OrigLen is the packet's length on the wire; more than len(Data)
	// if the capture truncated it.
	OrigLen int
}

// ErrFormat is the error (wrapped) of a file that is not a classic pcap
// capture, or is damaged.
var ErrFormat = errors.New("pcap: bad capture file")

// maxRecord bounds a record's length whatever the file header says, so
// that a damaged file cannot make the reader allocate gigabytes.
const maxRecord = 1 << 24

// Reader reads a capture written by a Writer, tcpdump or any other
// libpcap writer, in either byte order and either resolution.
type Reader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	linkType LinkType
	snapLen  uint32
	hdr      [recordHeaderLen]byte
}

// NewReader reads the file header from r and returns a Reader for the
// records that follow.
func NewReader(r io.Reader) (*Reader, error) {
	var h [fileHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: file header: %w", ErrFormat, err)
	}
	pr := &Reader{r: r}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(h[0:]) {
		case magicMicro:
			pr.order = order
		case magicNano:
			pr.order, pr.nano = order, true
		}
	}
	if pr.order == nil {
		return nil, fmt.Errorf("%w: magic number % x is not a pcap file's (pcapng is not read)", ErrFormat, h[0:4])
	}
	if major := pr.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("%w: version %d.%d", ErrFormat, major, pr.order.Uint16(h[6:]))
	}
	pr.snapLen = pr.order.Uint32(h[16:])
	// The top bits of the link-type field may carry FCS information
	// (draft-ietf-opsawg-pcap §4); the type is the low 28.
	pr.linkType = LinkType(pr.order.Uint32(h[20:]) & 0x0fffffff)
	return pr, nil
}

// LinkType returns the capture's link type.
func (r *Reader) LinkType() LinkType { return r.linkType }

// Nanosecond reports whether the capture's timestamps have nanosecond
// resolution (otherwise microsecond).
func (r *Reader) Nanosecond() bool { return r.nano }

// ReadPacket returns the next record, in a buffer of its own. At the end
// of the file it returns io.EOF; a record cut short is ErrFormat wrapping
// io.ErrUnexpectedEOF.
func (r *Reader) ReadPacket() (Packet, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if err == io.EOF {
			return Packet{}, io.EOF
		}
		return Packet{}, fmt.Errorf("%w: record header: %w", ErrFormat, err)
	}
	sec := r.order.Uint32(r.hdr[0:])
	frac := r.order.Uint32(r.hdr[4:])
	incl := r.order.Uint32(r.hdr[8:])
	orig := r.order.Uint32(r.hdr[12:])
	if incl > maxRecord || incl > max(r.snapLen, SnapLen) {
		return Packet{}, fmt.Errorf("%w: record of %d bytes, snapshot length %d", ErrFormat, incl, r.snapLen)
	}
	nsec := int64(frac) * 1000
	if r.nano {
		nsec = int64(frac)
	}
	p := Packet{Time: time.Unix(int64(sec), nsec), Data: make([]byte, incl), OrigLen: int(orig)}
	if _, err := io.ReadFull(r.r, p.Data); err != nil {
		return Packet{}, fmt.Errorf("%w: record data: %w", ErrFormat, noEOF(err))
	}
	return p, nil
}

// noEOF turns io.EOF, within a record, into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
