package tcp

// seqRange is the sequence numbers [start, end).
type seqRange struct{ start, end Seq }

func (r seqRange) len() int { return int(r.end.Sub(r.start)) }

// scoreboard holds what the peer has selectively acknowledged above
// SND.UNA (RFC 6675 §3): sorted, disjoint, non-touching ranges within
// [SND.UNA, SND.MAX). It is nil until the first SACK block arrives.
type scoreboard struct {
	ranges []seqRange
}

// add records a SACKed range, merging it with those it touches.
func (s *scoreboard) add(r seqRange) {
	if !r.start.LessThan(r.end) {
		return
	}
	out := s.ranges[:0:0]
	placed := false
	for _, x := range s.ranges {
		switch {
		case x.end.LessThan(r.start):
			out = append(out, x)
		case r.end.LessThan(x.start):
			if !placed {
				out = append(out, r)
				placed = true
			}
			out = append(out, x)
		default: // overlapping or touching
			if x.start.LessThan(r.start) {
				r.start = x.start
			}
			if x.end.GreaterThan(r.end) {
				r.end = x.end
			}
		}
	}
	if !placed {
		out = append(out, r)
	}
	s.ranges = out
}

// advance forgets what lies below una, the new SND.UNA.
func (s *scoreboard) advance(una Seq) {
	i := 0
	for i < len(s.ranges) && s.ranges[i].end.LessThanEq(una) {
		i++
	}
	s.ranges = s.ranges[i:]
	if len(s.ranges) > 0 && s.ranges[0].start.LessThan(una) {
		s.ranges[0].start = una
	}
	if len(s.ranges) == 0 {
		s.ranges = nil
	}
}

// bytes returns how many bytes are SACKed in [from, to).
func (s *scoreboard) bytes(from, to Seq) int {
	n := 0
	for _, r := range s.ranges {
		lo, hi := r.start, r.end
		if lo.LessThan(from) {
			lo = from
		}
		if hi.GreaterThan(to) {
			hi = to
		}
		if lo.LessThan(hi) {
			n += int(hi.Sub(lo))
		}
	}
	return n
}

// highest returns the end of the highest SACKed range, or una if none.
func (s *scoreboard) highest(una Seq) Seq {
	if len(s.ranges) == 0 {
		return una
	}
	return s.ranges[len(s.ranges)-1].end
}

// sackedEnd reports whether seq is SACKed, and where its range ends.
func (s *scoreboard) sackedEnd(seq Seq) (Seq, bool) {
	for _, r := range s.ranges {
		if seq.GreaterThanEq(r.start) && seq.LessThan(r.end) {
			return r.end, true
		}
	}
	return seq, false
}

// nextHole returns the first range of un-SACKed sequence numbers at or
// after from and below limit.
func (s *scoreboard) nextHole(from, limit Seq) (seqRange, bool) {
	for _, r := range s.ranges {
		if !from.LessThan(limit) {
			break
		}
		if from.LessThan(r.start) {
			return seqRange{from, minSeq(r.start, limit)}, true
		}
		if from.LessThan(r.end) {
			from = r.end
		}
	}
	if from.LessThan(limit) {
		return seqRange{from, limit}, true
	}
	return seqRange{}, false
}

func minSeq(a, b Seq) Seq {
	if a.LessThan(b) {
		return a
	}
	return b
}
