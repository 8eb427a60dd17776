package tcp

import (
	"testing"
	"time"

	"github.com/seqack/seqack/wire"
)

// The three loss recoveries (loss.go) on their own, on a connection set
// up by hand in fast recovery: 10 segments of 1000 bytes outstanding
// from 1001, the scoreboard, the duplicate ACKs and RACK's records as
// each case gives them.

const lossMSS = 1000

// recoveryConn returns an ESTABLISHED connection with n bytes sent from
// 1001 and not acknowledged, running loss recovery l.
func recoveryConn(l lossRecovery, n int) *Conn {
	c := NewConn(&Config{SendBufferSize: 1 << 20}, 1000)
	c.openSend(1000)
	c.state = Established
	c.peerMSS = lossMSS
	c.sndWnd = 1 << 20
	c.queue(make([]byte, n))
	c.sndUna, c.sndNxt, c.sndMax = 1001, Seq(1001+n), Seq(1001+n)
	c.rtxNext = c.sndUna
	c.loss = l
	if l == nil {
		c.loss = new(rackState)
	}
	_, reno := c.loss.(*renoRecovery)
	c.sackOK = !reno
	return c
}

// lossCase is the state a case sets up before asking the recovery.
type lossCase struct {
	name     string
	sacked   []seqRange // the scoreboard
	dupAcks  int
	rtxNext  Seq      // 0: SND.UNA
	lost     []Seq    // RACK: the ends of the records marked lost (each record one segment)
	pipe     int      // want
	resend   seqRange // want the next retransmission to cover this; zero: none
	dupLoss  bool     // want duplicateAck (with dupAcks counted) to signal a loss
	strategy string   // reno, sack or rack
}

func (tt lossCase) conn() *Conn {
	var l lossRecovery
	switch tt.strategy {
	case "reno":
		l = &renoRecovery{}
	case "sack":
		l = &sackRecovery{}
	}
	c := recoveryConn(l, 10*lossMSS)
	for _, r := range tt.sacked {
		c.sb.add(r)
	}
	c.dupAcks = tt.dupAcks
	if tt.rtxNext != 0 {
		c.rtxNext = tt.rtxNext
	}
	if r := c.rack(); r != nil {
		for end := c.sndUna + lossMSS; end.LessThanEq(c.sndMax); end += lossMSS {
			s := sentSeg{end: end, at: 1}
			for _, l := range tt.lost {
				if l == end {
					s.flags |= sentLost
				}
			}
			if _, ok := c.sb.sackedEnd(end - 1); ok {
				s.flags |= sentDelivered
			}
			r.records.push(s)
		}
	}
	return c
}

func TestLossRecovery(t *testing.T) {
	seg := func(i int) seqRange { // the i-th segment outstanding, from 0
		return seqRange{Seq(1001 + i*lossMSS), Seq(1001 + (i+1)*lossMSS)}
	}
	span := func(i, j int) seqRange { return seqRange{seg(i).start, seg(j).end} }
	tests := []lossCase{
		// NewReno (RFC 6582): each duplicate ACK takes a segment out of
		// the pipe, and so does the segment at SND.UNA until it is
		// resent; it is the one resent.
		{strategy: "reno", name: "fast retransmit", dupAcks: 3, pipe: 6000, resend: seg(0), dupLoss: true},
		{strategy: "reno", name: "two duplicate ACKs", dupAcks: 2, pipe: 7000, resend: seg(0)},
		{strategy: "reno", name: "resent", dupAcks: 4, rtxNext: seg(1).start, pipe: 6000, dupLoss: true},
		{strategy: "reno", name: "more duplicates than outstanding", dupAcks: 12, pipe: 0, resend: seg(0), dupLoss: true},
		// RFC 6675: the holes below the point with more than two
		// segments SACKed above it are lost, and resent in order.
		{strategy: "sack", name: "one hole", sacked: []seqRange{span(1, 3)}, dupAcks: 1, pipe: 6000, resend: seg(0), dupLoss: true},
		{strategy: "sack", name: "too little SACKed", sacked: []seqRange{span(1, 2)}, dupAcks: 2, pipe: 8000},
		{strategy: "sack", name: "third duplicate ACK", sacked: []seqRange{span(1, 2)}, dupAcks: 3, pipe: 8000, dupLoss: true},
		{strategy: "sack", name: "two holes", sacked: []seqRange{seg(1), span(3, 5)}, dupAcks: 2, pipe: 4000, resend: seg(0), dupLoss: true},
		{strategy: "sack", name: "first hole resent", sacked: []seqRange{seg(1), span(3, 5)}, dupAcks: 2, rtxNext: seg(1).start,
			pipe: 5000, resend: seg(2), dupLoss: true},
		{strategy: "sack", name: "holes above the limit wait", sacked: []seqRange{span(1, 3), seg(5)}, dupAcks: 2, pipe: 5000, resend: seg(0), dupLoss: true},
		// RACK-TLP (RFC 8985): what its records mark lost, whatever is
		// SACKed; duplicate ACKs decide nothing.
		{strategy: "rack", name: "nothing marked", sacked: []seqRange{span(1, 3)}, dupAcks: 3, pipe: 7000},
		{strategy: "rack", name: "marked", sacked: []seqRange{span(1, 3)}, dupAcks: 3, lost: []Seq{seg(0).end}, pipe: 6000, resend: seg(0)},
		{strategy: "rack", name: "marked above", sacked: []seqRange{seg(1)}, lost: []Seq{seg(4).end, seg(6).end}, pipe: 7000, resend: seg(4)},
	}
	for _, tt := range tests {
		t.Run(tt.strategy+"/"+tt.name, func(t *testing.T) {
			c := tt.conn()
			if got := c.loss.pipe(c); got != tt.pipe {
				t.Errorf("pipe %d, want %d", got, tt.pipe)
			}
			s, ok := c.loss.nextRetransmission(c)
			switch {
			case tt.resend == seqRange{} && ok:
				t.Errorf("resends %v, want nothing", s)
			case tt.resend != seqRange{} && (!ok || s.Seq != tt.resend.start || s.End() != tt.resend.end):
				t.Errorf("resends %v (%v), want %d:%d", s, ok, tt.resend.start, tt.resend.end)
			}
			if got := c.loss.duplicateAck(c); got != tt.dupLoss {
				t.Errorf("duplicateAck %v, want %v", got, tt.dupLoss)
			}
		})
	}
}

// A partial ACK: NewReno resends the segment at the new SND.UNA at once
// (RFC 6582 §3.2 step 3); the others go on from there.
func TestLossRecoveryPartialAck(t *testing.T) {
	for _, tt := range []struct {
		strategy   string
		l          lossRecovery
		rtxNext    Seq
		want       Seq
		mustResend bool
	}{
		{"reno", &renoRecovery{}, 3001, 2001, true},
		{"sack", &sackRecovery{}, 1001, 2001, false},
		{"sack ahead", &sackRecovery{}, 3001, 3001, false},
		{"rack", nil, 1001, 2001, false},
	} {
		c := recoveryConn(tt.l, 10*lossMSS)
		c.rtxNext = tt.rtxNext
		c.loss.partialAck(c, 2001)
		if c.rtxNext != tt.want || c.mustResend != tt.mustResend {
			t.Errorf("%s: rtxNext %d mustResend %v, want %d %v", tt.strategy, c.rtxNext, c.mustResend, tt.want, tt.mustResend)
		}
	}
}

// DeliveredData for PRR (RFC 9937 §6), as each recovery reckons it from
// an ACK.
func TestLossRecoveryDelivered(t *testing.T) {
	ack := func(n Seq) Segment { return Segment{Ack: n, Flags: wire.FlagACK} }
	block := func(l, r Seq) Segment {
		s := ack(1001)
		s.Options.NumSACK, s.Options.SACK[0] = 1, wire.SACKBlock{Left: uint32(l), Right: uint32(r)}
		return s
	}
	for _, tt := range []struct {
		name       string
		l          lossRecovery
		inRecovery bool
		dupAcks    int
		sacked     []seqRange
		seg        Segment
		dd         int
		dupAfter   int
	}{
		// Without SACK a cumulative ACK delivers what it acknowledges;
		// in recovery, less what its duplicate ACKs stood for, at least
		// a segment, and those duplicates leave the count.
		{name: "reno", l: &renoRecovery{}, seg: ack(3001), dd: 2000},
		{name: "reno partial", l: &renoRecovery{}, inRecovery: true, dupAcks: 3, seg: ack(3001), dd: 1000, dupAfter: 2},
		{name: "reno partial beyond", l: &renoRecovery{}, inRecovery: true, dupAcks: 1, seg: ack(4001), dd: 2000},
		{name: "reno duplicate", l: &renoRecovery{}, seg: ack(1001)},
		{name: "reno ignores blocks", l: &renoRecovery{}, seg: block(2001, 4001)},
		// With SACK: what the blocks newly select, and what the ACK
		// covers that was not SACKed before.
		{name: "sack block", l: &sackRecovery{}, seg: block(2001, 4001), dd: 2000},
		{name: "sack block again", l: &sackRecovery{}, sacked: []seqRange{{2001, 4001}}, seg: block(2001, 4001)},
		{name: "sack ack over SACKed", l: &sackRecovery{}, sacked: []seqRange{{2001, 4001}}, seg: ack(5001), dd: 2000},
		{name: "rack block", l: nil, seg: block(3001, 4001), dd: 1000},
	} {
		c := recoveryConn(tt.l, 10*lossMSS)
		c.inRecovery, c.dupAcks = tt.inRecovery, tt.dupAcks
		for _, r := range tt.sacked {
			c.sb.add(r)
		}
		c.takeSACK(&tt.seg)
		if int(c.prrDD) != tt.dd || c.dupAcks != tt.dupAfter {
			t.Errorf("%s: delivered %d, dupAcks %d; want %d, %d", tt.name, c.prrDD, c.dupAcks, tt.dd, tt.dupAfter)
		}
	}
}

// The recovery is chosen once, from SACK and the Config, and a choice
// without state allocates nothing.
func TestSetSACK(t *testing.T) {
	for _, tt := range []struct {
		rack, sack bool
		want       string
	}{
		{false, false, "*tcp.renoRecovery"},
		{true, false, "*tcp.renoRecovery"},
		{false, true, "*tcp.sackRecovery"},
		{true, true, "*tcp.rackIdle"}, // until it sends data
	} {
		c := NewConn(&Config{NoRACK: !tt.rack}, 1)
		c.setSACK(tt.sack)
		if got := typeName(c.loss); got != tt.want {
			t.Errorf("RACK-TLP %v, SACK %v: %s, want %s", tt.rack, tt.sack, got, tt.want)
		}
	}
	c := NewConn(&Config{}, 1)
	if n := testing.AllocsPerRun(100, func() { c.setSACK(true); c.setSACK(false) }); n != 0 {
		t.Errorf("setSACK allocates %.1f times", n)
	}
}

func typeName(l lossRecovery) string {
	switch l.(type) {
	case *renoRecovery:
		return "*tcp.renoRecovery"
	case *sackRecovery:
		return "*tcp.sackRecovery"
	case *rackIdle:
		return "*tcp.rackIdle"
	case *rackState:
		return "*tcp.rackState"
	}
	return "?"
}

// RACK-TLP's state is made by the first data sent, with min_RTT from
// the handshake, and given back once the connection is idle (Compact):
// an idle connection holds none.
func TestRACKStateOnlyWhileSending(t *testing.T) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewConn(&Config{DelayedAck: -1}, 1000)
	in := func(text string) {
		t.Helper()
		seg, err := ParseSegment(text)
		if err != nil {
			t.Fatal(err)
		}
		c.Input(&seg, now)
		c.Outgoing()
	}
	c.Connect(now)
	c.Outgoing()
	now = now.Add(20 * time.Millisecond)
	in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	if got := typeName(c.loss); got != "*tcp.rackIdle" {
		t.Errorf("after the handshake: %s, want *tcp.rackIdle", got)
	}
	c.Write(make([]byte, 100), now)
	c.Outgoing()
	if r := c.rack(); r == nil || r.minRTT != 20*time.Millisecond {
		t.Fatalf("after data: %s, want *tcp.rackState with min_RTT 20ms", typeName(c.loss))
	}
	now = now.Add(20 * time.Millisecond)
	in(". 5001:5001(0) ack 1101 win 65535")
	c.Compact()
	if got := typeName(c.loss); got != "*tcp.rackIdle" {
		t.Errorf("idle: %s, want *tcp.rackIdle", got)
	}
}
