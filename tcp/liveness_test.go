package tcp

import (
	"testing"
	"time"
)

// silence checks liveness: from now on the peers of conns fall silent
// (nothing more is delivered to them) and their applications make no
// more calls. Driven by their timers alone, each connection must, within
// its LivenessBound, reach CLOSED or come to rest (nothing owed, no
// timer), and every step must keep its invariants. It returns the time
// when the last timer fired.
func silence(t *testing.T, now time.Time, conns ...*Conn) time.Time {
	t.Helper()
	start := now
	last := make([]time.Time, len(conns)) // when each one's timers last fired
	for i := 0; ; i++ {
		var next time.Time
		for _, c := range conns {
			c.Outgoing()
			if d := c.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() {
			break
		}
		if i > 100000 {
			t.Fatalf("timers still fire %v after the peers fell silent", now.Sub(start))
		}
		now = next
		for j, c := range conns {
			if d := c.Deadline(); !d.IsZero() && !d.After(now) {
				c.HandleTimer(now)
				last[j] = now
			}
			if err := c.checkInvariants(); err != nil {
				t.Fatalf("%v after the peers fell silent, in %v: %v", now.Sub(start), c.state, err)
			}
		}
	}
	for j, c := range conns {
		var ka *Keepalive
		if c.ka != nil {
			ka = &c.ka.Keepalive
		}
		bound := c.cfg.LivenessBound(ka)
		if !last[j].IsZero() && last[j].Sub(start) > bound {
			t.Fatalf("a connection's timers ran %v after its peer fell silent, past its bound of %v (now %v)", last[j].Sub(start), bound, c.state)
		}
		if !c.atRest() {
			t.Fatalf("a connection stopped in %v with no timer, owing its peer: %v (una %d nxt %d max %d fin %d closed %v queued %d)", c.state, c.owesPeer(), c.sndUna, c.sndNxt, c.sndMax, c.finSeq, c.closed, c.queued())
		}
	}
	return now
}

// atRest reports whether the connection may stay as it is with no timer
// running: CLOSED, LISTEN, or owing the peer nothing in a state that
// waits for its application or its peer (see LivenessBound).
func (c *Conn) atRest() bool {
	switch c.state {
	case Closed, Listen:
		return true
	case Established, CloseWait:
		return !c.owesPeer()
	case FinWait2:
		return !c.orphan
	}
	return false
}

// The bound with every default: the handshake's 127 s; 15 retries, the
// timeout before them, a tail loss probe and a paced segment's wait, at
// 120 s each; 60 s of FIN_WAIT_2 or TIME_WAIT; and keepalive's 2 h +
// 9 × 75 s. An orphan's retries count if there are more of them.
func TestLivenessBound(t *testing.T) {
	var cfg Config
	if got, want := cfg.LivenessBound(nil), (15+3)*120*time.Second; got != want {
		t.Errorf("default bound %v, want %v", got, want)
	}
	orphans := Config{Retries: 3, OrphanRetries: 20}
	if got, want := orphans.LivenessBound(nil), (20+3)*120*time.Second; got != want {
		t.Errorf("orphan-bound %v, want %v", got, want)
	}
	if got, want := cfg.LivenessBound(&Keepalive{}), 2*time.Hour+9*75*time.Second; got != want {
		t.Errorf("with keepalive %v, want %v", got, want)
	}
	small := Config{InitialRTO: time.Second, MaxRTO: 2 * time.Second, SynRetries: 10, Retries: 1, OrphanRetries: 1, FinWait2Timeout: time.Second, MSL: time.Second}
	if got, want := small.LivenessBound(nil), 1*time.Second+10*2*time.Second; got != want {
		t.Errorf("handshake-bound %v, want %v", got, want)
	}
}
