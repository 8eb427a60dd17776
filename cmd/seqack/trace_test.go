package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// writeCapture writes the packets a scenario sent as a capture, as a
// tcpdump on the path would have seen them, plus one SYN of another
// connection; ethernet adds an Ethernet header to each record.
func writeCapture(t *testing.T, name string, ethernet bool) string {
	t.Helper()
	s, _ := scenario.Lookup(name)
	res, err := s.Run(scenario.Options{Seed: 1, KeepPackets: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	lt := pcap.LinkTypeRaw
	if ethernet {
		lt = 1
	}
	w, err := pcap.NewWriterNano(&b, lt)
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(at time.Duration, pkt []byte) {
		if ethernet {
			pkt = append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, pkt...)
		}
		if err := w.WritePacket(epoch.Add(at), pkt); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range res.Events {
		if e.Kind == trace.SegmentSent && e.Packet != nil {
			write(e.At, e.Packet)
		}
	}
	// A stray SYN of a second connection.
	pkt := make([]byte, 100)
	h := wire.TCPHeader{SrcPort: 5555, DstPort: 80, Seq: 7, Flags: wire.FlagSYN, Window: 1000}
	n, err := wire.BuildTCPPacket(pkt, netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.2"), 64, &h, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(time.Second, pkt[:n])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".pcap")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTraceCommand(t *testing.T) {
	raw := writeCapture(t, "lost-fin", false)
	eth := writeCapture(t, "lost-fin", true)
	garbage := filepath.Join(t.TempDir(), "garbage.pcap")
	os.WriteFile(garbage, []byte("this is not a capture at all"), 0o644)
	for _, c := range []cliCase{
		{name: "text", args: []string{"trace", raw}, status: exitOK,
			stdout: []string{"connection 1 of 2: 10.0.0.1:40000 ↔ 10.0.0.2:80", "S 0:0(0) <mss 1460>", "F. 1:1(0) ack 1 (retransmit)"}},
		{name: "ethernet", args: []string{"trace", eth, "--format", "mermaid"}, status: exitOK,
			stdout: []string{"participant 10.0.0.1_40000", "10.0.0.1_40000->>10.0.0.2_80: S 0:0(0) #lt;mss 1460#gt;"}},
		{name: "list", args: []string{"trace", "--list", raw}, status: exitOK,
			stdout: []string{"1  10.0.0.1:40000 ↔ 10.0.0.2:80", "2  10.0.0.3:5555 ↔ 10.0.0.2:80   1 packets"}},
		{name: "second connection", args: []string{"trace", raw, "--conn", "2", "--format", "svg"}, status: exitOK,
			stdout: []string{"<svg", ">10.0.0.3:5555<"}},
		{name: "html", args: []string{"trace", raw, "--format", "html", "--lang", "zh"}, status: exitOK,
			stdout: []string{"<!DOCTYPE html>", "重传"}},
		{name: "no such connection", args: []string{"trace", raw, "--conn", "3"}, status: exitUsage, stderr: []string{"has 2 connections"}},
		{name: "no file", args: []string{"trace"}, status: exitUsage, stderr: []string{"want one capture file"}},
		{name: "missing file", args: []string{"trace", "/no/such.pcap"}, status: exitError, stderr: []string{"no such file"}},
		{name: "not a capture", args: []string{"trace", garbage}, status: exitError, stderr: []string{"bad capture file"}},
		{name: "help", args: []string{"trace", "--help"}, status: exitOK, stdout: []string{"Usage: seqack trace"}},
	} {
		t.Run(c.name, func(t *testing.T) { runCase(t, c) })
	}
}
