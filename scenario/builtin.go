package scenario

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// app gives a host the behaviour most scenarios want: read whatever
// arrives, and close when the peer has closed (after onPeerClosed, if
// set, had its say — the half-close scenario sends its reply there).
func app(h *sim.Host, closeOnEOF bool, onPeerClosed func(c *sim.Conn)) {
	h.OnEvent(func(c *sim.Conn, ev tcp.Events) {
		if ev&(tcp.EventReadable|tcp.EventPeerClosed) != 0 {
			c.ReadAll()
		}
		if ev&tcp.EventPeerClosed != 0 {
			if onPeerClosed != nil {
				onPeerClosed(c)
			}
			if closeOnEOF && c.State() == tcp.CloseWait {
				c.Close()
			}
		}
	})
}

// onEstablished runs fn once the client's connection is established.
func onEstablished(w *world, fn func(c *sim.Conn)) {
	w.client.OnEvent(func(c *sim.Conn, ev tcp.Events) {
		if ev&(tcp.EventReadable|tcp.EventPeerClosed) != 0 {
			c.ReadAll()
		}
		if ev&tcp.EventEstablished != 0 {
			fn(c)
		}
		if ev&tcp.EventPeerClosed != 0 && c.State() == tcp.CloseWait {
			c.Close()
		}
	})
}

// standard is the usual set-up: the server listens and closes when the
// client has; the client connects at once.
func standard(w *world) {
	w.server.Listen(ServerPort)
	app(w.server, true, nil)
	app(w.client, true, nil)
	w.net.At(0, func() { w.dial(clientPort) })
}

// clientClosesAt is standard with the client closing at t.
func clientClosesAt(t time.Duration) func(w *world) {
	return func(w *world) {
		standard(w)
		w.net.At(t, w.withConn(func(c *sim.Conn) { c.Close() }))
	}
}

// serverClosesAt is standard with the server closing at t.
func serverClosesAt(t time.Duration) func(w *world) {
	return func(w *world) {
		standard(w)
		w.net.At(t, func() {
			for _, c := range w.server.Conns() {
				c.Close()
			}
		})
	}
}

var scenarios = []Scenario{
	{
		Name:    "handshake",
		Summary: "the three-way handshake: SYN, SYN+ACK, ACK; both sides reach ESTABLISHED",
		setup:   standard,
	},
	{
		Name:    "client-closes-first",
		Summary: "the four-segment close started by the client, which then waits 2×MSL in TIME_WAIT",
		setup:   clientClosesAt(100 * time.Millisecond),
	},
	{
		Name:    "server-closes-first",
		Summary: "the four-segment close started by the server, which then holds TIME_WAIT",
		setup:   serverClosesAt(100 * time.Millisecond),
	},
	{
		Name:    "half-close",
		Summary: "the client sends a request and half-closes with shutdown(SHUT_WR); the server, in CLOSE_WAIT, keeps sending its reply and the client reads it",
		setup: func(w *world) {
			w.server.Listen(ServerPort)
			app(w.server, false, func(c *sim.Conn) {
				// The request is complete: reply in three pieces, then close.
				reply := bytes.Repeat([]byte("r"), 1000)
				c.Write(reply)
				w.net.After(50*time.Millisecond, func() { c.Write(reply) })
				w.net.After(100*time.Millisecond, func() { c.Write(reply); c.Close() })
			})
			onEstablished(w, func(c *sim.Conn) {
				// shutdown(SHUT_WR), CloseWrite() in Go: the request is
				// complete, and the client still reads the reply.
				c.Write(bytes.Repeat([]byte("q"), 100))
				c.CloseWrite()
			})
			w.net.At(0, func() { w.dial(clientPort) })
		},
	},
	{
		Name:    "lost-syn",
		Summary: "the client's SYN is lost; its retransmission timer fires and the SYN is sent again",
		faults:  [][2]string{{"drop", "client:syn"}},
		setup:   clientClosesAt(2 * time.Second),
	},
	{
		Name:    "lost-syn-ack",
		Summary: "the SYN+ACK is lost; the server's timer and the client's retransmitted SYN each bring a new SYN+ACK",
		faults:  [][2]string{{"drop", "server:syn-ack"}},
		setup:   clientClosesAt(2 * time.Second),
	},
	{
		Name:    "lost-third-ack",
		Summary: "the handshake's last ACK is lost; the client's first data carries the same ACK and the server establishes",
		faults:  [][2]string{{"drop", "client:ack@ESTABLISHED"}},
		setup: func(w *world) {
			w.server.Listen(ServerPort)
			app(w.server, true, nil)
			onEstablished(w, func(c *sim.Conn) { c.Write([]byte("hello")) })
			w.net.At(0, func() { w.dial(clientPort) })
			w.net.At(500*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Close() }))
		},
	},
	{
		Name:    "lost-third-ack-no-data",
		Summary: "the handshake's last ACK is lost and the client has nothing to send: the server retransmits its SYN+ACK",
		faults:  [][2]string{{"drop", "client:ack@ESTABLISHED"}},
		setup:   clientClosesAt(3 * time.Second),
	},
	{
		Name:    "lost-fin",
		Summary: "the client's FIN is lost; it is retransmitted when the timer fires",
		faults:  [][2]string{{"drop", "client:fin"}},
		setup:   clientClosesAt(100 * time.Millisecond),
	},
	{
		Name:    "lost-final-ack",
		Summary: "the last ACK is lost: the server resends its FIN, and the client, in TIME_WAIT, ACKs it again and restarts 2×MSL",
		faults:  [][2]string{{"drop", "client:ack@TIME_WAIT"}},
		setup:   clientClosesAt(100 * time.Millisecond),
	},
	{
		Name:    "simultaneous-open",
		Summary: "both sides send a SYN at the same moment; each answers the other's with SYN+ACK from SYN_RCVD",
		setup: func(w *world) {
			app(w.server, true, nil)
			app(w.client, true, nil)
			w.net.At(0, func() {
				w.dial(clientPort)
				w.server.Dial(ServerPort, netip.AddrPortFrom(ClientAddr, clientPort))
			})
			w.net.At(time.Second, w.withConn(func(c *sim.Conn) { c.Close() }))
		},
	},
	{
		Name:    "simultaneous-close",
		Summary: "both sides send a FIN at the same moment and pass through CLOSING to TIME_WAIT",
		setup: func(w *world) {
			standard(w)
			w.net.At(100*time.Millisecond, w.withConn(func(c *sim.Conn) {
				c.Close()
				for _, s := range w.server.Conns() {
					s.Close()
				}
			}))
		},
	},
	{
		Name:    "refused",
		Summary: "a SYN to a port nobody listens on is answered by RST: connection refused",
		setup: func(w *world) {
			w.net.At(0, func() { w.dial(clientPort) })
		},
	},
	{
		Name:    "abort",
		Summary: "the client aborts mid-connection: one RST, and both sides are CLOSED at once, without TIME_WAIT",
		setup: func(w *world) {
			standard(w)
			w.net.At(100*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Write([]byte("some data")) }))
			w.net.At(200*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Abort() }))
		},
	},
	{
		Name:     "old-duplicate-syn",
		Summary:  "an old SYN from a previous connection arrives first; the client's RST sends the server back to LISTEN (RFC 9293 §3.5)",
		Absolute: true,
		faults:   [][2]string{{"delay", "client:syn#1=30ms"}},
		setup: func(w *world) {
			standard(w)
			w.net.At(0, w.withConn(func(c *sim.Conn) {
				// The real SYN (delayed in the network) was sent first;
				// the old duplicate overtakes it.
				stale := c.TCP().ISS() - 100000
				w.net.Inject(w.client, w.server, clientPort, ServerPort, tcp.Segment{Seq: stale, Flags: wire.FlagSYN, Window: 65535})
			}))
			w.net.At(500*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Close() }))
		},
	},
	{
		Name:     "time-wait-reuse",
		Summary:  "the server closes first and holds TIME_WAIT; a new SYN from the same client port, with a higher sequence number, reuses the pair",
		Absolute: true,
		setup: func(w *world) {
			serverClosesAt(100 * time.Millisecond)(w)
			w.net.At(time.Second, func() { w.dial(clientPort) })
			w.net.At(1500*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Close() }))
		},
	},
	{
		Name:    "last-ack-peer-vanished",
		Summary: "the client vanishes after its FIN; the server in LAST_ACK retransmits its FIN until it gives up",
		config:  func(c *tcp.Config) { c.Retries = 4 },
		setup: func(w *world) {
			w.server.Listen(ServerPort)
			app(w.server, false, func(c *sim.Conn) {
				w.net.After(100*time.Millisecond, func() { c.Close() })
			})
			app(w.client, false, nil)
			w.net.At(0, func() { w.dial(clientPort) })
			w.net.At(100*time.Millisecond, w.withConn(func(c *sim.Conn) { c.Close() }))
			w.net.At(150*time.Millisecond, func() { w.client.Crash() })
		},
	},
	{
		Name:    "half-open",
		Summary: "the client crashes and reboots, forgetting the connection; the server's next data is answered by RST",
		setup: func(w *world) {
			standard(w)
			w.net.At(100*time.Millisecond, func() { w.client.Crash() })
			w.net.At(time.Second, func() { w.client.Reboot() })
			w.net.At(2*time.Second, func() {
				for _, c := range w.server.Conns() {
					c.Write([]byte("are you there?"))
				}
			})
		},
	},
	{
		Name:    "syn-timeout",
		Summary: "every SYN is lost; the client backs off 1, 2, 4, ... seconds and gives up with a timeout",
		faults:  [][2]string{{"drop", "client:syn#*"}},
		setup:   standard,
	},
}
