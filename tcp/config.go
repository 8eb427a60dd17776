package tcp

import "time"

// Config holds the tunables of a connection. One Config may be shared by
// many Conns; it must not change while they use it.
//
// The zero Config is a modern connection, the one package stack runs and
// the one Linux runs by default: SACK with RACK-TLP loss detection,
// timestamps, window scaling with receive buffer auto-tuning, CUBIC,
// black-hole detection, and Nagle's algorithm off as package net sets
// it. Every zero field takes the default documented on it, and every feature that is on by default is
// turned off by a field named for that (NoSACK, NoTimestamps, ...), so
// that a Config a program writes means what it says: setting one field
// changes that one thing. PlainConfig is RFC 9293's plain connection, for
// tests and teaching.
type Config struct {
	// MSS is the maximum segment size this side advertises and the largest
	// payload it sends before learning the peer's (RFC 9293 §3.7.1).
	// Default 1460 (Ethernet MTU less 40 bytes of IPv4 and TCP headers);
	// the stack's default is each route's MTU less the headers, and an
	// MSS set here caps it.
	MSS uint16
	// ReceiveBufferSize bounds the receive queue and so the window
	// advertised, at first. Default 256 KiB (DefaultReceiveBufferSize).
	// A buffer that can grow past 65535 bytes is advertised with the
	// window scale option (RFC 7323 §2), which the SYN then carries.
	ReceiveBufferSize int
	// MaxReceiveBufferSize is how far receive buffer auto-tuning may
	// grow the buffer: it starts at ReceiveBufferSize and grows, once per
	// round trip, to twice what the application read in the last one, so
	// that a fast reader on a long path gets the window its
	// bandwidth-delay product needs and a slow one does not (as Linux's
	// tcp_moderate_rcvbuf, up to tcp_rmem's maximum). Default 4 MiB
	// (DefaultMaxReceiveBufferSize); negative turns auto-tuning off, and
	// the buffer stays ReceiveBufferSize.
	MaxReceiveBufferSize int
	// SendBufferSize bounds the bytes queued by Write and not yet
	// acknowledged. Default 1 MiB (DefaultSendBufferSize).
	SendBufferSize int
	// SynRetries is how many times a SYN is retransmitted before Connect
	// fails with ErrTimedOut. Default 6, as Linux's tcp_syn_retries.
	SynRetries int
	// SynAckRetries is how many times a SYN+ACK is retransmitted before a
	// passive open gives up. Default 5, as Linux's tcp_synack_retries.
	SynAckRetries int
	// Retries is how many times data or a FIN is retransmitted before the
	// connection is abandoned with ErrTimedOut. Default 15, as Linux's
	// tcp_retries2.
	Retries int
	// MSL is the maximum segment lifetime; TIME_WAIT lasts 2×MSL
	// (RFC 9293 §3.4.2). Default 30 s, giving Linux's 60 s TIME_WAIT.
	MSL time.Duration
	// InitialRTO is the retransmission timeout before any RTT sample
	// (RFC 6298 §2.1). Default 1 s.
	InitialRTO time.Duration
	// MinRTO and MaxRTO bound the retransmission timeout (RFC 6298 §2.4,
	// §2.5). Defaults 200 ms (as Linux) and 120 s.
	MinRTO, MaxRTO time.Duration
	// Counters, if set, receives host-wide counts from every Conn using
	// this Config. The stack sets it to its Stats().TCP.
	Counters *Counters
	// DelayedAck is how long in-order data may wait for its ACK
	// (RFC 1122 §4.2.3.2: under 0.5 s); one ACK still goes for every
	// second full segment. Default 40 ms, Linux's minimum; negative ACKs
	// every segment at once.
	DelayedAck time.Duration
	// Nagle turns Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4) on for
	// every connection: a segment shorter than the MSS waits while earlier
	// data is unacknowledged. Off by default, as package net leaves it
	// (TCP_NODELAY set), because a Go program writes whole messages;
	// Conn.SetNoDelay changes one connection.
	Nagle bool
	// NoTimestamps turns the timestamps option (RFC 7323 §3) off: by
	// default it is offered in the SYN and the peer's offer accepted, for
	// RTT samples from every ACK, PAWS and the Eifel detection of
	// spurious timeouts; as Linux's tcp_timestamps=1.
	NoTimestamps bool
	// NoBlackHoleDetection turns off the fallback of packetization-layer
	// path MTU discovery (RFC 4821 §7.7), which is on by default: the MSS
	// falls to 1024 bytes (less on links that need it) when full-sized
	// segments keep timing out, for paths that drop large packets and
	// send no ICMP packet-too-big (an "ICMP black hole"); after such a
	// fallback, or an ICMP packet-too-big, it probes back up with larger
	// segments (RFC 4821 §7), and tries again every 10 minutes. As
	// Linux's tcp_mtu_probing=1 (Linux's default is 0, off).
	NoBlackHoleDetection bool
	// ChallengeACKs, if set, bounds the challenge ACKs all Conns using
	// this Config send per second (RFC 5961 §7). nil: no bound in the
	// engine; the stack gives all its connections one limiter.
	ChallengeACKs *ChallengeACKLimiter
	// FinWait2Timeout bounds how long a connection its application has
	// let go of (Orphan) waits in FIN_WAIT_2 for the peer's FIN: a peer
	// that never closes cannot hold it forever. Default 60 s, as Linux's
	// tcp_fin_timeout.
	FinWait2Timeout time.Duration
	// OrphanRetries replaces Retries once the application has let go of
	// a connection (see Conn.Orphan): its data or FIN is retransmitted
	// that many times, and it sends that many zero-window probes,
	// answered or not, before it gives up with ErrTimedOut. No one will
	// read what it still has to send, and a peer that has vanished or
	// keeps its window closed must not hold it and its send queue for as
	// long as a connection in use. Default 8, what Linux's
	// tcp_orphan_retries of 0 means. A connection its application still
	// holds probes as long as the peer answers (RFC 1122 §4.2.2.17) and
	// gives up after Retries unanswered probes, as Linux does with
	// tcp_retries2.
	OrphanRetries int
	// NoRestartAfterIdle keeps the congestion window across idle
	// periods, as Linux's tcp_slow_start_after_idle=0. By default a
	// connection that sent nothing for longer than an RTO starts again
	// from the initial window (RFC 5681 §4.1: its window no longer
	// reflects the path).
	NoRestartAfterIdle bool
	// NoSACK turns selective acknowledgments (RFC 2018) off: by default
	// they are offered in the SYN and the peer's offer accepted, as
	// Linux's tcp_sack=1.
	NoSACK bool
	// NoRACK turns RACK-TLP loss detection (RFC 8985) off. It is on by
	// default, as in Linux (tcp_recovery=1) and gVisor: a segment is
	// deemed lost when one sent after it has been delivered and a
	// reordering window beyond the RTT has passed, rather than after
	// three duplicate ACKs, so that lost retransmissions are found
	// without a timeout and a little reordering is not taken for loss;
	// and a tail loss probe goes about two RTTs after the last ACK, so
	// that the loss of a flight's last segments is found one RTO sooner.
	// It needs SACK on both sides: a connection that did not negotiate
	// SACK runs NewReno (RFC 6582), and one with NoRACK RFC 6675's
	// scoreboard and RFC 6298's timer alone.
	NoRACK bool
	// CongestionControl makes each connection's congestion control,
	// given its MSS; nil means NewCubic, as in Linux.
	CongestionControl func(mss int) CongestionControl
	// NoHyStart turns HyStart++ (RFC 9406) off in the initial slow
	// start of NewReno and CUBIC. It is on by default, as Linux's CUBIC
	// has its HyStart: once the least RTT of a round trip rises over the
	// last one's, a queue is building, and the window grows a quarter as
	// fast for up to five round trips before slow start ends, instead of
	// doubling until the bottleneck's queue overflows. It needs the
	// per-ACK RTT samples of RACK-TLP (NoRACK off, SACK on both sides).
	// Off, and after HyStart++ has run, slow start is RFC 5681's with
	// RFC 3465's limit of two segments per ACK; on, the limit is eight
	// segments, none when paced (RFC 9406 §4.3).
	NoHyStart bool
	// Pacing paces data at a rate derived from the congestion window and
	// SRTT, as Linux does with the fq qdisc (pacing.go). Off by default;
	// a congestion control that implements Pacer is paced at its own rate
	// whatever this says.
	Pacing bool
	// ReleaseBuffer takes back a packet buffer the engine kept instead
	// of copying its payload (see Segment.Buffer), once the application
	// has read the payload. nil leaves such buffers to the garbage
	// collector. The stack sets it to link.Recycle.
	ReleaseBuffer func(buf []byte)
	// SendBuffer, with ReleaseBuffer, lets segments leave without their
	// payload being copied: when segments are large (an MSS of 32 KiB or
	// more), the send queue keeps its bytes in buffers SendBuffer
	// returns, each holding FrameHeadroom bytes of room and then one
	// segment's payload, and offers them to the driver in Segment.Frame.
	// Each buffer goes back through ReleaseBuffer once acknowledged. nil:
	// the send queue is a ring the driver copies segments from. The
	// stack sets it to link.SharedBuffer.
	SendBuffer func() []byte
	// SegmentOffload is the most payload, in bytes, a segment of new
	// data may carry when the driver's link cuts segments into packets
	// on the way out (TCP segmentation offload, a TUN device's virtio-net
	// GSO): such a segment is as many whole MSS-sized payloads as the
	// congestion and peer's windows have room for, and each packet on
	// the wire still carries one (RFC 9293 §3.7.1). It applies while the
	// MSS in use is the one the Config gives (neither the peer nor the
	// path has lowered it): the link cuts at its MTU. Retransmissions
	// carry one MSS. 0: every segment carries at most one MSS. The stack
	// sets it from each interface's link.SegmentOffloader.
	SegmentOffload int
}
