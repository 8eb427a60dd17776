// Package stack is a host built on seqack's TCP engine: interfaces with
// IPv4 and IPv6 addresses, a routing table, ICMP, demultiplexing of TCP
// segments to connections and listeners, and the Go API — Dial and
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
// Every stack has a loopback interface, as a host does: 127.0.0.0/8, ::1
// and the stack's own addresses are reached through it, so a server and
// a client on one stack talk to each other. Packets from or to loopback
// addresses arriving from a link are dropped (RFC 1122 §3.2.1.3).
//
// # Connections
//
// A Conn has the methods of *net.TCPConn that make sense here (half-close,
// linger, keepalive, buffer sizes), the congestion control by name as
// Linux's TCP_CONGESTION (SetCongestionControl), and reports its TCP
// state and counters with Info, as `ss -tni` would. Errors are *net.OpError values wrapping
// the errnos package net's users test for with errors.Is.
//
// A connection that reaches TIME_WAIT leaves the connection table and is
// replaced by a compact record (tcp.TimeWaitRecord) that answers a
// retransmitted FIN and expires after 2×MSL; a new SYN beyond the old
// sequence space (RFC 6191) reopens the pair if a listener takes it,
// and is otherwise answered as TIME_WAIT answers. The record is the code
// the engine itself runs in TIME_WAIT, so the pair answers exactly as the
// connection would have, other segments included (at most one ACK per
// 500 ms for them).
//
// ICMP errors quoting a segment of a connection are checked against its
// outstanding sequence numbers and then handled as RFC 5927 says: hard
// errors fail a connection still in SYN_SENT, soft errors become its error
// if retransmission gives up, and packet-too-big shrinks its MSS.
//
// # UDP
//
// ListenPacket and DialUDP (and Dial on "udp") give a *UDPConn, a
// net.PacketConn and net.Conn with the methods of *net.UDPConn that carry
// addresses (RFC 768; RFC 8085's advice for the API). A datagram goes to
// the socket connected to its sender, else to one bound to its address,
// else to a wildcard one; "udp" with no host takes both families. Nobody:
// an ICMP port unreachable, under the stack's ICMP rate limit, which in
// turn makes a connected socket's next Read fail with ECONNREFUSED.
// Receive queues are bounded in bytes; a datagram larger than the MTU
// leaves in IP fragments. UDP input runs on the
// link's goroutine like TCP's, under a table lock of its own (udp.go
// holds the table, binding and input; udpconn.go the socket). The UDP
// table's lock and each socket's are taken after a connection's, never
// with each other or the stack's.
//
// # Ping and names
//
// DialPing and ListenPing (and Dial on "ping4", "ping6") give a
// *PingConn, an ICMP echo socket as Linux's ping sockets and
// wireguard-go's netstack.PingConn: it writes whole echo requests, into
// which the stack puts the socket's identifier and the checksum, and
// reads the whole echo replies that carry that identifier back (ping.go;
// icmp.go hands them over). Its table and each socket have locks of
// their own, taken with no other.
//
// Resolver is Go's resolver (PreferGo) with its DNS queries over the
// stack, UDP and TCP for truncated answers (resolver.go). With
// Options.DNSServers set, Dial takes host names and tries their
// addresses in turn.
//
// # Forwarding
//
// SetTCPForwarder and SetUDPForwarder make a stack transparent, as a
// tun2socks-style proxy needs (forward.go): TCP connections and UDP flows
// to addresses the stack does not own, routed to it, go to a handler that
// sees the original destination and accepts (a Conn or UDPConn whose
// LocalAddr is that destination, replies leaving from it), refuses (RST,
// ICMP port unreachable) or drops them. SYNs waiting for a decision are
// bounded and deduplicated, past the bound SYN cookies answer; a waiting
// request is under s.mu in a table of its own, so that a retransmitted
// SYN and the handler's Accept never both make a connection.
//
// # Fragments
//
// Fragments addressed to the stack or to a flow it forwards, IPv4
// (RFC 791) or IPv6 (RFC 8200 §4.5), are put together before protocol
// dispatch (reassembly.go), and
// the whole packet goes through input as if it had arrived so. An
// overlap abandons the datagram (RFC 5722, for IPv4 too); memory is
// bounded by Options.Reassembly, and an unfinished datagram times out.
// The reassembler is sans-IO, under a lock of its own, under which no
// other is taken but the timer heap's, which runs its timeouts. What
// the stack sends past a link's MTU (UDP datagrams, echo requests and
// replies) it cuts into fragments (output.go's writeIP); TCP keeps
// within the MTU.
//
// # Observing
//
// Stats holds netstat-style counters; Connections lists every socket;
// Options.Logger receives debug records; Options.Trace receives the same
// events the simulator records, so trace.Recorder and trace/render
// draw real connections as sequence diagrams.
//
// # Concurrency
//
// Inbound packets are processed on the goroutine that the link delivers
// them from, a burst at a time when the link implements
// link.BatchAttacher: a run of segments for one connection goes into its
// engine under one lock, and what the engine answers leaves as one batch
// when the run ends. A packet whose payload goes to a connection's
// receive queue stays there as it is (tcp.Segment.Buffer) until Read
// copies it out and recycles it. An application's Read and Write run
// the engine on their own goroutines; each connection has its own
// mutex; all connections and
// TIME_WAIT records share one timer goroutine per stack. An idle
// connection is a struct and nothing else: its buffers come from a pool
// when data arrives and go back when it drains. Lock order: a
// connection's mutex, then the stack's, then the timers'.
package stack
