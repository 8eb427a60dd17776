package render_test

import (
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
	"github.com/seqack/seqack/wire"
)

// A real stack's trace of two connections between the same two hosts
// is not merged into one diagram, where the second connection's RST
// would be numbered from the first one's ISN: the renderers refuse it,
// and each connection drawn alone shows the RST as the wire had it.
func TestOneDiagramPerConnection(t *testing.T) {
	tuple := func(lport, rport uint16) trace.Tuple {
		return trace.Tuple{
			Local:  netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), lport),
			Remote: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), rport),
		}
	}
	first, refused := tuple(40000, 9000), tuple(40001, 9)
	sent := func(c trace.Tuple, host, peer string, seg tcp.Segment) trace.Event {
		return trace.Event{Kind: trace.SegmentSent, Host: host, Peer: peer, Conn: c, Segment: seg}
	}
	events := []trace.Event{
		sent(first, "192.0.2.2", "192.0.2.1", tcp.Segment{Seq: 1000, Flags: wire.FlagSYN}),
		sent(first.Reverse(), "192.0.2.1", "192.0.2.2", tcp.Segment{Seq: 3814906434, Ack: 1001, Flags: wire.FlagSYN | wire.FlagACK}),
		sent(refused, "192.0.2.2", "192.0.2.1", tcp.Segment{Seq: 5000, Flags: wire.FlagSYN}),
		sent(refused.Reverse(), "192.0.2.1", "192.0.2.2", tcp.Segment{Seq: 0, Ack: 5001, Flags: wire.FlagRST | wire.FlagACK}),
	}
	for i := range events {
		events[i].ID = i + 1
	}
	if err := render.Text(io.Discard, events, render.TextOptions{}); !errors.Is(err, render.ErrManyConnections) {
		t.Errorf("Text of two connections: %v, want ErrManyConnections", err)
	}
	if err := render.SVG(io.Discard, events, render.SVGOptions{}); !errors.Is(err, render.ErrManyConnections) {
		t.Errorf("SVG of two connections: %v, want ErrManyConnections", err)
	}
	conns := trace.SplitByConn(events)
	if len(conns) != 2 {
		t.Fatalf("%d connections", len(conns))
	}
	segs, err := render.Segments(conns[1].Events, render.TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[1].Label != "R. 0:0(0) ack 1" {
		t.Errorf("the refused connection's segments %+v, want its RST as R. 0:0(0) ack 1", segs)
	}
}
