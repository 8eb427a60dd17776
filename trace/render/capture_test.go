package render_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

// runEvents runs a scenario with its packets kept.
func runEvents(t *testing.T, name string) []trace.Event {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	res, err := s.Run(scenario.Options{Seed: 1, KeepPackets: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

// A run written by Pcap reads back as one connection whose segments
// are those the run sent, in order, each once per copy on the wire.
func TestPcapRoundTrip(t *testing.T) {
	events := runEvents(t, "lost-fin")
	var sent []string
	for _, e := range events {
		if e.Kind == trace.SegmentSent {
			sent = append(sent, e.Segment.String())
		}
	}
	var b bytes.Buffer
	if err := render.Pcap(&b, events); err != nil {
		t.Fatal(err)
	}
	c, err := render.ReadPcap(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Conns) != 1 || c.Skipped != 0 {
		t.Fatalf("%d connections, %d skipped; want 1, 0", len(c.Conns), c.Skipped)
	}
	cc := c.Conns[0]
	if !cc.HasSYN || cc.First.String() != "10.0.0.1:40000" || cc.Second.String() != "10.0.0.2:80" || cc.Packets != len(sent) {
		t.Errorf("got %v ↔ %v, SYN %v, %d packets; want 10.0.0.1:40000 ↔ 10.0.0.2:80 from its SYN, %d packets",
			cc.First, cc.Second, cc.HasSYN, cc.Packets, len(sent))
	}
	var got []string
	for i, e := range segmentEvents(cc.Events) {
		want := trace.SegmentSent
		if i%2 == 1 {
			want = trace.SegmentDelivered
		}
		if e.Kind != want || e.ID != i/2+1 {
			t.Errorf("event %d: kind %v id %d, want %v id %d", i, e.Kind, e.ID, want, i/2+1)
		}
		if e.Kind == trace.SegmentSent {
			got = append(got, e.Segment.String())
		}
	}
	if strings.Join(got, "\n") != strings.Join(sent, "\n") {
		t.Errorf("segments read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sent, "\n"))
	}
	var text bytes.Buffer
	if err := render.Text(&text, cc.Events, render.TextOptions{ASCII: true}); err != nil || !strings.Contains(text.String(), "F. 1:1(0) ack 1 (retransmit)") {
		t.Errorf("drawing the capture: %v\n%s", err, text.String())
	}
}

// segmentEvents returns the segment events of events, without the
// states inferred between them.
func segmentEvents(events []trace.Event) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Kind == trace.SegmentSent || e.Kind == trace.SegmentDelivered {
			out = append(out, e)
		}
	}
	return out
}

// Events recorded without packets give ErrNoPackets, not an empty file.
func TestPcapNoPackets(t *testing.T) {
	events := []trace.Event{{Kind: trace.SegmentSent, Host: "a", ID: 1}}
	if err := render.Pcap(&bytes.Buffer{}, events); !errors.Is(err, render.ErrNoPackets) {
		t.Errorf("err = %v, want ErrNoPackets", err)
	}
}

// ReadPcap strips Ethernet headers (with a VLAN tag), counts and skips
// what is not TCP over IP, keeps connections apart and picks the one
// that starts with a SYN.
func TestReadPcapLinkTypesAndJunk(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	tcpPacket := func(src, dst netip.Addr, sport, dport uint16, flags wire.TCPFlags) []byte {
		pkt := make([]byte, 100)
		h := wire.TCPHeader{SrcPort: sport, DstPort: dport, Seq: 7, Flags: flags, Window: 1000}
		n, err := wire.BuildTCPPacket(pkt, src, dst, 64, &h, nil)
		if err != nil {
			t.Fatal(err)
		}
		return pkt[:n]
	}
	ether := func(typ0, typ1 byte, vlan bool, p []byte) []byte {
		h := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		if vlan {
			h = append(h, 0x81, 0x00, 0x00, 0x05)
		}
		return append(append(h, typ0, typ1), p...)
	}
	var file bytes.Buffer
	w, err := pcap.NewWriterNano(&file, 1) // LINKTYPE_ETHERNET
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, rec := range [][]byte{
		ether(0x08, 0x00, false, tcpPacket(b, a, 80, 5000, wire.FlagACK)), // connection 1, mid-stream
		ether(0x08, 0x06, false, make([]byte, 28)),                        // ARP: skipped
		ether(0x08, 0x00, true, tcpPacket(a, b, 6000, 80, wire.FlagSYN)),  // connection 2, from its SYN
		{1, 2, 3}, // shorter than a header: skipped
		ether(0x08, 0x00, false, []byte{0x45, 0, 0, 20}),                              // truncated IP: skipped
		ether(0x08, 0x00, false, tcpPacket(a, b, 5000, 80, wire.FlagACK)),             // connection 1 again
		ether(0x08, 0x00, true, tcpPacket(b, a, 80, 6000, wire.FlagSYN|wire.FlagACK)), // connection 2
	} {
		if err := w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	c, err := render.ReadPcap(&file)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Conns) != 2 || c.Skipped != 3 || c.Main() != 1 {
		t.Fatalf("%d connections, %d skipped, main %d; want 2, 3, 1", len(c.Conns), c.Skipped, c.Main())
	}
	c1, c2 := c.Conns[0], c.Conns[1]
	if c1.HasSYN || c1.First.String() != "10.0.0.2:80" || c1.Packets != 2 {
		t.Errorf("connection 1: %v ↔ %v, SYN %v, %d packets", c1.First, c1.Second, c1.HasSYN, c1.Packets)
	}
	if !c2.HasSYN || c2.First.String() != "10.0.0.1:6000" || c2.Second.String() != "10.0.0.2:80" || c2.Packets != 2 {
		t.Errorf("connection 2: %v ↔ %v, SYN %v, %d packets", c2.First, c2.Second, c2.HasSYN, c2.Packets)
	}
	if at := segmentEvents(c2.Events)[2].At; at != 6*time.Millisecond {
		t.Errorf("SYN-ACK at %v, want 6ms after the first TCP packet", at)
	}
}

// A file that is not a capture, and a link type ReadPcap does not read,
// are errors that say so.
func TestReadPcapBadFiles(t *testing.T) {
	if _, err := render.ReadPcap(strings.NewReader("this is not a capture at all")); !errors.Is(err, pcap.ErrFormat) {
		t.Errorf("garbage: err = %v, want pcap.ErrFormat", err)
	}
	var file bytes.Buffer
	w, err := pcap.NewWriter(&file, 105) // LINKTYPE_IEEE802_11
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if _, err := render.ReadPcap(&file); err == nil || !strings.Contains(err.Error(), "link type 105") {
		t.Errorf("802.11: err = %v", err)
	}
}
