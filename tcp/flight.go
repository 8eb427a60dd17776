package tcp

import "time"

// The accessors here give what Linux's tcp_info reports of a
// connection's flight and receive side, from the engine's state, so that
// a packetdrill script asserting on tcpi_unacked, tcpi_lost and the rest
// reads the same on both stacks. Linux counts segments (its skbs'
// packets); the engine keeps bytes, and per-transmission records only
// when it runs RACK-TLP (rack.go). Counts from bytes are in full-sized
// segments, the last one partial, as Linux's read when every segment
// but the last carries a full MSS.

// Flight is a connection's outstanding segments, counted as Linux's
// tcp_info counts them.
type Flight struct {
	// Unacked is the segments sent and not cumulatively acknowledged,
	// SYN and FIN included (tcpi_unacked, packets_out).
	Unacked int
	// SACKed is the segments selectively acknowledged (RFC 2018); without
	// SACK, the duplicate ACKs, each standing for a segment that left
	// the network, as Linux emulates SACK for such a peer (tcpi_sacked).
	SACKed int
	// Lost is the segments deemed lost, whether sent again or not: by
	// RACK (RFC 8985 §6.2) or RFC 6675's IsLost in fast recovery, the
	// head without SACK (RFC 6582), and after a retransmission timeout
	// everything sent before it that is not SACKed (tcpi_lost).
	Lost int
	// Retransmitted is the segments sent again and neither acknowledged
	// nor deemed lost again (tcpi_retrans, retrans_out).
	Retransmitted int
}

// Flight returns the connection's outstanding segments.
func (c *Conn) Flight() Flight {
	var f Flight
	if c.sndUna == c.sndMax {
		return f
	}
	loss := !c.inRecovery && c.recovering() // after a timeout (RecoveryLoss)
	f.SACKed = c.sackedSegments()
	r := c.rack()
	if r == nil || r.records.len() == 0 {
		f.Unacked = c.segmentsIn(c.sndUna, c.sndMax)
		if !c.sackOK {
			f.SACKed = min(c.dupAcks, max(f.Unacked-1, 0))
		}
		switch {
		case loss:
			f.Lost = c.unSACKedSegments(c.sndUna, c.recoverSeq)
			f.Retransmitted = c.unSACKedSegments(c.sndUna, minSeq(c.sndNxt, c.recoverSeq))
		case c.inRecovery && !c.sackOK:
			f.Lost = 1
			if c.rtxNext.GreaterThan(c.sndUna) {
				f.Retransmitted = 1
			}
		case c.inRecovery:
			high := c.lostLimit()
			f.Lost = c.unSACKedSegments(c.sndUna, high)
			f.Retransmitted = c.unSACKedSegments(c.sndUna, minSeq(c.rtxNext, high))
		}
		return f
	}
	from := c.sndUna
	for _, rec := range r.outstanding() {
		n := c.segmentsIn(from, rec.end)
		f.Unacked += n
		switch {
		case rec.flags&sentDelivered != 0:
		case rec.flags&sentLost != 0:
			f.Lost += n
		case rec.flags&sentAgain != 0:
			f.Retransmitted += n
			if c.inRecovery {
				f.Lost += n // marked lost, then resent: Linux keeps it in lost_out
			}
		}
		from = rec.end
	}
	if loss {
		f.Lost = c.unSACKedSegments(c.sndUna, c.recoverSeq)
	}
	return f
}

// segmentMSS is the payload of a full-sized segment, Linux's mss_cache
// (tcpi_snd_mss): the effective MSS less the timestamps option.
func (c *Conn) segmentMSS() int {
	n := c.effectiveMSS()
	if c.tsOK {
		n -= 12
	}
	return max(n, 1)
}

// segmentsIn counts the segments [from, to) was sent in: its data in
// full-sized segments, the last partial, and a SYN or a FIN as a segment
// of its own if no data carries it.
func (c *Conn) segmentsIn(from, to Seq) int {
	if !from.LessThan(to) {
		return 0
	}
	n, mss := c.dataBytesIn(from, to), c.segmentMSS()
	return max((n+mss-1)/mss, 1)
}

// unSACKedSegments counts the full-sized segments in [from, to) that the
// peer has not SACKed.
func (c *Conn) unSACKedSegments(from, to Seq) int {
	if !from.LessThan(to) {
		return 0
	}
	n := int(to.Sub(from)) - c.sb.bytes(from, to)
	mss := c.segmentMSS()
	return (n + mss - 1) / mss
}

// sackedSegments counts the segments the peer has SACKed above SND.UNA.
func (c *Conn) sackedSegments() int {
	n, mss := 0, c.segmentMSS()
	for _, r := range c.sb.ranges {
		n += (r.len() + mss - 1) / mss
	}
	return n
}

// Backoff returns how many times the retransmission timeout has been
// doubled (RFC 6298 §5.5) by the retransmission or persist timer since
// the last RTT sample, or since a zero window opened: Linux's
// icsk_backoff, tcpi_backoff. A timeout behind a zero window, which
// sends a probe instead of data, does not count (Linux's
// tcp_retransmit_timer counts it neither here nor in tcpi_retransmits).
func (c *Conn) Backoff() int { return int(c.rtt.backoffs) }

// AckTimeout returns how long in-order data may wait for its ACK
// (Config.DelayedAck, RFC 1122 §4.2.3.2), 0 before any data has arrived
// or with delayed ACKs off: Linux's tcpi_ato, which it sets with the
// first data (TCP_ATO_MIN, 40 ms, the engine's default). Linux adapts it
// to the gaps between arrivals and doubles it when its delayed-ACK timer
// fires outside quick-ACK mode; the engine's stays as configured.
func (c *Conn) AckTimeout() time.Duration {
	if c.stats.bytesReceived == 0 {
		return 0
	}
	return max(c.cfg.delayedAck(), 0)
}

// Linux's bounds on its first estimate of the peer's MSS
// (tcp_initialize_rcv_mss): TCP_MSS_DEFAULT, the MSS to assume when the
// peer offers none (RFC 9293 §3.7.1), and TCP_MIN_MSS.
const (
	defaultRcvMSS = 536
	minRcvMSS     = 88
)

// ReceiveMSS returns the estimate of the peer's segment size, for the
// receive side's decisions (Linux's icsk_ack.rcv_mss, tcpi_rcv_mss): at
// first the least of our MSS, the send MSS, half the receive window and
// 536 (RFC 9293 §3.7.1's default), then the largest in-order payload
// received, at most our MSS. Left out: Linux also lowers it to a size
// two segments in a row without PSH carried.
func (c *Conn) ReceiveMSS() int {
	hint := min(c.AdvertisedMSS(), c.segmentMSS(), int(c.rcvRight.Sub(c.rcvNxt))/2, defaultRcvMSS)
	return max(hint, minRcvMSS, int(c.rcvMSS))
}

// noteReceivedMSS takes an in-order payload of n bytes into ReceiveMSS,
// as Linux's tcp_measure_rcv_mss does: one at least as long as the
// estimate becomes it, up to our MSS.
func (c *Conn) noteReceivedMSS(n int) {
	if n >= c.ReceiveMSS() {
		c.rcvMSS = uint16(min(n, c.AdvertisedMSS()))
	}
}

// Reordering returns the reordering degree loss detection assumes, in
// segments: DupThresh (RFC 5681 §3.2, RFC 6675 §2), Linux's
// tcp_reordering default and tcpi_reordering. Linux raises it when it
// sees reordering; the engine's stays (RACK adapts its window in time
// instead, RFC 8985 §6.2).
func (c *Conn) Reordering() int { return dupThresh }

// Delivered returns the segments the peer has received, acknowledged
// cumulatively or SACKed, counting the SYN (or SYN+ACK) once the
// handshake completes and data in full-sized segments: Linux's
// tp->delivered, tcpi_delivered.
func (c *Conn) Delivered() uint64 {
	if !c.sndUna.GreaterThan(c.iss) {
		return 0
	}
	unacked := uint64(c.dataBytesIn(c.sndUna, c.sndMax))
	acked := c.stats.bytesSent - min(unacked, c.stats.bytesSent)
	mss := uint64(c.segmentMSS())
	return 1 + (acked+mss-1)/mss + uint64(c.sackedSegments())
}

// dataBytesIn counts the data bytes in [from, to): without the SYN and
// the FIN.
func (c *Conn) dataBytesIn(from, to Seq) int {
	if !from.LessThan(to) {
		return 0
	}
	n := int(to.Sub(from))
	if from == c.iss {
		n--
	}
	if c.closed && from.LessThanEq(c.finSeq) && c.finSeq.LessThan(to) {
		n--
	}
	return n
}
