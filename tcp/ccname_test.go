package tcp_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Congestion controls by name (ccname.go), as Linux's TCP_CONGESTION.

// The registry has reno and cubic, sorted, each giving a constructor
// of the controller that names itself so on a connection.
func TestCongestionControlNames(t *testing.T) {
	names := tcp.CongestionControlNames()
	if !slices.IsSorted(names) || !slices.Contains(names, "reno") || !slices.Contains(names, "cubic") {
		t.Fatalf("names %q, want reno and cubic, sorted", names)
	}
	for _, name := range names {
		f, err := tcp.CongestionControlByName(name)
		if err != nil || f == nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := tcp.NewConn(&tcp.Config{CongestionControl: f}, ourISS).CongestionControlName(); got != name {
			t.Errorf("a connection made with %s's constructor runs %q", name, got)
		}
	}
}

// An unknown name gets an error wrapping ErrUnknownCongestionControl
// (Linux: ENOENT), from the registry and from a connection, which keeps
// what it had.
func TestCongestionControlUnknown(t *testing.T) {
	if _, err := tcp.CongestionControlByName("vegas"); !errors.Is(err, tcp.ErrUnknownCongestionControl) {
		t.Errorf("CongestionControlByName(vegas): %v, want ErrUnknownCongestionControl", err)
	}
	c := tcp.NewConn(nil, ourISS)
	if err := c.SetCongestionControl("", epoch); !errors.Is(err, tcp.ErrUnknownCongestionControl) {
		t.Errorf(`SetCongestionControl(""): %v, want ErrUnknownCongestionControl`, err)
	}
	if got := c.CongestionControlName(); got != "cubic" {
		t.Errorf("after a failed switch the connection runs %q, want cubic", got)
	}
}

// A connection's name: the Config's constructor's, cubic for none, ""
// for one of the caller's own; Stats carries it, as ss -ti prints it.
func TestCongestionControlName(t *testing.T) {
	own := func(mss int) tcp.CongestionControl { return tcp.NewNewReno(mss) }
	for _, c := range []struct {
		cfg  *tcp.Config
		want string
	}{
		{nil, "cubic"},
		{&tcp.Config{}, "cubic"},
		{&tcp.Config{CongestionControl: tcp.NewCubic}, "cubic"},
		{&tcp.Config{CongestionControl: tcp.NewNewReno}, "reno"},
		{&tcp.Config{CongestionControl: own}, ""},
	} {
		conn := tcp.NewConn(c.cfg, ourISS)
		if got, stats := conn.CongestionControlName(), conn.Stats().CongestionControl; got != c.want || stats != c.want {
			t.Errorf("%+v: name %q, Stats %q; want %q", c.cfg, got, stats, c.want)
		}
	}
}

// Chosen before the connection sends, the controller is the one made
// with the first data: RFC 5681's halving on a timeout (ssthresh 7300 of
// 14600 in flight), not CUBIC's β = 0.7 (10220) the Config would give.
func TestSetCongestionControlBeforeData(t *testing.T) {
	cfg := plain(tcp.Config{}) // CUBIC
	conn := newTestConn(t, cfg, ourISS)
	if err := conn.SetCongestionControl("reno", conn.now); err != nil {
		t.Fatal(err)
	}
	conn.Connect(conn.now)
	conn.in("S. 5000:5000(0) ack 1001 win 65535 <mss 1460>")
	conn.now = conn.now.Add(100 * time.Millisecond)
	conn.settle()
	conn.Write(make([]byte, 14600), conn.now)
	if got := len(conn.Outgoing()); got != 10 {
		t.Fatalf("%d segments sent in the initial window, want 10", got)
	}
	c := conn
	c.do(step{call: "timer", out: []string{". 1001:2461(1460) ack 5001"}})
	if cwnd, ssthresh := c.window(); cwnd != 1460 || ssthresh != 7300 {
		t.Errorf("after the timeout cwnd %d ssthresh %d, want reno's 1460 and 7300", cwnd, ssthresh)
	}
	if s := c.Stats(); s.CongestionControl != "reno" {
		t.Errorf("Stats names %q, want reno", s.CongestionControl)
	}
}

// Switched on a live connection (Linux's tcp_reinit_congestion_control),
// the new controller starts from its initial state but takes over the
// window and ssthresh, as Linux's, which keeps snd_cwnd and snd_ssthresh
// in the socket: the full initial window stays in flight, nothing more
// is sent, and the next timeout is CUBIC's (ssthresh 0.7 × 14600).
// Asking for the controller the connection runs changes nothing.
func TestSetCongestionControlLive(t *testing.T) {
	c := established(t, plain(tcp.Config{CongestionControl: tcp.NewNewReno}), "<mss 1460>")
	c.Write(make([]byte, 14600), c.now)
	c.out() // the window is full
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{". 15601:17061(1460) ack 5001", ". 17061:18521(1460) ack 5001"}})
	if err := c.SetCongestionControl("reno", c.now); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCongestionControl("cubic", c.now); err != nil {
		t.Fatal(err)
	}
	c.out() // the window is what it was, and full
	if cwnd, ssthresh := c.window(); cwnd != 16060 || ssthresh != 1<<31-1 {
		t.Errorf("after the switch cwnd %d ssthresh %d, want reno's 16060 and no ssthresh yet", cwnd, ssthresh)
	}
	if got := c.CongestionControlName(); got != "cubic" {
		t.Errorf("the connection runs %q, want cubic", got)
	}
	c.do(step{call: "timer", out: []string{". 2461:3921(1460) ack 5001"}})
	if cwnd, ssthresh := c.window(); cwnd != 1460 || ssthresh != 11242 {
		t.Errorf("after the timeout cwnd %d ssthresh %d, want CUBIC's 1460 and 11242 (0.7 × 16060 in flight)", cwnd, ssthresh)
	}
	// The new controller's slow start grows the window as the old one's.
	c.do(step{in: ". 5001:5001(0) ack 3921 win 65535", out: []string{". 3921:5381(1460) ack 5001", ". 5381:6841(1460) ack 5001"}})
}
