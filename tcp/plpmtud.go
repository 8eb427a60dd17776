package tcp

import "time"

// Packetization-layer path MTU discovery, the upward half (RFC 4821 §7,
// RFC 8899): once the path MSS has been lowered — by the black-hole
// fallback (detectBlackHole) or by an ICMP packet-too-big — the
// connection tests larger sizes with probes, data segments larger than
// the current MSS, and takes a size when a probe of it is acknowledged.
// It runs unless Config.NoBlackHoleDetection is set, the switch that also
// keeps the MSS from being lowered in the first place: a connection that
// may fall back can climb back; one that never falls back has nothing to
// search.
//
// The search lies between the current path MSS, known to work, and the
// ceiling, our MSS and the peer's (RFC 4821 §7.2's search_low and
// search_high). Its first probe is at the ceiling: three timeouts of a
// full segment cannot tell a path that was dead for a moment from one
// with a smaller MTU, and if the path carries full segments again one
// probe gets them back. After that it bisects, as Linux's
// tcp_mtu_probing does (RFC 4821 §7.3 leaves the strategy open): a
// binary search needs no table of link MTUs, finds any size within
// about seven probes of 1024..1460, and stops when the range left is
// narrower than probeThreshold. A list of common sizes would take fewer
// probes on the paths it names and settle below the MTU on the others.
//
// A probe is sent only where its loss tells something (RFC 4821 §7.4,
// and Linux's tcp_mtu_probe): in ESTABLISHED, outside loss recovery and
// timeouts, one at a time, as new data with enough queued behind it for
// dupThresh full segments more, all within the peer's window, and the
// congestion window large enough for them all. Its loss is then found by
// duplicate ACKs or SACK: the size fails, the search's ceiling drops
// below it, and the probe's data is sent again in segments of the
// current size, with no cut of the congestion window (RFC 4821 §7.6.2: a
// lost probe is no sign of congestion). A retransmission timeout covering the probe fails it too,
// but stays a timeout (§7.6.3). An ACK beyond the probe's first byte
// proves the probe crossed the path, since that byte was sent in it
// alone: the path MSS becomes the probe's size (§7.6.1).
//
// When the search has converged, or a packet-too-big has set the MSS,
// the size holds for probeInterval and the search then starts over
// from the ceiling, should the path have changed. That moment is
// checked when there is new data to send, not kept as a deadline: a
// probe needs data, so an idle connection is not woken for it (RFC 8899
// §5.1.1 allows holding probes back while no data is sent).

// probeInterval is how long a converged search, or an MSS set by an ICMP
// packet-too-big, stands before a new search (RFC 8899 §5.1.1's
// PMTU_RAISE_TIMER, 600 s as RFC 4821 recommends; RFC 8201 §4 asks for
// at least 5 minutes after a packet-too-big and suggests 10).
const probeInterval = 10 * time.Minute

// probeThreshold is the narrowest search range still worth a probe, in
// bytes (Linux's tcp_probe_threshold).
const probeThreshold = 8

// pmtuSearch is a connection's path MTU search: 16 bytes.
type pmtuSearch struct {
	again timer  // when a finished search starts over (checked on sending, not a deadline)
	seq   Seq    // the first sequence number of the probe in flight
	high  uint16 // the largest MSS not known to fail; 0: no search running
	size  uint16 // the MSS the probe in flight tests; 0: no probe in flight
}

// startSearch begins a search from the current path MSS up to the
// ceiling.
func (c *Conn) startSearch() {
	if !c.cfg.blackHoleDetection() {
		return
	}
	c.pmtu.high, c.pmtu.size = uint16(c.mssCeiling()), 0
	c.pmtu.again.stop()
}

// endSearch stops the search; the path MSS stands for probeInterval if
// it is below the ceiling.
func (c *Conn) endSearch(now time.Time) {
	c.pmtu.high, c.pmtu.size = 0, 0
	c.pmtu.again.stop()
	if c.cfg.blackHoleDetection() && c.effectiveMSS() < c.mssCeiling() {
		c.pmtu.again.set(c.at(now.Add(probeInterval)))
	}
}

// probe makes seg, the next segment of new data, a probe if a search is
// running, the range left is worth one and the conditions above hold. It
// reports false when seg should rather wait: the congestion window can
// hold the probe and the segments behind it, but has no room for the
// probe yet, and ACKs of the data in flight will make it (as Linux
// waits for its window to drain).
func (c *Conn) probe(seg *Segment, now time.Time) bool {
	if c.pmtu.again.due(c.at(now)) {
		c.startSearch()
	}
	if c.pmtu.high == 0 || c.pmtu.size != 0 || c.cc == nil {
		return true
	}
	low, high := c.effectiveMSS(), int(c.pmtu.high)
	if high-low < probeThreshold {
		c.endSearch(now)
		return true
	}
	size := high // the ceiling first, then halves
	if high < c.mssCeiling() {
		size = (low + high + 1) / 2
	}
	mss := c.payloadMSS()
	n := size - (low - mss) // the same options as any segment, on top of a larger payload
	need := n + dupThresh*mss
	unsent := c.queued() - int(seg.Seq.Sub(c.sendSeq))
	peerRoom := int(int32(c.sndUna.Add(c.sndWnd).Sub(seg.Seq)))
	if c.state != Established || c.inRecovery || c.dupAcks != 0 || c.retries != 0 ||
		seg.Seq != c.sndMax || unsent < need || peerRoom < need || c.cc.Window() < need {
		return true
	}
	if c.inFlight()+n > c.cc.Window() {
		return false
	}
	p, ok := c.dataSegment(seg.Seq, n)
	if !ok || len(p.Payload) != n {
		return true
	}
	*seg = p
	c.pmtu.seq, c.pmtu.size = seg.Seq, uint16(size)
	c.count(pmtuProbes)
	return true
}

// probeAcked takes the probe's size as the path MSS once an ACK covers
// its first byte (RFC 4821 §7.6.1).
func (c *Conn) probeAcked(ack Seq, now time.Time) {
	if c.pmtu.size == 0 || !ack.GreaterThan(c.pmtu.seq) {
		return
	}
	c.pathMSS = c.pmtu.size
	c.pmtu.size = 0
	c.count(pmtuProbesSucceeded)
	c.searchConverged(now)
}

// probeLost reports whether the loss that duplicate ACKs or SACK just
// found is the probe's, at SND.UNA, and if so fails its size
// (RFC 4821 §7.6.2): the caller then recovers without a congestion
// response.
func (c *Conn) probeLost(now time.Time) bool {
	if c.pmtu.size == 0 || c.pmtu.seq != c.sndUna {
		return false
	}
	c.probeFailed(now)
	return true
}

// probeResent fails the probe when seg, a retransmission, covers its
// first byte: an ACK can no longer tell which copy arrived.
func (c *Conn) probeResent(seg *Segment, now time.Time) {
	if c.pmtu.size != 0 && seg.Seq.LessThanEq(c.pmtu.seq) && c.pmtu.seq.LessThan(seg.End()) {
		c.probeFailed(now)
	}
}

// probeFailed lowers the search's ceiling below the probe's size.
func (c *Conn) probeFailed(now time.Time) {
	c.pmtu.high = min(c.pmtu.high, c.pmtu.size-1)
	c.pmtu.size = 0
	c.searchConverged(now)
}

// searchConverged ends a search whose range has become too narrow to
// probe.
func (c *Conn) searchConverged(now time.Time) {
	if c.pmtu.high != 0 && int(c.pmtu.high)-c.effectiveMSS() < probeThreshold {
		c.endSearch(now)
	}
}

// probeTooBig takes an ICMP packet-too-big for the probe in flight that
// reports a size between the path MSS and the probe's: that size is the
// most the search may try next (RFC 8899 §4.6.2). The probe itself will
// be found lost.
func (c *Conn) probeTooBig(mss uint16, seq Seq) {
	if c.pmtu.size != 0 && seq == c.pmtu.seq && mss < c.pmtu.size {
		c.pmtu.high = min(c.pmtu.high, mss)
	}
}
