// Package stack is a host built on seqack's TCP engine: interfaces with
// IPv4 and IPv6 addresses, a routing table, ICMP echo, demultiplexing of
// TCP segments to connections and listeners, and the Go API — Dial and
// Listen returning net.Conn and net.Listener — so that net/http,
// crypto/tls and io.Copy run over seqack unchanged.
//
//	a, b := pipe.New(65535)
//	server := stack.New(stack.Options{})
//	server.AddInterface(b, netip.MustParsePrefix("192.0.2.2/24"))
//	client := stack.New(stack.Options{})
//	client.AddInterface(a, netip.MustParsePrefix("192.0.2.1/24"))
//	ln, _ := server.Listen("tcp", ":80")
//	conn, _ := client.Dial("tcp", "192.0.2.2:80")
//
// Concurrency: inbound packets are processed on the goroutine that the
// link delivers them from; an application's Read and Write run the engine
// on their own goroutines; each connection has its own mutex; all
// connections share one timer goroutine per stack. An idle connection is
// a struct and nothing else.
package stack
