package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/internal/twtable"
	"github.com/seqack/seqack/tcp"
)

// The control block in TIME_WAIT and the compact record the stack keeps
// in its place answer every segment of the shared table alike (our side
// sent FIN 1001 and received the peer's FIN 5001).
func TestTimeWaitTable(t *testing.T) {
	cases, err := twtable.Read("testdata/timewait.table")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			conn := reach(t, tcp.TimeWait)
			tw := conn.TimeWaitRecord()
			if tw.Wait != 60*time.Second || !tw.Expires.Equal(conn.now.Add(60*time.Second)) {
				t.Fatalf("record %+v", tw)
			}
			start := conn.now.Add(10 * time.Second)
			expires := tw.Expires
			for _, s := range tc.Steps {
				now := start.Add(s.At)
				seg, err := tcp.ParseSegment(s.In)
				if err != nil {
					t.Fatal(err)
				}
				action, reply := tw.Input(&seg, now)
				conn.now = now
				conn.in(s.In)
				sent := conn.Outgoing()
				label := "+" + s.At.String() + " " + s.In
				switch {
				case s.Reply == "reuse":
					if action != tcp.TimeWaitReuse {
						t.Errorf("%s: record action %d, want reuse", label, action)
					}
					if conn.State() != tcp.SynReceived || len(sent) != 1 || sent[0].Seq != tw.ReuseISS() || tw.ReuseISS() != 1002+1<<17 {
						t.Errorf("%s: the control block is %v and sent %v, want a SYN+ACK from %d", label, conn.State(), sent, tw.ReuseISS())
					}
					return
				case s.Reply == "-":
					if action != tcp.TimeWaitDrop {
						t.Errorf("%s: record action %d (%v), want none", label, action, reply)
					}
					if len(sent) != 0 {
						t.Errorf("%s: the control block sent %v, want nothing", label, sent)
					}
				default:
					if got := dropWindow(reply.String()); action != tcp.TimeWaitReply || got != s.Reply {
						t.Errorf("%s: record action %d, reply %q; want %q", label, action, got, s.Reply)
					}
					if len(sent) != 1 || dropWindow(sent[0].String()) != s.Reply {
						t.Errorf("%s: the control block sent %v, want %q", label, sent, s.Reply)
					} else if sent[0].String() != reply.String() {
						t.Errorf("%s: the control block sent %q, the record %q", label, sent[0], reply)
					}
				}
				if conn.State() != tcp.TimeWait {
					t.Fatalf("%s: the control block left TIME_WAIT for %v", label, conn.State())
				}
				if s.Restart {
					expires = now.Add(60 * time.Second)
				}
				if !tw.Expires.Equal(expires) || !conn.Deadline().Equal(expires) {
					t.Errorf("%s: the record expires at %v, the control block at %v, want %v",
						label, tw.Expires.Sub(start), conn.Deadline().Sub(start), expires.Sub(start))
				}
			}
		})
	}
}

// With timestamps, the record echoes the peer's latest TSval as the
// control block does, and drops what PAWS rejects as the control block
// does (RFC 7323 §5.3), answering it within the same rate limit.
func TestTimeWaitTimestamps(t *testing.T) {
	cfg := plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1}, withoutNagle, withTimestamps)
	conn := newTestConn(t, cfg, ourISS)
	conn.Connect(conn.now)
	conn.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,TS val 100 ecr 0>")
	conn.Close(conn.now)
	conn.in(". 5001:5001(0) ack 1002 win 65535 <TS val 110 ecr 1>")
	conn.in("F. 5001:5001(0) ack 1002 win 65535 <TS val 120 ecr 1>")
	conn.settle()
	if conn.State() != tcp.TimeWait {
		t.Fatalf("state %v", conn.State())
	}
	tw := conn.TimeWaitRecord()
	start := conn.now
	for _, s := range []struct {
		at        time.Duration
		in, reply string
	}{
		{0, ". 5002:5002(0) ack 1002 <TS val 130 ecr 1>", ""},                                                           // acceptable: TS.Recent 130
		{time.Second, "F. 5001:5001(0) ack 1002 <TS val 140 ecr 1>", ". 1002:1002(0) ack 5002 <TS val 2000 ecr 130>"},   // out of the window: TS.Recent stays
		{2 * time.Second, ". 5002:5002(0) ack 1002 <TS val 90 ecr 1>", ". 1002:1002(0) ack 5002 <TS val 3000 ecr 130>"}, // PAWS
		{2*time.Second + time.Millisecond, ". 5002:5002(0) ack 1002 <TS val 91 ecr 1>", ""},                             // PAWS, within 500 ms
		{3 * time.Second, ". 5002:5002(0) ack 1002 <TS val 150 ecr 1>", ""},
		{4 * time.Second, ". 4000:4000(0) ack 1002 <TS val 160 ecr 1>", ". 1002:1002(0) ack 5002 <TS val 5000 ecr 150>"},
	} {
		now := start.Add(s.at)
		seg, err := tcp.ParseSegment(s.in)
		if err != nil {
			t.Fatal(err)
		}
		action, reply := tw.Input(&seg, now)
		conn.now = now
		conn.in(s.in)
		sent := conn.Outgoing()
		var fromRecord, fromConn string
		if action == tcp.TimeWaitReply {
			fromRecord = dropWindow(reply.String())
		}
		if len(sent) == 1 {
			fromConn = dropWindow(sent[0].String())
		}
		if fromRecord != s.reply || fromConn != s.reply || len(sent) > 1 {
			t.Errorf("+%v %s: the record answered %q, the control block %v; want %q", s.at, s.in, fromRecord, sent, s.reply)
		}
	}
}

// A SYN reopens a pair in TIME_WAIT by RFC 6191's rules, as Linux has
// them: a timestamp newer than TS.Recent, or a sequence number beyond
// RCV.NXT that PAWS does not reject. Any other SYN is unacceptable and
// answered with an ACK.
func TestTimeWaitReuseRFC6191(t *testing.T) {
	cfg := plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1}, withoutNagle, withTimestamps)
	conn := newTestConn(t, cfg, ourISS)
	conn.Connect(conn.now)
	conn.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,TS val 100 ecr 0>")
	conn.Close(conn.now)
	conn.in(". 5001:5001(0) ack 1002 win 65535 <TS val 110 ecr 1>")
	conn.in("F. 5001:5001(0) ack 1002 win 65535 <TS val 120 ecr 1>") // TS.Recent 120
	conn.settle()
	for _, c := range []struct {
		syn  string
		want tcp.TimeWaitAction
	}{
		{"S 4000:4000(0) win 65535 <mss 1460,TS val 200 ecr 0>", tcp.TimeWaitReuse}, // newer timestamp, old sequence number
		{"S 9000:9000(0) win 65535 <mss 1460,TS val 121 ecr 0>", tcp.TimeWaitReuse}, // both newer
		{"S 9000:9000(0) win 65535 <mss 1460,TS val 120 ecr 0>", tcp.TimeWaitReuse}, // equal timestamp, newer sequence number
		{"S 9000:9000(0) win 65535 <mss 1460>", tcp.TimeWaitReuse},                  // no timestamp: the sequence number decides
		{"S 4000:4000(0) win 65535 <mss 1460,TS val 120 ecr 0>", tcp.TimeWaitReply}, // equal timestamp, old sequence number
		{"S 9000:9000(0) win 65535 <mss 1460,TS val 90 ecr 0>", tcp.TimeWaitReply},  // PAWS rejects it
		{"S 4000:4000(0) win 65535 <mss 1460>", tcp.TimeWaitReply},                  // old sequence number, no timestamp
	} {
		tw := conn.TimeWaitRecord()
		seg, err := tcp.ParseSegment(c.syn)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := tw.Input(&seg, conn.now); got != c.want {
			t.Errorf("%s: action %d, want %d", c.syn, got, c.want)
		}
	}
}
