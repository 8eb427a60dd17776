package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The compact TIME_WAIT record answers as the control block does: our
// side sent FIN 1001 (SND.NXT 1002) and received the peer's FIN 5001
// (RCV.NXT 5002).
func TestTimeWaitRecord(t *testing.T) {
	for _, c := range []struct {
		in      string
		action  tcp.TimeWaitAction
		reply   string
		restart bool // the 2×MSL wait starts again
	}{
		{in: "F. 5001:5001(0) ack 1002", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002", restart: true},
		{in: "R 5002:5002(0)", action: tcp.TimeWaitDrop},
		{in: "R. 5002:5002(0) ack 1002", action: tcp.TimeWaitDrop},
		{in: ". 5002:5002(0) ack 1002", action: tcp.TimeWaitDrop},
		{in: ". 5002:5002(0) ack 3000", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002"},
		{in: "P. 5002:5012(10) ack 1002", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002"},
		{in: ". 4000:4000(0) ack 1002", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002"},
		{in: "S 4000:4000(0)", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002"},
		{in: "S. 9000:9000(0) ack 1002", action: tcp.TimeWaitReply, reply: ". 1002:1002(0) ack 5002"},
		{in: "S 9000:9000(0) <mss 1460>", action: tcp.TimeWaitReuse},
	} {
		t.Run(c.in, func(t *testing.T) {
			conn := reach(t, tcp.TimeWait)
			tw := conn.TimeWaitRecord()
			if tw.Wait != 60*time.Second || !tw.Expires.Equal(conn.now.Add(60*time.Second)) {
				t.Fatalf("record %+v", tw)
			}
			seg, err := tcp.ParseSegment(c.in)
			if err != nil {
				t.Fatal(err)
			}
			later := conn.now.Add(10 * time.Second)
			action, reply := tw.Input(&seg, later)
			if action != c.action {
				t.Fatalf("action %d, want %d", action, c.action)
			}
			if action == tcp.TimeWaitReply {
				if got := dropWindow(reply.String()); got != c.reply {
					t.Errorf("reply %q, want %q", got, c.reply)
				}
			}
			if restarted := tw.Expires.Equal(later.Add(60 * time.Second)); restarted != c.restart {
				t.Errorf("wait restarted: %v, want %v", restarted, c.restart)
			}
			// The control block, given the same segment, answers alike.
			if action != tcp.TimeWaitReuse {
				conn.in(c.in)
				got := conn.Outgoing()
				if (len(got) > 0) != (action == tcp.TimeWaitReply) && c.in != "P. 5002:5012(10) ack 1002" {
					t.Errorf("the control block sent %v", got)
				}
			}
			if action == tcp.TimeWaitReuse && tw.ReuseISS() != 1002+1<<17 {
				t.Errorf("ReuseISS %d", tw.ReuseISS())
			}
		})
	}
}
