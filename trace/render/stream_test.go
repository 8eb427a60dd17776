package render_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

// loopReader returns head, then body over and over until size bytes
// have been read, sampling the heap as it goes: a capture file of any
// size that takes no memory of its own.
type loopReader struct {
	head, body []byte
	size, off  int64
	nextSample int64
	peak       uint64
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.off >= l.size {
		return 0, io.EOF
	}
	if l.off >= l.nextSample {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		l.peak = max(l.peak, ms.HeapAlloc)
		l.nextSample += 2 << 20
	}
	var src []byte
	if l.off < int64(len(l.head)) {
		src = l.head[l.off:]
	} else {
		src = l.body[(l.off-int64(len(l.head)))%int64(len(l.body)):]
	}
	n := copy(p, src)
	n = int(min(int64(n), l.size-l.off))
	l.off += int64(n)
	return n, nil
}

// Listing the connections of a 50 MB capture reads it record by record:
// the heap grows by far less than the file's size, pcap or pcapng.
func TestReadCaptureStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100 MB")
	}
	const size = 50 << 20
	var pkts [][]byte
	for conn := range 4 {
		pkt := make([]byte, 1500)
		h := wire.TCPHeader{SrcPort: uint16(40000 + conn), DstPort: 80, Seq: 1, Ack: 1, Flags: wire.FlagACK, Window: 1000}
		n, err := wire.BuildTCPPacket(pkt, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 64, &h, make([]byte, 1400))
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, pkt[:n])
	}
	var classic bytes.Buffer
	w, _ := pcap.NewWriter(&classic, pcap.LinkTypeRaw)
	for i, p := range pkts {
		w.WritePacket(time.Unix(int64(i), 0), p)
	}
	w.Flush()
	ng := &ngFile{order: binary.LittleEndian}
	ng.section()
	ng.iface(101, -1)
	ngHead := append([]byte(nil), ng.b.Bytes()...)
	ng.b.Reset()
	for i, p := range pkts {
		ng.packet(0, uint64(i), p)
	}
	for _, c := range []struct {
		name       string
		head, body []byte
	}{
		{"pcap", classic.Bytes()[:24], classic.Bytes()[24:]},
		{"pcapng", ngHead, ng.b.Bytes()},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			// Whole records only: the file ends where a record does.
			r := &loopReader{head: c.head, body: c.body, size: int64(len(c.head)) + size/int64(len(c.body))*int64(len(c.body))}
			capture, err := render.ReadCapture(r, render.ReadOptions{Keep: func(int) bool { return false }})
			if err != nil {
				t.Fatal(err)
			}
			growth := int64(r.peak) - int64(before.HeapAlloc)
			t.Logf("%d MB read, %d records, %d connections; heap grew by at most %.1f MB", size>>20, capture.Records, len(capture.Conns), float64(growth)/(1<<20))
			if len(capture.Conns) != 4 || capture.Records < size/1600 || capture.Cut != nil {
				t.Errorf("%d connections, %d records, cut %v", len(capture.Conns), capture.Records, capture.Cut)
			}
			if growth > 4<<20 {
				t.Errorf("heap grew by %.1f MB reading a %d MB capture: it is not streamed", float64(growth)/(1<<20), size>>20)
			}
		})
	}
}
