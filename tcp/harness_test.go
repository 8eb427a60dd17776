package tcp_test

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The engine tests read like the figures of RFC 9293: our side has ISS
// 1000, the peer's ISN is 5000, MSS 1460, MSL 30 s, and every segment is
// written in packetdrill notation with absolute numbers.
const (
	ourISS  = 1000
	peerISN = 5000
)

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// plain returns cfg on RFC 9293's plain connection (tcp.PlainConfig),
// the one the tables are written for: its SYN carries the MSS option
// alone, its buffers are 65535 bytes unless cfg sets them, auto-tuning,
// SACK, RACK-TLP, timestamps and black-hole detection are off, and
// Nagle's algorithm is on. Each of with turns one of those back on
// (withSACK, withRACK, withTimestamps, withBlackHoleDetection,
// withoutNagle).
func plain(cfg tcp.Config, with ...func(*tcp.Config)) *tcp.Config {
	p := tcp.PlainConfig()
	cfg.ReceiveBufferSize = cmp.Or(cfg.ReceiveBufferSize, p.ReceiveBufferSize)
	cfg.SendBufferSize = cmp.Or(cfg.SendBufferSize, p.SendBufferSize)
	cfg.MaxReceiveBufferSize = cmp.Or(cfg.MaxReceiveBufferSize, p.MaxReceiveBufferSize)
	cfg.NoSACK, cfg.NoTimestamps, cfg.NoBlackHoleDetection = p.NoSACK, p.NoTimestamps, p.NoBlackHoleDetection
	cfg.NoRACK, cfg.NoHyStart = p.NoRACK, p.NoHyStart
	cfg.Nagle = p.Nagle
	for _, f := range with {
		f(&cfg)
	}
	return &cfg
}

// The features plain's with turns on.
func withSACK(c *tcp.Config)               { c.NoSACK = false }
func withRACK(c *tcp.Config)               { c.NoRACK = false }
func withHyStart(c *tcp.Config)            { c.NoHyStart = false }
func withTimestamps(c *tcp.Config)         { c.NoTimestamps = false }
func withBlackHoleDetection(c *tcp.Config) { c.NoBlackHoleDetection = false }
func withoutNagle(c *tcp.Config)           { c.Nagle = false }

// testConn is a Conn with a clock and a record of what it did.
type testConn struct {
	*tcp.Conn
	t      *testing.T
	now    time.Time
	states []tcp.State // every state entered, in order
	timers []tcp.Timer
}

func (c *testConn) StateChanged(_ *tcp.Conn, from, to tcp.State) { c.states = append(c.states, to) }
func (c *testConn) TimerFired(_ *tcp.Conn, t tcp.Timer)          { c.timers = append(c.timers, t) }

func newTestConn(t *testing.T, cfg *tcp.Config, iss tcp.Seq) *testConn {
	t.Helper()
	if cfg == nil {
		// The state tables ACK data at once and send what is written at
		// once; delayed ACKs and Nagle have tables of their own.
		cfg = plain(tcp.Config{DelayedAck: -1}, withoutNagle)
	}
	c := &testConn{Conn: tcp.NewConn(cfg, iss), t: t, now: epoch}
	c.SetObserver(c)
	return c
}

// in feeds the segment written in notation.
func (c *testConn) in(text string) {
	c.t.Helper()
	seg, err := tcp.ParseSegment(text)
	if err != nil {
		c.t.Fatal(err)
	}
	c.Input(&seg, c.now)
}

// out checks that exactly the segments given were sent since the last
// check. A "win N" in the expectation is compared; otherwise the window
// is ignored.
func (c *testConn) out(want ...string) {
	c.t.Helper()
	got := c.Outgoing()
	var gotText []string
	for i, seg := range got {
		s := seg.String()
		if i >= len(want) || !strings.Contains(want[i], " win ") {
			s = dropWindow(s)
		}
		gotText = append(gotText, s)
	}
	if strings.Join(gotText, "\n") != strings.Join(want, "\n") {
		c.t.Errorf("segments out:\n got %q\nwant %q", gotText, want)
	}
}

func dropWindow(s string) string {
	i := strings.Index(s, " win ")
	if i < 0 {
		return s
	}
	rest := s[i+5:]
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		return s[:i] + rest[j:]
	}
	return s[:i]
}

// expectStates checks the states entered since the last check.
func (c *testConn) expectStates(want ...tcp.State) {
	c.t.Helper()
	if !equalStates(c.states, want) {
		c.t.Errorf("states entered: got %v, want %v", c.states, want)
	}
	c.states = nil
}

func equalStates(a, b []tcp.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fireTimer advances the clock to the next deadline and runs the timers.
func (c *testConn) fireTimer() time.Duration {
	c.t.Helper()
	d := c.Deadline()
	if d.IsZero() {
		c.t.Fatal("no timer running")
	}
	waited := d.Sub(c.now)
	c.now = d
	c.HandleTimer(c.now)
	return waited
}

// reach returns a conn driven through the public API into state, with
// the segments and states of getting there consumed. Synchronized states
// come from an active open; SYN_RCVD from a passive one.
func reach(t *testing.T, state tcp.State) *testConn {
	t.Helper()
	c := drive(t, state)
	if c.State() != state {
		t.Fatalf("driving to %v reached %v", state, c.State())
	}
	return c
}

func drive(t *testing.T, state tcp.State) *testConn {
	t.Helper()
	c := newTestConn(t, plain(tcp.Config{MSL: 30 * time.Second, DelayedAck: -1}, withoutNagle), ourISS)
	step := func(s tcp.State) bool { return state == s }
	if step(tcp.Closed) {
		return c
	}
	if state == tcp.Listen || state == tcp.SynReceived {
		c.Listen()
		if state == tcp.SynReceived {
			c.in("S 5000:5000(0) win 65535 <mss 1460>")
		}
		return c.settle()
	}
	c.Connect(c.now)
	if state == tcp.SynSent {
		return c.settle()
	}
	c.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	switch state {
	case tcp.Established:
	case tcp.FinWait1:
		c.Close(c.now)
	case tcp.FinWait2:
		c.Close(c.now)
		c.in(". 5001:5001(0) ack 1002 win 65535")
	case tcp.CloseWait:
		c.in("F. 5001:5001(0) ack 1001 win 65535")
	case tcp.LastAck:
		c.in("F. 5001:5001(0) ack 1001 win 65535")
		c.Close(c.now)
	case tcp.Closing:
		c.Close(c.now)
		c.in("F. 5001:5001(0) ack 1001 win 65535")
	case tcp.TimeWait:
		c.Close(c.now)
		c.in(". 5001:5001(0) ack 1002 win 65535")
		c.in("F. 5001:5001(0) ack 1002 win 65535")
	}
	return c.settle()
}

// settle clears what getting into the state produced and checks the
// state was reached.
func (c *testConn) settle() *testConn {
	c.t.Helper()
	c.Outgoing()
	c.Events()
	c.states = nil
	return c
}
