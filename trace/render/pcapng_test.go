package render_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

// ngFile writes a pcapng file block by block (draft-ietf-opsawg-pcapng),
// in either byte order, as Wireshark's dumpcap does.
type ngFile struct {
	order byteOrder
	b     bytes.Buffer
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// block writes a block: type, total length, body padded to 32 bits,
// total length again.
func (f *ngFile) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	f.b.Write(f.order.AppendUint32(f.order.AppendUint32(nil, typ), total))
	f.b.Write(body)
	f.b.Write(f.order.AppendUint32(nil, total))
}

// section writes a Section Header Block: byte-order magic, version 1.0,
// section length unknown.
func (f *ngFile) section() {
	body := f.order.AppendUint32(nil, 0x1a2b3c4d)
	body = f.order.AppendUint16(body, 1)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint64(body, ^uint64(0))
	f.block(0x0a0d0d0a, body)
}

// iface writes an Interface Description Block; tsresol < 0 leaves the
// resolution at its default (microseconds).
func (f *ngFile) iface(linkType uint16, tsresol int) {
	body := f.order.AppendUint16(nil, linkType)
	body = f.order.AppendUint16(body, 0)
	body = f.order.AppendUint32(body, 262144)
	// if_name, then if_tsresol, then opt_endofopt.
	body = f.order.AppendUint16(body, 2)
	body = f.order.AppendUint16(body, 3)
	body = append(body, "eth0"[:3]...)
	body = append(body, 0)
	if tsresol >= 0 {
		body = f.order.AppendUint16(body, 9)
		body = f.order.AppendUint16(body, 1)
		body = append(body, byte(tsresol), 0, 0, 0)
	}
	body = append(body, 0, 0, 0, 0)
	f.block(1, body)
}

// packet writes an Enhanced Packet Block, with a comment option.
func (f *ngFile) packet(iface uint32, ts uint64, data []byte) {
	body := f.order.AppendUint32(nil, iface)
	body = f.order.AppendUint32(body, uint32(ts>>32))
	body = f.order.AppendUint32(body, uint32(ts))
	body = f.order.AppendUint32(body, uint32(len(data)))
	body = f.order.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	body = f.order.AppendUint16(body, 1) // opt_comment
	body = f.order.AppendUint16(body, 2)
	body = append(body, 'h', 'i', 0, 0, 0, 0, 0, 0)
	f.block(6, body)
}

// simple writes a Simple Packet Block.
func (f *ngFile) simple(data []byte) {
	f.block(3, append(f.order.AppendUint32(nil, uint32(len(data))), data...))
}

// sentPackets returns the packets a scenario sent, with their times.
func sentPackets(t *testing.T, name string) ([]time.Duration, [][]byte) {
	t.Helper()
	var at []time.Duration
	var pkts [][]byte
	for _, e := range runEvents(t, name) {
		if e.Kind == trace.SegmentSent && e.Packet != nil {
			at, pkts = append(at, e.At), append(pkts, e.Packet)
		}
	}
	return at, pkts
}

// summary lists a capture's connections and segments, one per line,
// with times to the nanosecond, for comparing two readings.
func summary(t *testing.T, c *render.Capture) string {
	t.Helper()
	var b strings.Builder
	for _, cc := range c.Conns {
		b.WriteString(cc.First.String() + " ↔ " + cc.Second.String() + "\n")
		for _, e := range cc.Events {
			if e.Kind == trace.SegmentSent {
				b.WriteString(e.At.String() + " " + e.Host + " " + e.Segment.String() + "\n")
			}
		}
	}
	return b.String()
}

// A pcapng file — either byte order, a nanosecond or the default
// microsecond resolution, Ethernet or raw IP interfaces, Enhanced and
// Simple Packet Blocks, blocks the reader does not need between them —
// reads as the classic pcap of the same packets does.
func TestReadPcapng(t *testing.T) {
	at, pkts := sentPackets(t, "lost-fin")
	var classic bytes.Buffer
	w, _ := pcap.NewWriterNano(&classic, pcap.LinkTypeRaw)
	for i, p := range pkts {
		w.WritePacket(render.PcapEpoch.Add(at[i]), p)
	}
	w.Flush()
	want, err := render.ReadPcap(&classic)
	if err != nil {
		t.Fatal(err)
	}
	eth := func(p []byte) []byte { return append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, p...) }
	epoch := uint64(render.PcapEpoch.UnixNano())
	for _, c := range []struct {
		name  string
		order byteOrder
		nano  bool
	}{
		{"little-endian nanoseconds", binary.LittleEndian, true},
		{"big-endian microseconds", binary.BigEndian, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &ngFile{order: c.order}
			f.section()
			f.block(4, []byte{0, 0, 0, 0}) // a Name Resolution Block: skipped
			res := -1
			if c.nano {
				res = 9
			}
			f.iface(1, res)   // Ethernet
			f.iface(101, res) // raw IP
			for i, p := range pkts {
				ts := epoch + uint64(at[i])
				if !c.nano {
					ts /= 1000
				}
				f.packet(uint32(i%2), ts, map[bool][]byte{true: eth(p), false: p}[i%2 == 0])
			}
			got, err := render.ReadPcap(bytes.NewReader(f.b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			wantRes := time.Nanosecond
			if !c.nano {
				wantRes = time.Microsecond // and the simulator's times are whole microseconds
			}
			if got.Resolution != wantRes || got.Cut != nil || got.Records != len(pkts) {
				t.Errorf("resolution %v, cut %v, %d records; want %v, nil, %d", got.Resolution, got.Cut, got.Records, wantRes, len(pkts))
			}
			if s, w := summary(t, got), summary(t, want); s != w {
				t.Errorf("read:\n%s\nwant:\n%s", s, w)
			}
		})
	}

	// A Simple Packet Block has no time: it takes the previous packet's.
	f := &ngFile{order: binary.LittleEndian}
	f.section()
	f.iface(101, -1)
	f.packet(0, 5_000_000, pkts[0])
	f.simple(pkts[1])
	// A second section, big-endian, with an interface of its own.
	f.order = binary.BigEndian
	f.section()
	f.iface(101, 3) // milliseconds
	f.packet(0, 6000, pkts[2])
	got, err := render.ReadPcap(bytes.NewReader(f.b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ev := segmentEvents(got.Conns[0].Events)
	if len(ev) != 6 || ev[0].At != 0 || ev[2].At != 0 || ev[4].At != time.Second || got.Resolution != time.Microsecond {
		t.Errorf("simple packet and sections: %d events, times %v %v %v, resolution %v", len(ev), ev[0].At, ev[2].At, ev[4].At, got.Resolution)
	}
}

// A small handshake in pcapng, drawn: the golden file shows the
// microsecond times, the inferred states and the scaled windows.
func TestReadPcapngGolden(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	packet := func(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags wire.TCPFlags, win uint16, opts wire.TCPOptions, n int) []byte {
		pkt := make([]byte, 2000)
		h := wire.TCPHeader{SrcPort: sport, DstPort: dport, Seq: seq, Ack: ack, Flags: flags, Window: win, Options: opts}
		k, err := wire.BuildTCPPacket(pkt, src, dst, 64, &h, make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		return pkt[:k]
	}
	syn := wire.TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, HasTimestamps: true, TSVal: 100, HasWindowScale: true, WindowScale: 7}
	ts := func(val, ecr uint32) wire.TCPOptions {
		return wire.TCPOptions{HasTimestamps: true, TSVal: val, TSEcr: ecr}
	}
	f := &ngFile{order: binary.LittleEndian}
	f.section()
	f.iface(101, -1)
	const base = 1_700_000_000_000_000 // microseconds
	for _, p := range []struct {
		us  uint64
		pkt []byte
	}{
		{0, packet(a, b, 40000, 443, 1000, 0, wire.FlagSYN, 64240, syn, 0)},
		{173, packet(b, a, 443, 40000, 5000, 1001, wire.FlagSYN|wire.FlagACK, 65160, wire.TCPOptions{MSS: 1460, HasMSS: true, HasWindowScale: true, WindowScale: 9, HasTimestamps: true, TSVal: 7, TSEcr: 100}, 0)},
		{291, packet(a, b, 40000, 443, 1001, 5001, wire.FlagACK, 502, ts(101, 7), 0)},
		{1402, packet(a, b, 40000, 443, 1001, 5001, wire.FlagACK|wire.FlagPSH, 502, ts(102, 7), 100)},
		{1517, packet(b, a, 443, 40000, 5001, 1101, wire.FlagACK|wire.FlagFIN, 128, ts(8, 102), 0)},
		{1623, packet(a, b, 40000, 443, 1101, 5002, wire.FlagACK, 502, ts(103, 8), 0)},
	} {
		f.packet(0, base+p.us, p.pkt)
	}
	c, err := render.ReadPcap(bytes.NewReader(f.b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Conns[0]
	if !cc.Handshake {
		t.Error("the handshake is not seen as captured")
	}
	var text bytes.Buffer
	err = render.Text(&text, cc.Events, render.TextOptions{ASCII: true, Width: 110, Window: true, Microseconds: c.Resolution <= time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pcapng-handshake.golden", text.Bytes())
}

// A capture cut short, pcap or pcapng, is drawn up to where it ends,
// and Cut says where: the byte offset and the record.
func TestReadCaptureCut(t *testing.T) {
	at, pkts := sentPackets(t, "lost-fin")
	var classic bytes.Buffer
	w, _ := pcap.NewWriterNano(&classic, pcap.LinkTypeRaw)
	offsets := []int64{24}
	for i, p := range pkts {
		w.WritePacket(render.PcapEpoch.Add(at[i]), p)
		offsets = append(offsets, offsets[i]+16+int64(len(p)))
	}
	w.Flush()
	ng := &ngFile{order: binary.LittleEndian}
	ng.section()
	ng.iface(101, 9)
	ngOffsets := []int64{int64(ng.b.Len())}
	for i, p := range pkts {
		ng.packet(0, uint64(at[i]), p)
		ngOffsets = append(ngOffsets, int64(ng.b.Len()))
	}
	const keep = 5 // packets left whole
	for _, c := range []struct {
		name   string
		file   []byte
		offset int64
		record int
	}{
		{"pcap in a record's data", classic.Bytes()[:offsets[keep]+20], offsets[keep], keep + 1},
		{"pcap in a record's header", classic.Bytes()[:offsets[keep]+3], offsets[keep], keep + 1},
		{"pcapng in a block", ng.b.Bytes()[:ngOffsets[keep]+30], ngOffsets[keep], keep + 3},
		{"pcapng in a block header", ng.b.Bytes()[:ngOffsets[keep]+5], ngOffsets[keep], keep + 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := render.ReadPcap(bytes.NewReader(c.file))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if got.Cut == nil || got.Cut.Offset != c.offset || got.Cut.Record != c.record || !errors.Is(got.Cut, io.ErrUnexpectedEOF) {
				t.Fatalf("cut %v, want at byte %d, record %d", got.Cut, c.offset, c.record)
			}
			cc := got.Conns[0]
			if cc.Packets != keep {
				t.Errorf("%d packets read, want %d", cc.Packets, keep)
			}
			last := cc.Events[len(cc.Events)-1]
			if last.Kind != trace.Note || !strings.Contains(last.Text, "ends at byte") {
				t.Errorf("last event %+v, want a note of where the capture ends", last)
			}
		})
	}
	// A damaged length is said as such, not as a cut.
	bad := append([]byte(nil), ng.b.Bytes()...)
	binary.LittleEndian.PutUint32(bad[ngOffsets[2]+4:], 7)
	got, err := render.ReadPcap(bytes.NewReader(bad))
	if err != nil || got.Cut == nil || !strings.Contains(got.Cut.Error(), "block 5 is damaged") || got.Conns[0].Packets != 2 {
		t.Errorf("damaged block: %v, cut %v", err, got.Cut)
	}
}

// A capture tshark's editcap converted to pcapng reads as the pcap it
// came from (skipped where Wireshark's tools are not installed).
func TestReadPcapngFromEditcap(t *testing.T) {
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap (Wireshark) is not installed")
	}
	at, pkts := sentPackets(t, "lost-final-ack")
	dir := t.TempDir()
	var classic bytes.Buffer
	w, _ := pcap.NewWriterNano(&classic, pcap.LinkTypeRaw)
	for i, p := range pkts {
		w.WritePacket(render.PcapEpoch.Add(at[i]), p)
	}
	w.Flush()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcapng")
	if err := os.WriteFile(in, classic.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(editcap, "-F", "pcapng", in, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Fatalf("editcap wrote no pcapng: % x", data[:8])
	}
	want, _ := render.ReadPcap(bytes.NewReader(classic.Bytes()))
	got, err := render.ReadPcap(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if s, w := summary(t, got), summary(t, want); s != w || got.Cut != nil {
		t.Errorf("cut %v; read:\n%s\nwant:\n%s", got.Cut, s, w)
	}
}

// FuzzReadPcapng: whatever the bytes, reading a pcapng (or pcap) file
// returns a capture or an error, never panics, a capture's packets are
// all accounted for, and each connection draws.
func FuzzReadPcapng(f *testing.F) {
	ng := &ngFile{order: binary.LittleEndian}
	ng.section()
	ng.iface(101, 9)
	ng.iface(1, 0x8a)
	pkt := make([]byte, 60)
	h := wire.TCPHeader{SrcPort: 1, DstPort: 2, Seq: 3, Flags: wire.FlagSYN, Window: 1000}
	n, _ := wire.BuildTCPPacket(pkt, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 64, &h, nil)
	ng.packet(0, 1e9, pkt[:n])
	ng.simple(pkt[:n])
	f.Add(ng.b.Bytes())
	be := &ngFile{order: binary.BigEndian}
	be.section()
	be.iface(101, -1)
	be.packet(0, 12345, pkt[:n])
	f.Add(be.b.Bytes())
	var classic bytes.Buffer
	w, _ := pcap.NewWriter(&classic, pcap.LinkTypeRaw)
	w.WritePacket(time.Unix(1, 0), pkt[:n])
	w.Flush()
	f.Add(classic.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := render.ReadPcap(bytes.NewReader(data))
		if err != nil {
			return
		}
		total := c.Skipped
		for _, cc := range c.Conns {
			total += cc.Packets
		}
		if total != c.Records {
			t.Errorf("%d records, %d accounted for", c.Records, total)
		}
		// The inferred states and the drawing take any segments.
		for _, cc := range c.Conns {
			if err := render.Text(io.Discard, cc.Events, render.TextOptions{Window: true, Microseconds: true}); err != nil {
				t.Errorf("drawing %v ↔ %v: %v", cc.First, cc.Second, err)
			}
		}
	})
}
