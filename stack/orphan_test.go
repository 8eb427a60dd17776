package stack_test

import (
	"net"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// stuckPeer returns a client stack with opts joined to a server that
// accepts connections on port 31 and never reads them, with a 4 KiB
// receive buffer: each connection's window closes after 4 KiB.
func stuckPeer(t *testing.T, opts stack.Options) (client *stack.Stack, held chan net.Conn) {
	t.Helper()
	client, server := stacksWith(t, opts, stack.Options{TCP: &tcp.Config{ReceiveBufferSize: 4096, MaxReceiveBufferSize: -1}})
	ln, err := server.Listen("tcp", ":31")
	if err != nil {
		t.Fatal(err)
	}
	held = make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c // never read
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(held) > 0 {
			(<-held).Close()
		}
	})
	return client, held
}

// writeAndClose dials the stuck peer, writes n bytes and closes: the
// connection becomes an orphan with most of them queued.
func writeAndClose(t *testing.T, client *stack.Stack, n int) {
	t.Helper()
	c, err := client.Dial("tcp", "192.0.2.2:31")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Past MaxOrphans, a connection closed by its application is reset at
// once rather than left to drain, and counted (Linux's tcp_max_orphans).
func TestMaxOrphans(t *testing.T) {
	client, _ := stuckPeer(t, stack.Options{MaxOrphans: 2})
	for range 3 {
		writeAndClose(t, client, 32<<10)
	}
	if n, bytes := client.NumOrphans(); n != 2 || bytes < 2*(32<<10-4096) {
		t.Errorf("%d orphans holding %d bytes, want 2 holding about 64 KiB", n, bytes)
	}
	if got := client.Stats().OrphanOverflows.Load(); got != 1 {
		t.Errorf("%d orphan overflows, want 1", got)
	}
	if got := client.NumConns(); got != 2 {
		t.Errorf("%d connections held, want the 2 orphans", got)
	}
}

// Past MaxOrphanMemory of send queue held by orphans, a connection closed
// by its application is reset at once, and counted.
func TestMaxOrphanMemory(t *testing.T) {
	client, _ := stuckPeer(t, stack.Options{MaxOrphanMemory: 100 << 10})
	for range 4 {
		writeAndClose(t, client, 32<<10)
	}
	n, bytes := client.NumOrphans()
	if n != 3 || bytes > 100<<10 {
		t.Errorf("%d orphans holding %d bytes, want 3 holding at most 100 KiB", n, bytes)
	}
	if got := client.Stats().OrphanMemoryOverflows.Load(); got != 1 {
		t.Errorf("%d orphan memory overflows, want 1", got)
	}
}

// An orphan behind a zero window that never opens gives up after
// OrphanRetries probes, though the peer answers each one (seqack issue
// 18 B: it used to stay in FIN_WAIT_1 with its queue forever), well
// within its liveness bound; the stack then holds nothing for it.
func TestOrphanBehindZeroWindowGoes(t *testing.T) {
	cfg := &tcp.Config{InitialRTO: 20 * time.Millisecond, MinRTO: 20 * time.Millisecond, MaxRTO: 100 * time.Millisecond, OrphanRetries: 3}
	client, _ := stuckPeer(t, stack.Options{TCP: cfg})
	writeAndClose(t, client, 64<<10)
	if n, _ := client.NumOrphans(); n != 1 {
		t.Fatalf("%d orphans, want 1", n)
	}
	start := time.Now()
	bound := cfg.LivenessBound(nil)
	for client.NumConns() > 0 && time.Since(start) < bound+time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if n := client.NumConns(); n != 0 {
		t.Fatalf("the orphan still held %v after it was closed (bound %v)", time.Since(start), bound)
	}
	if n, bytes := client.NumOrphans(); n != 0 || bytes != 0 {
		t.Errorf("%d orphans holding %d bytes after they are gone", n, bytes)
	}
	if got := client.Stats().TCP.TimeOuts.Load(); got != 1 {
		t.Errorf("%d time-outs, want 1", got)
	}
	t.Logf("the orphan went %v after it was closed (bound %v)", time.Since(start), bound)
}
