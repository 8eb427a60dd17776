package tcp_test

import (
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// rackBenchPair is a sender and a receiver joined by a shuttle, run with
// the clock going as a driver runs them: one time per burst.
type rackBenchPair struct {
	tx, rx  *tcp.Conn
	now     time.Time
	buf     []byte
	elapsed time.Duration
}

func newRACKBenchPair(rack bool) *rackBenchPair {
	// As the stack configures its connections at MTU 1500.
	cfg := plain(tcp.Config{MSS: 1460, SendBufferSize: 1 << 20, ReceiveBufferSize: 1 << 20},
		withSACK, withTimestamps, withoutNagle)
	cfg.NoRACK = !rack
	p := &rackBenchPair{now: time.Now(), buf: make([]byte, 64<<10)}
	p.tx, p.rx = tcp.NewConn(cfg, 1000), tcp.NewConn(cfg, 5000)
	p.rx.Listen()
	p.tx.Connect(p.now)
	p.shuttle()
	return p
}

func (p *rackBenchPair) shuttle() {
	for {
		moved := false
		for _, s := range p.tx.Outgoing() {
			p.rx.Input(&s, p.now)
			moved = true
		}
		for _, s := range p.rx.Outgoing() {
			p.tx.Input(&s, p.now)
			moved = true
		}
		if !moved {
			return
		}
		p.now = time.Now()
	}
}

// send moves data across, adding the time taken to p.elapsed.
func (p *rackBenchPair) send(data []byte) {
	start := time.Now()
	for sent := 0; sent < len(data); {
		p.now = time.Now()
		n, _ := p.tx.Write(data[sent:], p.now)
		sent += n
		p.shuttle()
		for p.rx.Buffered() > 0 {
			p.rx.Read(p.buf, p.now)
		}
		p.shuttle()
	}
	p.elapsed += time.Since(start)
}

// BenchmarkBulkRACK measures what RACK-TLP (RFC 8985) costs the engine's
// data path on a lossless path, where it finds nothing: its record of
// every transmission (§6.1), its loss detection on every ACK (§6.2) and
// the probe timeout restarted on every new segment and ACK (§7.2). Each
// op moves 256 KiB over a pair without RACK-TLP and over one with it,
// alternately, so that a noisy machine slows both alike; off-ns/seg and
// on-ns/seg are the time per full-sized segment of each, and on/off
// their ratio, the figure to watch.
func BenchmarkBulkRACK(b *testing.B) {
	off, on := newRACKBenchPair(false), newRACKBenchPair(true)
	data := make([]byte, 256<<10)
	b.SetBytes(2 * int64(len(data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 {
			off.send(data)
			on.send(data)
		} else {
			on.send(data)
			off.send(data)
		}
	}
	segs := float64(i) * float64(len(data)) / 1448 // MSS less the timestamps option
	b.ReportMetric(float64(off.elapsed.Nanoseconds())/segs, "off-ns/seg")
	b.ReportMetric(float64(on.elapsed.Nanoseconds())/segs, "on-ns/seg")
	b.ReportMetric(on.elapsed.Seconds()/off.elapsed.Seconds(), "on/off")
}
