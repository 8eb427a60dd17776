package tcp_test

import (
	"errors"
	"testing"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// The notation round-trips: parse, then print, gives the text back.
func TestSegmentNotationRoundTrip(t *testing.T) {
	for _, text := range []string{
		"S 0:0(0) win 65535",
		"S 0:0(0) win 65535 <mss 1460>",
		"S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 7,wscale 7>",
		". 1:1(0) ack 1 win 512",
		"P. 1:101(100) ack 1 win 65535",
		"F. 1001:1001(0) ack 1 win 65535",
		"R 4294967295:4294967295(0) win 0",
		"R. 0:0(0) ack 4294967295 win 0",
		". 1:1(0) ack 1 win 100 <sack 1001:2001 3001:4001>",
		"U. 1:11(10) ack 1 win 10 urg 5",
		"- 0:0(0) win 0",
	} {
		seg, err := tcp.ParseSegment(text)
		if err != nil {
			t.Errorf("ParseSegment(%q): %v", text, err)
			continue
		}
		if got := seg.String(); got != text {
			t.Errorf("ParseSegment(%q).String() = %q", text, got)
		}
	}
}

func TestSegmentParseFields(t *testing.T) {
	seg, err := tcp.ParseSegment("S. 7:7(0) ack 9 win 1000 <nop,mss 536,nop,nop,sackOK,nop,wscale 3>")
	if err != nil {
		t.Fatal(err)
	}
	want := tcp.Segment{Seq: 7, Ack: 9, Flags: wire.FlagSYN | wire.FlagACK, Window: 1000, Payload: []byte{}}
	want.Options.MSS, want.Options.HasMSS = 536, true
	want.Options.SACKPermitted = true
	want.Options.WindowScale, want.Options.HasWindowScale = 3, true
	if seg.Seq != want.Seq || seg.Ack != want.Ack || seg.Flags != want.Flags || seg.Window != want.Window || seg.Options != want.Options || len(seg.Payload) != 0 {
		t.Errorf("got %+v, want %+v", seg, want)
	}
	if got := seg.SeqLen(); got != 1 {
		t.Errorf("SeqLen of a SYN = %d, want 1", got)
	}
	data, _ := tcp.ParseSegment("FP. 1:101(100) ack 1 win 1")
	if got := data.SeqLen(); got != 101 {
		t.Errorf("SeqLen of 100 bytes + FIN = %d, want 101", got)
	}
	if got := data.End(); got != 102 {
		t.Errorf("End = %d, want 102", got)
	}
}

// Relative formatting subtracts the sender's ISN from seq and the
// receiver's from ack and SACK blocks, modulo 2^32 (the SACK block
// 5:15 lies just past the wrap of a receiver ISN of 0xfffffff0).
func TestSegmentFormatRelative(t *testing.T) {
	seg := tcp.Segment{Seq: 5, Ack: 0xfffffff0 + 11, Flags: wire.FlagACK | wire.FlagPSH, Window: 100, Payload: make([]byte, 10)}
	seg.Options.NumSACK = 1
	seg.Options.SACK[0] = wire.SACKBlock{Left: 5, Right: 15}
	got := seg.Format(0xfffffffa, 0xfffffff0)
	want := "P. 11:21(10) ack 11 win 100 <sack 21:31>"
	if got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

func TestSegmentParseErrors(t *testing.T) {
	for _, text := range []string{
		"",
		"S",
		"Q 0:0(0)",
		"SS 0:0(0)",
		"S 0:1(0)",
		"S 0-0(0)",
		"S a:b(c)",
		". 1:1(0) ack",
		". 1:1(0) ack x",
		"S 0:0(0) ack 1",
		". 1:1(0) win 70000",
		". 1:1(0) frob 1",
		"S 0:0(0) <mss 1460",
		"S 0:0(0) <mss>",
		"S 0:0(0) <mss 99999>",
		"S 0:0(0) <TS val 1>",
		"S 0:0(0) <sack 1-2>",
		"S 0:0(0) <sack 1:2 3:4 5:6 7:8 9:10>",
		"S 0:0(0) <frob 1>",
		"S 0:0(0) <mss 1,,nop>",
		"S 4294967296:4294967296(0)",
	} {
		if seg, err := tcp.ParseSegment(text); err == nil {
			t.Errorf("ParseSegment(%q) = %v, want an error", text, seg)
		} else if !errors.Is(err, tcp.ErrSegmentSyntax) {
			t.Errorf("ParseSegment(%q) error %v does not wrap ErrSegmentSyntax", text, err)
		}
	}
}

func TestFlagsString(t *testing.T) {
	for _, c := range []struct {
		flags wire.TCPFlags
		want  string
	}{
		{0, "-"},
		{wire.FlagSYN, "S"},
		{wire.FlagSYN | wire.FlagACK, "S."},
		{wire.FlagFIN | wire.FlagACK, "F."},
		{wire.FlagFIN | wire.FlagPSH | wire.FlagACK, "FP."},
		{wire.FlagRST, "R"},
		{wire.FlagRST | wire.FlagACK, "R."},
		{wire.FlagECE | wire.FlagCWR | wire.FlagSYN, "SEW"},
	} {
		if got := c.flags.String(); got != c.want {
			t.Errorf("%#x.String() = %q, want %q", uint8(c.flags), got, c.want)
		}
		back, ok := wire.ParseTCPFlags(c.want)
		if !ok || back != c.flags {
			t.Errorf("ParseTCPFlags(%q) = %v, %v", c.want, back, ok)
		}
	}
}
