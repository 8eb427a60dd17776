package stack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// echoRequest is an ICMP echo request as a wireguard-go user writes it
// to a PingConn: made by golang.org/x/net/icmp, with an identifier the
// stack replaces.
func echoRequest(t testing.TB, v6 bool, seq int, data string) []byte {
	t.Helper()
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	b, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: 0xbeef, Seq: seq, Data: []byte(data)}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readEcho reads one echo reply from c within a second and parses it.
func readEcho(t testing.TB, c *stack.PingConn) (*icmp.Echo, netip.Addr) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 2048)
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	a := from.(*stack.PingAddr).Addr()
	proto := 1
	if a.Is6() {
		proto = 58
	}
	m, err := icmp.ParseMessage(proto, buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply {
		t.Fatalf("read a message of type %v, want an echo reply", m.Type)
	}
	return m.Body.(*icmp.Echo), a
}

// Pings between two stacks over a pipe, IPv4 and IPv6: the far stack
// answers, and the reply reaches the socket with its identifier.
func TestPingEcho(t *testing.T) {
	client, server := twoStacks(t, 1500)
	for _, peer := range []string{"192.0.2.2", "2001:db8::2"} {
		t.Run(peer, func(t *testing.T) {
			raddr := netip.MustParseAddr(peer)
			c, err := client.DialPing(netip.Addr{}, raddr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.RemoteAddr().String(); got != peer {
				t.Errorf("RemoteAddr %s, want %s", got, peer)
			}
			for seq := 1; seq <= 3; seq++ {
				if _, err := c.Write(echoRequest(t, raddr.Is6(), seq, "gopher burrow")); err != nil {
					t.Fatal(err)
				}
				echo, from := readEcho(t, c)
				if from != raddr || echo.ID != int(c.Ident()) || echo.Seq != seq || string(echo.Data) != "gopher burrow" {
					t.Errorf("reply from %v id %#x seq %d data %q; want from %v id %#x seq %d",
						from, echo.ID, echo.Seq, echo.Data, raddr, c.Ident(), seq)
				}
			}
		})
	}
	st := client.Stats().Snapshot()
	if st.EchoRequestsSent != 6 || st.EchoRepliesReceived != 6 || server.Stats().Snapshot().EchoRequests != 6 {
		t.Errorf("EchoRequestsSent %d EchoRepliesReceived %d, server's EchoRequests %d; want 6 each",
			st.EchoRequestsSent, st.EchoRepliesReceived, server.Stats().Snapshot().EchoRequests)
	}
}

// Two ping sockets at once, each with its own identifier, each get
// their own replies; an unconnected one sends to both families' peers
// of its own family only.
func TestPingSocketsDemuxed(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	a, err := client.ListenPing(netip.IPv4Unspecified())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := client.DialPing(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Ident() == b.Ident() {
		t.Fatalf("both sockets have identifier %#x", a.Ident())
	}
	peer := stack.PingAddrFromAddr(netip.MustParseAddr("192.0.2.2"))
	for i := 0; i < 5; i++ {
		if _, err := a.WriteTo(echoRequest(t, false, 100+i, "a"), peer); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Write(echoRequest(t, false, 200+i, "b")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if e, _ := readEcho(t, a); e.Seq != 100+i || string(e.Data) != "a" {
			t.Errorf("socket a read seq %d %q, want %d \"a\"", e.Seq, e.Data, 100+i)
		}
		if e, _ := readEcho(t, b); e.Seq != 200+i || string(e.Data) != "b" {
			t.Errorf("socket b read seq %d %q, want %d \"b\"", e.Seq, e.Data, 200+i)
		}
	}
	if _, err := a.WriteTo(echoRequest(t, true, 1, "x"), &net.IPAddr{IP: net.ParseIP("2001:db8::2")}); !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("IPv4 socket writing to an IPv6 address: %v, want EAFNOSUPPORT", err)
	}
	if la := a.LocalAddr(); la.Network() != "ping4" || la.String() != "0.0.0.0" {
		t.Errorf("LocalAddr %s %s, want ping4 0.0.0.0", la.Network(), la)
	}
}

// The stack answers its own pings, over its loopback interface.
func TestPingOwnAddresses(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	for _, addr := range []string{"127.0.0.1", "192.0.2.1", "::1", "2001:db8::1"} {
		t.Run(addr, func(t *testing.T) {
			c, err := client.Dial("ping", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pc := c.(*stack.PingConn)
			to := netip.MustParseAddr(addr)
			if _, err := pc.Write(echoRequest(t, to.Is6(), 9, "self")); err != nil {
				t.Fatal(err)
			}
			if e, from := readEcho(t, pc); from != to || e.Seq != 9 || string(e.Data) != "self" {
				t.Errorf("reply from %v seq %d %q", from, e.Seq, e.Data)
			}
		})
	}
}

// Deadlines make reads fail with os.ErrDeadlineExceeded, Close
// unblocks a read, and a closed socket fails with net.ErrClosed.
func TestPingDeadlinesAndClose(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	c, err := client.ListenPing(netip.IPv6Unspecified())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.WriteTo(echoRequest(t, true, 1, ""), stack.PingAddrFromAddr(netip.MustParseAddr("2001:db8::2"))); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write past the deadline: %v", err)
	}
	c.SetDeadline(time.Time{})
	done := make(chan error)
	go func() {
		_, err := c.Read(make([]byte, 64))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read ended by Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
	if _, err := c.Read(make([]byte, 64)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	// Closing the stack closes its ping sockets.
	d, err := client.ListenPing(netip.IPv4Unspecified())
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if _, err := d.Read(make([]byte, 64)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after the stack closed: %v", err)
	}
	if _, err := client.ListenPing(netip.IPv4Unspecified()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ListenPing on a closed stack: %v", err)
	}
}

// What is not an echo request, or cannot be sent, fails with an error
// that says so, and nothing is sent.
func TestPingAPIErrors(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	c, err := client.ListenPing(netip.IPv4Unspecified())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := stack.PingAddrFromAddr(netip.MustParseAddr("192.0.2.2"))
	reply := echoRequest(t, false, 1, "")
	reply[0] = 0 // an echo reply
	big := echoRequest(t, false, 1, string(make([]byte, 65535-28+1)))
	for _, tc := range []struct {
		name string
		err  error
		call func() (int, error)
	}{
		{"echo reply", nil, func() (int, error) { return c.WriteTo(reply, peer) }},
		{"short", nil, func() (int, error) { return c.WriteTo([]byte{8, 0, 0}, peer) }},
		{"IPv6 request on IPv4", nil, func() (int, error) { return c.WriteTo(echoRequest(t, true, 1, ""), peer) }},
		{"unconnected Write", syscall.EDESTADDRREQ, func() (int, error) { return c.Write(echoRequest(t, false, 1, "")) }},
		{"past 65535 bytes", syscall.EMSGSIZE, func() (int, error) { return c.WriteTo(big, peer) }},
		{"no address", syscall.EINVAL, func() (int, error) { return c.WriteTo(echoRequest(t, false, 1, ""), nil) }},
		{"no route", syscall.ENETUNREACH, func() (int, error) {
			return c.WriteTo(echoRequest(t, false, 1, ""), stack.PingAddrFromAddr(netip.MustParseAddr("198.51.100.1")))
		}},
	} {
		n, err := tc.call()
		var op *net.OpError
		if n != 0 || !errors.As(err, &op) || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s: %d, %v; want 0 and a *net.OpError wrapping %v", tc.name, n, err, tc.err)
		}
	}
	if got := client.Stats().Snapshot().EchoRequestsSent; got != 0 {
		t.Errorf("EchoRequestsSent %d after failed writes", got)
	}
	if _, err := client.ListenPing(netip.Addr{}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ListenPing(zero Addr): %v", err)
	}
	if _, err := client.ListenPing(netip.MustParseAddr("192.0.2.9")); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("ListenPing(not ours): %v", err)
	}
	if _, err := client.DialPing(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::2")); !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("DialPing across families: %v", err)
	}
}

// echoReply builds an echo reply from src to dst, as a peer sends it.
func echoReply(t testing.TB, src, dst netip.Addr, id, seq uint16, data string) []byte {
	t.Helper()
	h := wire.ICMPHeader{Type: wire.ICMPv4EchoReply}
	if src.Is6() {
		h.Type = wire.ICMPv6EchoReply
	}
	binary.BigEndian.PutUint16(h.Rest[0:], id)
	binary.BigEndian.PutUint16(h.Rest[2:], seq)
	buf := make([]byte, 48+len(data))
	var off int
	var err error
	if src.Is4() {
		ih := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: dst}
		off, err = ih.Marshal(buf, 8+len(data))
		if err == nil {
			_, err = wire.BuildICMPv4(buf[off:], &h, []byte(data))
		}
	} else {
		ih := wire.IPv6Header{NextHeader: wire.ProtocolICMPv6, HopLimit: 64, Src: src, Dst: dst}
		off, err = ih.Marshal(buf, 8+len(data))
		if err == nil {
			_, err = wire.BuildICMPv6(buf[off:], src, dst, &h, []byte(data))
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf[:off+8+len(data)]
}

// Replies are demultiplexed by identifier, and by peer for a connected
// socket; those no socket takes, or that overflow a socket's receive
// queue, are counted and dropped.
func TestPingRepliesFromTheWire(t *testing.T) {
	s, peer := newRawPeer(t)
	us, them, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	c, err := s.DialPing(netip.Addr{}, them)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(p []byte) {
		if err := peer.ep.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	send(echoReply(t, them, us, c.Ident()+1, 1, "wrong id"))
	send(echoReply(t, other, us, c.Ident(), 2, "wrong peer"))
	send(echoReply(t, them, us, c.Ident(), 3, "ours"))
	if e, from := readEcho(t, c); from != them || e.Seq != 3 || string(e.Data) != "ours" {
		t.Errorf("read seq %d %q from %v, want seq 3 \"ours\"", e.Seq, e.Data, from)
	}
	if got := s.Stats().Snapshot().EchoRepliesUnclaimed; got != 2 {
		t.Errorf("EchoRepliesUnclaimed %d, want 2", got)
	}
	// A bad ICMPv6 checksum (computed without the pseudo-header's
	// addresses) is malformed.
	c6, err := s.DialPing(netip.Addr{}, netip.MustParseAddr("2001:db8::2"))
	if err != nil {
		t.Fatal(err)
	}
	defer c6.Close()
	bad := echoReply(t, netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1"), c6.Ident(), 1, "x")
	bad[len(bad)-1] ^= 0xff
	before := s.Stats().Snapshot().MalformedPackets
	send(bad)
	send(echoReply(t, netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1"), c6.Ident(), 2, "good"))
	if e, _ := readEcho(t, c6); e.Seq != 2 {
		t.Errorf("read seq %d, want 2 (the one with a good checksum)", e.Seq)
	}
	if got := s.Stats().Snapshot().MalformedPackets - before; got != 1 {
		t.Errorf("MalformedPackets grew by %d, want 1", got)
	}
	// A receive queue of one reply.
	c.SetReadBuffer(1)
	for i := 0; i < 3; i++ {
		send(echoReply(t, them, us, c.Ident(), uint16(10+i), "flood"))
	}
	waitFor(t, func() bool { return s.Stats().Snapshot().PingReceiveQueueDrops == 2 })
	if e, _ := readEcho(t, c); e.Seq != 10 {
		t.Errorf("read seq %d, want 10", e.Seq)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := c.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a second reply was queued: %v", err)
	}
}

// A ping socket is a net.Conn made by Dial, as wireguard-go's
// netstack.Net.Dial("ping4", ...) makes one, and the reply reads whole.
func TestPingDial(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	c, err := client.Dial("ping4", "192.0.2.2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := echoRequest(t, false, 42, "hello")
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(req) || !bytes.Equal(buf[8:n], req[8:]) {
		t.Errorf("read % x, want the request's length and data back", buf[:n])
	}
	if _, err := client.Dial("ping6", "192.0.2.2"); err == nil {
		t.Error("Dial(ping6, an IPv4 address) succeeded")
	}
}

// An ICMP host unreachable quoting an echo request of a connected
// socket makes its next read fail with EHOSTUNREACH, as ping reports
// "Destination Host Unreachable"; an unconnected socket ignores it, as
// Linux's do without IP_RECVERR.
func TestPingUnreachable(t *testing.T) {
	s, peer := newRawPeer(t)
	c, err := s.DialPing(netip.Addr{}, netip.MustParseAddr("192.0.2.9"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(echoRequest(t, false, 1, "anyone?")); err != nil {
		t.Fatal(err)
	}
	req := peer.next()
	other := append([]byte(nil), req...)
	binary.BigEndian.PutUint16(other[24:], c.Ident()+1) // the quoted identifier
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodeHostUnreachable, 0, other)
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodeHostUnreachable, 0, req)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 64)); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("read after host unreachable: %v, want EHOSTUNREACH", err)
	}
	if got := s.Stats().ICMPErrorsIgnored.Load(); got != 1 {
		t.Errorf("ICMPErrorsIgnored %d, want 1 (the one quoting another identifier)", got)
	}

	u, err := s.ListenPing(netip.IPv4Unspecified())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.WriteTo(echoRequest(t, false, 1, "anyone?"), stack.PingAddrFromAddr(netip.MustParseAddr("192.0.2.9")))
	peer.sendICMPv4(wire.ICMPv4DestUnreachable, wire.ICMPv4CodeHostUnreachable, 0, peer.next())
	waitFor(t, func() bool { return s.Stats().ICMPErrorsIgnored.Load() == 2 })
	u.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := u.Read(make([]byte, 64)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("unconnected socket's read: %v, want a timeout", err)
	}
}
