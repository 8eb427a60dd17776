package pipe_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
)

func TestPipe(t *testing.T) {
	a, b := pipe.New(100)
	got := make(chan []byte, 10)
	b.Attach(func(p []byte) { got <- p })
	msg := []byte("hello")
	if err := a.WritePacket(msg); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if string(p) != "hello" || &p[0] != &msg[0] {
			t.Fatalf("got %q, want the very buffer written", p)
		}
	case <-time.After(time.Second):
		t.Fatal("nothing delivered")
	}
	if err := a.WritePacket(make([]byte, 101)); !errors.Is(err, link.ErrTooBig) {
		t.Errorf("oversized packet: %v", err)
	}
	if a.MTU() != 100 {
		t.Errorf("MTU %d", a.MTU())
	}
	a.Close()
	if err := a.WritePacket(msg); !errors.Is(err, link.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	b.Close()
	if lo, _ := pipe.New(1); lo.MTU() != 68 {
		t.Errorf("MTU clamped to %d, want 68", lo.MTU())
	}
}

// A batch arrives whole and in order; an oversized packet stops it; a
// full queue takes what fits and says so.
func TestWritePackets(t *testing.T) {
	a, b := pipe.New(100)
	defer a.Close()
	defer b.Close()
	got := make(chan []byte, 5000)
	block := make(chan struct{})
	b.Attach(func(p []byte) {
		<-block
		got <- p
	})
	n, err := a.WritePackets([][]byte{{1}, {2}, make([]byte, 101), {4}})
	if n != 2 || !errors.Is(err, link.ErrTooBig) {
		t.Fatalf("oversized in the batch: took %d, %v", n, err)
	}
	// The receiver is blocked on the first packet: fill its queue.
	many := make([][]byte, 5000)
	for i := range many {
		many[i] = []byte{byte(i)}
	}
	n, err = a.WritePackets(many)
	if !errors.Is(err, link.ErrQueueFull) || n == 0 || n >= len(many) {
		t.Fatalf("overflowing batch: took %d, %v", n, err)
	}
	close(block)
	for i, want := range []byte{1, 2, 0, 1, 2} {
		select {
		case p := <-got:
			if p[0] != want {
				t.Fatalf("packet %d is %d, want %d", i, p[0], want)
			}
		case <-time.After(time.Second):
			t.Fatal("not delivered")
		}
	}
}

// A loopback endpoint delivers what it is written to itself, in order,
// on its own goroutine: never from inside the write.
func TestLoopback(t *testing.T) {
	lo := pipe.Loopback(65535)
	got := make(chan string, 10)
	writing := make(chan bool, 1)
	lo.Attach(func(p []byte) {
		select {
		case <-writing:
			t.Error("delivered from inside the write")
		default:
		}
		got <- string(p)
	})
	for _, m := range []string{"one", "two", "three"} {
		writing <- true
		if err := lo.WritePacket([]byte(m)); err != nil {
			t.Fatal(err)
		}
		<-writing
	}
	for _, want := range []string{"one", "two", "three"} {
		select {
		case p := <-got:
			if p != want {
				t.Errorf("got %q, want %q", p, want)
			}
		case <-time.After(time.Second):
			t.Fatal("nothing delivered")
		}
	}
	lo.Close()
	if err := lo.WritePacket([]byte("x")); !errors.Is(err, link.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}
