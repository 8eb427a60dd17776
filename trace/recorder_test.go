package trace_test

import (
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
