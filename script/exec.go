package script

import (
	"fmt"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

// epoch is virtual time zero: the script's time 0.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// firstISS is the initial sequence number of the first connection the
// target opens; scripts never see it (our numbers are relative).
const firstISS tcp.Seq = 1_000_000_000

// maxTimers bounds the timer expiries of one run, so that an engine
// whose deadline does not move cannot hang the runner.
const maxTimers = 1_000_000

// maxWait bounds how long "*" waits for a packet, in virtual time.
const maxWait = 10 * time.Minute

// executor runs one script against the seqack engine in virtual time.
type executor struct {
	s   *Script
	set Settings
	cfg *tcp.Config
	now time.Time
	// congestion names cfg's congestion control, for getsockopt.
	congestion string

	sockets map[int]*socket // by the descriptor the script uses
	eps     []*endpoint     // every connection with a pulse, for timers
	cur     *endpoint       // the connection the script's packets belong to
	nextISS tcp.Seq

	// nums translates between the script's relative numbers and the
	// engine's; its Local is set when we open.
	nums Numbers

	out     []sent // segments sent and not yet matched by ">" lines
	pending *pendingCall
	pollErr error // what the last poll's revents got wrong, for retryPending
	err     error // the first failure

	trace []string // what happened, for Result.Trace
	fired int      // timer expiries so far, bounded by maxTimers
	// cause is the line of the event being run, whose segments the
	// engine sends now are in answer to; 0 while timers run.
	cause int

	last        time.Time // when the previous event happened
	lastInbound bool      // the previous event was an injected packet ...
	lastInAt    time.Time // ... scripted at this time
}

// sent is one segment the engine emitted.
type sent struct {
	at  time.Time
	seg tcp.Segment
	// text is seg in the script's numbers as they were when it was
	// sent; cause the line it answered (see executor.cause).
	text  string
	cause int
}

// endpoint is one tcp.Conn and where it belongs.
type endpoint struct {
	conn     *tcp.Conn
	listener *socket // spawned by this listener, until accepted
	queued   bool    // in the listener's accept queue
}

func newExecutor(s *Script) (*executor, error) {
	set, err := s.Settings()
	if err != nil {
		return nil, err
	}
	return &executor{
		s: s, set: set, cfg: linuxConfig(set.MTU), now: epoch, congestion: "cubic",
		sockets: make(map[int]*socket), nextISS: firstISS, last: epoch,
	}, nil
}

// fail records err if it is the first failure.
func (x *executor) fail(err *Error) {
	if x.err == nil {
		x.err = err
	}
}

// failf records the first failure, at line.
func (x *executor) failf(line int, format string, args ...any) {
	if x.err == nil {
		x.err = &Error{x.s.Path, line, fmt.Errorf(format, args...)}
	}
}

func (x *executor) run() error {
	for i := range x.s.Events {
		ev := &x.s.Events[i]
		x.event(ev)
		if x.err != nil {
			return x.err
		}
	}
	if p := x.pending; p != nil {
		x.waitPending()
		if x.err == nil && x.pending != nil {
			x.failf(p.line, "%w in %s: still blocked at end of script", ErrMismatch, p.call.Name)
		}
	}
	return x.err
}

// tolerance is how far from its scripted time an event may happen:
// the larger of --tolerance_usecs and --tolerance_percent of the gap
// since the previous event.
func (x *executor) tolerance(at time.Time) time.Duration {
	gap := at.Sub(x.last)
	if gap < 0 {
		gap = 0
	}
	return max(x.set.Tolerance, time.Duration(float64(gap)*x.set.TolerancePercent/100))
}

// when resolves an event's scripted times to virtual instants: start,
// and end for ranges and blocking calls (end == start otherwise).
func (x *executor) when(ev *Event) (start, end time.Time) {
	base := epoch
	if ev.Time.Kind == Relative {
		// Relative to now, except that consecutive injected packets are
		// anchored to each other's scripted times (as packetdrill does,
		// so that processing does not accumulate drift).
		base = x.now
		if x.lastInbound && ev.Packet != nil && ev.Packet.Inbound {
			base = x.lastInAt
		}
	}
	start = base.Add(ev.Time.Start)
	end = start
	if ev.Time.Range || ev.Time.Blocking {
		end = base.Add(ev.Time.End)
	}
	return start, end
}

func (x *executor) event(ev *Event) {
	// A relative time counts from the previous event, not from when a
	// call still blocked returns (packetdrill's adjust_relative_event_times
	// takes the time the event is reached; the Linux target the same).
	start, end := x.when(ev)
	x.cause = ev.Line
	if ev.Call != nil && x.pending != nil {
		// Calls are serialized: a call waits for the blocked one.
		x.waitPending()
		if x.err != nil {
			return
		}
	}
	if ev.Time.Kind == AnyTime {
		x.expect(ev, time.Time{}, time.Time{}, true)
		x.lastInbound = false
		return
	}
	switch {
	case ev.Packet != nil && ev.Packet.Inbound:
		x.advance(start)
		x.inject(ev)
		x.lastInbound, x.lastInAt = true, start
	case ev.Packet != nil:
		x.expect(ev, start, end, false)
		x.lastInbound = false
	case ev.Shell != nil:
		x.advance(start)
		x.shell(ev)
		x.lastInbound = false
	case ev.Python != nil:
		x.advance(start)
		x.python(ev)
		x.lastInbound = false
	default:
		x.advance(start)
		x.call(ev, end)
		x.lastInbound = false
	}
	x.last = x.now
}

// shell applies a backtick line's sysctls to the configuration of the
// connections opened from now on, as a sysctl changes a kernel's.
func (x *executor) shell(ev *Event) {
	cfg := *x.cfg // connections already open keep theirs
	for _, sc := range ev.Shell.Sysctls {
		if err := sc.Apply(&cfg); err != nil {
			x.failf(ev.Line, "%w: %w", ErrUnsupported, err)
			return
		}
	}
	x.cfg = &cfg
	for _, sc := range ev.Shell.Sysctls {
		if sc.Name == congestionSysctl {
			x.congestion = sc.Value
		}
	}
	x.log("`%s`", ev.Shell.Text)
}

// advance runs the timers due up to to and sets the clock to it (or
// leaves it, if it is already later).
func (x *executor) advance(to time.Time) {
	x.fireUntil(to, func() bool { return false })
}

// fireUntil runs timers in deadline order until stop reports true or
// the next deadline is past limit; it then moves the clock to limit if
// stop is still false. A blocked call that should have returned by then
// fails.
func (x *executor) fireUntil(limit time.Time, stop func() bool) bool {
	for x.err == nil {
		if stop() {
			return true
		}
		if p := x.pending; p != nil && p.deadline.Before(limit) {
			limit2 := p.deadline
			ok := x.fireTimers(limit2, stop)
			if ok || x.err != nil {
				return ok
			}
			if x.pending == p {
				x.failf(p.line, "%w in %s: expected it to return at %s sec, still blocked at %s sec",
					ErrMismatch, p.call.Name, seconds(p.end), seconds(x.now))
				return false
			}
			continue
		}
		return x.fireTimers(limit, stop)
	}
	return false
}

// fireTimers is fireUntil without the blocked-call bound.
func (x *executor) fireTimers(limit time.Time, stop func() bool) bool {
	for x.err == nil {
		if stop() {
			return true
		}
		var next *endpoint
		var at time.Time
		for _, ep := range x.eps {
			if d := ep.conn.Deadline(); !d.IsZero() && (next == nil || d.Before(at)) {
				next, at = ep, d
			}
		}
		if p := x.pending; p != nil && !p.wake.IsZero() && !p.wake.After(limit) && (next == nil || p.wake.Before(at)) {
			// A blocked call's own timeout comes first.
			x.now = maxTime(x.now, p.wake)
			p.wake = time.Time{}
			x.retryPending()
			continue
		}
		if next == nil || at.After(limit) {
			break
		}
		if at.After(x.now) {
			x.now = at
		}
		if x.fired++; x.fired > maxTimers {
			x.failf(0, "%w: more than %d timer expiries: the engine's timers do not settle", ErrMismatch, maxTimers)
			return false
		}
		cause := x.cause
		x.cause = 0 // what a timer sends answers no line
		next.conn.HandleTimer(x.now)
		x.flush(next)
		x.cause = cause
	}
	if x.now.Before(limit) {
		x.now = limit
	}
	return x.err == nil && stop()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// flush collects what a connection sent and what happened to it, and
// lets a blocked call see it.
func (x *executor) flush(ep *endpoint) {
	for _, seg := range ep.conn.Outgoing() {
		seg.Payload = make([]byte, len(seg.Payload)) // the engine reuses its buffer
		x.nums.Sent(&seg)
		x.out = append(x.out, x.sent(seg, x.now))
	}
	ev := ep.conn.Events()
	if ev&tcp.EventEstablished != 0 && ep.listener != nil && !ep.queued {
		ep.queued = true
		ep.listener.backlog = append(ep.listener.backlog, ep)
	}
	x.retryPending()
}

// inject hands an injected packet to its connection, translating the
// script's relative numbers into the engine's absolute ones.
func (x *executor) inject(ev *Event) {
	seg := x.nums.Inject(ev.Packet.Seg)
	syn := seg.Flags.Has(wire.FlagSYN)
	x.log("< %s", ev.Packet.Text)
	ep := x.cur
	if ep == nil || ep.conn.State() == tcp.Closed {
		ep = nil
		if syn && !seg.Flags.Has(wire.FlagACK) {
			if l := x.listener(); l != nil {
				ep = x.open(l)
				ep.conn.Listen()
			}
		}
	}
	if ep == nil {
		// No connection: answer as a closed port does (RFC 9293
		// §3.10.7.1), or as a listener does, which resets only an ACK
		// (§3.10.7.2).
		if x.listener() != nil && !seg.Flags.Has(wire.FlagACK) {
			return
		}
		if rst, ok := tcp.ResetFor(&seg); ok {
			x.out = append(x.out, x.sent(rst, x.now)) // -v shows it as any other
		}
		return
	}
	ep.conn.Input(&seg, x.now)
	if ep.listener != nil && ep.conn.State() == tcp.Listen {
		// A spawned connection reset back to LISTEN is dropped; the
		// listening socket goes on listening.
		ep.conn.Outgoing()
		x.drop(ep)
		return
	}
	x.flush(ep)
}

// listener returns the listening socket, if any.
func (x *executor) listener() *socket {
	for _, s := range x.sockets {
		if s.listening {
			return s
		}
	}
	return nil
}

// open makes a connection, with the socket options set on l (a
// listening socket's options are inherited by what it accepts).
func (x *executor) open(l *socket) *endpoint {
	cfg := x.cfg
	if l.maxSeg != 0 {
		// TCP_MAXSEG: the MSS offered and the largest sent (Linux's
		// user_mss), inherited by what a listener accepts.
		c := *cfg
		c.MSS = min(c.MSS, uint16(l.maxSeg))
		cfg = &c
	}
	c := tcp.NewConn(cfg, x.nextISS)
	if l.congestion != "" {
		// TCP_CONGESTION, inherited too: setsockopt took only a name
		// the engine has, so this cannot fail.
		_ = c.SetCongestionControl(l.congestion, x.now)
	}
	x.nums.Local = x.nextISS
	x.nextISS += 100_000_000
	ep := &endpoint{conn: c}
	if l.listening {
		ep.listener = l
	}
	l.apply(c, x.now)
	x.eps = append(x.eps, ep)
	x.cur = ep
	return ep
}

func (x *executor) drop(ep *endpoint) {
	for i, e := range x.eps {
		if e == ep {
			x.eps = append(x.eps[:i], x.eps[i+1:]...)
			break
		}
	}
	if x.cur == ep {
		x.cur = nil
	}
}

// expect matches the next segment sent against a ">" line.
func (x *executor) expect(ev *Event, start, end time.Time, any bool) {
	limit := end.Add(2 * time.Second) // the scripted gap plus 2 s
	if any {
		limit = x.now.Add(maxWait)
	}
	if !x.fireUntil(limit, func() bool { return len(x.out) > 0 }) {
		if x.err == nil {
			x.failf(ev.Line, "%w handling packet: timed out waiting for outbound packet: expected: %s", ErrMismatch, ev.Packet.Text)
		}
		return
	}
	got := x.out[0]
	x.out = x.out[1:]
	if !x.set.Strict {
		x.coalesce(&got, len(ev.Packet.Seg.Payload))
	}
	if got.at.After(x.now) {
		x.now = got.at
	}
	field := x.nums.Compare(ev.Packet, &got.seg)
	if field != "" && Unexpected(ev.Packet, &got.seg) {
		// Another segment than the line's: its time is no matter.
		x.fail(PacketError(x.s.Path, ev.Line, ev.Packet, field, &got.seg, got.text, got.cause))
		return
	}
	if !any {
		tol := x.tolerance(start)
		switch {
		case got.at.Before(start.Add(-tol)):
			x.failf(ev.Line, "%w handling packet: timing error: expected outbound packet at %s sec but happened at %s sec; tolerance %s sec: %s",
				ErrMismatch, seconds(start), seconds(got.at), secs(tol), got.text)
			return
		case got.at.After(end.Add(tol)):
			x.failf(ev.Line, "%w handling packet: timing error: expected outbound packet at %s sec but happened at %s sec; tolerance %s sec: %s",
				ErrMismatch, seconds(end), seconds(got.at), secs(tol), got.text)
			return
		}
	}
	if field != "" {
		x.fail(PacketError(x.s.Path, ev.Line, ev.Packet, field, &got.seg, got.text, got.cause))
		return
	}
	x.nums.Matched(ev.Packet, &got.seg)
}

// coalesce merges into got the segments sent right after it that
// continue it (Continues), while it is shorter than want bytes.
func (x *executor) coalesce(got *sent, want int) {
	for len(got.seg.Payload) < want && len(x.out) > 0 {
		next := x.out[0].seg
		if !Continues(&got.seg, &next, want) {
			return
		}
		got.seg.Payload = make([]byte, len(got.seg.Payload)+len(next.Payload))
		got.seg.Flags |= next.Flags
		got.seg.Window = next.Window
		got.at = x.out[0].at
		got.text = x.nums.Format(got.seg)
		x.out = x.out[1:]
	}
}

// sent records a segment the engine sent at, in the trace too.
func (x *executor) sent(seg tcp.Segment, at time.Time) sent {
	s := sent{at: at, seg: seg, text: x.nums.Format(seg), cause: x.cause}
	x.log("> %s", s.text)
	return s
}

// log records a line of the trace at the current time.
func (x *executor) log(format string, args ...any) {
	x.trace = append(x.trace, seconds(x.now)+" "+fmt.Sprintf(format, args...))
}

// seconds prints a virtual instant as seconds since the start.
func seconds(t time.Time) string { return secs(t.Sub(epoch)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }
