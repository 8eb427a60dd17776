package tcp_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// timeWaitCase is one case of testdata/timewait.table: steps fed, in
// order, to a connection fresh in TIME_WAIT.
type timeWaitCase struct {
	name  string
	steps []timeWaitStep
}

// timeWaitStep is one line of a case.
type timeWaitStep struct {
	at      time.Duration // since the case began
	in      string        // the segment that arrives
	reply   string        // the answer: "-" none, "reuse" a new connection
	restart bool          // the 2×MSL wait starts again
}

// readTimeWaitTable parses the table that the engine's and the stack's
// TIME_WAIT tests share.
func readTimeWaitTable(t *testing.T, path string) []timeWaitCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []timeWaitCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "case "):
			cases = append(cases, timeWaitCase{name: strings.TrimPrefix(line, "case ")})
			continue
		}
		fields := strings.Split(line, "|")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		ms, err := strconv.Atoi(fields[0])
		if len(cases) == 0 || len(fields) < 3 || len(fields) > 4 || err != nil ||
			len(fields) == 4 && fields[3] != "restart" {
			t.Fatalf("%s:%d: bad step %q", path, n, line)
		}
		c := &cases[len(cases)-1]
		c.steps = append(c.steps, timeWaitStep{at: time.Duration(ms) * time.Millisecond,
			in: fields[1], reply: fields[2], restart: len(fields) == 4})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// The control block in TIME_WAIT and the compact record the stack keeps
// in its place answer every segment of the shared table alike (our side
// sent FIN 1001 and received the peer's FIN 5001).
func TestTimeWaitTable(t *testing.T) {
	for _, tc := range readTimeWaitTable(t, "testdata/timewait.table") {
		t.Run(tc.name, func(t *testing.T) {
			conn := reach(t, tcp.TimeWait)
			tw := conn.TimeWaitRecord()
			if tw.Wait != 60*time.Second || !tw.Expires.Equal(conn.now.Add(60*time.Second)) {
				t.Fatalf("record %+v", tw)
			}
			start := conn.now.Add(10 * time.Second)
			expires := tw.Expires
			for _, s := range tc.steps {
				now := start.Add(s.at)
				seg, err := tcp.ParseSegment(s.in)
				if err != nil {
					t.Fatal(err)
				}
				action, reply := tw.Input(&seg, now)
				conn.now = now
				conn.in(s.in)
				sent := conn.Outgoing()
				label := "+" + s.at.String() + " " + s.in
				switch {
				case s.reply == "reuse":
					if action != tcp.TimeWaitReuse {
						t.Errorf("%s: record action %d, want reuse", label, action)
					}
					if conn.State() != tcp.SynReceived || len(sent) != 1 || sent[0].Seq != tw.ReuseISS() || tw.ReuseISS() != 1002+1<<17 {
						t.Errorf("%s: the control block is %v and sent %v, want a SYN+ACK from %d", label, conn.State(), sent, tw.ReuseISS())
					}
					return
				case s.reply == "-":
					if action != tcp.TimeWaitDrop {
						t.Errorf("%s: record action %d (%v), want none", label, action, reply)
					}
					if len(sent) != 0 {
						t.Errorf("%s: the control block sent %v, want nothing", label, sent)
					}
				default:
					if got := dropWindow(reply.String()); action != tcp.TimeWaitReply || got != s.reply {
						t.Errorf("%s: record action %d, reply %q; want %q", label, action, got, s.reply)
					}
					if len(sent) != 1 || dropWindow(sent[0].String()) != s.reply {
						t.Errorf("%s: the control block sent %v, want %q", label, sent, s.reply)
					} else if sent[0].String() != reply.String() {
						t.Errorf("%s: the control block sent %q, the record %q", label, sent[0], reply)
					}
				}
				if conn.State() != tcp.TimeWait {
					t.Fatalf("%s: the control block left TIME_WAIT for %v", label, conn.State())
				}
				if s.restart {
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
