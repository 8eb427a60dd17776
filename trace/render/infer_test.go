package render_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/scenario"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

// deliveredCapture writes the packets of a scenario as a capture of
// what reached each end (lost packets are not in it), with the
// scenario's client and server names mapped to their addresses.
func deliveredCapture(t *testing.T, name string) (*bytes.Buffer, []trace.Event) {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	res, err := s.Run(scenario.Options{Seed: 1, KeepPackets: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := pcap.NewWriterNano(&b, pcap.LinkTypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	packets := map[int][]byte{}
	for _, e := range res.Events {
		switch e.Kind {
		case trace.SegmentSent:
			packets[e.ID] = e.Packet
		case trace.SegmentDelivered:
			if err := w.WritePacket(render.PcapEpoch.Add(e.At), packets[e.ID]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return &b, res.Events
}

// stateSequence lists the states host entered, as "A→B" strings.
func stateSequence(events []trace.Event, host string) string {
	var out []string
	for _, e := range events {
		if e.Kind == trace.StateChanged && e.Host == host && e.From != e.To {
			out = append(out, e.From.String()+"→"+e.To.String())
		}
	}
	return strings.Join(out, " ")
}

// The states inferred from a capture of what each end received are
// the states the ends went through, except the changes that nothing on
// the wire shows, such as TIME_WAIT's end.
func TestInferStatesAsTheHostsDid(t *testing.T) {
	hostAddr := map[string]string{"client": "10.0.0.1:40000", "server": "10.0.0.2:80"}
	for _, name := range []string{
		"handshake", "client-closes-first", "server-closes-first", "half-close",
		"lost-syn", "lost-syn-ack", "lost-third-ack", "lost-fin", "lost-final-ack",
		"simultaneous-open", "simultaneous-close", "refused", "abort",
		"old-duplicate-syn", "time-wait-reuse",
		// Not here: half-open (the client's crash forgets the connection
		// with no state change; the capture shows it CLOSED by its RST),
		// last-ack-peer-vanished and syn-timeout (what ends them never
		// reaches the wire).
	} {
		t.Run(name, func(t *testing.T) {
			file, real := deliveredCapture(t, name)
			c, err := render.ReadPcap(file)
			if err != nil {
				t.Fatal(err)
			}
			cc := c.Conns[c.Main()]
			for _, h := range []string{"client", "server"} {
				want := stateSequence(real, h)
				want = strings.TrimSuffix(want, " TIME_WAIT→CLOSED")
				want = strings.TrimPrefix(want, "CLOSED→LISTEN ")
				got := stateSequence(cc.Events, hostAddr[h])
				if got != want {
					t.Errorf("%s: inferred %q\nthe host went %q", h, got, want)
				}
			}
			for _, e := range cc.Events {
				if e.Kind == trace.StateChanged && !e.Inferred {
					t.Errorf("state change not marked inferred: %+v", e)
				}
				if e.Kind != trace.Note && (e.Conn.Local.String() != e.Host || e.Conn.Remote.String() != e.Peer) {
					t.Errorf("event of %s with peer %s names the connection %v", e.Host, e.Peer, e.Conn)
				}
			}
		})
	}
}

// The receiver of a refused SYN stays CLOSED, and that is marked
// inferred too.
func TestInferStatesRefused(t *testing.T) {
	const a, b = "10.0.0.1:40000", "10.0.0.2:80"
	events := []trace.Event{
		{At: 0, Kind: trace.SegmentSent, Host: a, ID: 1, Segment: seg(t, "S 0:0(0) win 512")},
		{At: 0, Kind: trace.SegmentDelivered, Host: b, ID: 1, Segment: seg(t, "S 0:0(0) win 512")},
		{At: time.Millisecond, Kind: trace.SegmentSent, Host: b, ID: 2, Segment: seg(t, "R. 0:0(0) ack 1 win 0")},
		{At: time.Millisecond, Kind: trace.SegmentDelivered, Host: a, ID: 2, Segment: seg(t, "R. 0:0(0) ack 1 win 0")},
	}
	var text bytes.Buffer
	if err := render.Text(&text, render.InferStates(events, a, b), render.TextOptions{ASCII: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(text.String(), "CLOSED (inferred)") != 3 || !strings.Contains(text.String(), "SYN_SENT (inferred)") {
		t.Errorf("want the client CLOSED, SYN_SENT, CLOSED and the server CLOSED, all inferred:\n%s", text.String())
	}
	// The state the server was found in is no step of the explanation.
	for _, st := range render.Explain(render.InferStates(events, a, b), "en") {
		if strings.Contains(st.Text, "connection is CLOSED") {
			t.Errorf("explained as a step: %q", st.Text)
		}
	}
}

// A capture that begins after the handshake starts both ends in
// ESTABLISHED, says why, and draws it so.
func TestInferStatesMidConnection(t *testing.T) {
	const a, b = "10.0.0.1:40000", "10.0.0.2:80"
	events := []trace.Event{
		{At: 0, Kind: trace.SegmentSent, Host: a, ID: 1, Segment: seg(t, "P. 101:201(100) ack 1 win 512")},
		{At: 0, Kind: trace.SegmentDelivered, Host: b, ID: 1, Segment: seg(t, "P. 101:201(100) ack 1 win 512")},
		{At: time.Millisecond, Kind: trace.SegmentSent, Host: b, ID: 2, Segment: seg(t, "F. 1:1(0) ack 201 win 512")},
		{At: time.Millisecond, Kind: trace.SegmentDelivered, Host: a, ID: 2, Segment: seg(t, "F. 1:1(0) ack 201 win 512")},
	}
	got := render.InferStates(events, a, b)
	if len(got) < 2 || got[0].Kind != trace.StateChanged || got[0].From != tcp.Established || got[0].To != tcp.Established ||
		got[0].Text != render.MidConnection || !got[0].Inferred {
		t.Fatalf("first event %+v, want a start in ESTABLISHED, mid-connection", got[0])
	}
	if s := stateSequence(got, b); s != "ESTABLISHED→FIN_WAIT_1" {
		t.Errorf("server: %q", s)
	}
	if s := stateSequence(got, a); s != "ESTABLISHED→CLOSE_WAIT" {
		t.Errorf("client: %q", s)
	}
	var text bytes.Buffer
	if err := render.Text(&text, got, render.TextOptions{ASCII: true, Width: 120}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ESTABLISHED (capture began mid-connection)", "FIN_WAIT_1 (inferred)", "CLOSE_WAIT (inferred)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("drawing lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Count(text.String(), "ESTABLISHED") != 2 {
		t.Errorf("ESTABLISHED drawn other than once per side:\n%s", text.String())
	}
}
