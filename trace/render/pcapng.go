package render

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/seqack/seqack/link/pcap"
)

// This file reads pcapng, the default format of Wireshark, tshark and
// dumpcap (draft-ietf-opsawg-pcapng, "PCAP Now Generic"): a file is a
// list of blocks, each "type, total length, body, total length again".
// Only the blocks a packet needs are read — Section Header, Interface
// Description, Enhanced Packet, Simple Packet and the obsolete Packet
// block; the others (name resolution, statistics, custom, ...) are
// skipped by their length.

// Block types (pcapng §4, §11.1).
const (
	ngSectionHeader = 0x0a0d0d0a
	ngInterface     = 0x00000001
	ngPacketOld     = 0x00000002 // obsolete Packet Block (§A.1)
	ngSimplePacket  = 0x00000003
	ngEnhanced      = 0x00000006
	ngByteOrder     = 0x1a2b3c4d // the Section Header's byte-order magic
	ngOptTSResol    = 9          // if_tsresol (§4.2)
	ngOptTSOffset   = 14         // if_tsoffset (§4.2)
	ngMaxBlock      = 1 << 24    // bounds a block whatever the file says
	ngMaxInterfaces = 1 << 16    // bounds the interfaces a section declares
)

// ngInterfaceDesc is what an Interface Description Block says that a
// packet needs.
type ngInterfaceDesc struct {
	linkType pcap.LinkType
	snapLen  uint32
	// Timestamps count units of 10^-resolPow10 s, or of 2^-resolPow2 s
	// when pow2 is set (if_tsresol), from offset seconds (if_tsoffset).
	resol  uint8
	pow2   bool
	offset int64
}

// unit returns the length of one timestamp unit, or 0 below a
// nanosecond.
func (d *ngInterfaceDesc) unit() time.Duration {
	if d.pow2 {
		if d.resol > 30 {
			return 0
		}
		return time.Second >> d.resol
	}
	u := time.Second
	for range d.resol {
		u /= 10
	}
	return u
}

// time converts a packet's 64-bit timestamp to a time.
func (d *ngInterfaceDesc) time(ts uint64) time.Time {
	var sec, nsec uint64
	switch {
	case d.pow2 && d.resol < 64:
		sec = ts >> d.resol
		hi, lo := bits.Mul64(ts&(1<<d.resol-1), 1e9)
		nsec = lo>>d.resol | hi<<(64-d.resol) // hi<<64 is 0
	case d.pow2:
		sec = 0
	default:
		div := uint64(1)
		for range min(d.resol, 19) {
			div *= 10
		}
		sec = ts / div
		hi, lo := bits.Mul64(ts%div, 1e9)
		nsec, _ = bits.Div64(hi, lo, div) // hi < div: ts%div < div
	}
	return time.Unix(int64(sec)+d.offset, int64(nsec))
}

// ngRecord is one packet read from a pcapng file.
type ngRecord struct {
	time  time.Time
	iface *ngInterfaceDesc
	data  []byte // valid until the next call of next
}

// ngReader reads the packets of a pcapng file block by block: it keeps
// the interfaces of the current section and one block's bytes, nothing
// else.
type ngReader struct {
	r      io.Reader
	order  binary.ByteOrder
	ifaces []ngInterfaceDesc
	buf    []byte
	last   time.Time // of the previous packet, for Simple Packet Blocks
	// off is the offset of the next block; block the index of the next
	// block, counted from 1.
	off   int64
	block int
}

// newNgReader reads the first Section Header Block.
func newNgReader(r io.Reader) (*ngReader, error) {
	n := &ngReader{r: r}
	typ, body, err := n.readBlock()
	if err != nil {
		return nil, err
	}
	if typ != ngSectionHeader {
		return nil, fmt.Errorf("%w: pcapng: first block is of type %#x, not a section header", pcap.ErrFormat, typ)
	}
	_ = body
	return n, nil
}

// readBlock reads the next block, returning its type and its body (the
// bytes between the two lengths). A Section Header Block sets the byte
// order of what follows and forgets the previous section's interfaces.
// At the end of the file it returns io.EOF; a block cut short gives
// io.ErrUnexpectedEOF.
func (n *ngReader) readBlock() (uint32, []byte, error) {
	var hdr [12]byte
	if k, err := io.ReadFull(n.r, hdr[:8]); err != nil {
		if k == 0 && err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("%w: pcapng: block header: %w", pcap.ErrFormat, noEOF(err))
	}
	if binary.LittleEndian.Uint32(hdr[:4]) == ngSectionHeader {
		// The byte order is in the section header's body (§4.1).
		if _, err := io.ReadFull(n.r, hdr[8:12]); err != nil {
			return 0, nil, fmt.Errorf("%w: pcapng: section header: %w", pcap.ErrFormat, noEOF(err))
		}
		switch {
		case binary.LittleEndian.Uint32(hdr[8:]) == ngByteOrder:
			n.order = binary.LittleEndian
		case binary.BigEndian.Uint32(hdr[8:]) == ngByteOrder:
			n.order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("%w: pcapng: byte-order magic % x", pcap.ErrFormat, hdr[8:12])
		}
		n.ifaces = n.ifaces[:0]
	} else if n.order == nil {
		return 0, nil, fmt.Errorf("%w: magic number % x is neither pcap's nor pcapng's", pcap.ErrFormat, hdr[:4])
	}
	typ, total := n.order.Uint32(hdr[:4]), n.order.Uint32(hdr[4:8])
	read := uint32(8)
	if typ == ngSectionHeader {
		read = 12
	}
	if total < 12 || total < read+4 || total%4 != 0 || total > ngMaxBlock {
		return 0, nil, fmt.Errorf("%w: pcapng: block of type %#x with length %d", pcap.ErrFormat, typ, total)
	}
	if cap(n.buf) < int(total) {
		n.buf = make([]byte, total)
	}
	b := n.buf[:total]
	copy(b, hdr[:read])
	if _, err := io.ReadFull(n.r, b[read:]); err != nil {
		return 0, nil, fmt.Errorf("%w: pcapng: block of type %#x, %d bytes: %w", pcap.ErrFormat, typ, total, noEOF(err))
	}
	if trailer := n.order.Uint32(b[total-4:]); trailer != total {
		return 0, nil, fmt.Errorf("%w: pcapng: block of type %#x says length %d at its start and %d at its end", pcap.ErrFormat, typ, total, trailer)
	}
	n.off += int64(total)
	n.block++
	return typ, b[8 : total-4], nil
}

// next returns the next packet. At the end of the file it returns
// io.EOF; any other error means the file is cut short or damaged there.
func (n *ngReader) next() (ngRecord, error) {
	for {
		typ, body, err := n.readBlock()
		if err != nil {
			return ngRecord{}, err
		}
		switch typ {
		case ngInterface:
			if err := n.addInterface(body); err != nil {
				return ngRecord{}, err
			}
		case ngEnhanced, ngPacketOld:
			// Interface ID (32 bits; 16 + 16 drops count in the old
			// block), timestamp high and low, captured and original
			// lengths, the data padded to 32 bits, options (§4.3, §A.1).
			if len(body) < 20 {
				return ngRecord{}, fmt.Errorf("%w: pcapng: packet block of %d bytes", pcap.ErrFormat, len(body))
			}
			id := n.order.Uint32(body)
			if typ == ngPacketOld {
				id = uint32(n.order.Uint16(body))
			}
			capLen := n.order.Uint32(body[12:])
			if id >= uint32(len(n.ifaces)) {
				return ngRecord{}, fmt.Errorf("%w: pcapng: packet on interface %d, %d described", pcap.ErrFormat, id, len(n.ifaces))
			}
			if uint64(capLen) > uint64(len(body)-20) {
				return ngRecord{}, fmt.Errorf("%w: pcapng: packet of %d bytes in a block of %d", pcap.ErrFormat, capLen, len(body)+12)
			}
			d := &n.ifaces[id]
			ts := uint64(n.order.Uint32(body[4:]))<<32 | uint64(n.order.Uint32(body[8:]))
			n.last = d.time(ts)
			return ngRecord{time: n.last, iface: d, data: body[20 : 20+capLen]}, nil
		case ngSimplePacket:
			// Original length, then the data, truncated to the first
			// interface's snapshot length; no timestamp (§4.4).
			if len(body) < 4 || len(n.ifaces) == 0 {
				return ngRecord{}, fmt.Errorf("%w: pcapng: simple packet block without an interface", pcap.ErrFormat)
			}
			d := &n.ifaces[0]
			capLen := uint64(n.order.Uint32(body))
			if d.snapLen != 0 {
				capLen = min(capLen, uint64(d.snapLen))
			}
			capLen = min(capLen, uint64(len(body)-4))
			return ngRecord{time: n.last, iface: d, data: body[4 : 4+capLen]}, nil
		}
	}
}

// addInterface reads an Interface Description Block (§4.2): link type,
// reserved, snapshot length, then options, of which if_tsresol and
// if_tsoffset matter here.
func (n *ngReader) addInterface(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("%w: pcapng: interface description of %d bytes", pcap.ErrFormat, len(body))
	}
	if len(n.ifaces) >= ngMaxInterfaces {
		return fmt.Errorf("%w: pcapng: more than %d interfaces", pcap.ErrFormat, ngMaxInterfaces)
	}
	d := ngInterfaceDesc{linkType: pcap.LinkType(n.order.Uint16(body)), snapLen: n.order.Uint32(body[4:]), resol: 6}
	opts := body[8:]
	for len(opts) >= 4 {
		code, l := n.order.Uint16(opts), int(n.order.Uint16(opts[2:]))
		if code == 0 { // opt_endofopt
			break
		}
		if 4+l > len(opts) {
			return fmt.Errorf("%w: pcapng: interface option %d of %d bytes overruns its block", pcap.ErrFormat, code, l)
		}
		v := opts[4 : 4+l]
		switch {
		case code == ngOptTSResol && l == 1:
			d.resol, d.pow2 = v[0]&0x7f, v[0]&0x80 != 0
		case code == ngOptTSOffset && l == 8:
			d.offset = int64(n.order.Uint64(v))
		}
		opts = opts[min(len(opts), 4+(l+3)&^3):]
	}
	n.ifaces = append(n.ifaces, d)
	return nil
}

// noEOF turns io.EOF, within a block or record, into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
