package stack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// A transparent proxy's stack: it owns only 192.0.2.2, yet takes the
// client's connections to any address, and its handler sees where each
// was going. Port 443 is accepted and echoed; anything else refused.
func ExampleStack_SetTCPForwarder() {
	a, b := pipe.New(1500)
	client, proxy := stack.New(stack.Options{}), stack.New(stack.Options{})
	defer client.Close()
	defer proxy.Close()
	nic, _ := client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	client.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: nic}) // everything goes to the proxy
	proxy.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))

	proxy.SetTCPForwarder(stack.TCPForwarder{Handler: func(r *stack.TCPForwardRequest) {
		if r.LocalAddr().Port() != 443 {
			r.Refuse() // a RST: the client's dial fails with ECONNREFUSED
			return
		}
		conn, err := r.Accept(context.Background())
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "you reached %v", conn.LocalAddr()) // the original destination
	}})

	conn, _ := client.Dial("tcp", "198.51.100.7:443")
	reply, _ := io.ReadAll(conn)
	fmt.Println(string(reply))
	conn.Close()

	_, err := client.Dial("tcp", "198.51.100.7:25")
	fmt.Println(errors.Is(err, syscall.ECONNREFUSED))
	// Output:
	// you reached 198.51.100.7:443
	// true
}
