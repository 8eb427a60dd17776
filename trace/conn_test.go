package trace_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// SplitByConn gives each connection its events, both ends' alike, in
// the order of their first events, and every one the events of none.
func TestSplitByConn(t *testing.T) {
	v4, v6 := conn("192.0.2.1", 40001, "192.0.2.2", 80), conn("2001:db8::1", 40002, "2001:db8::2", 80)
	events := []trace.Event{
		{Kind: trace.StateChanged, Host: "192.0.2.1", Conn: v4, To: tcp.SynSent},
		{Kind: trace.StateChanged, Host: "2001:db8::1", Conn: v6, To: tcp.SynSent},
		{Kind: trace.Note, Text: "a note"},
		{Kind: trace.StateChanged, Host: "192.0.2.2", Conn: v4.Reverse(), To: tcp.SynReceived},
	}
	got := trace.SplitByConn(events)
	if len(got) != 2 || got[0].Conn != v4 || got[1].Conn != v6 {
		t.Fatalf("split into %+v, want %v then %v", got, v4, v6)
	}
	if n := len(got[0].Events); n != 3 || got[0].Events[2].Host != "192.0.2.2" {
		t.Errorf("%v has %+v", v4, got[0].Events)
	}
	if n := len(got[1].Events); n != 2 || got[1].Events[1].Kind != trace.Note {
		t.Errorf("%v has %+v", v6, got[1].Events)
	}
	if s := v6.String(); s != "[2001:db8::1]:40002 <-> [2001:db8::2]:80" {
		t.Errorf("String %q", s)
	}

	// The simulator's trace names no connection: it is one.
	sim := []trace.Event{{Kind: trace.StateChanged, Host: "client", To: tcp.SynSent}, {Kind: trace.Note, Text: "x"}}
	if got := trace.SplitByConn(sim); len(got) != 1 || len(got[0].Events) != 2 || got[0].Conn.IsValid() {
		t.Errorf("a simulator trace split into %+v", got)
	}
}
