package stack_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// The congestion control by name, as TCP_CONGESTION: the Config's for a
// new connection, another set on a live one while data flows (the data
// arrives whole), shown by Info as ss shows it; an unknown name is an
// error that says so, and changes nothing.
func TestSetCongestionControl(t *testing.T) {
	client, server := stacksWith(t, stack.Options{TCP: &tcp.Config{CongestionControl: tcp.NewNewReno}}, stack.Options{})
	c, s := dialPair(t, client, server, 80)
	if got, want := c.CongestionControl(), "reno"; got != want {
		t.Errorf("client runs %q, want %q (its Config's)", got, want)
	}
	if got, want := s.CongestionControl(), "cubic"; got != want {
		t.Errorf("server runs %q, want %q (the default)", got, want)
	}
	if info := c.Info().String(); !strings.Contains(info, " reno wscale:") {
		t.Errorf("Info %q lacks the name before wscale, as ss prints it", info)
	}

	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(s)
		got <- b
	}()
	if _, err := c.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCongestionControl("cubic"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(data[len(data)/2:]); err != nil {
		t.Fatal(err)
	}
	if name := c.CongestionControl(); name != "cubic" {
		t.Errorf("after the switch the client runs %q, want cubic", name)
	}

	err := c.SetCongestionControl("vegas")
	var opErr *net.OpError
	if !errors.Is(err, tcp.ErrUnknownCongestionControl) || !errors.As(err, &opErr) {
		t.Errorf("SetCongestionControl(vegas): %v, want a *net.OpError wrapping tcp.ErrUnknownCongestionControl", err)
	}
	if name := c.CongestionControl(); name != "cubic" {
		t.Errorf("after an unknown name the client runs %q, want cubic still", name)
	}
	c.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("received %d bytes, want the %d written", len(b), len(data))
	}
	if err := c.SetCongestionControl("reno"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetCongestionControl after Close: %v, want net.ErrClosed", err)
	}
}
