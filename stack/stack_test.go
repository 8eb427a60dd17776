package stack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// twoStacks joins a client and a server stack with a pipe; each has an
// IPv4 and an IPv6 address from the documentation ranges.
func twoStacks(t testing.TB, mtu int) (client, server *stack.Stack) {
	return joinedStacks(t, mtu, false)
}

// joinedStacks is twoStacks, with TCP checksums left to the pipe
// (link.ChecksumOffloader) if offload is set.
func joinedStacks(t testing.TB, mtu int, offload bool) (client, server *stack.Stack) {
	a, b := pipe.New(mtu)
	a.SetChecksumOffload(offload)
	b.SetChecksumOffload(offload)
	client = stack.New(stack.Options{})
	server = stack.New(stack.Options{})
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// stacksWith joins two stacks made with the given options, the client
// at 192.0.2.1 and the server at 192.0.2.2.
func stacksWith(t testing.TB, client, server stack.Options) (*stack.Stack, *stack.Stack) {
	a, b := pipe.New(1500)
	c, s := stack.New(client), stack.New(server)
	c.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	s.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// dialPair listens on port on server, dials it from client and returns
// both ends of the connection.
func dialPair(t testing.TB, client, server *stack.Stack, port int) (c, s *stack.Conn) {
	t.Helper()
	ln, err := server.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		a, _ := ln.Accept()
		accepted <- a
	}()
	d, err := client.Dial("tcp", fmt.Sprintf("192.0.2.2:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	a := <-accepted
	if a == nil {
		t.Fatal("nothing accepted")
	}
	return d.(*stack.Conn), a.(*stack.Conn)
}

func echoServer(t testing.TB, ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
}

func TestEchoIPv4AndIPv6(t *testing.T) {
	client, server := twoStacks(t, 1500)
	for _, c := range []struct{ network, listen, dial string }{
		{"tcp4", "192.0.2.2:7", "192.0.2.2:7"},
		{"tcp6", "[2001:db8::2]:7", "[2001:db8::2]:7"},
		{"tcp", ":8", "[2001:db8::2]:8"},
	} {
		t.Run(c.listen, func(t *testing.T) {
			ln, err := server.Listen(c.network, c.listen)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			echoServer(t, ln)
			conn, err := client.Dial(c.network, c.dial)
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = byte(i * 7)
			}
			go func() {
				conn.Write(data)
				conn.(interface{ CloseWrite() error }).CloseWrite()
			}()
			got, err := io.ReadAll(conn)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("echoed %d bytes, damaged or short (want %d)", len(got), len(data))
			}
			conn.Close()
		})
	}
}

func TestHTTP(t *testing.T) {
	client, server := twoStacks(t, 65535)
	ln, _ := server.Listen("tcp", "192.0.2.2:80")
	body := bytes.Repeat([]byte("seqack "), 10000)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	for i := 0; i < 3; i++ { // keep-alive reuses the connection
		resp, err := hc.Get("http://192.0.2.2/")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("got %d bytes", len(got))
		}
	}
}

func TestErrors(t *testing.T) {
	client, server := twoStacks(t, 1500)
	_, err := client.Dial("tcp", "192.0.2.2:9")
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("dial error %T is not a *net.OpError", err)
	}
	if _, err := client.Dial("tcp", "198.51.100.1:80"); err == nil {
		t.Error("dial with no route succeeded")
	}
	if _, err := client.Dial("sctp", "192.0.2.2:80"); err == nil {
		t.Error("dial sctp succeeded")
	}
	if _, err := client.Dial("tcp", "example.com:80"); err == nil {
		t.Error("dial to a name succeeded")
	}
	ln, _ := server.Listen("tcp", ":80")
	if _, err := server.Listen("tcp", ":80"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second listen: %v, want EADDRINUSE", err)
	}
	conn, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		t.Fatal(err)
	}
	peer, _ := ln.Accept()
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	conn.SetReadDeadline(time.Time{})
	peer.(*stack.Conn).CloseWrite() // half-close: we read EOF, and can still write
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after the peer's FIN: %v, want io.EOF", err)
	}
	if _, err := conn.Write([]byte("still here")); err != nil {
		t.Errorf("write after the peer's half-close: %v", err)
	}
	buf := make([]byte, 10)
	if n, err := io.ReadFull(peer, buf); err != nil || string(buf[:n]) != "still here" {
		t.Errorf("half-closed peer read %q, %v", buf[:n], err)
	}
	conn.Close()
	if _, err := conn.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept after Close: %v", err)
	}
}

func TestResetAndDialCancel(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, _ := server.Listen("tcp", ":80")
	conn, _ := client.Dial("tcp", "192.0.2.2:80")
	peer, _ := ln.Accept()
	peer.(*stack.Conn).SetLinger(0)
	peer.Close() // linger 0: RST
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after the peer's reset: %v, want ECONNRESET", err)
	}
	// A host that never answers: the dial waits until its context ends.
	a, _ := pipe.New(1500)
	lonely := stack.New(stack.Options{})
	lonely.AddInterface(a, netip.MustParsePrefix("203.0.113.1/24"))
	defer lonely.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := lonely.DialContext(ctx, "tcp", "203.0.113.2:80")
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("dial into silence: %v, want a timeout wrapping context.DeadlineExceeded", err)
	}
}

// A full accept queue turns SYNs away without crashing or leaking.
func TestBacklog(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, _ := server.ListenBacklog("tcp", ":80", 2)
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ok := 0
	for i := 0; i < 4; i++ {
		if c, err := client.DialContext(ctx, "tcp", "192.0.2.2:80"); err == nil {
			ok++
			defer c.Close()
		}
	}
	if ok != 2 || server.Stats().ListenOverflows.Load() == 0 {
		t.Errorf("%d connections with a backlog of 2, %d overflows", ok, server.Stats().ListenOverflows.Load())
	}
	// The SYNs over the backlog were dropped, not refused: the dials
	// waited for their context rather than failing with ECONNREFUSED.
	if n := server.Stats().ResetsSent.Load(); n != 0 {
		t.Errorf("%d RSTs sent for SYNs over the backlog, want none", n)
	}
	for i := 0; i < ok; i++ {
		if _, err := ln.Accept(); err != nil {
			t.Fatal(err)
		}
	}
}

// ping: an ICMP echo request gets its reply (v4 and v6).
func TestEcho(t *testing.T) {
	for _, c := range []struct{ local, remote, bits string }{{"192.0.2.1", "192.0.2.2", "/24"}, {"2001:db8::1", "2001:db8::2", "/64"}} {
		a, b := pipe.New(1500)
		s := stack.New(stack.Options{})
		s.AddInterface(b, netip.MustParsePrefix(c.remote+c.bits))
		replies := make(chan []byte, 1)
		a.Attach(func(p []byte) { replies <- append([]byte(nil), p...) })
		src, dst := netip.MustParseAddr(c.local), netip.MustParseAddr(c.remote)
		req := wire.ICMPHeader{Type: wire.ICMPv4EchoRequest, Rest: [4]byte{0, 1, 0, 2}}
		buf := make([]byte, 200)
		var n int
		if src.Is4() {
			ip := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: dst}
			off, _ := ip.Marshal(buf, 8+4)
			m, _ := wire.BuildICMPv4(buf[off:], &req, []byte("ping"))
			n = off + m
		} else {
			req.Type = wire.ICMPv6EchoRequest
			ip := wire.IPv6Header{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: src, Dst: dst}
			off, _ := ip.Marshal(buf, 8+4)
			m, _ := wire.BuildICMPv6(buf[off:], src, dst, &req, []byte("ping"))
			n = off + m
		}
		a.WritePacket(buf[:n])
		select {
		case p := <-replies:
			ip, err := wire.ParseIP(p)
			if err != nil || ip.Dst != src {
				t.Fatalf("reply %v %v", ip, err)
			}
			var h wire.ICMPHeader
			var body []byte
			if src.Is4() {
				h, body, err = wire.ParseICMPv4(ip.Payload)
			} else {
				h, body, err = wire.ParseICMPv6(ip.Payload, ip.Src, ip.Dst)
			}
			if err != nil || (h.Type != wire.ICMPv4EchoReply && h.Type != wire.ICMPv6EchoReply) || h.EchoSeq() != 2 || string(body) != "ping" {
				t.Fatalf("reply %+v %q %v", h, body, err)
			}
		case <-time.After(time.Second):
			t.Fatal("no echo reply")
		}
		s.Close()
	}
}

func BenchmarkBulk(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		b.Run(fmt.Sprint("mtu", mtu), func(b *testing.B) {
			client, server := joinedStacks(b, mtu, true)
			ln, _ := server.Listen("tcp", ":80")
			go func() {
				c, _ := ln.Accept()
				io.Copy(io.Discard, c)
			}()
			conn, err := client.Dial("tcp", "192.0.2.2:80")
			if err != nil {
				b.Fatal(err)
			}
			benchmarkWrites(b, conn)
		})
	}
}

// BenchmarkKernelLoopback is BenchmarkBulk's workload over the kernel's
// loopback: the baseline the stack's figures are quoted against.
func BenchmarkKernelLoopback(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skip(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	benchmarkWrites(b, conn)
}

// benchmarkWrites writes 64 KiB per op to conn, then closes it.
func benchmarkWrites(b *testing.B, conn net.Conn) {
	data := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := conn.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close()
}
