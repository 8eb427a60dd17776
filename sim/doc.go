// Package sim is a deterministic simulated network for TCP: a virtual
// clock, hosts that run tcp engines, and links with delay, jitter,
// bandwidth, loss, duplication, reordering and corruption, all drawn from
// one seed, so a run gives the same trace every time. Nothing sleeps: a
// 60-second TIME_WAIT costs microseconds of real time.
//
// A Network holds Hosts joined by Links. A Host is a minimal TCP host: it
// demultiplexes arriving packets by 4-tuple to its connections, spawns a
// connection for each SYN on a listening port, and answers anything else
// with a RST (tcp.ResetFor). Every packet really is built and parsed with
// package wire, so a corrupted packet is caught by its checksum, as on a
// real network. Applications act through Conn (Write, Read, Close, Abort)
// from functions scheduled with At and After or from OnEvent callbacks.
//
// A link with a Bandwidth has a transmitter and a FIFO queue in front
// of it; LinkConfig.QueueBytes makes that queue drop-tail at a size in
// bytes (0: unbounded), the bottleneck buffer of a congestion-control
// experiment. Network.LinkStats counts each direction's packets, queue
// drops, queueing delay and deepest queue; Network.SetLink changes a
// link mid-run (an RTT step, a bandwidth change, a burst of Loss 1).
//
// Scripted faults pick segments with a selector:
//
//	SELECTOR = [SIDE ":"] KIND ["@" STATE] ["#" COUNT]
//	SIDE     = a host name (client, server); omitted: any host
//	KIND     = any | syn | syn-ack | ack | data | fin | rst
//	STATE    = the sender's state just after sending (TIME_WAIT, ...)
//	COUNT    = N | N-M | N+ | *        (default 1)
//
// KIND syn is a SYN without ACK, syn-ack a SYN+ACK, ack a bare ACK (no
// SYN, FIN, RST or payload), data a segment with payload, fin and rst a
// segment with that flag. COUNT counts, from 1, the segments that match
// SIDE, KIND and STATE in the order they are sent. So "server:fin" is the
// server's first FIN, "client:any#3" the client's third segment,
// "syn-ack#1-2" the first two SYN+ACKs, "client:ack@TIME_WAIT" the final
// ACK of the four-segment close and "client:ack@ESTABLISHED" the third
// segment of the handshake. ParseFault adds an action: drop, delay (the
// text is SELECTOR=DURATION), dup or corrupt.
//
// Everything that happens is recorded as trace events (Network.Events).
package sim
