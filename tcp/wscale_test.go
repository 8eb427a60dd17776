package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Window scaling (RFC 7323 §2): offered in the SYN only when the receive
// buffer needs it, answered whenever the peer offers it, applied to every
// window but a SYN's, and off unless both SYNs carry the option.
func TestWindowScale(t *testing.T) {
	const big = 1 << 20 // needs a shift of 5: 1 MiB >> 5 = 32768
	for _, c := range []struct {
		name  string
		cfg   *tcp.Config
		steps []step
	}{
		{"active, both offer", plain(tcp.Config{ReceiveBufferSize: big}), []step{
			{call: "connect", out: []string{"S 1000:1000(0) win 65535 <mss 1460,wscale 5>"}, states: []tcp.State{tcp.SynSent}},
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460,wscale 7>",
				out: []string{". 1001:1001(0) ack 5001 win 32768"}, states: []tcp.State{tcp.Established}},
			{in: ". 5001:5001(0) ack 1001 win 10"}, // 10 << 7 = 1280 bytes
			{call: "write 5000", out: []string{". 1001:2281(1280) ack 5001"}},
		}},
		{"active, peer does not answer", plain(tcp.Config{ReceiveBufferSize: big}), []step{
			{call: "connect", out: []string{"S 1000:1000(0) win 65535 <mss 1460,wscale 5>"}, states: []tcp.State{tcp.SynSent}},
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460>",
				out: []string{". 1001:1001(0) ack 5001 win 65535"}, states: []tcp.State{tcp.Established}},
			{in: ". 5001:5001(0) ack 1001 win 1000"},
			{call: "write 5000", out: []string{". 1001:2001(1000) ack 5001"}},
		}},
		{"active, small buffer offers nothing and ignores an answer", plain(tcp.Config{}), []step{
			{call: "connect", out: []string{"S 1000:1000(0) win 65535 <mss 1460>"}, states: []tcp.State{tcp.SynSent}},
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460,wscale 7>",
				out: []string{". 1001:1001(0) ack 5001 win 65535"}, states: []tcp.State{tcp.Established}},
			{in: ". 5001:5001(0) ack 1001 win 1000"},
			{call: "write 5000", out: []string{". 1001:2001(1000) ack 5001"}},
		}},
		{"passive answers with its shift, even 0", plain(tcp.Config{}), []step{
			{call: "listen", states: []tcp.State{tcp.Listen}},
			{in: "S 5000:5000(0) win 65535 <mss 1460,wscale 2>",
				out: []string{"S. 1000:1000(0) ack 5001 win 65535 <mss 1460,wscale 0>"}, states: []tcp.State{tcp.SynReceived}},
			{in: ". 5001:5001(0) ack 1001 win 300", states: []tcp.State{tcp.Established}}, // 300 << 2 = 1200 bytes
			{call: "write 5000", out: []string{". 1001:2201(1200) ack 5001"}},
		}},
		{"passive without the peer's option", plain(tcp.Config{ReceiveBufferSize: big}), []step{
			{call: "listen", states: []tcp.State{tcp.Listen}},
			{in: "S 5000:5000(0) win 65535 <mss 1460>",
				out: []string{"S. 1000:1000(0) ack 5001 win 65535 <mss 1460>"}, states: []tcp.State{tcp.SynReceived}},
			{in: ". 5001:5001(0) ack 1001 win 300", states: []tcp.State{tcp.Established}},
			{call: "write 5000", out: []string{". 1001:1301(300) ack 5001"}},
		}},
		{"a shift over 14 counts as 14", plain(tcp.Config{CongestionControl: fixedWindow(1 << 20)}, withoutNagle), []step{
			{call: "listen", states: []tcp.State{tcp.Listen}},
			{in: "S 5000:5000(0) win 65535 <mss 1460,wscale 15>",
				out: []string{"S. 1000:1000(0) ack 5001 win 65535 <mss 1460,wscale 0>"}, states: []tcp.State{tcp.SynReceived}},
			{in: ". 5001:5001(0) ack 1001 win 0", states: []tcp.State{tcp.Established}},
			{in: ". 5001:5001(0) ack 1001 win 1"}, // 1 << 14, not 1 << 15
			{call: "write 40000", out: []string{
				". 1001:2461(1460) ack 5001", ". 2461:3921(1460) ack 5001", ". 3921:5381(1460) ack 5001",
				". 5381:6841(1460) ack 5001", ". 6841:8301(1460) ack 5001", ". 8301:9761(1460) ack 5001",
				". 9761:11221(1460) ack 5001", ". 11221:12681(1460) ack 5001", ". 12681:14141(1460) ack 5001",
				". 14141:15601(1460) ack 5001", ". 15601:17061(1460) ack 5001",
				// The last 324 bytes of the 16384-byte window would make
				// a silly segment (RFC 9293 §3.8.6.2.1): they wait.
			}},
		}},
		{"our window is scaled down and rounded down", plain(tcp.Config{ReceiveBufferSize: big, DelayedAck: -1}), []step{
			{call: "connect", out: []string{"S 1000:1000(0) win 65535 <mss 1460,wscale 5>"}, states: []tcp.State{tcp.SynSent}},
			{in: "S. 5000:5000(0) ack 1001 win 65535 <mss 1460,wscale 0>",
				out: []string{". 1001:1001(0) ack 5001 win 32768"}, states: []tcp.State{tcp.Established}},
			// 100 bytes in: the edge stays, 1048476 bytes remain: 32764.875 units.
			{in: "P. 5001:5101(100) ack 1001 win 65535", out: []string{". 1001:1001(0) ack 5101 win 32764"}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := newTestConn(t, c.cfg, ourISS)
			for _, s := range c.steps {
				conn.do(s)
			}
		})
	}
}

// fixedWindow returns a congestion control that never limits below
// bytes, for tests about the peer's window.
func fixedWindow(bytes int) func(int) tcp.CongestionControl {
	return func(int) tcp.CongestionControl { return fixed(bytes) }
}

type fixed int

func (f fixed) Window() int                       { return int(f) }
func (f fixed) SlowStartThreshold() int           { return int(f) }
func (fixed) Acked(int, time.Duration, time.Time) {}
func (fixed) Congestion(int, time.Time)           {}
func (fixed) Timeout(int, time.Time)              {}
func (fixed) Restart(time.Time)                   {}

// The window scale is the smallest that lets the window cover the
// largest the receive buffer may become (RFC 7323 §2.3), as Linux
// derives it from tcp_rmem[2] (tcp_select_initial_window: ilog2 of the
// space, less 15): 7 with auto-tuning up to 4 MiB, as Linux's 6 MiB
// gives. A buffer the application sized (SO_RCVBUF, SetBufferSizes)
// does not grow, and its own size decides, as Linux clamps the window
// to a locked buffer: a 64 KiB one needs a shift of 1, not 7.
func TestWindowScaleFromBufferCeiling(t *testing.T) {
	for _, tt := range []struct {
		name string
		max  int // Config.MaxReceiveBufferSize
		set  int // SetBufferSizes before connecting; 0: not called
		want uint8
	}{
		{"auto-tuning to 4 MiB", 0, 0, 7},
		{"auto-tuning to 6 MiB (Linux's tcp_rmem[2])", 6 << 20, 0, 7},
		{"auto-tuning to 8 MiB", 8 << 20, 0, 8},
		{"no auto-tuning, 256 KiB", -1, 0, 3},
		{"SO_RCVBUF 64 KiB", 0, 64 << 10, 1},
		{"SO_RCVBUF 1 MiB", 0, 1 << 20, 5},
		{"SO_RCVBUF 16 MiB", 0, 16 << 20, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestConn(t, &tcp.Config{NoSACK: true, NoTimestamps: true, MaxReceiveBufferSize: tt.max}, ourISS)
			if tt.set != 0 {
				c.SetBufferSizes(tt.set, 0)
			}
			c.do(step{call: "connect", out: []string{fmt.Sprintf("S 1000:1000(0) <mss 1460,wscale %d>", tt.want)}, states: []tcp.State{tcp.SynSent}})
		})
	}
}
