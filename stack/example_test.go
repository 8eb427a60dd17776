package stack_test

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// Two stacks joined in memory: one listens, the other dials, and the
// connection is an ordinary net.Conn.
func ExampleStack_Dial() {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	defer client.Close()
	defer server.Close()
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))

	ln, _ := server.Listen("tcp", ":80")
	go func() {
		c, _ := ln.Accept()
		c.Write([]byte("hello from seqack\n"))
		c.Close()
	}()

	conn, err := client.Dial("tcp", "192.0.2.2:80")
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := io.ReadAll(conn)
	fmt.Print(string(msg))
	conn.Close()
	// Output: hello from seqack
}
