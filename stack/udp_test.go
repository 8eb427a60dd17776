package stack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// udpEcho answers every datagram c receives with the same bytes, until
// c is closed.
func udpEcho(c *stack.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		c.WriteToUDPAddrPort(buf[:n], from)
	}
}

// listenUDP opens a UDP socket on s, closed when the test ends.
func listenUDP(t testing.TB, s *stack.Stack, network, address string) *stack.UDPConn {
	t.Helper()
	c, err := s.ListenPacket(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readWithin reads one datagram from c, failing the test after a second.
func readWithin(t testing.TB, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestUDPEcho(t *testing.T) {
	client, server := twoStacks(t, 1500)
	go udpEcho(listenUDP(t, server, "udp", ":7"))
	for _, addr := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		t.Run(addr, func(t *testing.T) {
			c, err := client.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.RemoteAddr().String(); got != addr {
				t.Errorf("RemoteAddr = %s, want %s", got, addr)
			}
			if port := c.LocalAddr().(*net.UDPAddr).Port; port < 32768 || port > 60999 {
				t.Errorf("local port %d is not ephemeral", port)
			}
			for i := range 10 {
				msg := fmt.Sprintf("datagram %d", i)
				if _, err := c.Write([]byte(msg)); err != nil {
					t.Fatal(err)
				}
				if got := readWithin(t, c); got != msg {
					t.Fatalf("echo = %q, want %q", got, msg)
				}
			}
		})
	}
	// Unconnected at both ends, each family.
	pc := listenUDP(t, client, "udp", ":0")
	for _, to := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		if _, err := pc.WriteToUDPAddrPort([]byte("hi "+to), netip.MustParseAddrPort(to)); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 100)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != "hi "+to || from.String() != to {
			t.Errorf("got %q from %v", buf[:n], from)
		}
	}
	if got := server.Stats().UDP.DatagramsReceived.Load(); got != 22 {
		t.Errorf("server DatagramsReceived = %d, want 22", got)
	}
	if got := client.Stats().UDP.DatagramsSent.Load(); got != 22 {
		t.Errorf("client DatagramsSent = %d, want 22", got)
	}
}

// A socket bound to ":port" on "udp" receives both families, and reports
// IPv4 senders with IPv4 addresses; "udp4" and "udp6" sockets take one
// family each and may share a port.
func TestUDPDualStack(t *testing.T) {
	client, server := twoStacks(t, 1500)
	dual := listenUDP(t, server, "udp", ":9")
	if got := dual.LocalAddr().String(); got != "[::]:9" {
		t.Errorf("LocalAddr = %s", got)
	}
	for _, to := range []string{"192.0.2.2:9", "[2001:db8::2]:9"} {
		c, err := client.Dial("udp", to)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("x"))
		dual.SetReadDeadline(time.Now().Add(time.Second))
		_, from, err := dual.ReadFromUDPAddrPort(make([]byte, 10))
		if err != nil {
			t.Fatal(err)
		}
		if from != netip.MustParseAddrPort(c.LocalAddr().String()) {
			t.Errorf("from %v, want %v", from, c.LocalAddr())
		}
	}
	if _, err := server.ListenPacket("udp4", ":9"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("udp4 :9 beside a dual socket: %v, want EADDRINUSE", err)
	}
	v4 := listenUDP(t, server, "udp4", ":10")
	v6 := listenUDP(t, server, "udp6", ":10")
	for _, c := range []struct {
		to   string
		want *stack.UDPConn
	}{{"192.0.2.2:10", v4}, {"[2001:db8::2]:10", v6}} {
		d, err := client.Dial("udp", c.to)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Write([]byte(c.to))
		if got := readWithin(t, c.want); got != c.to {
			t.Errorf("%s: %q", c.to, got)
		}
	}
}

// A datagram goes to the socket connected to its sender rather than to
// one bound to the same port for everyone, on the wildcard address or
// on the very address (Linux's compute_score).
func TestUDPConnectedPreferred(t *testing.T) {
	for i, bound := range []struct{ network, addr string }{{"udp", ":53"}, {"udp4", "192.0.2.2:53"}} {
		t.Run(bound.addr, func(t *testing.T) {
			client, server := twoStacks(t, 1500)
			wild := listenUDP(t, server, bound.network, bound.addr)
			a := listenUDP(t, client, "udp4", fmt.Sprintf("192.0.2.1:%d", 4000+2*i))
			b := listenUDP(t, client, "udp4", fmt.Sprintf("192.0.2.1:%d", 4001+2*i))
			aAddr := netip.MustParseAddrPort(a.LocalAddr().String())
			conn, err := server.DialUDP("udp", netip.MustParseAddrPort("0.0.0.0:53"), aAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := server.DialUDP("udp", netip.MustParseAddrPort("192.0.2.2:53"), aAddr); !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("second socket on the same 4-tuple: %v, want EADDRINUSE", err)
			}
			srv := netip.MustParseAddrPort("192.0.2.2:53")
			a.WriteToUDPAddrPort([]byte("from a"), srv)
			b.WriteToUDPAddrPort([]byte("from b"), srv)
			if got := readWithin(t, conn); got != "from a" {
				t.Errorf("connected socket got %q", got)
			}
			if got := readWithin(t, wild); got != "from b" {
				t.Errorf("bound socket got %q", got)
			}
			// The connected socket answers from the shared port.
			conn.Write([]byte("reply"))
			a.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 10)
			n, from, err := a.ReadFromUDPAddrPort(buf)
			if err != nil || string(buf[:n]) != "reply" || from != srv {
				t.Errorf("got %q from %v, %v", buf[:n], from, err)
			}
		})
	}
}

// A datagram to a port nobody listens on is answered with an ICMP port
// unreachable, which makes a connected socket's next Read fail with
// ECONNREFUSED, once (RFC 1122 §4.1.3.1 and §4.1.3.3, as Linux).
func TestUDPPortUnreachable(t *testing.T) {
	client, server := twoStacks(t, 1500)
	for _, to := range []string{"192.0.2.2:99", "[2001:db8::2]:99"} {
		t.Run(to, func(t *testing.T) {
			c, err := client.Dial("udp", to)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("anyone?"))
			c.SetReadDeadline(time.Now().Add(time.Second))
			_, err = c.Read(make([]byte, 10))
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("Read: %v, want ECONNREFUSED", err)
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "read" {
				t.Errorf("error %#v is not a read *net.OpError", err)
			}
			// Reported once: the next Read waits for data.
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("second Read: %v, want a timeout", err)
			}
		})
	}
	if got := server.Stats().UDP.NoPort.Load(); got != 2 {
		t.Errorf("NoPort = %d, want 2", got)
	}
	// An unconnected socket is not told (Linux without IP_RECVERR).
	pc := listenUDP(t, client, "udp", ":0")
	pc.WriteToUDPAddrPort([]byte("anyone?"), netip.MustParseAddrPort("192.0.2.2:99"))
	pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := pc.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("unconnected Read: %v, want a timeout", err)
	}
}

// What the stack sends for a datagram to a closed port: an ICMP port
// unreachable quoting it, at most a burst of them at once.
func TestUDPPortUnreachableSent(t *testing.T) {
	s, peer := newRawPeer(t)
	for _, v6 := range []bool{false, true} {
		src, dst := netip.MustParseAddrPort("192.0.2.2:5000"), netip.MustParseAddrPort("192.0.2.1:99")
		if v6 {
			src, dst = netip.MustParseAddrPort("[2001:db8::2]:5000"), netip.MustParseAddrPort("[2001:db8::1]:99")
		}
		pkt := udpPacketFor(t, src, dst, "ping")
		peer.ep.WritePacket(bytes.Clone(pkt))
		ip, err := wire.ParseIP(peer.next())
		if err != nil {
			t.Fatal(err)
		}
		h := ip.Payload
		wantType, wantCode := byte(wire.ICMPv4DestUnreachable), byte(wire.ICMPv4CodePortUnreachable)
		if v6 {
			wantType, wantCode = wire.ICMPv6DestUnreachable, wire.ICMPv6CodePortUnreachable
		}
		if h[0] != wantType || h[1] != wantCode || !bytes.Equal(h[8:], pkt) {
			t.Errorf("v6 %v: ICMP type %d code %d, quote %x", v6, h[0], h[1], h[8:])
		}
	}
	// A flood gets a burst of answers, not one each (RFC 4443 §2.4(f)).
	sent := s.Stats().PacketsSent.Load()
	pkt := udpPacketFor(t, netip.MustParseAddrPort("192.0.2.2:5000"), netip.MustParseAddrPort("192.0.2.1:99"), "x")
	for range 200 {
		peer.ep.WritePacket(bytes.Clone(pkt))
	}
	waitFor(t, func() bool { return s.Stats().UDP.NoPort.Load() == 202 })
	if n := s.Stats().PacketsSent.Load() - sent; n >= 150 {
		t.Errorf("%d ICMP errors sent for 200 datagrams", n)
	}
}

// udpPacketFor builds an IP packet with a UDP datagram.
func udpPacketFor(t testing.TB, src, dst netip.AddrPort, payload string) []byte {
	t.Helper()
	b := make([]byte, 100+len(payload))
	n, err := wire.BuildUDPPacket(b, src, dst, 0, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// waitFor polls cond for up to five seconds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Checksums as RFC 768 and RFC 8200 §8.1 have them, and malformed
// headers: each drop counted, nothing answered.
func TestUDPInputChecks(t *testing.T) {
	s, peer := newRawPeer(t)
	sock := listenUDP(t, s, "udp", ":53")
	v4 := func() []byte {
		return udpPacketFor(t, netip.MustParseAddrPort("192.0.2.2:5000"), netip.MustParseAddrPort("192.0.2.1:53"), "query")
	}
	v6 := func() []byte {
		return udpPacketFor(t, netip.MustParseAddrPort("[2001:db8::2]:5000"), netip.MustParseAddrPort("[2001:db8::1]:53"), "query")
	}
	const v4udp, v6udp = wire.IPv4MinHeaderLen, wire.IPv6HeaderLen
	tests := []struct {
		name                      string
		pkt                       []byte
		edit                      func(p []byte)
		delivered, bad, malformed int
	}{
		{"v4 good", v4(), func([]byte) {}, 1, 0, 0},
		{"v6 good", v6(), func([]byte) {}, 1, 0, 0},
		{"v4 zero checksum accepted", v4(), func(p []byte) { p[v4udp+6], p[v4udp+7] = 0, 0 }, 1, 0, 0},
		{"v6 zero checksum refused", v6(), func(p []byte) { p[v6udp+6], p[v6udp+7] = 0, 0 }, 0, 1, 0},
		{"v4 bad checksum", v4(), func(p []byte) { p[v4udp+9] ^= 4 }, 0, 1, 0},
		{"v6 bad checksum", v6(), func(p []byte) { p[v6udp+9] ^= 4 }, 0, 1, 0},
		{"v4 length below 8", v4(), func(p []byte) { binary.BigEndian.PutUint16(p[v4udp+4:], 7) }, 0, 0, 1},
		{"v6 length past the end", v6(), func(p []byte) { binary.BigEndian.PutUint16(p[v6udp+4:], 14) }, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &s.Stats().UDP
			recv, bad, malformed := st.DatagramsReceived.Load(), st.BadChecksums.Load(), st.Malformed.Load()
			sent := s.Stats().PacketsSent.Load()
			tt.edit(tt.pkt)
			peer.ep.WritePacket(tt.pkt)
			waitFor(t, func() bool {
				return st.DatagramsReceived.Load()+st.BadChecksums.Load()+st.Malformed.Load() > recv+bad+malformed
			})
			if d, b, m := st.DatagramsReceived.Load()-recv, st.BadChecksums.Load()-bad, st.Malformed.Load()-malformed; d != uint64(tt.delivered) || b != uint64(tt.bad) || m != uint64(tt.malformed) {
				t.Errorf("delivered %d, bad checksums %d, malformed %d; want %d, %d, %d", d, b, m, tt.delivered, tt.bad, tt.malformed)
			}
			if tt.delivered == 1 {
				if got := readWithin(t, sock); got != "query" {
					t.Errorf("read %q", got)
				}
			}
			if n := s.Stats().PacketsSent.Load() - sent; n != 0 {
				t.Errorf("%d packets sent in answer", n)
			}
		})
	}
}

// A socket whose queue is full drops what arrives, and counts it; what
// was queued is still read in order.
func TestUDPReceiveQueueOverflow(t *testing.T) {
	client, server := twoStacks(t, 1500)
	sock := listenUDP(t, server, "udp4", ":5")
	if err := sock.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial("udp", "192.0.2.2:5")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 100 {
		c.Write([]byte(fmt.Sprintf("%03d", i)))
	}
	st := &server.Stats().UDP
	waitFor(t, func() bool { return st.DatagramsReceived.Load()+st.ReceiveBufferDrops.Load() == 100 })
	queued := int(st.DatagramsReceived.Load())
	if queued == 0 || queued == 100 {
		t.Fatalf("%d of 100 datagrams queued in 4096 bytes", queued)
	}
	for i := range queued {
		if got, want := readWithin(t, sock), fmt.Sprintf("%03d", i); got != want {
			t.Fatalf("datagram %d: %q", i, got)
		}
	}
	sock.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := sock.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("queue not empty: %v", err)
	}
}

func TestUDPDeadlines(t *testing.T) {
	_, server := twoStacks(t, 1500)
	sock := listenUDP(t, server, "udp", ":5")
	sock.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	_, _, err := sock.ReadFrom(make([]byte, 10))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("returned after %v", d)
	}
	// A deadline moved into the past wakes a blocked Read.
	sock.SetReadDeadline(time.Time{})
	done := make(chan error)
	go func() {
		_, _, err := sock.ReadFrom(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	sock.SetDeadline(time.Now().Add(-time.Second))
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read: %v, want a timeout", err)
	}
	if _, err := sock.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("192.0.2.1:5")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write past the deadline: %v", err)
	}
}

// Close unblocks a Read with net.ErrClosed, frees the port, and a
// closing stack closes its sockets.
func TestUDPCloseWhileReading(t *testing.T) {
	client, server := twoStacks(t, 1500)
	sock, err := server.ListenPacket("udp", ":5")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, _, err := sock.ReadFrom(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	sock.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read: %v, want net.ErrClosed", err)
	}
	if err := sock.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := sock.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:5"))); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteTo after Close: %v", err)
	}
	again := listenUDP(t, server, "udp", ":5") // the port is free again
	c, _ := client.Dial("udp", "192.0.2.2:5")
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	client.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read as the stack closed: %v, want net.ErrClosed", err)
	}
	_ = again
}

// A datagram larger than the MTU leaves in fragments and arrives whole;
// one larger than an IP packet can carry fails with EMSGSIZE.
func TestUDPDatagramTooBig(t *testing.T) {
	client, server := twoStacks(t, 1500)
	sock := listenUDP(t, server, "udp", ":5")
	for _, c := range []struct {
		to  string
		max int
	}{{"192.0.2.2:5", 65535 - 28}, {"[2001:db8::2]:5", 65535 - 8}} {
		conn, err := client.Dial("udp", c.to)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write(make([]byte, c.max+1)); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("%s: %d bytes: %v, want EMSGSIZE", c.to, c.max+1, err)
		}
		if n, err := conn.Write(make([]byte, c.max)); err != nil || n != c.max {
			t.Errorf("%s: %d bytes: %d, %v", c.to, c.max, n, err)
		}
		sock.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, _, err := sock.ReadFrom(make([]byte, 70000)); err != nil || n != c.max {
			t.Errorf("%s: received %d bytes, %v", c.to, n, err)
		}
	}
}

// The errors of package net's UDPConn, for misuse.
func TestUDPAPIErrors(t *testing.T) {
	client, server := twoStacks(t, 1500)
	listenUDP(t, server, "udp4", "192.0.2.2:5")
	for _, c := range []struct {
		network, addr string
		want          error
	}{
		{"udp4", ":5", syscall.EADDRINUSE},
		{"udp", "192.0.2.2:5", syscall.EADDRINUSE},
		{"udp", "192.0.2.9:5", syscall.EADDRNOTAVAIL},
		{"udp4", "[2001:db8::2]:5", nil},
		{"udpx", ":5", nil},
	} {
		if _, err := server.ListenPacket(c.network, c.addr); err == nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("ListenPacket(%s, %s): %v, want %v", c.network, c.addr, err, c.want)
		}
	}
	pc := listenUDP(t, client, "udp", ":0")
	if _, err := pc.Write([]byte("x")); !errors.Is(err, syscall.EDESTADDRREQ) {
		t.Errorf("Write on an unconnected socket: %v", err)
	}
	if pc.RemoteAddr() != nil {
		t.Errorf("RemoteAddr of an unconnected socket: %v", pc.RemoteAddr())
	}
	conn, _ := client.Dial("udp", "192.0.2.2:5")
	defer conn.Close()
	if _, err := conn.(net.PacketConn).WriteTo([]byte("x"), conn.RemoteAddr()); !errors.Is(err, net.ErrWriteToConnected) {
		t.Errorf("WriteTo on a connected socket: %v", err)
	}
	v4only := listenUDP(t, client, "udp4", ":0")
	if _, err := v4only.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("[2001:db8::2]:5")); !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("udp4 socket to an IPv6 address: %v", err)
	}
	if _, err := client.Dial("udp", "192.0.2.2:0"); err == nil {
		t.Error("Dial to port 0 succeeded")
	}
}

// A datagram longer than the buffer is cut, the rest dropped, and
// ReadMsgUDPAddrPort says so with MSG_TRUNC.
func TestUDPTruncation(t *testing.T) {
	client, server := twoStacks(t, 1500)
	sock := listenUDP(t, server, "udp", ":5")
	conn, _ := client.Dial("udp", "192.0.2.2:5")
	defer conn.Close()
	conn.Write([]byte("0123456789"))
	conn.Write([]byte("ab"))
	sock.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4)
	n, _, flags, from, err := sock.ReadMsgUDPAddrPort(buf, nil)
	if err != nil || string(buf[:n]) != "0123" || flags&syscall.MSG_TRUNC == 0 || from.Port() == 0 {
		t.Errorf("read %q flags %#x from %v: %v", buf[:n], flags, from, err)
	}
	n, _, flags, _, err = sock.ReadMsgUDPAddrPort(buf, nil)
	if err != nil || string(buf[:n]) != "ab" || flags != 0 {
		t.Errorf("read %q flags %#x: %v", buf[:n], flags, err)
	}
}

// Many clients at once against one socket, with empty datagrams among
// the others: each gets its own answers back (run with -race).
func TestUDPConcurrentClients(t *testing.T) {
	client, server := twoStacks(t, 1500)
	go udpEcho(listenUDP(t, server, "udp", ":7"))
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			to := "192.0.2.2:7"
			if i%2 == 1 {
				to = "[2001:db8::2]:7"
			}
			c, err := client.Dial("udp", to)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			buf := make([]byte, 100)
			for j := range 100 {
				msg := fmt.Sprintf("%d/%d", i, j)
				if j%10 == 0 {
					msg = "" // an empty datagram is a datagram
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte(msg)); err != nil {
					errs <- err
					return
				}
				n, err := c.Read(buf)
				if err != nil || string(buf[:n]) != msg {
					errs <- fmt.Errorf("client %d: read %q, want %q: %v", i, buf[:n], msg, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
