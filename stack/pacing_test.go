package stack_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// The stack honours the engine's pacing through its deadline: a paced
// sender over the in-memory pipe delivers every byte, and its Info shows
// the pacing rate and the min RTT.
func TestPacedTransfer(t *testing.T) {
	client, server := stacksWith(t, stack.Options{TCP: &tcp.Config{Pacing: true}}, stack.Options{})
	ln, err := server.Listen("tcp", ":9")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	c, err := client.Dial("tcp", "192.0.2.2:9")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("paced "), 1<<20/6*4) // 4 MiB
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	info := c.(*stack.Conn).Info()
	c.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("%d bytes arrived of %d", len(b), len(data))
	}
	line := info.String()
	t.Log(line)
	if info.PacingRate == 0 || info.MinRTT == 0 || !strings.Contains(line, " pacing_rate ") || !strings.Contains(line, " minrtt:") {
		t.Errorf("pacing rate %d, min RTT %v in %q: want both", info.PacingRate, info.MinRTT, line)
	}
}
