package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The recovery state through a fast recovery and a timeout, as Linux's
// tcpi_ca_state reports it: Disorder on the first duplicate ACK or SACK,
// Recovery from the third (RFC 6675 §5), Open once the recovery point is
// acknowledged; Loss from a retransmission timeout until everything sent
// before it is acknowledged (RFC 6298 §5, RFC 6582 §3.2).
func TestRecoveryState(t *testing.T) {
	c := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}, withSACK), "<mss 1460,sackOK>")
	for _, s := range []struct {
		in   string
		want tcp.RecoveryState
	}{
		{". 5001:5001(0) ack 2461 win 65535", tcp.RecoveryOpen},
		{". 5001:5001(0) ack 2461 win 65535 <sack 3921:5381>", tcp.RecoveryDisorder},
		{". 5001:5001(0) ack 2461 win 65535 <sack 3921:6841>", tcp.RecoveryDisorder},
		{". 5001:5001(0) ack 2461 win 65535 <sack 3921:8301>", tcp.RecoveryFast},
		{". 5001:5001(0) ack 15601 win 65535", tcp.RecoveryOpen},
	} {
		c.in(s.in)
		c.Outgoing()
		if got := c.RecoveryState(); got != s.want {
			t.Fatalf("after %s: %v, want %v", s.in, got, s.want)
		}
	}
	c.Write(make([]byte, 2920), c.now)
	c.Outgoing()
	c.fireTimer()
	c.Outgoing()
	if got, n := c.RecoveryState(), c.Timeouts(); got != tcp.RecoveryLoss || n != 1 {
		t.Fatalf("after a timeout: %v, %d timeouts; want Loss, 1", got, n)
	}
	c.in(". 5001:5001(0) ack 17061 win 65535")
	c.Outgoing()
	if got := c.RecoveryState(); got != tcp.RecoveryLoss {
		t.Fatalf("after a partial ACK: %v, want Loss", got)
	}
	c.in(". 5001:5001(0) ack 18521 win 65535")
	if got, n := c.RecoveryState(), c.Timeouts(); got != tcp.RecoveryOpen || n != 0 {
		t.Fatalf("after the full ACK: %v, %d timeouts; want Open, 0", got, n)
	}
}

// After a timeout the Eifel detection (RFC 3522) finds spurious, the
// state is Open again with SACK, as Linux's tcp_try_undo_loss leaves it;
// without SACK it stays Loss until the recovery point is acknowledged
// (RFC 6582 §3.2 step 1; Linux's tcp_is_non_sack_preventing_reopen).
func TestRecoveryStateAfterSpuriousTimeout(t *testing.T) {
	for _, sack := range []bool{true, false} {
		opts, synack := []func(*tcp.Config){withTimestamps, withoutNagle}, "<mss 1460,TS val 700 ecr 1000>"
		want := tcp.RecoveryLoss
		if sack {
			opts, synack = append(opts, withSACK), "<mss 1460,sackOK,TS val 700 ecr 1000>"
			want = tcp.RecoveryOpen
		}
		conn := newTestConn(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno, DelayedAck: -1}, opts...), ourISS)
		conn.Connect(conn.now)
		conn.in("S. 5000:5000(0) ack 1001 win 65535 " + synack)
		conn.now = conn.now.Add(100 * time.Millisecond)
		conn.settle()
		conn.Write(make([]byte, 4344), conn.now)
		conn.Outgoing()
		conn.now = conn.now.Add(200 * time.Millisecond)
		conn.fireTimer()
		conn.Outgoing()
		if got := conn.RecoveryState(); got != tcp.RecoveryLoss {
			t.Fatalf("SACK %v: after the timeout: %v, want Loss", sack, got)
		}
		conn.in(". 5001:5001(0) ack 2449 win 65535 <TS val 710 ecr 1100>") // echoes the original
		if got, n := conn.RecoveryState(), conn.Timeouts(); got != want || n != 0 {
			t.Errorf("SACK %v: after a spurious timeout: %v, %d timeouts; want %v, 0", sack, got, n, want)
		}
	}
}
