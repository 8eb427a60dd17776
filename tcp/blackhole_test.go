package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// A path that drops every full-sized segment and sends no ICMP: after the
// third timeout the MSS falls to 1024 and the data goes in segments that
// get through (RFC 4821 §7.7's fallback).
func TestBlackHoleDetection(t *testing.T) {
	c := openWith(t, plain(tcp.Config{DelayedAck: -1, CongestionControl: tcp.NewNewReno}, withBlackHoleDetection, withoutNagle))
	c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{". 1001:2025(1024) ack 5001", "P. 2025:2461(436) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535"})
	if got := c.Stats().MSS; got != 1024 {
		t.Errorf("MSS %d, want 1024", got)
	}
	// Without the setting, the segment keeps its size.
	d := openWith(t, plain(tcp.Config{DelayedAck: -1}, withoutNagle))
	d.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	for range 3 {
		d.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	}
}
