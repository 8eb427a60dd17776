package render

import (
	"bufio"
	"bytes"
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
	cr := &countingReader{r: br}
	pr, err := pcap.NewReader(cr)
	if err != nil {
		return nil, err
	}
	if _, ok := linkHeader(pr.LinkType()); !ok {
		return nil, fmt.Errorf("render: link type %d is not read: want raw IP, Ethernet, Linux cooked or loopback", pr.LinkType())
	}
	res := time.Microsecond
	if pr.Nanosecond() {
		res = time.Nanosecond
	}
	return &pcapSource{pr: pr, cr: cr, res: res, at: cr.n}, nil
}

// pcapSource reads a classic pcap file.
type pcapSource struct {
	pr  *pcap.Reader
	cr  *countingReader
	res time.Duration
	at  int64 // offset of the next record
	n   int   // records read
}

func (s *pcapSource) next() (record, error) {
	s.at = s.cr.n
	p, err := s.pr.ReadPacket()
	if err != nil {
		return record{}, err
	}
	s.n++
	return record{time: p.Time, data: p.Data, linkType: s.pr.LinkType(), resolution: s.res}, nil
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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
