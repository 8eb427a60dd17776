package stack

import (
	"cmp"
	"time"

	"github.com/seqack/seqack/tcp"
)

// timeWaitEntry is a connection in TIME_WAIT as the stack keeps it: the
// engine's compact record and a place in the timer heap, a few hundred
// bytes instead of a whole connection (RFC 9293 §3.4.2: the pair stays
// reserved for 2×MSL so that a lost final ACK can be answered).
type timeWaitEntry struct {
	s     *Stack
	t     tuple
	rec   tcp.TimeWaitRecord
	timer *timerEntry // guarded by s.timers.mu
}

// enterTimeWait replaces c in the connection table by a TIME_WAIT record.
func (s *Stack) enterTimeWait(c *Conn, rec tcp.TimeWaitRecord) {
	t := tuple{c.local, c.remote}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[t.key()] != c || s.closed {
		return
	}
	delete(s.conns, t.key())
	c.leftTable()
	if len(s.timeWaits) >= cmp.Or(s.opts.MaxTimeWait, 262144) {
		s.stats.TimeWaitOverflows.Add(1)
		return
	}
	e := &timeWaitEntry{s: s, t: t, rec: rec}
	s.timeWaits[t.key()] = e
	s.timers.set(&e.timer, e, rec.Expires)
}

// input handles a segment for the pair. On TimeWaitReuse the record
// stays until reopen: only a listener that takes the SYN ends it. s.mu
// is held.
func (e *timeWaitEntry) input(seg *tcp.Segment, now time.Time) (tcp.TimeWaitAction, tcp.Segment) {
	before := e.rec.Expires
	action, reply := e.rec.Input(seg, now)
	if !e.rec.Expires.Equal(before) {
		e.s.timers.set(&e.timer, e, e.rec.Expires)
	}
	return action, reply
}

// reopen removes the record: a SYN reopened the pair. s.mu is held.
func (e *timeWaitEntry) reopen() {
	delete(e.s.timeWaits, e.t.key())
	e.s.timers.set(&e.timer, e, time.Time{})
}

// handleTimer ends TIME_WAIT: the pair is free again.
func (e *timeWaitEntry) handleTimer(now time.Time) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if e.s.timeWaits[e.t.key()] == e {
		delete(e.s.timeWaits, e.t.key())
	}
}
