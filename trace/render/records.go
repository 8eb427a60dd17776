package render

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/seqack/seqack/link/pcap"
)

// record is one packet of a capture file, whatever its format.
type record struct {
	time       time.Time
	data       []byte // valid until the next record is read
	linkType   pcap.LinkType
	resolution time.Duration // of the timestamp; 0 below a nanosecond
}

// recordSource reads a capture file's packets one at a time.
type recordSource interface {
	// next returns the next packet; io.EOF at the end of the file, any
	// other error where the file is cut short or damaged.
	next() (record, error)
	// offset and record locate the record next would read (or failed
	// to): its byte offset in the file and its number, from 1.
	offset() int64
	record() int
	// unit names what record counts: "record" or "block".
	unit() string
}

// pcapngMagic begins a pcapng file: a Section Header Block's type, the
// same in both byte orders.
var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// openRecords reads a capture file's header, telling pcapng from
// classic pcap by its first four bytes.
func openRecords(r io.Reader) (recordSource, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(4); bytes.Equal(magic, pcapngMagic) {
		ng, err := newNgReader(br)
		if err != nil {
			return nil, err
		}
		return &ngSource{ng: ng}, nil
	}
	return newPcapSource(br)
}

// pcapSource reads a classic pcap file (www.tcpdump.org/manpages/pcap-
// savefile.5.html) into one buffer it reuses, so that reading a large
// file makes no garbage per record.
type pcapSource struct {
	r        io.Reader
	order    binary.ByteOrder
	res      time.Duration
	linkType pcap.LinkType
	snapLen  uint32
	buf      []byte
	at       int64 // offset of the next record
	n        int   // records read
}

// Classic pcap's magic numbers, as written in the writer's byte order.
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	pcapMaxRecord  = 1 << 24 // bounds a record whatever the header says
)

// newPcapSource reads a classic pcap file's header.
func newPcapSource(r io.Reader) (*pcapSource, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: file header: %w", pcap.ErrFormat, err)
	}
	s := &pcapSource{r: r, at: 24}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(h[0:]) {
		case pcapMagicMicro:
			s.order, s.res = order, time.Microsecond
		case pcapMagicNano:
			s.order, s.res = order, time.Nanosecond
		}
	}
	if s.order == nil {
		return nil, fmt.Errorf("%w: magic number % x is neither pcap's nor pcapng's", pcap.ErrFormat, h[0:4])
	}
	if major := s.order.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("%w: version %d.%d", pcap.ErrFormat, major, s.order.Uint16(h[6:]))
	}
	s.snapLen = s.order.Uint32(h[16:])
	// The top bits of the link-type field may carry FCS information
	// (draft-ietf-opsawg-pcap §4); the type is the low 28.
	s.linkType = pcap.LinkType(s.order.Uint32(h[20:]) & 0x0fffffff)
	if _, ok := linkHeader(s.linkType); !ok {
		return nil, fmt.Errorf("render: link type %d is not read: want raw IP, Ethernet, Linux cooked or loopback", s.linkType)
	}
	return s, nil
}

func (s *pcapSource) next() (record, error) {
	var h [16]byte
	if k, err := io.ReadFull(s.r, h[:]); err != nil {
		if k == 0 && err == io.EOF {
			return record{}, io.EOF
		}
		return record{}, fmt.Errorf("%w: record header: %w", pcap.ErrFormat, noEOF(err))
	}
	sec, frac := s.order.Uint32(h[0:]), s.order.Uint32(h[4:])
	incl := s.order.Uint32(h[8:])
	if incl > pcapMaxRecord || incl > max(s.snapLen, pcap.SnapLen) {
		return record{}, fmt.Errorf("%w: record of %d bytes, snapshot length %d", pcap.ErrFormat, incl, s.snapLen)
	}
	if cap(s.buf) < int(incl) {
		s.buf = make([]byte, incl)
	}
	data := s.buf[:incl]
	if _, err := io.ReadFull(s.r, data); err != nil {
		return record{}, fmt.Errorf("%w: record data: %w", pcap.ErrFormat, noEOF(err))
	}
	s.at += 16 + int64(incl)
	s.n++
	return record{time: time.Unix(int64(sec), int64(frac)*int64(s.res)), data: data, linkType: s.linkType, resolution: s.res}, nil
}

func (s *pcapSource) offset() int64 { return s.at }
func (s *pcapSource) record() int   { return s.n + 1 }
func (s *pcapSource) unit() string  { return "record" }

// ngSource reads a pcapng file.
type ngSource struct{ ng *ngReader }

func (s *ngSource) next() (record, error) {
	r, err := s.ng.next()
	if err != nil {
		return record{}, err
	}
	return record{time: r.time, data: r.data, linkType: r.iface.linkType, resolution: r.iface.unit()}, nil
}

func (s *ngSource) offset() int64 { return s.ng.off }
func (s *ngSource) record() int   { return s.ng.block + 1 }
func (s *ngSource) unit() string  { return "block" }
