package render_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func seg(t *testing.T, text string) tcp.Segment {
	t.Helper()
	s, err := tcp.ParseSegment(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const ms = time.Millisecond

// handshakeEvents is a hand-written handshake whose third ACK is lost and
// whose SYN+ACK is then retransmitted, with absolute ISNs 1000 and 5000.
func handshakeEvents(t *testing.T) []trace.Event {
	return []trace.Event{
		{At: 0, Kind: trace.StateChanged, Host: "server", From: tcp.Closed, To: tcp.Listen},
		{At: 0, Kind: trace.AppCall, Host: "client", Text: "connect()"},
		{At: 0, Kind: trace.StateChanged, Host: "client", From: tcp.Closed, To: tcp.SynSent},
		{At: 0, Kind: trace.SegmentSent, Host: "client", ID: 1, Segment: seg(t, "S 1000:1000(0) win 65535 <mss 1460>")},
		{At: 10 * ms, Kind: trace.SegmentDelivered, Host: "server", ID: 1},
		{At: 10 * ms, Kind: trace.StateChanged, Host: "server", From: tcp.Listen, To: tcp.SynReceived},
		{At: 10 * ms, Kind: trace.SegmentSent, Host: "server", ID: 2, Segment: seg(t, "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")},
		{At: 20 * ms, Kind: trace.SegmentDelivered, Host: "client", ID: 2},
		{At: 20 * ms, Kind: trace.StateChanged, Host: "client", From: tcp.SynSent, To: tcp.Established},
		{At: 20 * ms, Kind: trace.SegmentSent, Host: "client", ID: 3, Segment: seg(t, ". 1001:1001(0) ack 5001 win 65535")},
		{At: 20 * ms, Kind: trace.SegmentDropped, Host: "server", ID: 3},
		{At: 1010 * ms, Kind: trace.TimerFired, Host: "server", Timer: tcp.TimerRetransmit},
		{At: 1010 * ms, Kind: trace.SegmentSent, Host: "server", ID: 4, Segment: seg(t, "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")},
		{At: 1010 * ms, Kind: trace.SegmentDuplicated, Host: "server", ID: 4, Dup: 5, Segment: seg(t, "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")},
		{At: 1020 * ms, Kind: trace.SegmentCorrupted, Host: "client", ID: 5},
		{At: 1020 * ms, Kind: trace.SegmentSent, Host: "client", ID: 6, Segment: seg(t, ". 1001:1001(0) ack 5001 win 65535")},
		{At: 1030 * ms, Kind: trace.StateChanged, Host: "server", From: tcp.SynReceived, To: tcp.Established},
		{At: 61030 * ms, Kind: trace.TimerFired, Host: "server", Timer: tcp.TimerTimeWait},
		{At: 61030 * ms, Kind: trace.Note, Text: "the end"},
	}
}

func TestRenderTextGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		opts render.TextOptions
	}{
		{"relative", render.TextOptions{Title: "a handshake"}},
		{"absolute-window", render.TextOptions{Absolute: true, Window: true}},
		{"ascii-narrow", render.TextOptions{ASCII: true, Width: 80}},
		{"swapped", render.TextOptions{Left: "server", Right: "client"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.Text(&b, handshakeEvents(t), c.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("differs from %s (go test ./trace/render -update if intended):\n%s", path, b.String())
			}
		})
	}
}

// The labels: relative numbers from each side's ISN, lost and
// retransmitted segments marked, windows only on request.
func TestRenderTextLabels(t *testing.T) {
	var b bytes.Buffer
	if err := render.Text(&b, handshakeEvents(t), render.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"S 0:0(0) <mss 1460>",
		"S. 0:0(0) ack 1 <mss 1460>",
		". 1:1(0) ack 1",
		"✕ lost",
		"(retransmit)",
		"(dup)",
		"✕ bad checksum",
		"⏱ RTO",
		"⏱ 2MSL",
		"SYN_RCVD",
		"· the end",
		"  61.030",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "win ") {
		t.Errorf("windows shown without Window:\n%s", out)
	}
	// The host sending the first SYN is on the left.
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(first, "time (s)")), "client") {
		t.Errorf("header %q: client should be on the left", first)
	}
}

func TestRenderTextBadInput(t *testing.T) {
	var b bytes.Buffer
	three := append(handshakeEvents(t), trace.Event{Kind: trace.SegmentSent, Host: "intruder", ID: 99})
	if err := render.Text(&b, three, render.TextOptions{}); !errors.Is(err, render.ErrTooManyHosts) {
		t.Errorf("three hosts: err = %v", err)
	}
	// Nothing at all, a delivery of an unknown ID, a timer of an unknown
	// kind: something sensible, no panic.
	for _, events := range [][]trace.Event{
		nil,
		{{Kind: trace.SegmentDelivered, Host: "a", ID: 42}},
		{{Kind: trace.TimerFired, Host: "a", Timer: 99}, {Kind: trace.Kind(200), Host: "b"}},
		{{Kind: trace.SegmentSent, Host: "a", ID: 1, Segment: tcp.Segment{Payload: make([]byte, 1<<16)}}},
	} {
		b.Reset()
		if err := render.Text(&b, events, render.TextOptions{Width: 1}); err != nil {
			t.Errorf("%v: %v", events, err)
		}
	}
}

// A delayed segment leaves on the row it was sent, with no head, and
// lands on the row of the time it arrived, as the SVG draws it.
func TestTextDelayedSegmentLandsLate(t *testing.T) {
	s, _ := scenario.Lookup("handshake")
	delay, err := sim.ParseFault("delay", "server:syn-ack=500ms")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(scenario.Options{Seed: 1, Faults: []sim.Fault{delay}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ascii := range []bool{false, true} {
		var b bytes.Buffer
		if err := render.Text(&b, res.Events, render.TextOptions{ASCII: ascii}); err != nil {
			t.Fatal(err)
		}
		head := "◀"
		if ascii {
			head = "<-"
		}
		var sent, landed string
		at := ""
		for _, line := range strings.Split(b.String(), "\n") {
			if ts := strings.TrimSpace(line[:min(len(line), 10)]); ts != "" {
				at = ts
			}
			if strings.Contains(line, "S. 0:0(0) ack 1") {
				if sent == "" {
					sent = at + "|" + line
				} else {
					landed = at + "|" + line
				}
			}
		}
		if !strings.HasPrefix(sent, "0.010|") || strings.Contains(sent, head) {
			t.Errorf("ascii %v: the SYN+ACK leaves at 0.010 with no head: %q\n%s", ascii, sent, b.String())
		}
		if !strings.HasPrefix(landed, "0.520|") || !strings.Contains(landed, head) || !strings.Contains(landed, "sent at 0.010") {
			t.Errorf("ascii %v: the SYN+ACK lands at 0.520 with its head: %q\n%s", ascii, landed, b.String())
		}
	}
	// On time, every segment is one arrow: the golden diagrams are
	// unchanged (TestRenderTextGolden).
}
