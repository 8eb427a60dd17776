package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// toPcapng rewrites a classic nanosecond pcap file as pcapng, as
// Wireshark's dumpcap writes it: a section header, one interface
// (nanosecond if_tsresol) and an Enhanced Packet Block per record.
func toPcapng(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	var out []byte
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		total := uint32(12 + len(body))
		out = le.AppendUint32(le.AppendUint32(out, typ), total)
		out = le.AppendUint32(append(out, body...), total)
	}
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint64(le.AppendUint32(shb, 1), ^uint64(0))
	block(0x0a0d0d0a, shb)
	idb := le.AppendUint32(le.AppendUint32(nil, le.Uint32(data[20:])), 262144)
	idb = append(le.AppendUint32(idb, 9<<0|1<<16), 9, 0, 0, 0, 0, 0, 0, 0) // if_tsresol 9, then end of options
	block(1, idb)
	for rest := data[24:]; len(rest) >= 16; {
		sec, nsec, n := le.Uint32(rest), le.Uint32(rest[4:]), le.Uint32(rest[8:])
		ts := uint64(sec)*1e9 + uint64(nsec)
		epb := le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, 0), uint32(ts>>32)), uint32(ts))
		epb = le.AppendUint32(le.AppendUint32(epb, n), n)
		block(6, append(epb, rest[16:16+n]...))
		rest = rest[16+n:]
	}
	ng := strings.TrimSuffix(path, ".pcap") + ".pcapng"
	if err := os.WriteFile(ng, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return ng
}

// What a network engineer's captures need (issue 17): pcapng, a capture
// cut short, inferred states, microsecond times, labels without the
// timestamps option, and windows scaled only when the handshake says how.
func TestTraceRealCaptures(t *testing.T) {
	raw := writeCapture(t, "lost-fin", false)
	ng := toPcapng(t, raw)
	data, _ := os.ReadFile(raw)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)-30], 0o644)
	ts := writeScaledCapture(t, 0)
	mid := writeScaledCapture(t, 3)
	for _, c := range []cliCase{
		{name: "pcapng", args: []string{"trace", ng}, status: exitOK,
			stdout: []string{"connection 1 of 2: 10.0.0.1:40000 ↔ 10.0.0.2:80", "F. 1:1(0) ack 1 (retransmit)"}},
		{name: "pcapng list", args: []string{"trace", "--list", ng}, status: exitOK,
			stdout: []string{"2  10.0.0.3:5555 ↔ 10.0.0.2:80   1 packets"}},
		{name: "cut short", args: []string{"trace", cut, "--ascii"}, status: exitOK,
			stdout: []string{"S 0:0(0) <mss 1460>", "the capture ends at byte"},
			stderr: []string{"warning: " + cut + ": the capture ends at byte", "record 9 is cut short"}},
		{name: "inferred states", args: []string{"trace", raw}, status: exitOK,
			stdout: []string{"CLOSED (inferred)", "LISTEN (inferred)", "SYN_SENT (inferred)", "FIN_WAIT_2 (inferred)", "TIME_WAIT (inferred)", "LAST_ACK (inferred)"}},
		{name: "html states", args: []string{"trace", raw, "--format", "html"}, status: exitOK,
			stdout: []string{"<td class=\"st\">FIN_WAIT_1 (inferred)</td>"}},
		{name: "microseconds", args: []string{"trace", raw}, status: exitOK,
			stdout: []string{" 0.010000 "}},
		{name: "unscaled window", args: []string{"trace", raw, "--window"}, status: exitOK,
			stdout: []string{". 1:1(0) ack 1 win 65535 ─"}},
		{name: "window scale unknown", args: []string{"trace", mid, "--window"}, status: exitOK,
			stdout: []string{"the capture does not hold the handshake: windows are shown as on the wire", "P. 1001:1101(100) ack 5001 win 502 ",
				"ESTABLISHED (capture began mid-connection)"}},
		{name: "no-ts", args: []string{"trace", ts, "--no-ts"}, status: exitOK,
			stdout: []string{"S 0:0(0) <mss 1460,sackOK,wscale 7>", ". 1:1(0) ack 1 ─"}},
		{name: "ts", args: []string{"trace", ts}, status: exitOK,
			stdout: []string{". 1:1(0) ack 1 <TS val 101 ecr 7>"}},
		{name: "scaled window", args: []string{"trace", ts, "--window", "--no-ts"}, status: exitOK,
			stdout: []string{"S 0:0(0) win 64240 <mss", ". 1:1(0) ack 1 win 64256 ─", "F. 1:1(0) ack 101 win 65536 ─"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := runCase(t, c)
			if c.name == "no-ts" && strings.Contains(out, "TS val") {
				t.Errorf("--no-ts left timestamps in:\n%s", out)
			}
		})
	}
}

// writeScaledCapture writes a capture of a handshake with window
// scaling and timestamps, some data and a FIN, as Linux sends them,
// leaving out the first skip packets.
func writeScaledCapture(t *testing.T, skip int) string {
	t.Helper()
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
	tsOpt := func(val, ecr uint32) wire.TCPOptions {
		return wire.TCPOptions{HasTimestamps: true, TSVal: val, TSEcr: ecr}
	}
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []struct {
		us  int
		pkt []byte
	}{
		{0, packet(a, b, 40000, 443, 1000, 0, wire.FlagSYN, 64240, wire.TCPOptions{MSS: 1460, HasMSS: true, SACKPermitted: true, HasTimestamps: true, TSVal: 100, HasWindowScale: true, WindowScale: 7}, 0)},
		{173, packet(b, a, 443, 40000, 5000, 1001, wire.FlagSYN|wire.FlagACK, 65160, wire.TCPOptions{MSS: 1460, HasMSS: true, HasWindowScale: true, WindowScale: 9, HasTimestamps: true, TSVal: 7, TSEcr: 100}, 0)},
		{291, packet(a, b, 40000, 443, 1001, 5001, wire.FlagACK, 502, tsOpt(101, 7), 0)},
		{1402, packet(a, b, 40000, 443, 1001, 5001, wire.FlagACK|wire.FlagPSH, 502, tsOpt(102, 7), 100)},
		{1517, packet(b, a, 443, 40000, 5001, 1101, wire.FlagACK|wire.FlagFIN, 128, tsOpt(8, 102), 0)},
	} {
		if i < skip {
			continue
		}
		if err := w.WritePacket(t0.Add(time.Duration(p.us)*time.Microsecond), p.pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("scaled-%d.pcap", skip))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A capture that Wireshark's dumpcap takes of a Linux connection over
// loopback (pcapng, timestamps and window scaling on) is drawn with the
// states both ends went through and windows scaled. Skipped where
// dumpcap is not installed or may not capture.
func TestTraceDumpcapLoopback(t *testing.T) {
	dumpcap, err := exec.LookPath("dumpcap")
	if err != nil {
		t.Skip("dumpcap (Wireshark) is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	path := filepath.Join(t.TempDir(), "lo.pcapng")
	cmd := exec.Command(dumpcap, "-q", "-i", "lo", "-f", fmt.Sprintf("tcp port %d", port), "-w", path)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Skipf("dumpcap: %v", err)
	}
	defer cmd.Process.Kill()
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "File:") {
				started <- true
			}
		}
		started <- false
	}()
	select {
	case ok := <-started:
		if !ok {
			t.Skip("dumpcap did not start capturing on lo")
		}
	case <-time.After(10 * time.Second):
		t.Skip("dumpcap did not start capturing on lo within 10 s")
	}
	// A connection: hello, then the client closes first.
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		_, err = io.ReadAll(c)
		c.Close()
		done <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the last ACK, and dumpcap's write
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	var stdout, errOut bytes.Buffer
	if code := run([]string{"trace", path, "--window", "--ascii", "--width", "130"}, &stdout, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	out := stdout.String()
	for _, want := range []string{"LISTEN (inferred)", "SYN_SENT (inferred)", "FIN_WAIT_2 (inferred)", "TIME_WAIT (inferred)", "LAST_ACK (inferred)", "P. 1:6(5) ack 1 win "} {
		if !strings.Contains(out, want) {
			t.Errorf("drawing lacks %q:\n%s", want, out)
		}
	}
	// Linux scales its windows on loopback (wscale 7): unscaled they
	// would be a few hundred.
	segs := regexp.MustCompile(`(?m)^ .*--- ([^S]\S*) .* win (\d+) `).FindAllStringSubmatch(out, -1)
	if len(segs) < 5 {
		t.Errorf("%d segments after the handshake found in the drawing:\n%s", len(segs), out)
	}
	for _, m := range segs {
		if n, _ := strconv.Atoi(m[2]); n < 4096 {
			t.Errorf("%s segment with win %d: not scaled", m[1], n)
		}
	}
}
