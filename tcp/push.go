package tcp

// pushMarks remembers where the application's writes end in the send
// queue, so that a segment carrying the last byte of a write carries
// PSH: RFC 9293 §3.9.1 gives SEND a PUSH flag, which the sockets API sets
// on every write, and Linux marks the last segment of each write
// (tcp_push), keeping the mark when that segment is sent again. A
// segment reaching the end of the queue, the engine's only rule before,
// lost PSH on the retransmission of a write that others had followed.
//
// The end of the newest write is the end of the queue, and needs no
// mark. A write appended while the end of the one before is still
// unsent joins it, as Linux appends a write to the unsent tail of its
// queue; an end already sent is marked, if one of the two marks is
// free. The two oldest are kept, for a retransmission starts at
// SND.UNA; a later end is not, and its segment, if sent again, goes
// without PSH. Two marks and no count keep the Conn in its allocation
// class (size_test.go): a mark at or below the acknowledged end of the
// queue is free, and acked moves free marks along with it, so that an
// old one never looks new again once sequence numbers wrap.
type pushMarks struct {
	ends [2]Seq // oldest first; free ones sit at or below the acknowledged end
}

// wrote notes a write appended to the queue, which ended at prev before
// it: prev, if it holds data, ends the write before. sent is SND.MAX
// and una the acknowledged end of the queue.
func (p *pushMarks) wrote(prev, una, sent Seq) {
	if !prev.GreaterThan(una) || prev.GreaterThan(sent) { // no write before, or it is unsent: the new one joins it
		return
	}
	for i := range p.ends {
		if !p.ends[i].GreaterThan(una) {
			p.ends[i] = prev
			return
		}
	}
}

// acked frees the marks at or below una, the new acknowledged end of the
// queue, and keeps the others first.
func (p *pushMarks) acked(una Seq) {
	if !p.ends[0].GreaterThan(una) {
		p.ends[0], p.ends[1] = p.ends[1], una
	}
	if !p.ends[0].GreaterThan(una) {
		p.ends[0] = una
	}
	if !p.ends[1].GreaterThan(una) {
		p.ends[1] = una
	}
}

// covers reports whether the segment [start, end) carries the last byte
// of a write marked, given una, the acknowledged end of the queue.
func (p *pushMarks) covers(start, end, una Seq) bool {
	for _, m := range p.ends {
		if m.GreaterThan(una) && start.LessThan(m) && m.LessThanEq(end) {
			return true
		}
	}
	return false
}

// reset frees every mark, for a queue that starts at una.
func (p *pushMarks) reset(una Seq) { p.ends = [2]Seq{una, una} }
