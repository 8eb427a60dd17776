package stack_test

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// BBR for every connection of a stack, through its TCP configuration;
// one connection switched back to CUBIC by name, as
// setsockopt(TCP_CONGESTION) switches a socket on Linux. A connection
// reports the name of its congestion control as getsockopt does.
func ExampleConn_SetCongestionControl() {
	a, b := pipe.New(1500)
	client := stack.New(stack.Options{TCP: &tcp.Config{CongestionControl: tcp.NewBBR}})
	server := stack.New(stack.Options{})
	defer client.Close()
	defer server.Close()
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))

	ln, _ := server.Listen("tcp", ":80")
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
		c.Close()
	}()

	c, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		fmt.Println(err)
		return
	}
	conn := c.(*stack.Conn)
	fmt.Println("dialled with", conn.CongestionControl())
	if err := conn.SetCongestionControl("cubic"); err != nil {
		fmt.Println(err)
	}
	fmt.Println("now", conn.CongestionControl())
	fmt.Println(conn.SetCongestionControl("vegas") != nil, "for a name no controller has;", tcp.CongestionControlNames())
	conn.Close()
	// Output:
	// dialled with bbr
	// now cubic
	// true for a name no controller has; [bbr cubic reno]
}
