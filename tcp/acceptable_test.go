package tcp

import "testing"

// The acceptability test of RFC 9293 §3.10.7.4 is a predicate of four
// numbers: the segment's first sequence number and length, RCV.NXT and
// RCV.WND. The rows are the RFC's four cases at both edges, with the one
// liberty Linux takes (an empty segment at RCV.NXT+RCV.WND), across the
// wrap of the sequence space, and TIME_WAIT's zero window.
func TestAcceptable(t *testing.T) {
	top := Seq(1<<32 - 10) // a window that wraps past zero
	for _, c := range []struct {
		seq    Seq
		n      uint32
		rcvNxt Seq
		wnd    uint32
		want   bool
	}{
		// Empty segment, zero window: SEG.SEQ = RCV.NXT.
		{5002, 0, 5002, 0, true},
		{5001, 0, 5002, 0, false},
		{5003, 0, 5002, 0, false},
		// Empty segment, open window: RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND.
		{5001, 0, 5001, 100, true},
		{5100, 0, 5001, 100, true},
		{5101, 0, 5001, 100, true}, // at the right edge: Linux's liberty
		{5102, 0, 5001, 100, false},
		{5000, 0, 5001, 100, false},
		// Data, zero window: never (TIME_WAIT's case).
		{5002, 10, 5002, 0, false},
		{5001, 1, 5002, 0, false}, // the peer's FIN again
		// Data, open window: its first or its last octet in the window.
		{5001, 10, 5001, 100, true},
		{4992, 10, 5001, 100, true},  // last octet at RCV.NXT
		{4991, 10, 5001, 100, false}, // all before RCV.NXT
		{5100, 10, 5001, 100, true},  // first octet at the window's last
		{5101, 10, 5001, 100, false}, // all beyond
		{4000, 2000, 5001, 100, false},
		// Across the wrap of the sequence space.
		{top, 0, top, 100, true},
		{5, 10, top, 100, true},
		{top + 100, 0, top, 100, true},
		{top - 1, 1, top, 100, false},
		{top + 101, 1, top, 100, false},
	} {
		if got := acceptable(c.seq, c.n, c.rcvNxt, c.wnd); got != c.want {
			t.Errorf("acceptable(SEG.SEQ %d, SEG.LEN %d, RCV.NXT %d, RCV.WND %d) = %v, want %v", c.seq, c.n, c.rcvNxt, c.wnd, got, c.want)
		}
	}
}

// Acknowledgment numbers are acceptable from SND.UNA - MAX.SND.WND to
// SND.NXT, both included (RFC 5961 §5.2), across the wrap too.
func TestAckAcceptable(t *testing.T) {
	una := Seq(1001)
	lo := una - 65535 // SND.UNA - MAX.SND.WND, below zero
	for _, c := range []struct {
		ack, lo, hi Seq
		want        bool
	}{
		{1001, lo, 1002, true},
		{1002, lo, 1002, true},
		{1003, lo, 1002, false},
		{lo, lo, 1002, true},
		{lo - 1, lo, 1002, false},
		{4000000000, lo, 1002, false},
	} {
		if got := ackAcceptable(c.ack, c.lo, c.hi); got != c.want {
			t.Errorf("ackAcceptable(%d, %d, %d) = %v, want %v", c.ack, c.lo, c.hi, got, c.want)
		}
	}
}
