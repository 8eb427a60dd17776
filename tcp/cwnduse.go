package tcp

// The congestion window grows only while it limits the sender. A
// connection whose application writes less than the window allows, or
// that the receive window holds back, learns nothing from its ACKs about
// whether the path could carry a larger window, and a window grown on
// them (CUBIC's reached 2.4 MB on a 2 Mbit/s application-limited flow in
// the simulator) is a burst waiting for the next large write. RFC 5681
// §3.1 asks for growth "when the congestion window is fully utilized";
// RFC 7661 makes the same point at length. The rule is Linux's
// (tcp_cwnd_validate and tcp_is_cwnd_limited), so that scripts written
// against Linux see the same windows: over each window of data, note
// whether the congestion window stopped a send and the most that was in
// flight; in slow start the window may grow while it is less than twice
// that most (a flight that reached half the window could double as slow
// start would), in congestion avoidance only if the window stopped a
// send.

// cwndUse is what the sender knows of its use of the congestion window
// over the current window of data.
type cwndUse struct {
	until   Seq  // the current window of data ends when SND.UNA reaches it
	most    int  // the most bytes in flight during it
	limited bool // the congestion window stopped a send during it
	blocked bool // the congestion window stopped the last send attempt
}

// noteCwndUse records, after a round of sending, whether the congestion
// window limited it.
func (c *Conn) noteCwndUse() {
	u := &c.cc.use
	flight := c.inFlight()
	limited := u.blocked || flight >= c.cc.Window()
	u.blocked = false
	if !c.sndUna.LessThan(u.until) || limited || !u.limited && flight > u.most {
		u.limited, u.most, u.until = limited, flight, c.sndNxt
	}
}

// cwndLimited reports whether the congestion window limited the sender
// lately, so that an ACK may grow it.
func (c *Conn) cwndLimited() bool {
	u := &c.cc.use
	if u.limited {
		return true
	}
	if cwnd := c.cc.Window(); cwnd < c.cc.SlowStartThreshold() {
		return cwnd < 2*u.most
	}
	return false
}
