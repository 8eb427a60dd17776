package stack

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/twtable"
	"github.com/seqack/seqack/tcp"
)

// timeWaitConn returns a control block in TIME_WAIT, as the engine's
// tests make it: our ISS 1000, the peer's 5000, we closed first, both
// FINs ACKed, all at now.
func timeWaitConn(t *testing.T, now time.Time) *tcp.Conn {
	t.Helper()
	cfg := tcp.PlainConfig() // the table's segments are RFC 9293's plain connection
	cfg.MSL, cfg.DelayedAck, cfg.Nagle = 30*time.Second, -1, false
	c := tcp.NewConn(cfg, 1000)
	c.Connect(now)
	for _, text := range []string{
		"S. 5000:5000(0) ack 1001 win 65535 <mss 1460>",
		"close",
		". 5001:5001(0) ack 1002 win 65535",
		"F. 5001:5001(0) ack 1002 win 65535",
	} {
		if text == "close" {
			c.Close(now)
			continue
		}
		seg, err := tcp.ParseSegment(text)
		if err != nil {
			t.Fatal(err)
		}
		c.Input(&seg, now)
	}
	c.Outgoing()
	if c.State() != tcp.TimeWait {
		t.Fatalf("reached %v, not TIME_WAIT", c.State())
	}
	return c
}

// The stack's TIME_WAIT entry, which answers for a pair once its
// connection has left the table, answers every segment of the engine's
// TIME_WAIT table as the control block itself does, and moves its timer
// when the wait restarts.
func TestTimeWaitEntryTable(t *testing.T) {
	cases, err := twtable.Read("../tcp/testdata/timewait.table")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			s := New(Options{})
			defer s.Close()
			// Real time, so that the entry's timer (60 s) stays in the
			// future while the test runs.
			entered := time.Now()
			conn := timeWaitConn(t, entered)
			tup := tuple{netip.MustParseAddrPort("192.0.2.2:80"), netip.MustParseAddrPort("192.0.2.1:40000")}
			c := &Conn{s: s, local: tup.local, remote: tup.remote}
			s.mu.Lock()
			s.conns[tup.key()] = c
			s.mu.Unlock()
			s.enterTimeWait(c, conn.TimeWaitRecord())
			s.mu.Lock()
			e := s.timeWaits[tup.key()]
			s.mu.Unlock()
			if e == nil {
				t.Fatal("no TIME_WAIT entry")
			}
			start := entered.Add(10 * time.Second)
			expires := entered.Add(60 * time.Second)
			for _, st := range tc.Steps {
				now := start.Add(st.At)
				label := "+" + st.At.String() + " " + st.In
				seg, err := tcp.ParseSegment(st.In)
				if err != nil {
					t.Fatal(err)
				}
				s.mu.Lock()
				action, reply := e.input(&seg, now)
				_, inTable := s.timeWaits[tup.key()]
				s.mu.Unlock()
				seg, _ = tcp.ParseSegment(st.In)
				conn.Input(&seg, now)
				sent := conn.Outgoing()

				var fromEntry, fromConn []string
				if action == tcp.TimeWaitReply {
					fromEntry = []string{reply.String()}
				}
				for _, seg := range sent {
					fromConn = append(fromConn, seg.String())
				}
				switch st.Reply {
				case "reuse":
					// The entry stays until a listener takes the SYN
					// (Stack.timeWaitInput, RFC 6191).
					if action != tcp.TimeWaitReuse || !inTable {
						t.Errorf("%s: entry action %d, in the table: %v; want reuse, still in the table", label, action, inTable)
					}
					if conn.State() != tcp.SynReceived {
						t.Errorf("%s: the control block is %v, want SYN_RCVD", label, conn.State())
					}
					return
				case "-":
					if fromEntry != nil || fromConn != nil {
						t.Errorf("%s: the entry answered %q, the control block %q; want nothing", label, fromEntry, fromConn)
					}
				default:
					if len(fromEntry) != 1 || len(fromConn) != 1 || fromEntry[0] != fromConn[0] ||
						!strings.HasPrefix(fromEntry[0], st.Reply+" ") {
						t.Errorf("%s: the entry answered %q, the control block %q; want %q", label, fromEntry, fromConn, st.Reply)
					}
				}
				if st.Restart {
					expires = now.Add(60 * time.Second)
				}
				s.timers.mu.Lock()
				timer := e.timer.at
				s.timers.mu.Unlock()
				if !inTable || !e.rec.Expires.Equal(expires) || !timer.Equal(expires) || !conn.Deadline().Equal(expires) {
					t.Errorf("%s: in the table %v, the entry expires at %v and its timer at %v, the control block at %v; want %v",
						label, inTable, e.rec.Expires.Sub(start), timer.Sub(start), conn.Deadline().Sub(start), expires.Sub(start))
				}
			}
		})
	}
}
