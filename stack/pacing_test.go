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

// BenchmarkPacing moves 4 MiB per op over the in-memory pipe, paced
// (Config.Pacing) and not: on a path with no bottleneck pacing must not
// cost throughput.
func BenchmarkPacing(b *testing.B) {
	for _, paced := range []bool{false, true} {
		name := "unpaced"
		if paced {
			name = "paced"
		}
		b.Run(name, func(b *testing.B) {
			client, server := stacksWith(b, stack.Options{TCP: &tcp.Config{Pacing: paced}}, stack.Options{})
			ln, err := server.Listen("tcp", ":9")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					io.Copy(io.Discard, c)
					c.Close()
				}
			}()
			data := make([]byte, 4<<20)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				c, err := client.Dial("tcp", "192.0.2.2:9")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(data); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
