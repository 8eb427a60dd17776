package script

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// TestContinues checks which segments merge into one scripted segment,
// by the rule both targets share.
func TestContinues(t *testing.T) {
	for _, c := range []struct {
		got, next string
		want      int
		ok        bool
	}{
		{". 1:1001(1000) ack 1", ". 1001:2001(1000) ack 1", 2000, true},
		{". 1:1001(1000) ack 1", "P. 1001:2001(1000) ack 1", 2000, true},
		{". 1:1001(1000) ack 1", "FP. 1001:2001(1000) ack 1", 2000, true}, // data, then data+FIN
		{"F. 1:1001(1000) ack 1", ". 1001:2001(1000) ack 1", 2000, false}, // nothing follows a FIN
		{". 1:1001(1000) ack 1", "F. 1001:1001(0) ack 1", 1000, false},    // a bare FIN is its own
		{". 1:1001(1000) ack 1", ". 1001:2001(1000) ack 2", 2000, false},  // another ACK
		{". 1:1001(1000) ack 1", ". 1101:2101(1000) ack 1", 2000, false},  // a hole
		{". 1:1001(1000) ack 1", ". 1001:2001(1000) ack 1", 1500, false},  // longer than the line
		{"P. 1:1001(1000) ack 1", "R. 1001:2001(1000) ack 1", 2000, false},
	} {
		got, err1 := tcp.ParseSegment(c.got)
		next, err2 := tcp.ParseSegment(c.next)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if ok := Continues(&got, &next, c.want); ok != c.ok {
			t.Errorf("Continues(%s, %s, %d) = %v, want %v", c.got, c.next, c.want, ok, c.ok)
		}
	}
}

// TestUnexpected checks which mismatches are another segment than the
// line's, reported at the line that provoked them.
func TestUnexpected(t *testing.T) {
	for _, c := range []struct {
		want, got  string
		unexpected bool
	}{
		{"F. 1:1(0) ack 101", "R. 1:1(0) ack 101", true},
		{". 1:1(0) ack 101", "F. 1:1(0) ack 101", true},
		{"P. 1:101(100) ack 1", ". 1:1(0) ack 1", true},
		{"S. 0:0(0) ack 1", ". 1:1(0) ack 1", true},
		{"FP. 1:2001(2000) ack 1", ". 1:1001(1000) ack 1", false}, // the line's data, without its FIN
		{". 1:1(0) ack 100", ". 1:1(0) ack 101", false},
		{". 1:101(100) ack 1", "P. 1:101(100) ack 1", false},
	} {
		w, err1 := tcp.ParseSegment(c.want)
		g, err2 := tcp.ParseSegment(c.got)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if u := Unexpected(&Packet{Seg: w, Text: c.want}, &g); u != c.unexpected {
			t.Errorf("Unexpected(%s, %s) = %v, want %v", c.want, c.got, u, c.unexpected)
		}
	}
}
