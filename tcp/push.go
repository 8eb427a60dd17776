package tcp

// pushMarks remembers where the application's writes end in the send
// queue, so that a segment carrying the last byte of a write carries
// PSH: RFC 9293 §3.9.1 gives SEND a PUSH flag, which the sockets API sets
// on every write, and Linux marks the last segment of each write
// (tcp_push), keeping the mark when that segment is sent again. A
// segment reaching only the end of the queue, the engine's rule before,
// lost PSH on the retransmission of a write that others had followed.
//
// A write appended while the end of the one before is still unsent takes
// that one's mark, as Linux appends a write to the unsent tail of its
// queue: so the marks kept are ends already sent, at most one per
// segment in flight, and the newest. Only the last pushMarkCap are kept,
// in the Conn itself, so that writes allocate nothing: an older one is
// forgotten, and its segment, if sent again, goes without PSH.
type pushMarks struct {
	ends    [pushMarkCap]Seq // oldest first, from head, circularly
	head, n uint8
}

// pushMarkCap is how many write ends pushMarks keeps.
const pushMarkCap = 8

// at returns the i-th mark, oldest first.
func (p *pushMarks) at(i int) Seq { return p.ends[(int(p.head)+i)%pushMarkCap] }

// wrote marks end, where a write just queued ends; sent is SND.MAX, the
// end of what has been sent so far.
func (p *pushMarks) wrote(end, sent Seq) {
	if p.n > 0 {
		last := (int(p.head) + int(p.n) - 1) % pushMarkCap
		if p.ends[last].GreaterThan(sent) { // still unsent: the new write joins it
			p.ends[last] = end
			return
		}
	}
	if p.n == pushMarkCap {
		p.head = (p.head + 1) % pushMarkCap // the oldest is forgotten
		p.n--
	}
	p.ends[(int(p.head)+int(p.n))%pushMarkCap] = end
	p.n++
}

// acked forgets the marks at or below una, which is acknowledged.
func (p *pushMarks) acked(una Seq) {
	for p.n > 0 && p.at(0).LessThanEq(una) {
		p.head = (p.head + 1) % pushMarkCap
		p.n--
	}
}

// covers reports whether the segment [start, end) carries the last byte
// of a write.
func (p *pushMarks) covers(start, end Seq) bool {
	for i := int(p.n) - 1; i >= 0; i-- { // newest first: new data is the common case
		if m := p.at(i); start.LessThan(m) && m.LessThanEq(end) {
			return true
		}
	}
	return false
}

// reset forgets every mark, with the send queue.
func (p *pushMarks) reset() { *p = pushMarks{} }
