package tcp

import "testing"

// The receive window's right edge (openWindow) and the window field
// advertised from it (advertisedWindow), with RCV.NXT at 1001, an MSS
// of 1460 and nothing queued: the free space is the buffer.
func TestAdvertisedWindow(t *testing.T) {
	tests := []struct {
		name      string
		buf       int    // receive buffer
		right     Seq    // the edge before, as an offset from RCV.NXT (may wrap below it)
		shift     uint8  // Rcv.Wind.Shift
		syn       bool   // the field of a SYN is never scaled
		wantRight Seq    // the edge after, from RCV.NXT
		want      uint16 // the field
	}{
		{name: "opens", buf: 65535, right: 0, wantRight: 65535, want: 65535},
		// RFC 9293 §3.8.6.2.2: the edge moves by an MSS at least ...
		{name: "by less than an MSS", buf: 65535, right: 65535 - 1000, wantRight: 65535 - 1000, want: 65535 - 1000},
		{name: "by an MSS", buf: 65535, right: 65535 - 1460, wantRight: 65535, want: 65535},
		// ... or by half the buffer when that is less.
		{name: "small buffer", buf: 2000, right: 1000, wantRight: 2000, want: 2000},
		{name: "small buffer, less than half", buf: 2000, right: 1001, wantRight: 1001, want: 1001},
		// §3.8.6: it never moves back, and never stays behind RCV.NXT.
		{name: "never back", buf: 1000, right: 5000, wantRight: 5000, want: 5000},
		{name: "behind", buf: 1, right: ^Seq(9), wantRight: 1, want: 1},
		// RFC 7323 §2.2: scaled down, except in a SYN; at most 16 bits.
		{name: "scaled", buf: 1 << 20, shift: 5, wantRight: 1 << 20, want: 1 << 15},
		{name: "too large", buf: 1 << 20, shift: 4, wantRight: 1 << 20, want: 0xffff},
		{name: "unscaled SYN", buf: 1 << 20, shift: 4, syn: true, wantRight: 1 << 20, want: 0xffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(&Config{ReceiveBufferSize: tt.buf}, 1)
			c.rcvNxt = 1001
			c.rcvRight = c.rcvNxt + tt.right
			c.rcvShift = tt.shift
			c.openWindow()
			if got := c.rcvRight - c.rcvNxt; got != tt.wantRight {
				t.Errorf("right edge RCV.NXT+%d, want RCV.NXT+%d", got, tt.wantRight)
			}
			right := c.rcvRight
			if got := c.advertisedWindow(tt.syn); got != tt.want {
				t.Errorf("window field %d, want %d", got, tt.want)
			}
			if c.advertisedWindow(tt.syn); c.rcvRight != right {
				t.Errorf("advertisedWindow moved the edge from %d to %d", right, c.rcvRight)
			}
		})
	}
}
