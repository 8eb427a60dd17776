package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// After an idle period longer than the RTO a connection starts again
// from the initial window (RFC 5681 §4.1), unless NoRestartAfterIdle
// keeps its window (Linux's tcp_slow_start_after_idle=0).
func TestRestartAfterIdle(t *testing.T) {
	for _, c := range []struct {
		name      string
		noRestart bool
		want      int // segments sent after the idle second
	}{
		{"restart", false, 10},
		{"keep", true, 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno, NoRestartAfterIdle: c.noRestart}), "<mss 1460>")
			conn.in(". 5001:5001(0) ack 15601 win 65535") // slow start: cwnd 12 segments (RFC 3465: L = 2·SMSS)
			conn.Outgoing()
			conn.now = conn.now.Add(time.Second)
			conn.Write(make([]byte, 30*1460), conn.now)
			if got := len(conn.Outgoing()); got != c.want {
				t.Errorf("%d segments after the idle second, want %d", got, c.want)
			}
		})
	}
}
