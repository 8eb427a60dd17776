package stack_test

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

// exchange dials, sends "hi", reads the echo and closes first, then
// waits until the server side has gone.
func exchange(t *testing.T, client, server *stack.Stack) {
	t.Helper()
	ln, err := server.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := client.Dial("tcp", "192.0.2.2:7")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hi"))
	io.ReadFull(c, make([]byte, 2))
	c.Close()
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for server.NumConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// The trace hook draws a real connection as the simulator's diagrams do.
func TestTraceHookDrawsRealConnection(t *testing.T) {
	rec := trace.NewRecorder()
	client, server := stacksWith(t, stack.Options{Trace: rec.Record}, stack.Options{Trace: rec.Record})
	exchange(t, client, server)
	var out bytes.Buffer
	if err := render.Text(&out, rec.Events(), render.TextOptions{ASCII: true}); err != nil {
		t.Fatal(err)
	}
	diagram := out.String()
	for _, want := range []string{"192.0.2.1", "192.0.2.2", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "S 0:0(0)", "F. "} {
		if !strings.Contains(diagram, want) {
			t.Errorf("diagram lacks %q:\n%s", want, diagram)
		}
	}
	sent, delivered := 0, 0
	for _, e := range rec.Events() {
		switch e.Kind {
		case trace.SegmentSent:
			sent++
		case trace.SegmentDelivered:
			delivered++
		}
	}
	if sent != delivered || sent < 8 {
		t.Errorf("%d segments sent, %d delivered: every send should pair with its delivery", sent, delivered)
	}
}

// With only one side observed (as with the kernel at the far end of a
// TUN device), the peer's segments are drawn from their arrivals.
func TestTraceHookOneSided(t *testing.T) {
	rec := trace.NewRecorder()
	client, server := stacksWith(t, stack.Options{Trace: rec.Record}, stack.Options{})
	exchange(t, client, server)
	var out bytes.Buffer
	if err := render.Text(&out, rec.Events(), render.TextOptions{ASCII: true}); err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Log("\n" + out.String())
	}
	if !strings.Contains(out.String(), "S. 0:0(0) ack 1") {
		t.Errorf("the server's SYN+ACK is missing:\n%s", out.String())
	}
}

// The logger hears of state changes at debug level.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	mu := make(chan struct{}, 1)
	mu <- struct{}{}
	logger := slog.New(slog.NewTextHandler(lockedWriter{&buf, mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, server := stacksWith(t, stack.Options{Logger: logger}, stack.Options{})
	exchange(t, client, server)
	<-mu
	logged := buf.String()
	mu <- struct{}{}
	for _, want := range []string{"msg=\"tcp state\"", "from=SYN_SENT to=ESTABLISHED", "to=TIME_WAIT"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
}

// lockedWriter serializes writes to a buffer shared with the test.
type lockedWriter struct {
	w  io.Writer
	mu chan struct{}
}

func (l lockedWriter) Write(p []byte) (int, error) {
	<-l.mu
	defer func() { l.mu <- struct{}{} }()
	return l.w.Write(p)
}
