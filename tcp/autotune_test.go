package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Receive buffer auto-tuning: a reader that keeps up sees its window grow
// round trip by round trip, up to MaxReceiveBufferSize; with auto-tuning
// off (a negative ceiling) the window stays at ReceiveBufferSize.
func TestReceiveBufferAutoTuning(t *testing.T) {
	for _, c := range []struct {
		ceiling  int
		wantMore bool
	}{{1 << 20, true}, {-1, false}} {
		t.Run(fmt.Sprint("ceiling ", c.ceiling), func(t *testing.T) {
			cfg := plain(tcp.Config{ReceiveBufferSize: 16384, MaxReceiveBufferSize: c.ceiling, DelayedAck: -1}, withoutNagle)
			conn := newTestConn(t, cfg, ourISS)
			conn.Listen()
			conn.in("S 5000:5000(0) win 65535 <mss 1460,wscale 0>")
			conn.in(". 5001:5001(0) ack 1001 win 65535")
			conn.settle()
			seq := 5001
			buf := make([]byte, 1<<20)
			for round := 0; round < 6; round++ {
				// The peer fills the window it was given; the reader
				// empties it a round trip later.
				for n := int(conn.Stats().ReceiveWindow); n >= 1000; n -= 1000 {
					conn.in(fmt.Sprintf(". %d:%d(1000) ack 1001 win 65535", seq, seq+1000))
					seq += 1000
				}
				conn.now = conn.now.Add(10 * time.Millisecond)
				for {
					if n, _ := conn.Read(buf, conn.now); n == 0 {
						break
					}
				}
				conn.Outgoing()
			}
			got := int(conn.Stats().ReceiveWindow)
			if c.wantMore && (got <= 4*16384 || got > c.ceiling) {
				t.Errorf("window %d after six round trips of a fast reader, want well over 16384 and at most %d", got, c.ceiling)
			}
			if !c.wantMore && got > 16384 {
				t.Errorf("window %d without auto-tuning, want at most 16384", got)
			}
		})
	}
}
