package stack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// A stack talks to itself, as a host does: over 127.0.0.0/8 and ::1,
// and to its own addresses, an HTTP server and client on one stack.
func TestLoopbackHTTP(t *testing.T) {
	a, _ := pipe.New(1500) // a link whose other end nobody listens at
	s := stack.New(stack.Options{})
	if _, err := s.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")); err != nil {
		t.Fatal(err)
	}
	bare := stack.New(stack.Options{}) // no interface at all: loopback still
	t.Cleanup(func() { s.Close(); bare.Close() })
	for _, st := range []*stack.Stack{s, bare} {
		ln, err := st.Listen("tcp", ":8080")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s from %s", r.Host, r.RemoteAddr)
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	for _, c := range []struct {
		name  string
		s     *stack.Stack
		host  string
		local string // the address the client dials from
	}{
		{"127.0.0.1", s, "127.0.0.1", "127.0.0.1"},
		{"127.0.0.0/8", s, "127.1.2.3", "127.0.0.1"},
		{"::1", s, "[::1]", "::1"},
		{"own IPv4 address", s, "192.0.2.1", "192.0.2.1"},
		{"own IPv6 address", s, "[2001:db8::1]", "2001:db8::1"},
		{"no interface", bare, "127.0.0.1", "127.0.0.1"},
		{"no interface, ::1", bare, "[::1]", "::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hc := &http.Client{Transport: &http.Transport{DialContext: c.s.DialContext}}
			defer hc.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.host+":8080/", nil)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			remote, err := netip.ParseAddrPort(string(body[len(c.host+":8080 from "):]))
			if err != nil || remote.Addr().String() != c.local {
				t.Errorf("the server said %q, want a client at %s", body, c.local)
			}
		})
	}
	// The loopback's MSS is its MTU's: 65535 less the headers.
	conn, err := s.Dial("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if i := conn.(*stack.Conn).Info(); i.State != tcp.Established || i.MSS < 65000 {
		t.Errorf("over loopback: %v", i)
	}
	// Nothing listens: refused at once, as over a link.
	if _, err := s.Dial("tcp", "127.0.0.1:9"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial to a closed loopback port: %v, want ECONNREFUSED", err)
	}
	if _, err := s.Listen("tcp4", "127.0.0.2:0"); err != nil {
		t.Errorf("listen on 127.0.0.2: %v", err)
	}
	// After Close, no loopback either.
	bare.Close()
	if _, err := bare.Dial("tcp", "127.0.0.1:8080"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("dial over the loopback of a closed stack: %v, want net.ErrClosed", err)
	}
}

// Loopback addresses never come from a link (RFC 1122 §3.2.1.3): a SYN
// to 127.0.0.1, or from it, arriving on an interface is dropped, not
// answered.
func TestLoopbackAddressesFromALinkDropped(t *testing.T) {
	s, peer := newRawPeer(t)
	ln, err := s.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	syn := tcp.Segment{Seq: 1000, Flags: wire.FlagSYN, Window: 65535}
	for _, c := range []struct {
		name     string
		src, dst string
	}{
		{"to 127.0.0.1", "192.0.2.2", "127.0.0.1"},
		{"from 127.0.0.1", "127.0.0.1", "192.0.2.1"},
		{"to ::1", "2001:db8::2", "::1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := s.Stats().NotForUs.Load()
			peer.addr = netip.MustParseAddr(c.src)
			peer.sendTCP(netip.MustParseAddr(c.dst), 4000, 80, syn)
			deadline := time.Now().Add(2 * time.Second)
			for s.Stats().NotForUs.Load() == before && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if s.Stats().NotForUs.Load() == before {
				t.Error("not counted as not for us")
			}
			select {
			case p := <-peer.in:
				t.Errorf("answered: % x", p[:40])
			case <-time.After(20 * time.Millisecond):
			}
			if s.NumConns() != 0 {
				t.Errorf("%d connections made", s.NumConns())
			}
		})
	}
}
