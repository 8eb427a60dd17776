package stack_test

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// A UDP echo between two stacks: the server's socket takes both
// families, the client's is connected, and a datagram to a port nobody
// holds comes back as ECONNREFUSED.
func ExampleStack_ListenPacket() {
	a, b := pipe.New(1500)
	client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
	defer client.Close()
	defer server.Close()
	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64"))
	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::2/64"))

	pc, _ := server.ListenPacket("udp", ":7") // IPv4 and IPv6
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()

	for _, addr := range []string{"192.0.2.2:7", "[2001:db8::2]:7"} {
		conn, _ := client.Dial("udp", addr)
		conn.SetReadDeadline(time.Now().Add(time.Second))
		conn.Write([]byte("hello"))
		buf := make([]byte, 100)
		n, _ := conn.Read(buf)
		fmt.Printf("%s from %v\n", buf[:n], conn.RemoteAddr())
		conn.Close()
	}

	conn, _ := client.Dial("udp", "192.0.2.2:8")
	conn.Write([]byte("anyone?"))
	conn.SetReadDeadline(time.Now().Add(time.Second))
	_, err := conn.Read(make([]byte, 100))
	fmt.Println(errors.Is(err, syscall.ECONNREFUSED))
	// Output:
	// hello from 192.0.2.2:7
	// hello from [2001:db8::2]:7
	// true
}
