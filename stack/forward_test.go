package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// forwardingPair joins a client stack, which routes everything
// (0.0.0.0/0 and ::/0) to the pipe, and a forwarding stack, which owns
// only 192.0.2.2 and 2001:db8::2 and is to take flows to any address.
func forwardingPair(t testing.TB) (client, fwd *stack.Stack, link *pipe.Endpoint) {
	a, b := pipe.New(1500)
	client, fwd = stack.New(stack.Options{}), stack.New(stack.Options{})
	nic, _ := client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	client.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: nic})
	client.AddRoute(stack.Route{Dst: netip.MustParsePrefix("::/0"), NIC: nic})
	fwd.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))
	t.Cleanup(func() { client.Close(); fwd.Close() })
	return client, fwd, a
}

// echoTCPRequests accepts every request and echoes on the connection,
// reporting each request's original destination and the connection's
// LocalAddr.
func echoTCPRequests(seen chan<- [2]string) func(*stack.TCPForwardRequest) {
	return func(r *stack.TCPForwardRequest) {
		c, err := r.Accept(context.Background())
		if err != nil {
			return
		}
		if seen != nil {
			seen <- [2]string{r.LocalAddr().String(), c.LocalAddr().String()}
		}
		io.Copy(c, c)
		c.Close()
	}
}

// echoOver writes msg on c and reads it back.
func echoOver(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// A connection to any address routed to the forwarding stack reaches
// its handler with the original destination, IPv4 and IPv6, and the
// accepted connection's LocalAddr is that destination.
func TestForwardTCPAnyDestination(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	seen := make(chan [2]string, 2)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: echoTCPRequests(seen)})
	for _, dst := range []string{"198.51.100.7:443", "[2001:db8::99]:80"} {
		c, err := client.Dial("tcp", dst)
		if err != nil {
			t.Fatalf("%s: %v", dst, err)
		}
		echoOver(t, c, "hello "+dst)
		if got := <-seen; got != [2]string{dst, dst} {
			t.Errorf("request for %s, connection's local address %s; want %s", got[0], got[1], dst)
		}
		if got := c.RemoteAddr().String(); got != dst {
			t.Errorf("client's remote address %s, want %s", got, dst)
		}
		c.Close()
	}
	if st := fwd.ForwardStats(); st.TCPRequests != 2 || st.TCPAccepted != 2 {
		t.Errorf("stats %+v: want 2 requests, 2 accepted", st)
	}
}

// Without a forwarder, a packet to an address the stack does not own is
// dropped as not for us: nothing answers, and a dial times out.
func TestForwardOffDropsForeign(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := client.DialContext(ctx, "tcp", "198.51.100.7:443"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: %v, want a timeout", err)
	}
	if fwd.Stats().NotForUs.Load() == 0 {
		t.Error("the SYN was not counted as not for us")
	}
}

// Refuse answers with a RST: the client's dial fails with ECONNREFUSED.
// Drop sends nothing: the client's dial times out.
func TestForwardTCPRefuseAndDrop(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		if r.LocalAddr().Port() == 1 {
			r.Refuse()
		} else {
			r.Drop()
		}
	}})
	if _, err := client.Dial("tcp", "198.51.100.7:1"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: %v, want ECONNREFUSED", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := client.DialContext(ctx, "tcp", "198.51.100.7:2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dropped: %v, want a timeout", err)
	}
	if st := fwd.ForwardStats(); st.TCPRefused != 1 || st.TCPDropped == 0 {
		t.Errorf("stats %+v: want 1 refused, some dropped", st)
	}
}

// A handler that takes its time holds up only its own flow; the SYN's
// retransmissions meanwhile make no second request.
func TestForwardTCPSlowHandler(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	release := make(chan struct{})
	echo := echoTCPRequests(nil)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		if r.LocalAddr().Port() == 9 {
			<-release // past the client's first SYN retransmission (1 s)
		}
		echo(r)
	}})
	slow := make(chan error, 1)
	go func() {
		c, err := client.Dial("tcp", "198.51.100.9:9")
		if err == nil {
			echoOver(t, c, "slow")
			c.Close()
		}
		slow <- err
	}()
	for i := 0; i < 5; i++ {
		c, err := client.Dial("tcp", "198.51.100.10:80")
		if err != nil {
			t.Fatal(err)
		}
		echoOver(t, c, "fast")
		c.Close()
	}
	time.Sleep(1500 * time.Millisecond)
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("slow flow: %v", err)
	}
	if got := fwd.ForwardStats().TCPRequests; got != 6 {
		t.Errorf("%d requests, want 6: a retransmitted SYN made another", got)
	}
}

// A handler that panics does not take the stack down: the panic is
// counted and the client refused.
func TestForwardHandlerPanics(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(*stack.TCPForwardRequest) { panic("handler bug") }})
	fwd.SetUDPForwarder(stack.UDPForwarder{Handler: func(*stack.UDPForwardRequest) { panic("handler bug") }})
	if _, err := client.Dial("tcp", "198.51.100.7:443"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial: %v, want ECONNREFUSED", err)
	}
	u, err := client.Dial("udp", "198.51.100.7:53")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("q"))
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := u.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("UDP read: %v, want ECONNREFUSED", err)
	}
	if got := fwd.ForwardStats().HandlerPanics; got != 2 {
		t.Errorf("%d panics counted, want 2", got)
	}
}

// A request its handler never decides is dropped when its time is up,
// and gives back its place.
func TestForwardUndecided(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(*stack.TCPForwardRequest) {}, Decision: 50 * time.Millisecond, MaxInFlight: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	client.DialContext(ctx, "tcp", "198.51.100.7:443")
	waitFor(t, func() bool { return fwd.ForwardStats().Undecided == 1 })
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: echoTCPRequests(nil), MaxInFlight: 1})
	c, err := client.Dial("tcp", "198.51.100.7:443")
	if err != nil {
		t.Fatal(err)
	}
	echoOver(t, c, "after")
	c.Close()
}

// UDP flows to any destination, IPv4 and IPv6: the handler's socket is
// bound to the original destination and connected to the client, and
// replies come from that destination.
func TestForwardUDP(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	seen := make(chan string, 2)
	fwd.SetUDPForwarder(stack.UDPForwarder{Handler: func(r *stack.UDPForwardRequest) {
		c, err := r.Accept()
		if err != nil {
			return
		}
		seen <- c.LocalAddr().String()
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(buf[:n])
		}
	}})
	for _, dst := range []string{"198.51.100.7:53", "[2001:db8::99]:5353"} {
		c, err := client.Dial("udp", dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range []string{"one", "two", "three"} {
			c.Write([]byte(msg))
			if got := readWithin(t, c); got != msg {
				t.Errorf("%s: echo %q, want %q", dst, got, msg)
			}
		}
		if got := <-seen; got != dst {
			t.Errorf("flow bound to %s, want %s", got, dst)
		}
		c.Close()
	}
	if st := fwd.ForwardStats(); st.UDPRequests != 2 || st.UDPAccepted != 2 {
		t.Errorf("stats %+v: want 2 flows, 2 accepted", st)
	}
}

// Refusing a UDP flow answers with a port unreachable; an idle flow
// closes after its timeout, and the next datagram makes a new one.
func TestForwardUDPRefuseAndIdle(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	closed := make(chan error, 4)
	fwd.SetUDPForwarder(stack.UDPForwarder{IdleTimeout: 100 * time.Millisecond, Handler: func(r *stack.UDPForwardRequest) {
		if r.LocalAddr().Port() == 1 {
			r.Refuse()
			return
		}
		c, err := r.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 100)
		for {
			if _, err := c.Read(buf); err != nil {
				closed <- err
				return
			}
		}
	}})
	u, err := client.Dial("udp", "198.51.100.7:1")
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("q"))
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := u.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused flow: %v, want ECONNREFUSED", err)
	}
	u.Close()
	u, err = client.Dial("udp", "198.51.100.7:2")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("q"))
	select {
	case err := <-closed:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("idle flow's read: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the idle flow did not close")
	}
	u.Write([]byte("again"))
	waitFor(t, func() bool { return fwd.ForwardStats().UDPRequests == 3 })
}

// A flood of SYNs to random destinations, with a handler that never
// decides in time, holds at most MaxInFlight requests: the rest get SYN
// cookies, memory stays bounded, and a real client still gets through
// (its handshake completed by a cookie) once the flood has filled the
// table.
func TestForwardSynFlood(t *testing.T) {
	client, fwd, link := forwardingPair(t)
	var mu sync.Mutex
	var held []*stack.TCPForwardRequest
	fwd.SetTCPForwarder(stack.TCPForwarder{MaxInFlight: 64, Handler: func(r *stack.TCPForwardRequest) {
		if r.RemoteAddr().Addr() == netip.MustParseAddr("192.0.2.1") {
			echoTCPRequests(nil)(r)
			return
		}
		mu.Lock()
		held = append(held, r) // slow: decided at the end
		mu.Unlock()
	}})
	flood := func(n int) {
		for i := 0; i < n; i++ {
			src := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i%100)})
			dst := netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})
			syn := tcp.Segment{Seq: tcp.Seq(i * 7919), Flags: wire.FlagSYN, Window: 65535,
				Options: wire.TCPOptions{MSS: 1460, HasMSS: true}}
			h := syn.Header(uint16(10000+i), 443)
			buf := make([]byte, 80)
			size, _ := wire.BuildTCPPacket(buf, src, dst, 64, &h, nil)
			for link.WritePacket(buf[:size]) != nil {
				time.Sleep(time.Millisecond)
			}
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	flood(20000)
	c, err := client.Dial("tcp", "198.51.100.200:443")
	if err != nil {
		t.Fatalf("real client during the flood: %v", err)
	}
	echoOver(t, c, "through")
	c.Close()
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := fwd.ForwardStats()
	t.Logf("20000 SYNs to random destinations: %d requests, %d cookies, heap %+d KiB",
		st.TCPRequests, st.TCPCookies, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
	if st.TCPRequests > 64+1 || st.TCPCookies < 19000 {
		t.Errorf("stats %+v: want at most 65 requests and the rest answered with cookies", st)
	}
	if fwd.Stats().SynCookiesAccepted.Load() == 0 {
		t.Error("the real client did not get in by a SYN cookie")
	}
	if n := fwd.NumConns(); n > 2 {
		t.Errorf("%d connections held by the flood", n)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes for 20000 SYNs", grew)
	}
	mu.Lock()
	for _, r := range held {
		r.Drop()
	}
	mu.Unlock()
}

// A SYN that reuses a pair the forwarding stack holds in TIME_WAIT (its
// handler closed first) reopens it, as it would for a listener (RFC
// 6191): the handler gets the new connection at once.
func TestForwardTCPReopensTimeWait(t *testing.T) {
	a, b := pipe.New(1500)
	client := stack.New(stack.Options{EphemeralPorts: [2]uint16{40000, 40000}}) // every dial from port 40000
	fwd := stack.New(stack.Options{})
	nic, _ := client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	client.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: nic})
	fwd.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
	t.Cleanup(func() { client.Close(); fwd.Close() })
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		c, err := r.Accept(context.Background())
		if err == nil {
			c.Write([]byte("bye"))
			c.Close() // first: the forwarding stack keeps the pair in TIME_WAIT
		}
	}})
	for i := 0; i < 2; i++ {
		start := time.Now()
		c, err := client.Dial("tcp", "198.51.100.7:443")
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if got, err := io.ReadAll(c); string(got) != "bye" || err != nil {
			t.Fatalf("dial %d: read %q, %v", i, got, err)
		}
		c.Close()
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("dial %d took %v: the TIME_WAIT pair was not reopened", i, d)
		}
		if i == 0 {
			waitFor(t, func() bool { return client.NumConns() == 0 && fwd.NumConns() == 0 })
		}
	}
}

// A flood of datagrams to random destinations, with a handler that
// never decides, holds at most MaxInFlight flows; the rest are dropped
// and counted, and memory stays bounded.
func TestForwardUDPFlood(t *testing.T) {
	_, fwd, link := forwardingPair(t)
	var mu sync.Mutex
	var held []*stack.UDPForwardRequest
	fwd.SetUDPForwarder(stack.UDPForwarder{MaxInFlight: 64, Handler: func(r *stack.UDPForwardRequest) {
		mu.Lock()
		held = append(held, r)
		mu.Unlock()
	}})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	payload := make([]byte, 1000)
	for i := 0; i < 20000; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i%100)}), uint16(10000+i))
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}), 53)
		p := udpPacketFor(t, src, dst, string(payload))
		for link.WritePacket(p) != nil {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(t, func() bool {
		st := fwd.ForwardStats()
		return st.UDPRequests+st.UDPDropped >= 20000
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := fwd.ForwardStats()
	t.Logf("20000 datagrams to random destinations: %d flows, %d dropped, heap %+d KiB",
		st.UDPRequests, st.UDPDropped, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024)
	if st.UDPRequests != 64 {
		t.Errorf("%d flows made, want MaxInFlight (64)", st.UDPRequests)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
	mu.Lock()
	for _, r := range held {
		r.Drop()
	}
	mu.Unlock()
}

// An ACK to a foreign address that matches nothing is answered with a
// RST and opens nothing, while no SYN cookie was sent lately: it is not
// even checked as one (RFC 4987 §3.6). A request decides once.
func TestForwardTCPBlindACKAndDecideOnce(t *testing.T) {
	client, fwd, link := forwardingPair(t)
	decided := make(chan error, 1)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		c, err := r.Accept(context.Background())
		if err != nil {
			decided <- err
			return
		}
		r.Refuse() // too late: no effect
		_, err = r.Accept(context.Background())
		decided <- err
		c.Close()
	}})
	ack := tcp.Segment{Seq: 1000, Ack: 5000, Flags: wire.FlagACK, Window: 65535}
	h := ack.Header(40000, 443)
	buf := make([]byte, 80)
	size, _ := wire.BuildTCPPacket(buf, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7"), 64, &h, nil)
	link.WritePacket(buf[:size])
	waitFor(t, func() bool { return fwd.Stats().ResetsSent.Load() == 1 })
	if n := fwd.NumConns(); n != 0 || fwd.ForwardStats().TCPRequests != 0 {
		t.Errorf("a blind ACK made %d connections, %d requests", n, fwd.ForwardStats().TCPRequests)
	}
	c, err := client.Dial("tcp", "198.51.100.7:443")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-decided; !errors.Is(err, stack.ErrDecided) {
		t.Errorf("second Accept: %v, want ErrDecided", err)
	}
	if st := fwd.ForwardStats(); st.TCPAccepted != 1 || st.TCPRefused != 0 {
		t.Errorf("stats %+v: want 1 accepted, none refused", st)
	}
}

// ICMP errors about a forwarded flow reach it: the client's port
// unreachable, for a datagram the flow sent after the client's socket
// closed, fails the flow's next Read with ECONNREFUSED. An echo request
// to a foreign address is not answered.
func TestForwardICMPErrors(t *testing.T) {
	client, fwd, link := forwardingPair(t)
	flow := make(chan *stack.UDPConn, 1)
	fwd.SetUDPForwarder(stack.UDPForwarder{Handler: func(r *stack.UDPForwardRequest) {
		c, err := r.Accept()
		if err == nil {
			flow <- c
		}
	}})
	u, err := client.Dial("udp", "198.51.100.7:53")
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("hi"))
	c := <-flow
	if got := readWithin(t, c); got != "hi" {
		t.Fatalf("flow read %q", got)
	}
	u.Close()
	c.Write([]byte("reply")) // to a port the client no longer has
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("flow's read after the client's port unreachable: %v, want ECONNREFUSED", err)
	}
	c.Close()

	echo := wire.ICMPHeader{Type: wire.ICMPv4EchoRequest}
	before := fwd.Stats().EchoRequests.Load()
	buf := make([]byte, 100)
	hdr := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7")}
	off, _ := hdr.Marshal(buf, wire.ICMPHeaderLen)
	wire.BuildICMPv4(buf[off:], &echo, nil)
	notForUs := fwd.Stats().NotForUs.Load()
	link.WritePacket(buf[:off+wire.ICMPHeaderLen])
	waitFor(t, func() bool { return fwd.Stats().NotForUs.Load() == notForUs+1 })
	if fwd.Stats().EchoRequests.Load() != before {
		t.Error("an echo request to a foreign address was answered")
	}
}

// BenchmarkForwardedBulk is BenchmarkBulk through a forwarding stack,
// to a destination it does not own: the cost of the forwarding path on
// every segment, side by side with a connection to a listener.
func BenchmarkForwardedBulk(b *testing.B) {
	for _, forwarded := range []bool{false, true} {
		b.Run(map[bool]string{false: "listener", true: "forwarded"}[forwarded], func(b *testing.B) {
			client, fwd, _ := forwardingPair(b)
			sink := func(c net.Conn) { io.Copy(io.Discard, c) }
			dst := "192.0.2.2:80"
			if forwarded {
				dst = "198.51.100.7:80"
				fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
					if c, err := r.Accept(context.Background()); err == nil {
						sink(c)
					}
				}})
			} else {
				ln, _ := fwd.Listen("tcp", ":80")
				go func() {
					if c, err := ln.Accept(); err == nil {
						sink(c)
					}
				}()
			}
			conn, err := client.Dial("tcp", dst)
			if err != nil {
				b.Fatal(err)
			}
			benchmarkWrites(b, conn)
		})
	}
}

// Many flows at once, each to a destination of its own, each handled
// on its own goroutine.
func TestForwardManyConcurrent(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: echoTCPRequests(nil)})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(1000+i))
			c, err := client.Dial("tcp", dst.String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			msg := []byte(dst.String())
			c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
				errs <- errors.Join(err, errors.New("echo "+string(got)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := fwd.ForwardStats(); st.TCPAccepted != 100 {
		t.Errorf("stats %+v: want 100 accepted", st)
	}
}

// A request decided after its stack closed fails with net.ErrClosed.
func TestForwardAcceptAfterClose(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	got := make(chan error, 1)
	closed := make(chan struct{})
	fwd.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		<-closed
		_, err := r.Accept(context.Background())
		got <- err
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	go client.DialContext(ctx, "tcp", "198.51.100.7:443")
	waitFor(t, func() bool { return fwd.ForwardStats().TCPRequests == 1 })
	fwd.Close()
	close(closed)
	if err := <-got; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// Close ends the requests still waiting for a decision, TCP and UDP:
// their Decision timers stop, so that none fires (nor holds the stack)
// after Close, each is counted as dropped, and a decision that comes
// afterwards fails with net.ErrClosed. The timers used to fire after
// Close, counted as Undecided.
func TestForwardCloseEndsDecisions(t *testing.T) {
	client, fwd, _ := forwardingPair(t)
	const decision = 50 * time.Millisecond
	tcpReqs := make(chan *stack.TCPForwardRequest, 1)
	udpReqs := make(chan *stack.UDPForwardRequest, 1)
	fwd.SetTCPForwarder(stack.TCPForwarder{Decision: decision, Handler: func(r *stack.TCPForwardRequest) { tcpReqs <- r }})
	fwd.SetUDPForwarder(stack.UDPForwarder{Decision: decision, Handler: func(r *stack.UDPForwardRequest) { udpReqs <- r }})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	go client.DialContext(ctx, "tcp", "198.51.100.7:443")
	u, err := client.Dial("udp", "198.51.100.7:53")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("query"))
	tr, ur := <-tcpReqs, <-udpReqs
	fwd.Close()
	time.Sleep(3 * decision) // past the decisions' deadlines
	if st := fwd.ForwardStats(); st.Undecided != 0 || st.TCPDropped != 1 || st.UDPDropped != 1 {
		t.Errorf("stats %+v: want no request undecided, one TCP and one UDP dropped by Close", st)
	}
	if _, err := tr.Accept(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("TCP Accept after Close: %v, want net.ErrClosed", err)
	}
	if _, err := ur.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("UDP Accept after Close: %v, want net.ErrClosed", err)
	}
}
