package tcp_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// An off-path attacker who knows the four-tuple but not the sequence
// numbers (RFC 5961 §1) sends RSTs, SYNs and data with guessed numbers.
// A RST must hit RCV.NXT exactly (1 in 2^32) and a SYN never resets;
// data needs both its sequence number in the window and an acceptable
// ACK (RFC 5961 §5). None of 200000 guesses of each kind gets through:
// the connection stays ESTABLISHED and no forged byte is delivered.
func TestBlindAttacks(t *testing.T) {
	var k tcp.Counters
	cfg := plain(tcp.Config{Counters: &k, ChallengeACKs: &tcp.ChallengeACKLimiter{Limit: 100}})
	a, b, shuttle := connectedPair(cfg)
	a.Write([]byte("legitimate"), epoch)
	shuttle()
	r := rand.New(rand.NewPCG(5961, 1))
	const guesses = 200000
	for i := 0; i < guesses; i++ {
		seq, ack := tcp.Seq(r.Uint32()), tcp.Seq(r.Uint32())
		for _, seg := range []tcp.Segment{
			{Seq: seq, Flags: wire.FlagRST},
			{Seq: seq, Ack: ack, Flags: wire.FlagRST | wire.FlagACK},
			{Seq: seq, Flags: wire.FlagSYN, Window: 65535},
			{Seq: seq, Ack: ack, Flags: wire.FlagACK | wire.FlagPSH, Window: 65535, Payload: []byte("forged!")},
		} {
			b.Input(&seg, epoch)
			b.Outgoing()
		}
	}
	if b.State() != tcp.Established {
		t.Fatalf("after %d guesses of each kind the connection is %v (%v)", guesses, b.State(), b.Err())
	}
	if got := b.Stats().BytesReceived; got != uint64(len("legitimate")) {
		t.Errorf("%d bytes delivered, want only the 10 legitimate ones", got)
	}
	// The challenge ACKs stayed within the host's budget (one second of
	// virtual time: at most 1.5 × 100).
	if n := k.ChallengeACKs.Load(); n > 150 {
		t.Errorf("%d challenge ACKs sent in one second, over the budget", n)
	}
	t.Logf("%d challenge ACKs sent, %d held back, %d out-of-window segments", k.ChallengeACKs.Load(), k.ChallengeLimited.Load(), k.OutOfWindow.Load())
}

// ACKs answering unacceptable segments are rate-limited per connection
// (one per 500 ms, as Linux's tcp_invalid_ratelimit), but a retransmitted
// FIN in TIME_WAIT is always answered.
func TestOutOfWindowAckRateLimit(t *testing.T) {
	c := reach(t, tcp.Established)
	c.do(step{in: ". 90000:90010(10) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001"}})
	c.do(step{in: ". 90000:90010(10) ack 1001 win 65535"}) // within 500 ms: silent
	c.now = c.now.Add(500 * time.Millisecond)
	c.do(step{in: ". 90000:90010(10) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5001"}})

	w := reach(t, tcp.TimeWait)
	for range 3 {
		w.do(step{in: "F. 5001:5001(0) ack 1002 win 65535", out: []string{". 1002:1002(0) ack 5002"}})
	}
}
