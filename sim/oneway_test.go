package sim_test

import (
	"net/netip"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/tcp"
)

// oneWay is a transfer of size bytes from a client host to port
// 80 of a server host at 10.0.0.2: the client writes as its buffer takes
// data and closes once all is taken, the server reads all and closes
// after the client's FIN.
type oneWay struct {
	size   int
	got    int           // bytes the server has read
	done   time.Duration // the network's time when the last byte was read; 0 before
	sender *sim.Conn     // the client's connection, once it has one
}

// startOneWay sets up the transfer on n's hosts; it starts when n runs.
func startOneWay(n *sim.Network, client, server *sim.Host, size int) *oneWay {
	b := &oneWay{size: size}
	server.Listen(80)
	data := make([]byte, 64<<10)
	left := size
	client.OnEvent(func(c *sim.Conn, ev tcp.Events) {
		b.sender = c
		for left > 0 {
			w, _ := c.Write(data[:min(len(data), left)])
			if w == 0 {
				break
			}
			left -= w
		}
		if left == 0 && c.State() == tcp.Established {
			c.Close()
		}
	})
	buf := make([]byte, 256<<10)
	server.OnEvent(func(c *sim.Conn, ev tcp.Events) {
		for {
			r, _ := c.Read(buf)
			if r == 0 {
				break
			}
			b.got += r
		}
		if b.got == size && b.done == 0 {
			b.done = n.Elapsed()
		}
		if ev&tcp.EventPeerClosed != 0 {
			c.Close()
		}
	})
	n.At(0, func() { client.Dial(0, netip.MustParseAddrPort("10.0.0.2:80")) })
	return b
}
