package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// PSH marks the segment carrying the last byte of each write (RFC 9293
// §3.9.1, SEND's PUSH flag, which the sockets API sets on every write),
// when it is sent again too, as Linux keeps the mark with the data. A
// write joining one still unsent shares its mark: one PSH at the end of
// both.
func TestPushPerWrite(t *testing.T) {
	c := reach(t, tcp.Established)
	c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "write 1460", out: []string{"P. 2461:3921(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	// The RTO left a window of one segment: the next writes wait, and
	// join.
	c.do(step{call: "write 1000"})
	c.do(step{call: "write 1000"})
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{"P. 2461:3921(1460) ack 5001", ". 3921:5381(1460) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 5381 win 65535", out: []string{"P. 5381:5921(540) ack 5001"}})
}
