package trace_test

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// The recorder pairs deliveries with their sends, and draws a segment
// whose sender is not observed as sent by its Peer when it arrived.
func TestRecorderPairsSegments(t *testing.T) {
	r := trace.NewRecorder()
	syn := tcp.Segment{Seq: 100, Flags: wire.FlagSYN}
	synAck := tcp.Segment{Seq: 900, Ack: 101, Flags: wire.FlagSYN | wire.FlagACK}
	r.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Peer: "b", Segment: syn})
	r.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Peer: "b", Segment: syn}) // a retransmission
	r.Record(trace.Event{Kind: trace.SegmentDelivered, Host: "b", Peer: "a", Segment: syn})
	r.Record(trace.Event{Kind: trace.SegmentDelivered, Host: "a", Peer: "b", Segment: synAck}) // b is not observed
	got := r.Events()
	want := []struct {
		kind trace.Kind
		host string
		id   int
	}{
		{trace.SegmentSent, "a", 1},
		{trace.SegmentSent, "a", 2},
		{trace.SegmentDelivered, "b", 1},
		{trace.SegmentSent, "b", 3},
		{trace.SegmentDelivered, "a", 3},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Host != w.host || got[i].ID != w.id {
			t.Errorf("event %d: %v at %q id %d, want %v at %q id %d", i, got[i].Kind, got[i].Host, got[i].ID, w.kind, w.host, w.id)
		}
		if i > 0 && got[i].At < got[i-1].At {
			t.Errorf("event %d goes back in time", i)
		}
	}
}

// conn returns the tuple of a connection from a's port pa to b's port pb.
func conn(a string, pa uint16, b string, pb uint16) trace.Tuple {
	return trace.Tuple{
		Local:  netip.AddrPortFrom(netip.MustParseAddr(a), pa),
		Remote: netip.AddrPortFrom(netip.MustParseAddr(b), pb),
	}
}

// A segment's send pairs with its delivery on the same connection, even
// when another connection between the same hosts carries an equal one.
func TestRecorderPairsWithinConnection(t *testing.T) {
	r := trace.NewRecorder()
	c1, c2 := conn("192.0.2.1", 40001, "192.0.2.2", 80), conn("192.0.2.1", 40002, "192.0.2.2", 80)
	syn := tcp.Segment{Seq: 100, Flags: wire.FlagSYN}
	r.Record(trace.Event{Kind: trace.SegmentSent, Host: "192.0.2.1", Peer: "192.0.2.2", Segment: syn, Conn: c1})
	r.Record(trace.Event{Kind: trace.SegmentSent, Host: "192.0.2.1", Peer: "192.0.2.2", Segment: syn, Conn: c2})
	r.Record(trace.Event{Kind: trace.SegmentDelivered, Host: "192.0.2.2", Peer: "192.0.2.1", Segment: syn, Conn: c2.Reverse()})
	got := r.Events()
	if len(got) != 3 || got[2].ID != got[1].ID {
		t.Fatalf("the delivery on the second connection has ID %d, want its send's %d: %+v", got[2].ID, got[1].ID, got)
	}
	// A delivery with no send recorded is drawn as sent by the peer, on
	// the same connection seen from there.
	r.Record(trace.Event{Kind: trace.SegmentDelivered, Host: "192.0.2.1", Peer: "192.0.2.2", Segment: syn, Conn: c1})
	got = r.Events()
	if len(got) != 5 || got[3].Kind != trace.SegmentSent || got[3].Conn != c1.Reverse() || got[3].Host != "192.0.2.2" {
		t.Errorf("drawn send %+v, want one from 192.0.2.2 on %v", got[3], c1.Reverse())
	}
}

// A filter keeps only the events it accepts; Between keeps one
// connection's, seen from either end, and the events of none.
func TestRecorderFilter(t *testing.T) {
	c1, c2 := conn("192.0.2.1", 40001, "192.0.2.2", 80), conn("2001:db8::1", 40002, "2001:db8::2", 80)
	r := trace.NewRecorderOptions(trace.RecorderOptions{Filter: trace.Between(c1.Remote, c1.Local)})
	r.Record(trace.Event{Kind: trace.StateChanged, Host: "192.0.2.1", Conn: c1, From: tcp.Closed, To: tcp.SynSent})
	r.Record(trace.Event{Kind: trace.StateChanged, Host: "2001:db8::1", Conn: c2, From: tcp.Closed, To: tcp.SynSent})
	r.Record(trace.Event{Kind: trace.StateChanged, Host: "192.0.2.2", Conn: c1.Reverse(), From: tcp.Listen, To: tcp.SynReceived})
	r.Record(trace.Event{Kind: trace.Note, Text: "a note"})
	got := r.Events()
	if len(got) != 3 || got[0].Conn != c1 || got[1].Conn != c1.Reverse() || got[2].Kind != trace.Note {
		t.Errorf("kept %+v, want the two events of %v and the note", got, c1)
	}
	if r.Dropped() != 0 {
		t.Errorf("Dropped %d: filtered events are not dropped ones", r.Dropped())
	}

	onlySYNs := trace.NewRecorderOptions(trace.RecorderOptions{Filter: func(e trace.Event) bool {
		return e.Segment.Flags.Has(wire.FlagSYN)
	}})
	onlySYNs.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Segment: tcp.Segment{Flags: wire.FlagSYN}})
	onlySYNs.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Segment: tcp.Segment{Flags: wire.FlagACK}})
	if n := len(onlySYNs.Events()); n != 1 {
		t.Errorf("a predicate kept %d events, want 1", n)
	}
}

// MaxEvents bounds what a recorder keeps: the first events, the rest
// counted; a send drawn from its delivery is kept with it or not at all.
func TestRecorderMaxEvents(t *testing.T) {
	r := trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: 3})
	c := conn("192.0.2.1", 40001, "192.0.2.2", 80)
	for i := range 10 {
		r.Record(trace.Event{Kind: trace.SegmentSent, Host: "192.0.2.1", Peer: "192.0.2.2", Conn: c, Segment: tcp.Segment{Seq: tcp.Seq(i), Flags: wire.FlagACK}})
	}
	if got := r.Events(); len(got) != 3 || got[0].Segment.Seq != 0 || got[2].Segment.Seq != 2 {
		t.Errorf("kept %+v, want the first 3", got)
	}
	if r.Dropped() != 7 {
		t.Errorf("Dropped %d, want 7", r.Dropped())
	}

	r = trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: 3})
	unseen := trace.Event{Kind: trace.SegmentDelivered, Host: "192.0.2.1", Peer: "192.0.2.2", Conn: c, Segment: tcp.Segment{Seq: 7, Flags: wire.FlagACK}}
	r.Record(unseen) // two events: the drawn send and the delivery
	r.Record(unseen) // no room for two
	if got := r.Events(); len(got) != 2 || r.Dropped() != 1 {
		t.Errorf("kept %d events, dropped %d; want 2 and 1", len(got), r.Dropped())
	}
}

// Many goroutines record into a bounded recorder at once, and it keeps
// exactly its bound.
func TestRecorderMaxEventsConcurrent(t *testing.T) {
	r := trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: 100})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				r.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Segment: tcp.Segment{Seq: tcp.Seq(g*1000 + i)}})
			}
		}()
	}
	wg.Wait()
	if n, d := len(r.Events()), r.Dropped(); n != 100 || d != 300 {
		t.Errorf("kept %d, dropped %d; want 100 and 300", n, d)
	}
}

// A stack passes each connection a listener makes from CLOSED to LISTEN
// as its SYN arrives; the recorder keeps its first state LISTEN rather
// than draw LISTEN after the SYN.
func TestRecorderPassiveOpenStartsInListen(t *testing.T) {
	r := trace.NewRecorder()
	c := conn("192.0.2.2", 80, "192.0.2.1", 40001)
	syn := tcp.Segment{Seq: 100, Flags: wire.FlagSYN}
	r.Record(trace.Event{Kind: trace.SegmentDelivered, Host: "192.0.2.2", Peer: "192.0.2.1", Conn: c, Segment: syn})
	r.Record(trace.Event{Kind: trace.StateChanged, Host: "192.0.2.2", Peer: "192.0.2.1", Conn: c, From: tcp.Closed, To: tcp.Listen})
	r.Record(trace.Event{Kind: trace.StateChanged, Host: "192.0.2.2", Peer: "192.0.2.1", Conn: c, From: tcp.Listen, To: tcp.SynReceived})
	var states []string
	for _, e := range r.Events() {
		if e.Kind == trace.StateChanged {
			states = append(states, e.From.String()+">"+e.To.String())
		}
	}
	if len(states) != 1 || states[0] != "LISTEN>SYN_RCVD" {
		t.Errorf("state changes %v, want only LISTEN>SYN_RCVD", states)
	}
}

// MaxPayloadBytes bounds the payload the kept events hold.
func TestRecorderMaxPayloadBytes(t *testing.T) {
	r := trace.NewRecorderOptions(trace.RecorderOptions{MaxPayloadBytes: 2500})
	for i := range 5 {
		r.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Segment: tcp.Segment{Seq: tcp.Seq(i * 1000), Payload: make([]byte, 1000)}})
	}
	r.Record(trace.Event{Kind: trace.SegmentSent, Host: "a", Segment: tcp.Segment{Seq: 9000, Flags: wire.FlagACK}})
	if n, d := len(r.Events()), r.Dropped(); n != 3 || d != 3 {
		t.Errorf("kept %d, dropped %d; want 3 (two with 2000 bytes, one empty) and 3", n, d)
	}
}
