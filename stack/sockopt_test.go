package stack_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// tosRecorder is a link that notes the TOS of each IPv4 TCP packet with
// a payload it sends.
type tosRecorder struct {
	link.Endpoint
	mu   sync.Mutex
	seen map[uint8]int
}

func (r *tosRecorder) note(p []byte) {
	ip, _, err := wire.ParseIPv4(p)
	if err != nil {
		return
	}
	if _, _, payload, err := wire.ParseTCPPacket(p); err == nil && len(payload) > 0 {
		r.mu.Lock()
		r.seen[ip.TOS]++
		r.mu.Unlock()
	}
}

func (r *tosRecorder) WritePacket(p []byte) error { r.note(p); return r.Endpoint.WritePacket(p) }
func (r *tosRecorder) WritePackets(ps [][]byte) (int, error) {
	for _, p := range ps {
		r.note(p)
	}
	return r.Endpoint.WritePackets(ps)
}

// SetTOS marks the connection's packets, without the ECN bits.
func TestSetTOS(t *testing.T) {
	a, b := pipe.New(1500)
	rec := &tosRecorder{Endpoint: a, seen: map[uint8]int{}}
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	client.AddInterface(rec, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); server.Close() })
	c, s := dialPair(t, client, server, 80)
	if err := c.SetTOS(0x1b9); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SetTOS(0x1b9) = %v, want EINVAL", err)
	}
	if err := c.SetTOS(0xb9); err != nil {
		t.Fatal(err)
	}
	if tos, err := c.TOS(); tos != 0xb8 || err != nil {
		t.Errorf("TOS() = %#x, %v; want 0xb8", tos, err)
	}
	c.Write([]byte("hello"))
	if _, err := io.ReadFull(s, make([]byte, 5)); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.seen[0xb8] != 1 || len(rec.seen) != 1 {
		t.Errorf("data packets by TOS: %v, want one with 0xb8", rec.seen)
	}
}

// With a user timeout, a peer that vanished is given up on after it,
// not after tcp.Config.Retries retransmissions (minutes).
func TestSetUserTimeout(t *testing.T) {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); server.Close() })
	c, _ := dialPair(t, client, server, 80)
	if err := c.SetUserTimeout(-time.Second); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SetUserTimeout(-1s) = %v, want EINVAL", err)
	}
	if err := c.SetUserTimeout(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.Close() // the server hears nothing more
	start := time.Now()
	c.Write([]byte("anyone?"))
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("read: %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// A corked connection holds a short write until uncorked.
func TestSetCork(t *testing.T) {
	client, server := twoStacks(t, 1500)
	c, s := dialPair(t, client, server, 80)
	if err := c.SetCork(true); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("held"))
	s.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if n, err := s.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read while corked: %d, %v; want the deadline", n, err)
	}
	s.SetReadDeadline(time.Time{})
	if err := c.SetCork(false); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(s, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetFinWait2Timeout(time.Second); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := c.SetCork(true); err == nil {
		t.Error("SetCork on a closed Conn succeeded")
	}
}

// A listener deferring accept hands over a connection only once the
// client has sent data.
func TestListenerDeferAccept(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ln.(*stack.Listener).SetDeferAccept(10 * time.Second)
	accepted := make(chan net.Conn, 1)
	go func() {
		a, _ := ln.Accept()
		accepted <- a
	}()
	c, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-accepted:
		t.Fatal("accepted before any data")
	case <-time.After(50 * time.Millisecond):
	}
	c.Write([]byte("go"))
	var a net.Conn
	select {
	case a = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("not accepted after data")
	}
	defer a.Close()
	buf := make([]byte, 2)
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "go" {
		t.Fatalf("read %q, %v", buf, err)
	}
}
