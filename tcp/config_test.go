package tcp_test

import (
	"testing"

	"github.com/seqack/seqack/tcp"
)

// The zero Config is the modern connection: its SYN offers SACK,
// timestamps and the window scale a 4 MiB auto-tuned buffer needs, and
// Nagle's algorithm is off. Each opt-out takes away exactly its own
// part, and PlainConfig is RFC 9293's plain SYN.
func TestConfigDefaults(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   *tcp.Config
		syn   string
		nagle bool // a second small write waits for the first's ACK
	}{
		{"nil", nil, "S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 7>", false},
		{"zero", &tcp.Config{}, "S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 7>", false},
		{"NoSACK", &tcp.Config{NoSACK: true}, "S 1000:1000(0) win 65535 <mss 1460,TS val 1000 ecr 0,wscale 7>", false},
		{"NoTimestamps", &tcp.Config{NoTimestamps: true}, "S 1000:1000(0) win 65535 <mss 1460,sackOK,wscale 7>", false},
		{"Nagle", &tcp.Config{Nagle: true}, "S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 7>", true},
		// A buffer that cannot grow past 65535 bytes needs no window
		// scale; one that can still asks for it.
		{"no auto-tuning, 64 KiB", &tcp.Config{ReceiveBufferSize: 65535, MaxReceiveBufferSize: -1},
			"S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0>", false},
		{"auto-tuning from 64 KiB", &tcp.Config{ReceiveBufferSize: 65535},
			"S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 7>", false},
		{"no auto-tuning, 256 KiB", &tcp.Config{MaxReceiveBufferSize: -1},
			"S 1000:1000(0) win 65535 <mss 1460,sackOK,TS val 1000 ecr 0,wscale 3>", false},
		{"PlainConfig", tcp.PlainConfig(), "S 1000:1000(0) win 65535 <mss 1460>", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := &testConn{Conn: tcp.NewConn(c.cfg, ourISS), t: t, now: epoch}
			conn.SetObserver(conn)
			conn.do(step{call: "connect", out: []string{c.syn}, states: []tcp.State{tcp.SynSent}})
			conn.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
			conn.Outgoing()
			conn.Write(make([]byte, 100), conn.now)
			conn.Write(make([]byte, 100), conn.now)
			if got, want := len(conn.Outgoing()), map[bool]int{false: 2, true: 1}[c.nagle]; got != want {
				t.Errorf("two small writes sent %d segments, want %d (Nagle %v)", got, want, c.nagle)
			}
		})
	}
}

// Black-hole detection is on by default: after three timeouts of a
// full-sized segment the MSS falls to 1024 (RFC 4821 §7.7);
// NoBlackHoleDetection keeps it.
func TestConfigBlackHoleDetectionDefault(t *testing.T) {
	for _, c := range []struct {
		cfg  *tcp.Config
		want int
	}{
		{&tcp.Config{DelayedAck: -1}, 1024},
		{&tcp.Config{DelayedAck: -1, NoBlackHoleDetection: true}, 1460},
	} {
		conn := openWith(t, c.cfg)
		conn.Write(make([]byte, 1460), conn.now)
		for range 3 {
			conn.fireTimer()
		}
		conn.Outgoing()
		if got := conn.Stats().MSS; got != c.want {
			t.Errorf("NoBlackHoleDetection %v: MSS %d after three timeouts, want %d", c.cfg.NoBlackHoleDetection, got, c.want)
		}
	}
}
