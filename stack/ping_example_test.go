package stack_test

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// A ping from one stack to another, written and read as with
// wireguard-go's netstack: the whole ICMP message, made and parsed by
// golang.org/x/net/icmp. The stack sets the identifier.
func ExampleStack_DialPing() {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	defer client.Close()
	defer server.Close()
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))

	conn, err := client.DialPing(netip.Addr{}, netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	request, _ := (&icmp.Message{
		Type: ipv4.ICMPTypeEcho,
		Body: &icmp.Echo{Seq: 1, Data: []byte("gopher burrow")},
	}).Marshal(nil)
	conn.SetReadDeadline(time.Now().Add(time.Second))
	conn.Write(request)

	buf := make([]byte, 1500)
	n, from, err := conn.ReadFrom(buf)
	if err != nil {
		panic(err)
	}
	reply, _ := icmp.ParseMessage(1, buf[:n]) // 1: ICMPv4
	echo := reply.Body.(*icmp.Echo)
	fmt.Println(reply.Type, "from", from, "seq", echo.Seq, string(echo.Data), echo.ID == int(conn.Ident()))
	// Output:
	// echo reply from 192.0.2.2 seq 1 gopher burrow true
}
