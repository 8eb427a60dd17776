package workload

import (
	"flag"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// ccName is the congestion control of the seqack stacks the tests and
// benchmarks make: -cc bbr measures BBR's cost on seqack bench's
// workloads with fixed work (go test -bench 'Seqack' -cc bbr).
var ccName = flag.String("cc", "", "congestion control of seqack's stacks (tcp.CongestionControlNames; default the stack's)")

// seqack returns a seqack Net closed when the test ends.
func seqack(tb testing.TB, mtu int) Net {
	opts := stack.Options{}
	if *ccName != "" {
		cc, err := tcp.CongestionControlByName(*ccName)
		if err != nil {
			tb.Fatal(err)
		}
		opts.TCP = &tcp.Config{CongestionControl: cc}
	}
	n, closeNet := SeqackWith(mtu, opts)
	tb.Cleanup(closeNet)
	return n
}

func TestBulk(t *testing.T) {
	for _, mtu := range []int{1500, 65535} {
		bps, err := Bulk(seqack(t, mtu), 50*time.Millisecond)
		if err != nil || bps <= 0 {
			t.Errorf("mtu %d: %v B/s, %v", mtu, bps, err)
		}
	}
}

func TestHandshake(t *testing.T) {
	cps, err := Handshake(seqack(t, 1500), 50*time.Millisecond)
	if err != nil || cps <= 0 {
		t.Errorf("%v conn/s, %v", cps, err)
	}
}

func TestIdleHeap(t *testing.T) {
	b, err := IdleHeap(seqack(t, 1500), 20)
	if err != nil || b <= 0 {
		t.Errorf("%v B per connection end, %v", b, err)
	}
	if _, err := IdleHeap(seqack(t, 1500), 0); err == nil {
		t.Error("IdleHeap with no connections succeeded")
	}
}

// A port nobody listens on fails the workload instead of hanging it.
func TestDialError(t *testing.T) {
	n := seqack(t, 1500)
	listen := n.Listen
	n.Listen = func(network, addr string) (net.Listener, error) {
		ln, err := listen(network, addr)
		if err != nil {
			return nil, err
		}
		return wrongAddr{ln}, nil
	}
	if _, err := Handshake(n, 50*time.Millisecond); err == nil {
		t.Error("Handshake to a closed port succeeded")
	}
	if _, err := Bulk(n, 50*time.Millisecond); err == nil {
		t.Error("Bulk to a closed port succeeded")
	}
}

// wrongAddr is a listener that gives out the address of a port nobody
// listens on.
type wrongAddr struct{ net.Listener }

func (wrongAddr) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 81} }

func BenchmarkBulkSeqack(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		b.Run(fmt.Sprint("mtu", mtu), func(b *testing.B) {
			benchmarkBulk(b, seqack(b, mtu))
		})
	}
}

func BenchmarkBulkKernel(b *testing.B) { benchmarkBulk(b, Kernel()) }

// benchmarkBulk makes each op one 64 KiB write, so that -benchtime and
// MB/s mean what they do for any Go benchmark.
func benchmarkBulk(b *testing.B, n Net) {
	b.SetBytes(chunk)
	bytes, elapsed, err := bulk(n, b.Loop)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bytes)*8/elapsed.Seconds()/1e9, "Gbit/s")
}

func BenchmarkHandshakeSeqack(b *testing.B) { benchmarkHandshake(b, seqack(b, 1500)) }

func BenchmarkHandshakeKernel(b *testing.B) { benchmarkHandshake(b, Kernel()) }

// benchmarkHandshake makes each op one connection, shared among four
// dialers as in Handshake.
func benchmarkHandshake(b *testing.B, n Net) {
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	count, elapsed, err := handshake(n, 4, func() bool { return left.Add(-1) >= 0 })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(count)/elapsed.Seconds(), "conn/s")
}
