package tcp_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// connectedPair returns two conns through their handshake, joined by a
// shuttle that moves segments between them without copying payloads.
func connectedPair(cfg *tcp.Config) (a, b *tcp.Conn, shuttle func()) {
	now := epoch
	a, b = tcp.NewConn(cfg, 1000), tcp.NewConn(cfg, 5000)
	b.Listen()
	a.Connect(now)
	shuttle = func() {
		for {
			moved := false
			for _, s := range a.Outgoing() {
				b.Input(&s, now)
				moved = true
			}
			for _, s := range b.Outgoing() {
				a.Input(&s, now)
				moved = true
			}
			if !moved {
				return
			}
		}
	}
	shuttle()
	return a, b, shuttle
}

// BenchmarkBulk moves 64 KiB per op from one conn to the other through
// Write, Input, Outgoing and Read: the engine's data path with no
// network around it.
func BenchmarkBulk(b *testing.B) {
	cfg := plain(tcp.Config{})
	tx, rx, shuttle := connectedPair(cfg)
	data := make([]byte, 64<<10)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for sent := 0; sent < len(data); {
			n, _ := tx.Write(data[sent:], epoch)
			sent += n
			shuttle()
			for rx.Buffered() > 0 {
				rx.Read(buf, epoch)
			}
			shuttle()
		}
	}
}

// BenchmarkBulkBBR is BenchmarkBulk with BBR, which paces: the clock
// must move for paced segments to leave, so each pass of the shuttle
// takes a microsecond (a path of a microsecond's round trip and no
// bottleneck), and a sender held by pacing is run at its deadline.
// BenchmarkBulkClocked is CUBIC on the same clock, for the ratio.
func BenchmarkBulkBBR(b *testing.B) { bulkClocked(b, tcp.NewBBR) }

// BenchmarkBulkClocked is CUBIC under BenchmarkBulkBBR's clock.
func BenchmarkBulkClocked(b *testing.B) { bulkClocked(b, tcp.NewCubic) }

// BenchmarkBulkModern is BenchmarkBulkClocked and BenchmarkBulkBBR with
// the zero Config, as seqack bench's stacks run (SACK, timestamps,
// RACK-TLP), on a clock with a monotonic reading, as the stack's is:
// the engine's share of seqack bench's bulk workload, for each
// congestion control.
func BenchmarkBulkModern(b *testing.B) {
	for _, cc := range []string{"cubic", "bbr"} {
		b.Run(cc, func(b *testing.B) {
			bulkClockedConfig(b, modernConfig(b, cc), time.Now())
		})
	}
}

// modernConfig returns the zero Config with the congestion control
// named.
func modernConfig(b *testing.B, name string) *tcp.Config {
	cc, err := tcp.CongestionControlByName(name)
	if err != nil {
		b.Fatal(err)
	}
	return &tcp.Config{CongestionControl: cc}
}

// bulkClocked runs BenchmarkBulk's workload with congestion control cc
// on a clock that moves.
func bulkClocked(b *testing.B, cc func(int) tcp.CongestionControl) {
	bulkClockedConfig(b, plain(tcp.Config{CongestionControl: cc}), epoch)
}

// bulkClockedConfig runs BenchmarkBulk's workload under cfg on a clock
// that moves from start.
func bulkClockedConfig(b *testing.B, cfg *tcp.Config, start time.Time) {
	p := newClockedPairAt(cfg, start)
	data := make([]byte, 64<<10)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p.send(data, buf)
	}
}

// clockedPair is two conns through their handshake on a clock that
// moves a microsecond each time the shuttle passes segments between
// them.
type clockedPair struct {
	tx, rx *tcp.Conn
	now    time.Time
}

func newClockedPair(cfg *tcp.Config) *clockedPair { return newClockedPairAt(cfg, epoch) }

// newClockedPairAt is newClockedPair with the clock starting at start.
func newClockedPairAt(cfg *tcp.Config, start time.Time) *clockedPair {
	p := &clockedPair{tx: tcp.NewConn(cfg, 1000), rx: tcp.NewConn(cfg, 5000), now: start}
	p.rx.Listen()
	p.tx.Connect(p.now)
	p.shuttle()
	return p
}

// shuttle moves segments both ways until there are none.
func (p *clockedPair) shuttle() {
	for moved := true; moved; {
		moved = false
		p.now = p.now.Add(time.Microsecond)
		for _, s := range p.tx.Outgoing() {
			p.rx.Input(&s, p.now)
			moved = true
		}
		for _, s := range p.rx.Outgoing() {
			p.tx.Input(&s, p.now)
			moved = true
		}
	}
}

// echoAndClose is the handshake workload's life after the handshake: a
// byte each way, then tx closes and rx after it.
func (p *clockedPair) echoAndClose() {
	var buf [1]byte
	p.tx.Write([]byte{1}, p.now)
	p.shuttle()
	p.rx.Read(buf[:], p.now)
	p.rx.Write(buf[:], p.now)
	p.shuttle()
	p.tx.Read(buf[:], p.now)
	p.tx.Close(p.now)
	p.shuttle()
	p.rx.Close(p.now)
	p.shuttle()
}

// send writes data on tx until all is taken, reading what rx receives
// into buf; a sender held by pacing is run at its deadline.
func (p *clockedPair) send(data, buf []byte) {
	for sent := 0; sent < len(data); {
		n, _ := p.tx.Write(data[sent:], p.now)
		sent += n
		p.shuttle()
		for p.rx.Buffered() > 0 {
			p.rx.Read(buf, p.now)
		}
		p.shuttle()
		if n == 0 {
			if d := p.tx.Deadline(); d.After(p.now) && d.Sub(p.now) < time.Second {
				p.now = d // held by pacing: its time has come
			}
			p.tx.HandleTimer(p.now)
			p.shuttle()
		}
	}
}

// BenchmarkHandshake opens and closes a connection pair per op.
func BenchmarkHandshake(b *testing.B) {
	cfg := plain(tcp.Config{MSL: time.Second})
	b.ReportAllocs()
	for b.Loop() {
		connectedPair(cfg)
	}
}

// BenchmarkHandshakeEcho is seqack bench's handshake workload on the
// engine alone: per op a connection pair is opened, one byte goes each
// way, and both ends close, on BenchmarkBulkBBR's moving clock. The
// congestion control is made with the first byte, so this is where a
// controller's per-connection cost shows (BenchmarkHandshakeBBR).
func BenchmarkHandshakeEcho(b *testing.B) { handshakeEcho(b, tcp.NewCubic) }

// BenchmarkHandshakeBBR is BenchmarkHandshakeEcho with BBR: its state,
// the delivery-rate sampler and pacing come with the first byte.
func BenchmarkHandshakeBBR(b *testing.B) { handshakeEcho(b, tcp.NewBBR) }

// BenchmarkHandshakeModern is BenchmarkHandshakeEcho and
// BenchmarkHandshakeBBR with the zero Config and a monotonic clock, as
// BenchmarkBulkModern is for bulk.
func BenchmarkHandshakeModern(b *testing.B) {
	for _, cc := range []string{"cubic", "bbr"} {
		b.Run(cc, func(b *testing.B) {
			cfg := modernConfig(b, cc)
			cfg.MSL = time.Second
			handshakeEchoConfig(b, cfg, time.Now())
		})
	}
}

func handshakeEcho(b *testing.B, cc func(int) tcp.CongestionControl) {
	handshakeEchoConfig(b, plain(tcp.Config{MSL: time.Second, CongestionControl: cc}), epoch)
}

// handshakeEchoConfig runs BenchmarkHandshakeEcho's workload under cfg
// on a clock that moves from start.
func handshakeEchoConfig(b *testing.B, cfg *tcp.Config, start time.Time) {
	b.ReportAllocs()
	for b.Loop() {
		p := newClockedPairAt(cfg, start)
		p.echoAndClose()
		if p.tx.State() != tcp.TimeWait || p.rx.State() != tcp.Closed {
			b.Fatalf("states %v and %v, want TIME_WAIT and CLOSED", p.tx.State(), p.rx.State())
		}
	}
}

// TestIdleConnMemory measures the heap an idle ESTABLISHED connection end
// holds once its buffers have drained.
func TestIdleConnMemory(t *testing.T) {
	const n = 2000
	cfg := plain(tcp.Config{})
	conns := make([]*tcp.Conn, 0, 2*n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		a, b, shuttle := connectedPair(cfg)
		a.Write([]byte("hello"), epoch)
		shuttle()
		b.Read(make([]byte, 10), epoch)
		shuttle()
		later := epoch.Add(time.Second) // the delayed ACK goes out; the send buffer drains
		a.HandleTimer(later)
		b.HandleTimer(later)
		shuttle()
		conns = append(conns, a, b)
	}
	runtime.GC()
	runtime.GC() // twice: the buffer pools keep a victim cache for one cycle
	runtime.ReadMemStats(&after)
	perEnd := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(conns))
	t.Logf("idle ESTABLISHED connection end: %.0f bytes of heap", perEnd)
	if perEnd > 1024 && !raceEnabled {
		t.Errorf("an idle connection end holds %.0f bytes, want under 1 KiB", perEnd)
	}
	runtime.KeepAlive(conns)
}
