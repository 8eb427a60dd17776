package tcp_test

import (
	"fmt"
	"testing"

	"github.com/seqack/seqack/tcp"
)

// Proportional Rate Reduction (RFC 9937): how much fast recovery sends
// on each ACK. The tables start from twenty segments in flight
// (15601:44801, a window of 29200 bytes grown by slow start) and queue
// more data only once recovery has begun, so that limited transmit
// (RFC 3042) sends nothing before it.

// twentyInFlight returns a connection with twenty full segments in
// flight, 15601 to 44801, and a congestion window of 29200 bytes: the
// initial ten, acknowledged one by one, each let two more out.
func twentyInFlight(t *testing.T, cfg *tcp.Config, opts string) *testConn {
	t.Helper()
	c := established(t, cfg, opts)
	c.Write(make([]byte, 29200), c.now)
	c.out()
	for i := 1; i <= 10; i++ {
		c.in(fmt.Sprintf(". 5001:5001(0) ack %d win 65535", 1001+1460*i))
		if got := len(c.Outgoing()); got != 2 {
			t.Fatalf("ACK %d of slow start let %d segments out, want 2", i, got)
		}
	}
	if cwnd, _ := c.window(); cwnd != 29200 {
		t.Fatalf("cwnd %d after slow start, want 29200", cwnd)
	}
	return c
}

func (c *testConn) steps(steps []step) {
	c.t.Helper()
	for _, s := range steps {
		c.do(s)
	}
}

// One loss among twenty segments, with SACK and NewReno (ssthresh =
// 14600, half the window; RecoverFS = 23360, the pipe when recovery
// starts, RFC 9937 §6): the third duplicate ACK sends the retransmission
// at once; then, while the pipe is above ssthresh, five new segments go
// for every eight the peer SACKs (sndcnt = CEIL(prr_delivered·ssthresh/
// RecoverFS) - prr_out), where RFC 6675 would send nothing until the
// pipe fell below the halved window; once the pipe is down to ssthresh,
// what goes out keeps it there. The full ACK ends recovery with cwnd =
// ssthresh and that much in flight.
func TestPRRProportionalSACK(t *testing.T) {
	c := twentyInFlight(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK), "<mss 1460,sackOK>")
	// 15601:17061 is lost; the segments above it arrive.
	c.steps([]step{
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:18521>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:19981>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:21441>", out: []string{". 15601:17061(1460) ack 5001"}},
		{call: "write 29200"}, // the PRR count is spent on the retransmission: nothing new yet
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:22901>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:24361>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:25821>", out: []string{". 44801:46261(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:27281>", out: []string{". 46261:47721(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:28741>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:30201>", out: []string{". 47721:49181(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:31661>", out: []string{". 49181:50641(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:33121>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:34581>", out: []string{". 50641:52101(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:36041>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:37501>", out: []string{". 52101:53561(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:38961>", out: []string{". 53561:55021(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:40421>"},
		// The pipe is down to ssthresh (14600): no more than ssthresh -
		// pipe goes out (PRR-CRB: these ACKs bring new SACK blocks, so
		// they are no SafeACKs), one segment for each delivered.
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:41881>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:43341>", out: []string{". 55021:56481(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:44801>", out: []string{". 56481:57941(1460) ack 5001"}},
		// The retransmission arrives: the full ACK ends recovery, with
		// 14600 bytes in flight after one more segment.
		{in: ". 5001:5001(0) ack 44801 win 65535", out: []string{". 57941:59401(1460) ack 5001"}},
	})
	if s := c.Stats(); s.InRecovery || s.CongestionWindow != 14600 || s.SlowStartThreshold != 14600 || s.Retransmissions != 1 {
		t.Errorf("after recovery: in recovery %v, cwnd %d, ssthresh %d, %d retransmissions; want false, 14600, 14600, 1",
			s.InRecovery, s.CongestionWindow, s.SlowStartThreshold, s.Retransmissions)
	}
}

// Without SACK (RFC 9937 §6 with RFC 6582 NewReno) each duplicate ACK
// counts as one segment delivered: again five new segments for every
// eight. A second loss (22901) shows at the partial ACK, which counts as
// one segment delivered (the hole resent: its duplicate ACKs stood for
// the rest): the new hole goes at once, and the pipe, now below
// ssthresh, grows back by one segment (the partial ACK advanced SND.UNA
// with no sign of more loss, a SafeACK: PRR-SSRB, at most DeliveredData
// + MSS, and no more than ssthresh - pipe).
func TestPRRNewRenoWithoutSACK(t *testing.T) {
	c := twentyInFlight(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), "<mss 1460>")
	dup := ". 5001:5001(0) ack 15601 win 65535"
	c.steps([]step{
		{in: dup},
		{in: dup},
		{in: dup, out: []string{". 15601:17061(1460) ack 5001"}},
		{call: "write 29200"},
		{in: dup},
		{in: dup},
		{in: dup, out: []string{". 44801:46261(1460) ack 5001"}},
		{in: dup, out: []string{". 46261:47721(1460) ack 5001"}},
		{in: dup},
		{in: dup, out: []string{". 47721:49181(1460) ack 5001"}},
		{in: dup, out: []string{". 49181:50641(1460) ack 5001"}},
		{in: dup},
		{in: dup, out: []string{". 50641:52101(1460) ack 5001"}},
		{in: dup},
		{in: dup, out: []string{". 52101:53561(1460) ack 5001"}},
		{in: dup, out: []string{". 53561:55021(1460) ack 5001"}},
		{in: dup},
		{in: dup},
		{in: dup, out: []string{". 55021:56481(1460) ack 5001"}},
		// Eighteen duplicate ACKs: the segments above both holes. The
		// retransmission fills the first; the partial ACK stops at the
		// second.
		{in: ". 5001:5001(0) ack 22901 win 65535", out: []string{". 22901:24361(1460) ack 5001", ". 56481:57941(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 22901 win 65535", out: []string{". 57941:59401(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 22901 win 65535", out: []string{". 59401:60861(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 44801 win 65535"}, // 16060 in flight: over the window of 14600
	})
	if s := c.Stats(); s.InRecovery || s.CongestionWindow != 14600 || s.Retransmissions != 2 {
		t.Errorf("after recovery: in recovery %v, cwnd %d, %d retransmissions; want false, 14600, 2", s.InRecovery, s.CongestionWindow, s.Retransmissions)
	}
}

// Eight losses in a row, with SACK and CUBIC (ssthresh = 0.7·29200 =
// 20440): when recovery starts the pipe (13140) is already below
// ssthresh. The duplicate ACKs bring new SACK blocks, signs of more
// loss, so the conservative bound holds (PRR-CRB, RFC 9937 §6): one
// segment out for each delivered, where RFC 6675 would send the 7300
// bytes between pipe and ssthresh in one burst (and RFC 6937's PRR-SSRB
// two for each). The partial ACKs that follow the retransmissions
// advance SND.UNA with no new loss in sight (SafeACKs): PRR-SSRB lets
// one segment more go with each, two in all; the last also SACKs a
// segment, above holes all deemed lost already, so it too is a SafeACK:
// it delivers two and sends three.
func TestPRRReductionBounds(t *testing.T) {
	c := twentyInFlight(t, plain(tcp.Config{}, withSACK), "<mss 1460,sackOK>")
	// 15601:27281 is lost; 27281 and above arrive.
	c.steps([]step{
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:28741>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:30201>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:31661>", out: []string{". 15601:17061(1460) ack 5001"}},
		{call: "write 29200"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:33121>", out: []string{". 17061:18521(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:34581>", out: []string{". 18521:19981(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:36041>", out: []string{". 19981:21441(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:37501>", out: []string{". 21441:22901(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:38961>", out: []string{". 22901:24361(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:40421>", out: []string{". 24361:25821(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:41881>", out: []string{". 25821:27281(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:43341>", out: []string{". 44801:46261(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 27281:44801>", out: []string{". 46261:47721(1460) ack 5001"}},
		// The retransmissions arrive: SafeACKs.
		{in: ". 5001:5001(0) ack 17061 win 65535 <sack 27281:44801>", out: []string{". 47721:49181(1460) ack 5001", ". 49181:50641(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 18521 win 65535 <sack 27281:44801>", out: []string{". 50641:52101(1460) ack 5001", ". 52101:53561(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 19981 win 65535 <sack 27281:46261>", out: []string{". 53561:55021(1460) ack 5001", ". 55021:56481(1460) ack 5001", ". 56481:57941(1460) ack 5001"}},
	})
	if s := c.Stats(); !s.InRecovery || s.CongestionWindow != 20440 || s.Retransmissions != 8 {
		t.Errorf("in recovery %v, cwnd %d, %d retransmissions; want true, 20440, 8", s.InRecovery, s.CongestionWindow, s.Retransmissions)
	}
}

// RACK (RFC 8985) starts recovery at the first SACK here (no RTT has
// passed, so the segment below it is already overdue); PRR paces it the
// same way, on RACK's pipe.
func TestPRRWithRACK(t *testing.T) {
	c := twentyInFlight(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK, withRACK), "<mss 1460,sackOK>")
	c.steps([]step{
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:18521>", out: []string{". 15601:17061(1460) ack 5001"}},
		{call: "write 29200"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:19981>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:21441>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:22901>", out: []string{". 44801:46261(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:24361>"},
		{in: ". 5001:5001(0) ack 15601 win 65535 <sack 17061:25821>", out: []string{". 46261:47721(1460) ack 5001"}},
	})
	if s := c.Stats(); !s.InRecovery || s.CongestionWindow != 14600 {
		t.Errorf("in recovery %v, cwnd %d; want true, 14600", s.InRecovery, s.CongestionWindow)
	}
}
