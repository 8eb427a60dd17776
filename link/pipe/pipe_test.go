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
