package echo

import (
	"io"
	"net"
	"testing"
)

// Serve echoes each connection and stops when the listener closes.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Fatalf("echo %q, %v", got, err)
	}
	ln.Close()
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("a closed listener still accepts")
	}
}
