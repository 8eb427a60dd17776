package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The flight counted in segments, as Linux's tcp_info counts it, through
// a fast recovery under each of the three loss recoveries: ten segments
// out, the first lost, the next three SACKed (or, without SACK, three
// duplicate ACKs); the first goes again and stays lost, and sent again,
// until it is acknowledged.
func TestFlight(t *testing.T) {
	for _, r := range []struct {
		name string
		cfg  *tcp.Config
		opts string
	}{
		{"RACK-TLP", plain(tcp.Config{}, withSACK, withRACK), "<mss 1460,sackOK>"},
		{"RFC 6675", plain(tcp.Config{}, withSACK), "<mss 1460,sackOK>"},
		{"NewReno", plain(tcp.Config{}), "<mss 1460>"},
	} {
		t.Run(r.name, func(t *testing.T) {
			c := established(t, r.cfg, r.opts)
			if got, want := c.Flight(), (tcp.Flight{Unacked: 10}); got != want {
				t.Fatalf("ten segments out: %+v, want %+v", got, want)
			}
			c.now = c.now.Add(100 * time.Millisecond)
			for _, sack := range []string{"<sack 2461:3921>", "<sack 2461:5381>", "<sack 2461:6841>"} {
				if r.opts == "<mss 1460>" {
					sack = ""
				}
				c.in(". 5001:5001(0) ack 1001 win 65535 " + sack)
			}
			if out := c.Outgoing(); len(out) == 0 || out[0].Seq != 1001 {
				t.Fatalf("after three SACKs: sent %v, want the first segment again", out)
			}
			if got, want := c.Flight(), (tcp.Flight{Unacked: 10, SACKed: 3, Lost: 1, Retransmitted: 1}); got != want {
				t.Errorf("in fast recovery: %+v, want %+v", got, want)
			}
			if r.opts != "<mss 1460>" {
				if got := c.Delivered(); got != 4 {
					t.Errorf("in fast recovery: %d delivered, want 4 (the SYN and three SACKed)", got)
				}
			}
			c.in(". 5001:5001(0) ack 15601 win 65535")
			c.Outgoing()
			if got := c.Flight(); got != (tcp.Flight{}) {
				t.Errorf("all acknowledged: %+v, want none", got)
			}
			if got := c.Delivered(); got != 11 {
				t.Errorf("all acknowledged: %d delivered, want 11", got)
			}
			if s := c.Stats(); s.DataSegmentsSent != 11 || s.DataSegmentsReceived != 0 {
				t.Errorf("data segments sent, received: %d, %d; want 11, 0", s.DataSegmentsSent, s.DataSegmentsReceived)
			}
		})
	}
}

// After a timeout everything sent before it and not SACKed is lost, as
// Linux's tcp_enter_loss marks it; what went again is retransmitted.
func TestFlightAfterTimeout(t *testing.T) {
	c := established(t, plain(tcp.Config{}), "<mss 1460>")
	c.fireTimer()
	c.Outgoing()
	if got, want := c.Flight(), (tcp.Flight{Unacked: 10, Lost: 10, Retransmitted: 1}); got != want {
		t.Errorf("after a timeout: %+v, want %+v", got, want)
	}
	if n, b := c.Timeouts(), c.Backoff(); n != 1 || b != 1 {
		t.Errorf("after a timeout: %d timeouts, backoff %d; want 1, 1", n, b)
	}
}

// The receive side: the estimate of the peer's MSS starts at 536 bytes
// (RFC 9293 §3.7.1's default) and becomes the largest segment received;
// the delayed-ACK timeout reads 0 until data arrives.
func TestReceiveMSSAndAckTimeout(t *testing.T) {
	c := established(t, plain(tcp.Config{}), "<mss 1460>")
	if m, a := c.ReceiveMSS(), c.AckTimeout(); m != 536 || a != 0 {
		t.Errorf("before data: rcv_mss %d, ato %v; want 536, 0", m, a)
	}
	c.in(". 5001:5101(100) ack 1001 win 65535")
	if m := c.ReceiveMSS(); m != 536 {
		t.Errorf("after 100 bytes: rcv_mss %d, want 536", m)
	}
	c.in(". 5101:6101(1000) ack 1001 win 65535")
	if m, a := c.ReceiveMSS(), c.AckTimeout(); m != 1000 || a != tcp.DefaultDelayedAck {
		t.Errorf("after 1000 bytes: rcv_mss %d, ato %v; want 1000, %v", m, a, tcp.DefaultDelayedAck)
	}
	if s := c.Stats(); s.DataSegmentsReceived != 2 {
		t.Errorf("%d data segments received, want 2", s.DataSegmentsReceived)
	}
}
