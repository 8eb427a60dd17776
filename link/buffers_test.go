package link_test

import (
	"testing"

	"github.com/seqack/seqack/link"
)

// Buffers come in the pool sizes, and going round the pools allocates
// nothing.
func TestBuffers(t *testing.T) {
	for n, wantCap := range map[int]int{1: 256, 256: 256, 1500: 2048, 9000: 16384, 65535: 65536, 70000: 70000} {
		if b := link.Buffer(n); len(b) != n || cap(b) != wantCap {
			t.Errorf("Buffer(%d): len %d cap %d, want cap %d", n, len(b), cap(b), wantCap)
		}
	}
	link.Recycle(make([]byte, 10)) // a foreign size: ignored
	allocs := testing.AllocsPerRun(100, func() { link.Recycle(link.Buffer(1500)) })
	if allocs > 0 && !raceEnabled {
		t.Errorf("%.1f allocations per buffer round trip", allocs)
	}
}

// A shared buffer goes back to its pool only when its last holder lets
// go, whichever slice of it each holder has; other buffers are not taken
// for shared ones.
func TestSharedBuffer(t *testing.T) {
	buf := link.SharedBuffer()
	if len(buf) != link.SharedBufferSize {
		t.Fatalf("len %d, want %d", len(buf), link.SharedBufferSize)
	}
	packet := buf[link.SharedHeadroom-52 : link.SharedHeadroom+1000]
	if !link.Hold(packet) {
		t.Fatal("Hold of a packet in a shared buffer: false")
	}
	link.Recycle(buf) // the queue lets go; the packet's holder remains
	if !link.Hold(packet) {
		t.Fatal("shared buffer gone while a packet in it was held")
	}
	link.Recycle(packet)
	link.Recycle(packet) // the last holder
	if link.Hold(packet) {
		t.Error("Hold after the last holder let go: true")
	}
	for _, b := range [][]byte{link.Buffer(65535), make([]byte, link.SharedBufferSize), buf[link.SharedHeadroom:]} {
		if link.Hold(b) {
			t.Errorf("Hold of a buffer (cap %d) that is no live shared buffer: true", cap(b))
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		b := link.SharedBuffer()
		link.Hold(b[10:])
		link.Recycle(b)
		link.Recycle(b[10:])
	})
	if allocs > 0 && !raceEnabled {
		t.Errorf("%.1f allocations per shared buffer round trip", allocs)
	}
}

// Holders on many goroutines at once count right (run under -race).
func TestSharedBufferConcurrent(t *testing.T) {
	buf := link.SharedBuffer()
	const holders = 8
	for range holders {
		link.Hold(buf[1:])
	}
	done := make(chan bool)
	for range holders {
		go func() { link.Recycle(buf[1:]); done <- true }()
	}
	for range holders {
		<-done
	}
	if !link.Hold(buf) {
		t.Fatal("buffer released while its first holder still held it")
	}
	link.Recycle(buf)
	link.Recycle(buf)
	if link.Hold(buf) {
		t.Error("buffer still live after every holder let go")
	}
}

// BenchmarkSharedBufferRoundTrip is what sharing costs a packet: a
// buffer taken, held by the packet, and let go by the queue and the
// receiver. BenchmarkCopy1448 and BenchmarkCopy65483 are the copies it
// saves, at the payload of a 1500- and a 65535-byte packet: sharing pays
// for large segments only, which is why a send queue frames segments of
// 16 KiB or more (tcp.Config.SendBuffer).
func BenchmarkSharedBufferRoundTrip(b *testing.B) {
	for b.Loop() {
		buf := link.SharedBuffer()
		packet := buf[link.SharedHeadroom-52:]
		link.Hold(packet)
		link.Recycle(buf)
		link.Recycle(packet)
	}
}

func BenchmarkCopy1448(b *testing.B)  { benchmarkCopy(b, 1448) }
func BenchmarkCopy65483(b *testing.B) { benchmarkCopy(b, 65483) }

func benchmarkCopy(b *testing.B, n int) {
	src, dst := make([]byte, n), link.Buffer(n+52)
	b.SetBytes(int64(n))
	for b.Loop() {
		copy(dst[52:], src)
	}
}
