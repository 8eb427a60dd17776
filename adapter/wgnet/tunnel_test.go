package wgnet_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/adapter/wgnet"
	"github.com/seqack/seqack/internal/echo"
	"golang.org/x/net/dns/dnsmessage"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"
)

// The addresses inside the tunnel: end 0 and end 1.
var (
	tunV4 = [2]netip.Addr{netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")}
	tunV6 = [2]netip.Addr{netip.MustParseAddr("fd99::1"), netip.MustParseAddr("fd99::2")}
)

const tunMTU = 1420

// end is one end of a tunnel: a wireguard-go device over a seqack or a
// gVisor netstack, and what the test needs of its Net.
type end struct {
	kind      string // "seqack" or "gvisor"
	dev       *device.Device
	dial      func(ctx context.Context, network, address string) (net.Conn, error)
	listenTCP func(netip.AddrPort) (net.Listener, error)
	listenUDP func(netip.AddrPort) (net.PacketConn, error)
	lookup    func(ctx context.Context, host string) ([]string, error)
	ping      func(raddr netip.Addr) (net.Conn, error)
	// echoes counts the echo requests a seqack end answered; nil for
	// gVisor.
	echoes func() uint64
}

// newNet makes the netstack of kind for end i of a tunnel.
func newNet(t testing.TB, kind string, i int, dns []netip.Addr) (tun.Device, *end) {
	t.Helper()
	addrs := []netip.Addr{tunV4[i], tunV6[i]}
	e := &end{kind: kind}
	switch kind {
	case "seqack":
		d, n, err := wgnet.CreateNetTUN(addrs, dns, tunMTU)
		if err != nil {
			t.Fatal(err)
		}
		e.dial = n.DialContext
		e.listenTCP = func(a netip.AddrPort) (net.Listener, error) { return n.ListenTCPAddrPort(a) }
		e.listenUDP = func(a netip.AddrPort) (net.PacketConn, error) { return n.ListenUDPAddrPort(a) }
		e.lookup = n.LookupContextHost
		e.ping = func(r netip.Addr) (net.Conn, error) { return n.DialPingAddr(netip.Addr{}, r) }
		e.echoes = n.Stack().Stats().EchoRequests.Load
		return d, e
	case "gvisor":
		d, n, err := netstack.CreateNetTUN(addrs, dns, tunMTU)
		if err != nil {
			t.Fatal(err)
		}
		e.dial = n.DialContext
		e.listenTCP = func(a netip.AddrPort) (net.Listener, error) { return n.ListenTCPAddrPort(a) }
		e.listenUDP = func(a netip.AddrPort) (net.PacketConn, error) { return n.ListenUDPAddrPort(a) }
		e.lookup = n.LookupContextHost
		e.ping = func(r netip.Addr) (net.Conn, error) { return n.DialPingAddr(netip.Addr{}, r) }
		return d, e
	}
	panic(kind)
}

// key is a WireGuard key pair, hex as wireguard-go's UAPI takes it.
type key struct{ private, public string }

func newKey(t testing.TB) key {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key{hex.EncodeToString(k.Bytes()), hex.EncodeToString(k.PublicKey().Bytes())}
}

// listenPort returns the UDP port a device listens on.
func listenPort(t testing.TB, d *device.Device) string {
	t.Helper()
	cfg, err := d.IpcGet()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(cfg, "\n") {
		if p, ok := strings.CutPrefix(line, "listen_port="); ok {
			return p
		}
	}
	t.Fatalf("no listen_port in %q", cfg)
	return ""
}

// tunnel joins two wireguard-go devices by UDP on 127.0.0.1, end 0 of
// kind a and end 1 of kind b; dns are end 0's DNS servers. The devices
// are closed at the end of the test.
func tunnel(t testing.TB, a, b string, dns []netip.Addr) [2]*end {
	t.Helper()
	var ends [2]*end
	keys := [2]key{newKey(t), newKey(t)}
	for i, kind := range []string{a, b} {
		var servers []netip.Addr
		if i == 0 {
			servers = dns
		}
		td, e := newNet(t, kind, i, servers)
		e.dev = device.NewDevice(td, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, ""))
		if err := e.dev.IpcSet("private_key=" + keys[i].private + "\nlisten_port=0\n"); err != nil {
			t.Fatal(err)
		}
		if err := e.dev.Up(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.dev.Close)
		ends[i] = e
	}
	for i, e := range ends {
		peer := 1 - i
		cfg := fmt.Sprintf("public_key=%s\nendpoint=127.0.0.1:%s\nallowed_ip=%s/32\nallowed_ip=%s/128\n",
			keys[peer].public, listenPort(t, ends[peer].dev), tunV4[peer], tunV6[peer])
		if err := e.dev.IpcSet(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return ends
}

// pairs are the tunnels the tests run over: seqack at one end and
// gVisor at the other, both ways round, and seqack at both.
var pairs = [][2]string{{"seqack", "gvisor"}, {"gvisor", "seqack"}, {"seqack", "seqack"}}

func pairName(p [2]string) string { return p[0] + "-" + p[1] }

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// An HTTP request from end 0 is answered by a server on end 1, over
// IPv4 and IPv6 inside the tunnel, in clear and over TLS.
func TestHTTP(t *testing.T) {
	for _, p := range pairs {
		for _, scheme := range []string{"http", "https"} {
			t.Run(pairName(p)+"/"+scheme, func(t *testing.T) {
				ends := tunnel(t, p[0], p[1], nil)
				ln, err := ends[1].listenTCP(netip.AddrPortFrom(netip.Addr{}, 443))
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, "hello %s from %s", r.RemoteAddr, p[1])
				}))
				srv.Listener.Close()
				srv.Listener = ln
				if scheme == "https" {
					srv.StartTLS()
				} else {
					srv.Start()
				}
				defer srv.Close()
				client := srv.Client()
				client.Timeout = 5 * time.Second
				tr := client.Transport.(*http.Transport)
				tr.DialContext = ends[0].dial
				if tr.TLSClientConfig != nil {
					tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
				}
				defer client.CloseIdleConnections()
				for i, to := range []netip.Addr{tunV4[1], tunV6[1]} {
					url := scheme + "://" + netip.AddrPortFrom(to, 443).String() + "/"
					resp, err := client.Get(url)
					if err != nil {
						t.Fatalf("GET %s: %v", url, err)
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						t.Fatal(err)
					}
					if (resp.TLS != nil) != (scheme == "https") {
						t.Errorf("GET %s: TLS state %v", url, resp.TLS)
					}
					from := []netip.Addr{tunV4[0], tunV6[0]}[i]
					if want := "hello " + from.String(); !strings.HasPrefix(strings.ReplaceAll(string(body), "[", ""), want) {
						t.Errorf("GET %s: %q, want it to start %q", url, body, want)
					}
				}
			})
		}
	}
}

// streamSize is what each end sends at once in TestStream: 64 MiB, as
// the issue asks (2 to 4 s a tunnel here). Under the race detector
// one tunnel of 64 MiB takes 13 s and the six over a minute, so there
// it is 8 MiB.
func streamSize() int64 {
	if raceEnabled {
		return 8 << 20
	}
	return 64 << 20
}

// Each end sends streamSize bytes to the other at once; both check the
// SHA-256 of what arrives.
func TestStream(t *testing.T) {
	for _, p := range pairs {
		for _, fam := range []string{"v4", "v6"} {
			t.Run(pairName(p)+"/"+fam, func(t *testing.T) {
				ends := tunnel(t, p[0], p[1], nil)
				to := tunV4[1]
				if fam == "v6" {
					to = tunV6[1]
				}
				ln, err := ends[1].listenTCP(netip.AddrPortFrom(to, 5001))
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				ctx := ctxFor(t, time.Minute)
				accepted := make(chan net.Conn, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						t.Error(err)
						close(accepted)
						return
					}
					accepted <- c
				}()
				c0, err := ends[0].dial(ctx, "tcp", netip.AddrPortFrom(to, 5001).String())
				if err != nil {
					t.Fatal(err)
				}
				defer c0.Close()
				c1, ok := <-accepted
				if !ok {
					t.FailNow()
				}
				defer c1.Close()
				stop := context.AfterFunc(ctx, func() { c0.Close(); c1.Close() })
				defer stop()
				var wg sync.WaitGroup
				size := streamSize()
				for _, pair := range [][2]net.Conn{{c0, c1}, {c1, c0}} {
					data := make([]byte, size)
					rand.Read(data)
					want := sha256.Sum256(data)
					wg.Add(2)
					go func() {
						defer wg.Done()
						if _, err := pair[0].Write(data); err != nil {
							t.Errorf("write: %v", err)
						}
						pair[0].(interface{ CloseWrite() error }).CloseWrite()
					}()
					go func() {
						defer wg.Done()
						h := sha256.New()
						n, err := io.Copy(h, pair[1])
						if err != nil {
							t.Errorf("read: %v", err)
						}
						if got := h.Sum(nil); n != size || !bytes.Equal(got, want[:]) {
							t.Errorf("received %d bytes, SHA-256 %x; want %d, %x", n, got, size, want)
						}
					}()
				}
				wg.Wait()
			})
		}
	}
}

// dnsServer answers A and AAAA queries for any name with the given
// addresses, on pc, until pc is closed.
func dnsServer(pc net.PacketConn, v4, v6 netip.Addr) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true})
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch q.Type {
		case dnsmessage.TypeA:
			b.AResource(rh, dnsmessage.AResource{A: v4.As4()})
		case dnsmessage.TypeAAAA:
			b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: v6.As16()})
		}
		msg, err := b.Finish()
		if err != nil {
			continue
		}
		pc.WriteTo(msg, from)
	}
}

// A name is looked up by end 0 with a DNS server the test runs on end 1,
// inside the tunnel, and dialed by name.
func TestDNS(t *testing.T) {
	for _, p := range [][2]string{{"seqack", "gvisor"}, {"seqack", "seqack"}} {
		t.Run(pairName(p), func(t *testing.T) {
			ends := tunnel(t, p[0], p[1], []netip.Addr{tunV4[1]})
			pc, err := ends[1].listenUDP(netip.AddrPortFrom(tunV4[1], 53))
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			go dnsServer(pc, tunV4[1], tunV6[1])
			ctx := ctxFor(t, 10*time.Second)
			addrs, err := ends[0].lookup(ctx, "server.wgnet.test")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{tunV6[1].String(), tunV4[1].String()}; strings.Join(addrs, ",") != strings.Join(want, ",") {
				t.Errorf("LookupContextHost: %v, want %v", addrs, want)
			}
			ln, err := ends[1].listenTCP(netip.AddrPortFrom(netip.Addr{}, 7))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					io.Copy(c, c)
					c.Close()
				}
			}()
			c, err := ends[0].dial(ctx, "tcp", "server.wgnet.test:7")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 4)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
				t.Errorf("echo by name: %q, %v", got, err)
			}
		})
	}
}

// echoRequest is an ICMP echo request of IPv4 (type 8) or IPv6 (128);
// the stacks fill in the identifier and the checksum.
func echoRequest(v6 bool, seq uint16) []byte {
	typ := byte(8)
	if v6 {
		typ = 128
	}
	return []byte{typ, 0, 0, 0, 0, 0, byte(seq >> 8), byte(seq), 'w', 'g', 'n', 'e', 't'}
}

// End 0 pings end 1 through the tunnel, over IPv4 and IPv6: seqack's
// ping socket answered by gVisor and by seqack, and gVisor's
// (netstack.Net.DialPingAddr) answered by seqack's stack.
func TestPing(t *testing.T) {
	for _, p := range pairs {
		t.Run(pairName(p), func(t *testing.T) {
			ends := tunnel(t, p[0], p[1], nil)
			for _, to := range []netip.Addr{tunV4[1], tunV6[1]} {
				c, err := ends[0].ping(to)
				if err != nil {
					t.Fatal(err)
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write(echoRequest(to.Is6(), 1)); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 1500)
				n, err := c.Read(buf)
				c.Close()
				if err != nil {
					t.Fatalf("ping %v: %v", to, err)
				}
				reply := byte(0)
				if to.Is6() {
					reply = 129
				}
				if n < 8 || buf[0] != reply || !bytes.HasSuffix(buf[:n], []byte("wgnet")) {
					t.Errorf("ping %v: got % x, want an echo reply ending in %q", to, buf[:n], "wgnet")
				}
			}
			if ends[1].echoes != nil {
				if got := ends[1].echoes(); got != 2 {
					t.Errorf("the seqack end answered %d echo requests, want 2", got)
				}
			}
		})
	}
}

// Closing the devices with connections open, a read blocked on one of
// them, leaves no goroutine behind: neither the stack's nor the
// device's nor wireguard-go's.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ends := tunnel(t, "seqack", "seqack", nil)
		ln, err := ends[1].listenTCP(netip.AddrPortFrom(tunV4[1], 9))
		if err != nil {
			t.Fatal(err)
		}
		ctx := ctxFor(t, 10*time.Second)
		var conns []net.Conn
		for range 4 {
			c, err := ends[0].dial(ctx, "tcp", netip.AddrPortFrom(tunV4[1], 9).String())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		readErr := make(chan error, 1)
		go func() {
			_, err := conns[0].Read(make([]byte, 1))
			readErr <- err
		}()
		ends[0].dev.Close()
		ends[1].dev.Close()
		if err := <-readErr; err == nil {
			t.Error("a read on a connection of a closed device returned no error")
		}
		ln.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after closing, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// UDP datagrams longer than the tunnel's MTU go through fragmented and
// come back whole from an echo server on the far end, IPv4 and IPv6.
func TestUDPFragmentedEcho(t *testing.T) {
	for _, p := range pairs {
		t.Run(pairName(p), func(t *testing.T) {
			ends := tunnel(t, p[0], p[1], nil)
			for _, to := range []netip.Addr{tunV4[1], tunV6[1]} {
				pc, err := ends[1].listenUDP(netip.AddrPortFrom(to, 7))
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					buf := make([]byte, 65536)
					for {
						n, from, err := pc.ReadFrom(buf)
						if err != nil {
							return
						}
						pc.WriteTo(buf[:n], from)
					}
				}()
				c, err := ends[0].dial(ctxFor(t, 5*time.Second), "udp", netip.AddrPortFrom(to, 7).String())
				if err != nil {
					t.Fatal(err)
				}
				for _, size := range []int{100, 3000, 9000} {
					msg := make([]byte, size)
					rand.Read(msg)
					got := make([]byte, 65536)
					var n int
					// Datagrams may be lost while the handshake is under
					// way: ask again until one comes back.
					for try := 0; ; try++ {
						if _, err := c.Write(msg); err != nil {
							t.Fatal(err)
						}
						c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
						if n, err = c.Read(got); err == nil || try == 5 {
							break
						}
					}
					if err != nil || !bytes.Equal(got[:n], msg) {
						t.Errorf("%v: echo of %d bytes: %d bytes back, %v", to, size, n, err)
					}
				}
				c.Close()
				pc.Close()
			}
		})
	}
}

// Many connections at once, each an echo of its own bytes.
func TestManyConnections(t *testing.T) {
	const conns = 100
	for _, p := range pairs {
		t.Run(pairName(p), func(t *testing.T) {
			ends := tunnel(t, p[0], p[1], nil)
			ln, err := ends[1].listenTCP(netip.AddrPortFrom(tunV4[1], 7))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			echo.Serve(ln)
			ctx := ctxFor(t, 10*time.Second)
			var wg sync.WaitGroup
			for i := range conns {
				wg.Go(func() {
					c, err := ends[0].dial(ctx, "tcp", netip.AddrPortFrom(tunV4[1], 7).String())
					if err != nil {
						t.Error(err)
						return
					}
					defer c.Close()
					stop := context.AfterFunc(ctx, func() { c.Close() })
					defer stop()
					msg := bytes.Repeat([]byte{byte(i)}, 10000)
					go func() {
						c.Write(msg)
						c.(interface{ CloseWrite() error }).CloseWrite()
					}()
					got, err := io.ReadAll(c)
					if err != nil || !bytes.Equal(got, msg) {
						t.Errorf("connection %d: %d bytes back of %d, %v", i, len(got), len(msg), err)
					}
				})
			}
			wg.Wait()
		})
	}
}
