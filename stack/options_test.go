package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// A peer that vanishes without a word is found by keepalive: the probes
// go unanswered and Read fails with ETIMEDOUT.
func TestKeepAliveFindsVanishedPeer(t *testing.T) {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	defer client.Close()
	defer server.Close()
	ln, _ := server.Listen("tcp", ":22")
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := client.Dial("tcp", "192.0.2.2:22")
	if err != nil {
		t.Fatal(err)
	}
	conn := c.(*stack.Conn)
	if err := conn.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 30 * time.Millisecond, Interval: 20 * time.Millisecond, Count: 3}); err != nil {
		t.Fatal(err)
	}
	// The server's link goes down: nothing it would answer arrives, and
	// it cannot say so.
	b.Close()
	start := time.Now()
	_, err = conn.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("read: %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("keepalive took %v", d)
	}
	if err := conn.SetKeepAlive(false); err != nil {
		t.Errorf("SetKeepAlive(false) on a dead connection: %v", err)
	}
}

// Socket options behave as *net.TCPConn's: buffer sizes bound what Write
// queues, keepalive settings are accepted, and everything fails with
// net.ErrClosed after Close.
func TestSocketOptions(t *testing.T) {
	client, server := twoStacks(t, 1500)
	conn, peer := dialPair(t, client, server, 23)
	for name, err := range map[string]error{
		"SetKeepAlive":       conn.SetKeepAlive(true),
		"SetKeepAlivePeriod": conn.SetKeepAlivePeriod(time.Minute),
		"SetNoDelay":         conn.SetNoDelay(true),
		"SetWriteBuffer":     conn.SetWriteBuffer(10000),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := conn.SetReadBuffer(-1); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("SetReadBuffer(-1): %v", err)
	}
	// The peer reads nothing: its 256 KiB window (auto-tuning grows it
	// only for a reader) and our 10000-byte buffer fill, and Write
	// blocks until its deadline.
	conn.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	n, err := conn.Write(make([]byte, 3<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n < tcp.DefaultReceiveBufferSize-128 || n > tcp.DefaultReceiveBufferSize+10000 {
		t.Errorf("wrote %d bytes before blocking, want the peer's %d and our 10000 at most", n, tcp.DefaultReceiveBufferSize)
	}
	info := conn.Info()
	// The window scale fits the 4 MiB the receive buffer may grow to;
	// the MSS is 1460 less 12 bytes of timestamps.
	if info.State != tcp.Established || info.SendQueue == 0 || info.SendScale != 7 || info.MSS != 1448 {
		t.Errorf("info %+v", info)
	}
	// Scaled windows round down: the last few bytes, under one unit of
	// 2^7, may stay free.
	if pi := peer.Info(); pi.ReceiveQueue+int(pi.ReceiveWindow) != tcp.DefaultReceiveBufferSize || pi.ReceiveWindow >= 128 {
		t.Errorf("peer queued %d bytes with a window of %d, want its whole buffer but for under 128 bytes", pi.ReceiveQueue, pi.ReceiveWindow)
	}
	// A smaller receive buffer applies once the queue drains: the window
	// advertised never shrinks (RFC 9293 §3.8.6).
	if err := peer.SetReadBuffer(4000); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	io.Copy(io.Discard, peer)
	if pi := peer.Info(); pi.ReceiveWindow > 4000 {
		t.Errorf("window %d after SetReadBuffer(4000)", pi.ReceiveWindow)
	}
	line := info.String()
	for _, want := range []string{"ESTABLISHED", "192.0.2.1:", "192.0.2.2:23", "wscale:7,7", "mss:1448"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	conn.Close()
	for name, err := range map[string]error{
		"SetKeepAlive":   conn.SetKeepAlive(true),
		"SetReadBuffer":  conn.SetReadBuffer(1),
		"SetWriteBuffer": conn.SetWriteBuffer(1),
	} {
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// Connections lists listeners, connections and TIME_WAIT records as
// `ss -tan` would.
func TestConnectionsReport(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, _ := server.Listen("tcp", ":24")
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := client.Dial("tcp", "192.0.2.2:24")
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	c.Close() // the client closes first: it ends in TIME_WAIT
	io.ReadAll(s)
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for client.NumConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := client.Connections()
	if len(got) != 1 || got[0].State != tcp.TimeWait || got[0].Remote.String() != "192.0.2.2:24" {
		t.Fatalf("client sockets: %v", got)
	}
	srv := server.Connections()
	if len(srv) != 1 || srv[0].State != tcp.Listen || !strings.HasPrefix(srv[0].String(), "LISTEN") {
		t.Fatalf("server sockets: %v", srv)
	}
}

// Shutdown waits for connections to finish closing, and gives up with
// ctx's error (resetting what is left) when ctx ends first.
func TestShutdown(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, _ := server.Listen("tcp", ":25")
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := client.Dial("tcp", "192.0.2.2:25")
	if err != nil {
		t.Fatal(err)
	}
	// The client's connection stays open: Shutdown waits, then gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := client.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown with an open connection: %v, want DeadlineExceeded", err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("the connection survived Shutdown's deadline")
	}
	<-done
	// A server whose connections have all closed shuts down at once.
	if err := server.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown with nothing open: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept after Shutdown: %v", err)
	}
}

// The TIME_WAIT table is bounded: past MaxTimeWait, connections close
// without a record, counted.
func TestTimeWaitBound(t *testing.T) {
	client, server := stacksWith(t, stack.Options{MaxTimeWait: 3}, stack.Options{})
	ln, _ := server.Listen("tcp", ":26")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	for i := 0; i < 5; i++ {
		c, err := client.Dial("tcp", "192.0.2.2:26")
		if err != nil {
			t.Fatal(err)
		}
		c.Close() // the client closes first: TIME_WAIT is its
		deadline := time.Now().Add(5 * time.Second)
		for client.NumConns() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	if n := len(client.Connections()); n != 3 {
		t.Errorf("%d TIME_WAIT records, want the bound of 3", n)
	}
	if n := client.Stats().TimeWaitOverflows.Load(); n != 2 {
		t.Errorf("%d overflows counted, want 2", n)
	}
}

// Closing with received data unread resets the connection (RFC 1122
// §4.2.2.13): the peer's next read fails with ECONNRESET.
func TestCloseWithUnreadDataResets(t *testing.T) {
	client, server := twoStacks(t, 1500)
	c, s := dialPair(t, client, server, 27)
	c.Write([]byte("never read"))
	deadline := time.Now().Add(5 * time.Second)
	for s.Info().ReceiveQueue == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after the peer closed with our data unread: %v, want ECONNRESET", err)
	}
}

// MaxConnections bounds a stack's connections: past it, dials fail with
// EAGAIN and SYNs to its listeners are dropped.
func TestConnectionLimit(t *testing.T) {
	client, server := stacksWith(t, stack.Options{MaxConnections: 2}, stack.Options{MaxConnections: 1})
	ln, _ := server.Listen("tcp", ":28")
	defer ln.Close()
	c1, err := client.Dial("tcp", "192.0.2.2:28")
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	// The server holds one connection: the second SYN is dropped, so the
	// dial waits until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := client.DialContext(ctx, "tcp", "192.0.2.2:28"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial past the server's limit: %v, want a timeout", err)
	}
	if server.Stats().ConnectionLimitDrops.Load() == 0 {
		t.Error("no drop counted at the server")
	}
	// A stack with one slot, taken by a dial into silence: the next
	// dial fails at once with EAGAIN.
	full := stack.New(stack.Options{MaxConnections: 1})
	x, y := pipe.New(1500)
	full.AddInterface(x, netip.MustParsePrefix("198.51.100.1/24"))
	defer full.Close()
	defer y.Close()
	silent, stop := context.WithCancel(context.Background())
	defer stop()
	go full.DialContext(silent, "tcp", "198.51.100.2:1")
	deadline := time.Now().Add(5 * time.Second)
	for full.NumConns() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := full.Dial("tcp", "198.51.100.2:2"); !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("dial past the client's limit: %v, want EAGAIN", err)
	}
}

// A connection closed by its application waits in FIN_WAIT_2 for the
// peer's FIN only so long (tcp.Config.FinWait2Timeout).
func TestFinWait2Bounded(t *testing.T) {
	client, server := stacksWith(t, stack.Options{TCP: &tcp.Config{FinWait2Timeout: 50 * time.Millisecond}}, stack.Options{})
	ln, _ := server.Listen("tcp", ":29")
	held := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		held <- c // the server never closes
	}()
	c, err := client.Dial("tcp", "192.0.2.2:29")
	if err != nil {
		t.Fatal(err)
	}
	defer (<-held).Close()
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for client.NumConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := client.NumConns(); n != 0 {
		t.Errorf("%d connections still held after FIN_WAIT_2's bound", n)
	}
}

// A listener's connection bound: past it, SYNs are dropped; when one of
// its connections is gone, a new one gets in.
func TestListenerConnectionLimit(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, _ := server.ListenBacklog("tcp", ":30", 8)
	ln.SetMaxConnections(2)
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c, err := client.Dial("tcp", "192.0.2.2:30")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := client.DialContext(ctx, "tcp", "192.0.2.2:30"); err == nil {
		t.Fatal("a third connection got past the listener's bound of 2")
	}
	// One goes away (both ends close), and there is room again.
	conns[0].Close()
	(<-accepted).Close()
	deadline := time.Now().Add(5 * time.Second)
	for server.NumConns() > 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c, err := client.Dial("tcp", "192.0.2.2:30")
	if err != nil {
		t.Fatalf("after one closed: %v", err)
	}
	c.Close()
	conns[1].Close()
}
