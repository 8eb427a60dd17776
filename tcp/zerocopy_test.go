package tcp_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Input keeps the packet buffer a segment arrives in (Segment.Buffer)
// when its payload is in order and fills at least half the buffer, and
// hands it to Config.ReleaseBuffer once Read has taken its last byte;
// otherwise it copies the payload and leaves the buffer with the caller.
func TestInputKeepsPacketBuffers(t *testing.T) {
	var released []*byte
	cfg := &tcp.Config{MSL: 30 * time.Second, DelayedAck: -1, NoDelay: true,
		ReleaseBuffer: func(b []byte) { released = append(released, &b[:1][0]) }}
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	c.settle()

	var want []byte
	packet := func(seq, n, size int) (tcp.Segment, []byte) {
		t.Helper()
		seg, err := tcp.ParseSegment(fmt.Sprintf(". %d:%d(%d) ack 1001 win 65535", seq, seq+n, n))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 40+n, size) // 40 bytes of headers, then the payload
		for i := range n {
			buf[40+i] = byte(seq + i)
		}
		seg.Payload, seg.Buffer = buf[40:], buf
		return seg, buf
	}
	for _, step := range []struct {
		name      string
		seq, n    int
		wantKept  bool
		wantBytes int // readable after it
	}{
		{"in order, fills its buffer", 5001, 1400, true, 1400},
		{"in order, a small part of its buffer", 6401, 100, false, 1500},
		{"out of order", 7601, 1000, false, 1500},
		{"fills the hole", 6501, 1100, true, 3600},
	} {
		seg, buf := packet(step.seq, step.n, 2048)
		c.Input(&seg, c.now)
		if kept := seg.Buffer == nil; kept != step.wantKept {
			t.Errorf("%s: kept %v, want %v", step.name, kept, step.wantKept)
		}
		if !step.wantKept && &seg.Buffer[:1][0] != &buf[0] {
			t.Errorf("%s: Buffer changed though not kept", step.name)
		}
		if got := c.Buffered(); got != step.wantBytes {
			t.Errorf("%s: %d bytes readable, want %d", step.name, got, step.wantBytes)
		}
	}
	for seq := 5001; seq < 8601; seq++ {
		want = append(want, byte(seq))
	}
	if len(released) != 0 {
		t.Fatalf("%d buffers released before anything was read", len(released))
	}
	got := make([]byte, 0, len(want))
	buf := make([]byte, 333)
	for {
		n, _ := c.Read(buf, c.now)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d sent", len(got), len(want))
	}
	if len(released) != 2 {
		t.Errorf("%d buffers released, want the 2 kept", len(released))
	}
}
