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
	cfg := plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1,
		ReleaseBuffer: func(b []byte) { released = append(released, &b[:1][0]) }}, withoutNagle)
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

// With buffers from Config.SendBuffer and segments of 32 KiB or more,
// the send queue keeps each segment's payload after FrameHeadroom bytes
// of room, and offers the block as Segment.Frame on the first segment
// sent from its start, and on no other: retransmissions, and segments
// starting inside a block, are copied by the driver. Each block goes back
// through ReleaseBuffer once, when acknowledged.
func TestFramedSegments(t *testing.T) {
	made, released := map[*byte]bool{}, map[*byte]int{}
	cfg := plain(tcp.Config{MSS: 40000, MSL: 30 * time.Second, DelayedAck: -1, SendBufferSize: 1 << 20, ReceiveBufferSize: 1 << 20,
		SendBuffer: func() []byte {
			b := make([]byte, tcp.FrameHeadroom+65536)
			made[&b[0]] = true
			return b
		},
		ReleaseBuffer: func(b []byte) { released[&b[:1][0]]++ },
	}, withoutNagle)
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 40000,wscale 2>") // later windows ×4
	c.settle()

	type sent struct {
		text   string
		framed bool
	}
	check := func(step string, want ...sent) {
		t.Helper()
		got := c.Outgoing()
		if len(got) != len(want) {
			t.Fatalf("%s: %d segments out, want %d: %v", step, len(got), len(want), got)
		}
		for i, seg := range got {
			if s := dropWindow(seg.String()); s != want[i].text {
				t.Errorf("%s: segment %d is %q, want %q", step, i, s, want[i].text)
			}
			if framed := seg.Frame != nil; framed != want[i].framed {
				t.Errorf("%s: segment %q framed %v, want %v", step, want[i].text, framed, want[i].framed)
				continue
			}
			if seg.Frame == nil {
				continue
			}
			f, p := seg.Frame, seg.Payload
			if len(f) != tcp.FrameHeadroom+len(p) || &f[len(f)-1] != &p[len(p)-1] || !made[&f[0]] {
				t.Errorf("%s: segment %q: frame of %d bytes does not end at its %d-byte payload after the headroom of a SendBuffer buffer", step, want[i].text, len(f), len(p))
			}
		}
	}
	data := make([]byte, 100000)
	for i := range data {
		data[i] = byte(i % 251)
	}
	c.Write(data, c.now)
	check("first flight: as much as the SYN's unscaled window lets go",
		sent{". 1001:41001(40000) ack 5001", true})
	c.in(". 5001:5001(0) ack 41001 win 65535")
	check("ACKed: the rest of the data, in a window of 262140",
		sent{". 41001:81001(40000) ack 5001", true},
		sent{"P. 81001:101001(20000) ack 5001", true})
	if len(released) != 1 {
		t.Errorf("%d blocks released after the first was acknowledged, want 1", len(released))
	}
	c.Write(data[:5000], c.now)
	check("a write that joins a block already sent from",
		sent{"P. 101001:106001(5000) ack 5001", false})
	c.fireTimer()
	check("retransmission timeout: copied, not framed again",
		sent{". 41001:81001(40000) ack 5001", false})
	c.in(". 5001:5001(0) ack 106001 win 65535")
	c.Outgoing()
	c.Write(data[:5000], c.now)
	check("a write once the queue has drained: a new block",
		sent{"P. 106001:111001(5000) ack 5001", true})
	c.in(". 5001:5001(0) ack 111001 win 65535")
	c.Outgoing()
	if len(released) != len(made) || len(made) != 4 {
		t.Errorf("%d blocks made, %d released; want 4 and 4", len(made), len(released))
	}
	for b, n := range released {
		if n != 1 || !made[b] {
			t.Errorf("a block released %d times (made here: %v), want once", n, made[b])
		}
	}

	// A sender that writes a little more than a segment at a time: each
	// write's first segment starts a block of its own, and leaves framed,
	// as does the runt after it; a small write joins the last block.
	bulk := newTestConn(t, cfg, ourISS)
	bulk.Connect(bulk.now)
	bulk.in("S. 5000:5000(0) ack 1001 win 65535 <mss 40000,wscale 4>")
	bulk.settle()
	c = bulk
	for i, want := range [][]sent{
		{{". 1001:41001(40000) ack 5001", true}, {"P. 41001:42001(1000) ack 5001", true}},
		{{". 42001:82001(40000) ack 5001", true}, {"P. 82001:83001(1000) ack 5001", true}},
	} {
		c.Write(data[:41000], c.now)
		check(fmt.Sprintf("write %d of 41000 bytes", i+1), want...)
		c.in(fmt.Sprintf(". 5001:5001(0) ack %d win 65535", 1001+41000*(i+1)))
		c.Outgoing()
	}
	c.Write(data[:500], c.now)
	c.Write(data[:500], c.now)
	check("two small writes", sent{"P. 83001:83501(500) ack 5001", true}, sent{"P. 83501:84001(500) ack 5001", false})

	// With a 1460-byte MSS the queue is the ring: no buffers asked for,
	// nothing framed.
	small := newTestConn(t, plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1, SendBuffer: cfg.SendBuffer, ReleaseBuffer: cfg.ReleaseBuffer}, withoutNagle), ourISS)
	small.Connect(small.now)
	small.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	small.settle()
	before := len(made)
	small.Write(data[:5000], small.now)
	for _, seg := range small.Outgoing() {
		if seg.Frame != nil {
			t.Fatalf("segment %v framed at MSS 1460", seg)
		}
	}
	if len(made) != before {
		t.Error("the send queue asked for framing buffers at MSS 1460")
	}
}

// A packet kept beyond a hole goes back through Config.ReleaseBuffer when
// the connection ends with the hole still open: a pool's buffer must not
// be left to the garbage collector.
func TestOutOfOrderPacketReleasedOnAbort(t *testing.T) {
	var released int
	cfg := plain(tcp.Config{DelayedAck: -1, ReleaseBuffer: func([]byte) { released++ }}, withSACK, withoutNagle)
	c := newTestConn(t, cfg, ourISS)
	c.Connect(c.now)
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460,sackOK>")
	c.settle()
	seg, err := tcp.ParseSegment(". 6001:7401(1400) ack 1001 win 65535")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 40+1400, 2048)
	seg.Payload, seg.Buffer = buf[40:], buf
	c.Input(&seg, c.now)
	if seg.Buffer != nil {
		t.Fatal("the out-of-order packet was copied, not kept")
	}
	c.Abort(c.now)
	if released != 1 {
		t.Errorf("%d buffers released after Abort, want the 1 kept beyond the hole", released)
	}
}
