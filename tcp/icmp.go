package tcp

import "time"

// ICMPError reports an ICMP error (destination unreachable, time
// exceeded, ...) that quotes a segment of this connection with sequence
// number seq (RFC 5927). It is believed only if seq is one we sent and is
// not yet acknowledged (RFC 5927 §4.1), and reports whether it was.
//
// A hard error (port or protocol unreachable) ends a connection still in
// SYN_SENT with err, as Linux does (RFC 1122 §4.2.3.9 allows it); in the
// synchronized states every error is soft (RFC 5461): it is remembered
// and becomes the connection's error only if retransmissions then give up.
func (c *Conn) ICMPError(err error, hard bool, seq Seq, now time.Time) bool {
	if !c.quotesOutstanding(seq) {
		return false
	}
	if hard && c.state == SynSent {
		c.enterClosed(err, EventReset)
		return true
	}
	c.softErr = err
	return true
}

// PacketTooBig reports an ICMP "packet too big" (RFC 8201) or
// "fragmentation needed" (RFC 1191) quoting our segment seq: the path
// carries at most mss bytes of payload. The effective MSS only ever
// shrinks this way; outstanding data is sent again in segments that fit,
// at once, as Linux does. It reports whether the message was believed.
func (c *Conn) PacketTooBig(mss uint16, seq Seq, now time.Time) bool {
	c.tick(now)
	if !c.quotesOutstanding(seq) || mss == 0 {
		return false
	}
	if int(mss) >= c.effectiveMSS() {
		c.probeTooBig(mss, seq)
		return true
	}
	c.pathMSS = mss
	c.endSearch(now) // RFC 8201 §4: no larger size for a while
	if c.state.Synchronized() && c.sndUna != c.sndMax {
		c.sndNxt = c.sndUna
		c.rtt.cancel()
		c.output(now)
	}
	return true
}

// quotesOutstanding reports whether seq lies in [SND.UNA, SND.MAX): a
// segment we sent whose acknowledgment has not arrived.
func (c *Conn) quotesOutstanding(seq Seq) bool {
	return c.state != Closed && c.state != Listen && seq.GreaterThanEq(c.sndUna) && seq.LessThan(c.sndMax)
}
