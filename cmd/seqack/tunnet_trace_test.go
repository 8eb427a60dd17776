package main

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/echo"
	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// --trace on the default, dual-stack addresses: a connection over IPv4,
// one over IPv6 and a refused one are drawn each in a diagram of its own
// titled with its 4-tuple; the listener's LISTEN is drawn once, as the
// state its connections start in; and the refusal's RST shows the
// sequence number the wire had, 0.
func TestDrawTraceDualStack(t *testing.T) {
	rec := trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: traceMaxEvents, MaxPayloadBytes: traceMaxPayload})
	a, b := pipe.New(1500)
	seqack := stack.New(stack.Options{Trace: rec.Record}) // only seqack is observed, as on a TUN device
	kernel := stack.New(stack.Options{})
	seqack.AddInterface(a, defaultAddrs...)
	kernel.AddInterface(b, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	defer seqack.Close()
	defer kernel.Close()
	ln, err := seqack.Listen("tcp", ":9000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo.Serve(ln)
	for _, addr := range []string{"192.0.2.2:9000", "[2001:db8::2]:9000"} {
		c, err := kernel.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("hi"))
		io.ReadFull(c, make([]byte, 2))
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := seqack.DialContext(ctx, "tcp", "192.0.2.1:9"); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for seqack.NumConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}

	var out bytes.Buffer
	if err := drawTrace(&out, rec); err != nil {
		t.Fatalf("drawTrace: %v\n%s", err, out.String())
	}
	diagrams := regexp.MustCompile(`(?m)^(\S+:\d+) <-> (\S+:\d+)\n`).FindAllStringSubmatchIndex(out.String(), -1)
	if len(diagrams) != 3 {
		t.Fatalf("%d diagrams, want 3 (IPv4, IPv6, refused):\n%s", len(diagrams), out.String())
	}
	text := out.String()
	for i, d := range diagrams {
		end := len(text)
		if i+1 < len(diagrams) {
			end = diagrams[i+1][0]
		}
		title, body := text[d[2]:d[5]], text[d[1]:end]
		switch {
		case strings.HasSuffix(title, "192.0.2.2:9000"), strings.HasSuffix(title, "[2001:db8::2]:9000"):
			// LISTEN once, in the row of initial states, before any arrow.
			if n := strings.Count(body, "LISTEN"); n != 1 {
				t.Errorf("%s: LISTEN drawn %d times, want once:\n%s", title, n, body)
			}
			if strings.Index(body, "LISTEN") > strings.Index(body, "S 0:0(0)") {
				t.Errorf("%s: LISTEN drawn after the SYN:\n%s", title, body)
			}
			for _, want := range []string{"SYN_RCVD", "ESTABLISHED", "P. 1:3(2)"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s lacks %q:\n%s", title, want, body)
				}
			}
		case strings.HasPrefix(title, "192.0.2.2:") && strings.HasSuffix(title, "192.0.2.1:9"):
			if !strings.Contains(body, "R. 0:0(0) ack 1") {
				t.Errorf("%s: the refusal's RST is not R. 0:0(0) ack 1:\n%s", title, body)
			}
		default:
			t.Errorf("unexpected diagram %q:\n%s", title, body)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Log("\n" + text)
	}
}

// drawTrace says when the recorder's bound cut the trace short.
func TestDrawTraceSaysWhatWasDropped(t *testing.T) {
	rec := trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: 1})
	rec.Record(trace.Event{Kind: trace.Note, Text: "one"})
	rec.Record(trace.Event{Kind: trace.Note, Text: "two"})
	var out bytes.Buffer
	if err := drawTrace(&out, rec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "kept the first 1 events and dropped 1 more") {
		t.Errorf("no word of the dropped event:\n%s", out.String())
	}
}

// seqack http --trace --pcap on the default, dual-stack addresses,
// serving curl over IPv4 and IPv6: it exits 0 with a diagram per
// connection; and the capture, taken with the device's offloads on,
// holds the segments over the MTU that seqack handed the kernel (TSO),
// every checksum verifying.
func TestHTTPCommandRecords(t *testing.T) {
	netns.Require(t, "curl")
	ns := netns.New(t)
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	pcapFile := filepath.Join(t.TempDir(), "http.pcap")
	p := startSeqack(t, ns, nil, withKernel("http", "--trace", "--pcap", pcapFile, "--dir", dir, ":8080")...)
	p.waitFor(t, "serving "+dir)
	for _, url := range []string{"http://192.0.2.2:8080/big", "http://[2001:db8::2]:8080/big"} {
		out := ns.Run(t, "curl", "--silent", "--show-error", "--fail", "--globoff", "--max-time", "20", url)
		if len(out) != len(big) {
			t.Errorf("curl %s: %d bytes, want %d", url, len(out), len(big))
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if status := p.wait(t); status != 0 {
		t.Fatalf("status %d after SIGTERM\n%s", status, p.errText())
	}
	stderr := p.errText()
	for _, title := range []string{`192\.0\.2\.1:\d+ <-> 192\.0\.2\.2:8080`, `\[2001:db8::1\]:\d+ <-> \[2001:db8::2\]:8080`} {
		if !regexp.MustCompile(`(?m)^` + title + `$`).MatchString(stderr) {
			t.Errorf("no diagram titled %s:\n%.3000s", title, stderr)
		}
	}
	if strings.Contains(stderr, "more than two hosts") {
		t.Errorf("--trace failed:\n%.3000s", stderr)
	}

	f, err := os.Open(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for {
		rec, err := r.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ip, err := wire.ParseIP(rec.Data); err == nil && (ip.Src == netip.MustParseAddr("192.0.2.2") || ip.Src == netip.MustParseAddr("2001:db8::2")) {
			longest = max(longest, len(rec.Data))
		}
	}
	if longest <= 1500 {
		t.Errorf("seqack's longest packet in the capture is %d bytes: segmentation offload was off while recording", longest)
	}
	if _, err := exec.LookPath("tshark"); err == nil || netns.Required() {
		netns.CheckCapture(t, pcapFile)
	}
}
