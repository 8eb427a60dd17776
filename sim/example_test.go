package sim_test

import (
	"net/netip"
	"os"
	"time"

	"github.com/seqack/seqack/sim"
	"github.com/seqack/seqack/trace/render"
)

// Two hosts, a 10 ms link that loses 1% of the packets, a connection,
// and its diagram, as the README shows it.
func Example() {
	n := sim.New(sim.Config{Seed: 1})
	client := n.AddHost("client", netip.MustParseAddr("10.0.0.1"), nil)
	server := n.AddHost("server", netip.MustParseAddr("10.0.0.2"), nil)
	n.Link(client, server, sim.LinkConfig{Delay: 10 * time.Millisecond, Loss: 0.01})
	server.Listen(80)
	n.At(0, func() { client.Dial(0, netip.MustParseAddrPort("10.0.0.2:80")) })
	n.Run(time.Hour)
	render.Text(os.Stdout, n.Events(), render.TextOptions{Width: 110})
	// Output:
	// time (s)  client                                                                                 server
	//           CLOSED                                                                                 CLOSED
	//    0.000                                                                                         listen(80)
	//                                                                                                  LISTEN
	//           connect(10.0.0.2:80)
	//           SYN_SENT
	//                 ──── S 0:0(0) <mss 1460,sackOK,TS val 984262467 ecr 0,wscale 7> ──────────────────────▶
	//    0.010                                                                                         SYN_RCVD
	//                  ◀────── S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 2596115048 ecr 984262467,wscale 7> ────
	//    0.020  ESTABLISHED
	//                 ──── . 1:1(0) ack 1 <TS val 984262487 ecr 2596115048> ────────────────────────────────▶
	//    0.030                                                                                         ESTABLISHED
}
