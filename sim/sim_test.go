package sim_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

var (
	clientAddr = netip.MustParseAddr("10.0.0.1")
	serverAddr = netip.MustParseAddr("10.0.0.2")
)

// pair builds a client and a server (listening on 80) joined by l.
func pair(seed int64, l sim.LinkConfig, cfg *tcp.Config) (*sim.Network, *sim.Host, *sim.Host) {
	n := sim.New(sim.Config{Seed: seed})
	c := n.AddHost("client", clientAddr, cfg)
	s := n.AddHost("server", serverAddr, cfg)
	n.Link(c, s, l)
	s.Listen(80)
	return n, c, s
}

// transfer sends data both ways and closes; it returns what each side
// received.
func transfer(t *testing.T, n *sim.Network, client, server *sim.Host, up, down []byte) (gotUp, gotDown []byte) {
	t.Helper()
	pump := func(c *sim.Conn, data *[]byte) {
		for len(*data) > 0 {
			w, _ := c.Write(*data)
			if w == 0 {
				return
			}
			*data = (*data)[w:]
		}
		if c.State() == tcp.Established || c.State() == tcp.CloseWait {
			c.Close()
		}
	}
	upLeft, downLeft := up, down
	handle := func(side string, got *[]byte, left *[]byte) func(*sim.Conn, tcp.Events) {
		return func(c *sim.Conn, ev tcp.Events) {
			if ev&(tcp.EventReadable|tcp.EventPeerClosed) != 0 {
				*got = append(*got, c.ReadAll()...)
			}
			if ev&(tcp.EventEstablished|tcp.EventWritable) != 0 && (len(*left) > 0 || c.State() == tcp.Established || c.State() == tcp.CloseWait) {
				pump(c, left)
			}
		}
	}
	client.OnEvent(handle("client", &gotDown, &upLeft))
	server.OnEvent(handle("server", &gotUp, &downLeft))
	n.At(0, func() { client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	if err := n.Run(time.Hour); err != nil {
		t.Fatal(err)
	}
	return gotUp, gotDown
}

func TestHandshakeDataClose(t *testing.T) {
	n, client, server := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond}, &tcp.Config{MSL: time.Second})
	up, down := transfer(t, n, client, server, []byte("GET / HTTP/1.0\r\n\r\n"), []byte("HTTP/1.0 200 OK\r\n\r\nhello"))
	if string(up) != "GET / HTTP/1.0\r\n\r\n" || string(down) != "HTTP/1.0 200 OK\r\n\r\nhello" {
		t.Fatalf("up %q down %q", up, down)
	}
	if len(client.Conns())+len(server.Conns()) != 0 {
		t.Fatalf("connections left behind: %d %d", len(client.Conns()), len(server.Conns()))
	}
	for _, e := range n.Events() {
		t.Logf("%8v %-6s %v %v %v->%v %v", e.At, e.Host, e.Kind, e.Segment, e.From, e.To, e.Text)
	}
}

// Random loss, duplication, reordering and corruption lose no byte.
func TestLossyTransferIntact(t *testing.T) {
	link := sim.LinkConfig{Delay: 5 * time.Millisecond, Jitter: time.Millisecond, Bandwidth: 100e6,
		Loss: 0.02, Duplicate: 0.01, Reorder: 0.01, Corrupt: 0.01}
	for seed := int64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 0))
			up := make([]byte, 1<<20)
			down := make([]byte, 100<<10)
			for i := range up {
				up[i] = byte(r.Uint32())
			}
			for i := range down {
				down[i] = byte(r.Uint32())
			}
			n, client, server := pair(seed, link, &tcp.Config{MSL: time.Second})
			gotUp, gotDown := transfer(t, n, client, server, up, down)
			if sha256.Sum256(gotUp) != sha256.Sum256(up) || sha256.Sum256(gotDown) != sha256.Sum256(down) {
				t.Fatalf("data damaged: up %d/%d bytes, down %d/%d", len(gotUp), len(up), len(gotDown), len(down))
			}
			if len(client.Conns())+len(server.Conns()) != 0 {
				t.Fatal("connections left behind")
			}
			if client.Stats().ChecksumErrors+server.Stats().ChecksumErrors == 0 && seed == 1 {
				t.Log("no corruption drawn for this seed")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	link := sim.LinkConfig{Delay: 5 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.05, Reorder: 0.05}
	run := func(seed int64) []trace.Event {
		n, client, server := pair(seed, link, &tcp.Config{MSL: time.Second})
		transfer(t, n, client, server, bytes.Repeat([]byte("x"), 50000), nil)
		return n.Events()
	}
	a, b, c := run(7), run(7), run(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different runs")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same run")
	}
}

func TestFaultDropsSelectedSegment(t *testing.T) {
	n, client, server := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond}, &tcp.Config{MSL: time.Second})
	f, err := sim.ParseFault("drop", "client:ack@TIME_WAIT")
	if err != nil {
		t.Fatal(err)
	}
	n.AddFault(f)
	transfer(t, n, client, server, []byte("x"), nil)
	var dropped, serverFINs int
	for _, e := range n.Events() {
		if e.Kind == trace.SegmentDropped {
			dropped++
		}
		if e.Kind == trace.SegmentSent && e.Host == "server" && e.Segment.Flags&0x01 != 0 {
			serverFINs++
		}
	}
	if dropped != 1 || serverFINs != 2 {
		t.Fatalf("dropped %d segments, server sent %d FINs; want 1 and 2", dropped, serverFINs)
	}
}

func TestLinkDelayAndBandwidth(t *testing.T) {
	// 1 Mbit/s: a 44-byte SYN (20 IPv4 + 24 TCP) takes 352 µs to
	// serialize, then 10 ms to propagate.
	n, client, _ := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond, Bandwidth: 1e6}, tcp.PlainConfig())
	n.At(0, func() { client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	n.Run(15 * time.Millisecond)
	for _, e := range n.Events() {
		if e.Kind == trace.SegmentDelivered {
			if want := 10*time.Millisecond + 352*time.Microsecond; e.At != want {
				t.Fatalf("SYN delivered at %v, want %v", e.At, want)
			}
			return
		}
	}
	t.Fatal("SYN not delivered")
}

func TestRunTimeLimit(t *testing.T) {
	n, client, _ := pair(1, sim.LinkConfig{Delay: time.Millisecond}, nil)
	n.At(0, func() { client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	// The client ends in TIME_WAIT? No: it stays ESTABLISHED, idle, with
	// no timer; a connect to nowhere keeps retrying its SYN instead.
	client2 := n.AddHost("lonely", netip.MustParseAddr("10.0.0.9"), nil)
	n.Link(client2, client, sim.LinkConfig{Loss: 1})
	n.At(0, func() { client2.Dial(0, netip.AddrPortFrom(clientAddr, 1)) })
	if err := n.Run(2 * time.Second); !errors.Is(err, sim.ErrTimeLimit) {
		t.Fatalf("err = %v, want ErrTimeLimit", err)
	}
	if n.Elapsed() != 2*time.Second {
		t.Fatalf("clock at %v", n.Elapsed())
	}
}

func TestCrashAndReboot(t *testing.T) {
	n, client, server := pair(1, sim.LinkConfig{Delay: time.Millisecond}, &tcp.Config{Retries: 3})
	var conn *sim.Conn
	n.At(0, func() { conn, _ = client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	n.At(time.Second, func() { server.Crash() })
	n.At(2*time.Second, func() { conn.Write([]byte("anyone there?")) })
	if err := n.Run(time.Hour); err != nil {
		t.Fatal(err)
	}
	// The write, its tail loss probe (RACK-TLP, RFC 8985 §7), then the
	// 3 retransmissions Retries allows.
	if !errors.Is(conn.Err(), tcp.ErrTimedOut) || server.Stats().DroppedWhileDown != 5 {
		t.Fatalf("err %v, dropped %d; want timeout after 1+1+3 tries", conn.Err(), server.Stats().DroppedWhileDown)
	}
	// After a reboot the server answers with a RST.
	n.At(n.Elapsed(), func() { server.Reboot(); conn, _ = client.Dial(0, netip.AddrPortFrom(serverAddr, 80)) })
	n.Run(n.Elapsed() + time.Minute)
	if !errors.Is(conn.Err(), tcp.ErrConnectionRefused) || server.Stats().ResetsForNoConnection != 1 {
		t.Fatalf("after reboot: err %v, resets %d", conn.Err(), server.Stats().ResetsForNoConnection)
	}
}

func BenchmarkTimeWait(b *testing.B) {
	for b.Loop() {
		n, client, server := pair(1, sim.LinkConfig{Delay: 10 * time.Millisecond}, nil)
		server.OnEvent(func(c *sim.Conn, ev tcp.Events) {
			if ev&tcp.EventPeerClosed != 0 {
				c.Close()
			}
		})
		n.At(0, func() {
			c, _ := client.Dial(0, netip.AddrPortFrom(serverAddr, 80))
			n.After(time.Second, func() { c.Close() })
		})
		if err := n.Run(time.Hour); err != nil || n.Elapsed() < time.Minute {
			b.Fatalf("%v at %v", err, n.Elapsed())
		}
	}
}
