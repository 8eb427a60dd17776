package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// An ACK of our FIN that carries a FIN of its own beyond a hole (or an
// old one) still ends FIN_WAIT_1: the connection waits in FIN_WAIT_2 for
// the peer's FIN, where an orphan's wait is bounded. It stayed in
// FIN_WAIT_1 with no timer, so an orphan whose peer never filled the
// hole was held forever (found by FuzzPair's liveness check).
func TestFinAckedWithFINBeyondHole(t *testing.T) {
	c := reach(t, tcp.FinWait1)
	c.Orphan(c.now)
	c.do(step{in: "F. 5011:5011(0) ack 1002 win 65535", states: []tcp.State{tcp.FinWait2}})
	c.do(step{call: "timer", wait: tcp.DefaultFinWait2Timeout, states: []tcp.State{tcp.Closed}})
}
