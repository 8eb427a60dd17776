package tcp_test

import (
	"math"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Undo of a spurious fast recovery (RFC 3708, RFC 3522; undo.go). The
// first of ten segments (1001:2461, or 1001:2449 with timestamps) is
// only delayed: the peer SACKs the three after it, fast recovery
// resends it and halves the window (NewReno: cwnd and ssthresh 7300),
// then the original arrives. The peer then reports the retransmission
// as a duplicate (D-SACK), or its ACK of the original echoes the
// original's TSval: either shows that nothing was lost, and the window
// and ssthresh go back to what they were (cwnd 14600, ssthresh
// unbounded). With two retransmissions and one D-SACK, or an echo of
// the retransmission, the reduction stays.
func TestUndoSpuriousRecovery(t *testing.T) {
	const unbounded = math.MaxInt32
	sack := plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK)
	rack := plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK, withRACK)
	ts := plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK, withTimestamps)
	for _, tt := range []struct {
		name           string
		cfg            *tcp.Config
		opts           string // the SYN+ACK's options
		steps          []step
		cwnd, ssthresh int
	}{
		{
			name: "D-SACK after the recovery", cfg: sack, opts: "<mss 1460,sackOK>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 15601 win 65535"}, // the original: the recovery ends, halved
				{in: ". 5001:5001(0) ack 15601 win 65535 <sack 1001:2461>"},
			},
			cwnd: 14600, ssthresh: unbounded,
		},
		{
			name: "D-SACK with the full ACK", cfg: sack, opts: "<mss 1460,sackOK>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 15601 win 65535 <sack 1001:2461>"},
			},
			cwnd: 17520, ssthresh: unbounded, // back to 14600, and grown by the ACK in slow start
		},
		{
			name: "D-SACK during the recovery, RACK-TLP", cfg: rack, opts: "<mss 1460,sackOK>",
			steps: []step{
				// RACK waits a reordering window (min_RTT/4, at most
				// SRTT), and its timer's slack, before deeming it lost.
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"},
				{call: "timer", out: []string{". 1001:2461(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 5381 win 65535"},
				{in: ". 5001:5001(0) ack 5381 win 65535 <sack 1001:2461>"},
			},
			cwnd: 14600, ssthresh: unbounded,
		},
		{
			// Two segments delayed, both resent; the second's duplicate
			// arrives above RCV.NXT and is reported in a first SACK
			// block inside the second (RFC 2883 §4.1.2).
			name: "D-SACKs below and above the ACK", cfg: sack, opts: "<mss 1460,sackOK>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 3921:5381>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 3921:6841>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 3921:8301>", out: []string{". 1001:2461(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 3921:9761>"}, // PRR: one for two delivered
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 3921:11221>", out: []string{". 2461:3921(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:11221>"},           // the original second
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921 2461:11221>"}, // its retransmission
				{in: ". 5001:5001(0) ack 15601 win 65535"},                            // the original first, and the rest
				{in: ". 5001:5001(0) ack 15601 win 65535 <sack 1001:2461>"},           // its retransmission
			},
			cwnd: 14600, ssthresh: unbounded,
		},
		{
			name: "one of two retransmissions D-SACKed", cfg: sack, opts: "<mss 1460,sackOK>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:3921>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:5381>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2461:6841>", out: []string{". 1001:2461(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 6841 win 65535 <sack 8301:12681>", out: []string{". 6841:8301(1460) ack 5001"}},
				{in: ". 5001:5001(0) ack 15601 win 65535 <sack 1001:2461>"},
			},
			cwnd: 7300, ssthresh: 7300,
		},
		{
			name: "timestamps: the original's TSval echoed", cfg: ts, opts: "<mss 1460,sackOK,TS val 700 ecr 1000>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:3897,TS val 710 ecr 1100>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:5345,TS val 710 ecr 1100>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:6793,TS val 710 ecr 1100>", out: []string{". 1001:2449(1448) ack 5001 <TS val 1110 ecr 710>"}},
				{in: ". 5001:5001(0) ack 15481 win 65535 <TS val 720 ecr 1100>", out: []string{"P. 15481:15601(120) ack 5001 <TS val 1110 ecr 720>"}},
			},
			cwnd: 17520, ssthresh: unbounded, // back to 14600, and grown by the ACK in slow start
		},
		{
			name: "timestamps: the retransmission's TSval echoed", cfg: ts, opts: "<mss 1460,sackOK,TS val 700 ecr 1000>",
			steps: []step{
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:3897,TS val 710 ecr 1100>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:5345,TS val 710 ecr 1100>"},
				{in: ". 5001:5001(0) ack 1001 win 65535 <sack 2449:6793,TS val 710 ecr 1100>", out: []string{". 1001:2449(1448) ack 5001 <TS val 1110 ecr 710>"}},
				{in: ". 5001:5001(0) ack 15481 win 65535 <TS val 720 ecr 1110>", out: []string{"P. 15481:15601(120) ack 5001 <TS val 1110 ecr 720>"}},
			},
			cwnd: 7240, ssthresh: 7240,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := established(t, tt.cfg, tt.opts)
			c.later(10 * time.Millisecond)
			c.steps(tt.steps)
			if cwnd, ssthresh := c.window(); cwnd != tt.cwnd || ssthresh != tt.ssthresh || c.Stats().InRecovery {
				t.Errorf("cwnd %d, ssthresh %d, in recovery %v; want %d, %d, false", cwnd, ssthresh, c.Stats().InRecovery, tt.cwnd, tt.ssthresh)
			}
		})
	}
}
