package tcp

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// Congestion controls by name, as Linux chooses them: the sysctl
// net.ipv4.tcp_congestion_control names the default, and
// setsockopt(TCP_CONGESTION) a socket's own, before it connects or on
// an established connection (net/ipv4/tcp_cong.c). Here
// Config.CongestionControl is the default, CongestionControlByName
// turns a name into a constructor for it, and Conn.SetCongestionControl
// and Conn.CongestionControlName are the socket option.

// ErrUnknownCongestionControl is what a name that names no congestion
// control gets: Linux's ENOENT from setsockopt(TCP_CONGESTION).
var ErrUnknownCongestionControl = errors.New("no such congestion control")

// congestionControls is the registry: the congestion controls that may
// be chosen by name, with their constructors. It is never written. A
// connection's choice is its index (Conn.ccAlgo).
var congestionControls = [...]struct {
	name string
	new  func(mss int) CongestionControl
}{
	{"reno", NewNewReno},
	{"cubic", NewCubic},
	{"bbr", NewBBR},
}

// defaultCongestionControl is the registry's index of what a nil
// Config.CongestionControl means: CUBIC, as in Linux.
const defaultCongestionControl = 1

// CongestionControlByName returns the constructor of the congestion
// control registered as name ("reno", "cubic", "bbr"), for
// Config.CongestionControl; a name not registered gets an error
// wrapping ErrUnknownCongestionControl.
func CongestionControlByName(name string) (func(mss int) CongestionControl, error) {
	i, err := congestionControlIndex(name)
	if err != nil {
		return nil, err
	}
	return congestionControls[i].new, nil
}

// CongestionControlNames returns the names of the registered congestion
// controls, sorted: Linux's tcp_available_congestion_control.
func CongestionControlNames() []string {
	names := make([]string, len(congestionControls))
	for i, e := range congestionControls {
		names[i] = e.name
	}
	slices.Sort(names)
	return names
}

// congestionControlIndex returns the registry's index of name.
func congestionControlIndex(name string) (int, error) {
	for i, e := range congestionControls {
		if e.name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("congestion control %q: %w (have %v)", name, ErrUnknownCongestionControl, CongestionControlNames())
}

// registeredAs returns the registry's index of the constructor f (nil:
// the default), or -1 if f is none of them: a closure or a controller
// of the caller's own. Top-level functions have one code address each,
// so comparing addresses tells them apart.
func registeredAs(f func(mss int) CongestionControl) int {
	if f == nil {
		return defaultCongestionControl
	}
	p := reflect.ValueOf(f).Pointer()
	for i, e := range congestionControls {
		if reflect.ValueOf(e.new).Pointer() == p {
			return i
		}
	}
	return -1
}

// newController returns the constructor of the connection's congestion
// control: the one SetCongestionControl chose, else the Config's.
func (c *Conn) newController() func(mss int) CongestionControl {
	switch {
	case c.ccAlgo != 0:
		return congestionControls[c.ccAlgo-1].new
	case c.cfg.CongestionControl != nil:
		return c.cfg.CongestionControl
	}
	return NewCubic
}

// CongestionControlName returns the name of the congestion control the
// connection runs, or will run once it sends data: Linux's
// getsockopt(TCP_CONGESTION). It is the one SetCongestionControl chose,
// else Config.CongestionControl's registered name ("cubic" if it is
// nil), or "" if that is a constructor of the caller's own.
func (c *Conn) CongestionControlName() string {
	i := int(c.ccAlgo) - 1
	if i < 0 {
		i = registeredAs(c.cfg.CongestionControl)
	}
	if i < 0 {
		return ""
	}
	return congestionControls[i].name
}

// SetCongestionControl switches the connection to the congestion
// control registered as name, as Linux's setsockopt(TCP_CONGESTION)
// does, at any time; a name not registered gets an error wrapping
// ErrUnknownCongestionControl, and the connection keeps its own.
// Asking for the one it runs changes nothing.
//
// Before the connection sends data it only chooses: the controller is
// made with the first data, as always. On a connection that has sent,
// the new controller starts from its initial state, as Linux's
// tcp_reinit_congestion_control clears the algorithm's private state
// and calls its init, with two exceptions Linux makes too: the
// congestion window and ssthresh carry over (Linux keeps snd_cwnd and
// snd_ssthresh in the socket, not in the algorithm, so the new one goes
// on from the window the old one reached), for the controllers provided
// here; a controller that cannot take them over starts from its initial
// window. The old controller's response to a timeout cannot be undone
// any more (Linux clears prior_ssthresh; RFC 4015's undo, Eifel
// detection, finds nothing to restore). Pacing restarts with the new
// controller's rate, and delivery-rate samples, if the new one takes
// them, cover only data sent after the switch.
func (c *Conn) SetCongestionControl(name string, now time.Time) error {
	i, err := congestionControlIndex(name)
	if err != nil {
		return err
	}
	if name == c.CongestionControlName() {
		return nil // Linux: "No change asking for existing value"
	}
	c.ccAlgo = uint8(i + 1)
	if c.cc == nil {
		return nil // made with the first data (newCongestionControl)
	}
	c.reinitCongestionControl(congestionControls[i].new, now)
	return nil
}

// reinitCongestionControl replaces the congestion control of a
// connection that has one by a new one from newCC (Linux's
// tcp_reinit_congestion_control), which takes over the window and
// ssthresh if it can, and sends what the new window allows.
func (c *Conn) reinitCongestionControl(newCC func(mss int) CongestionControl, now time.Time) {
	old := c.cc
	cc := newCC(c.effectiveMSS())
	if w, ok := cc.(windowInheritor); ok {
		w.inheritWindow(old.Window(), old.SlowStartThreshold())
	}
	c.startController(cc)
	// The sampler, if any, starts at SND.MAX: it has no records of what
	// is in flight, which must not be taken for part of the first new
	// transmission.
	c.cc = newCongestion(cc, c.cfg, c.sndMax)
	c.output(now)
}

// windowInheritor is a congestion control that can go on from another's
// congestion window and ssthresh, in bytes, when a connection switches
// to it (SetCongestionControl). NewReno, Cubic and BBR are.
type windowInheritor interface {
	inheritWindow(cwnd, ssthresh int)
}

func (r *NewReno) inheritWindow(cwnd, ssthresh int) { r.cwnd, r.ssthresh = cwnd, ssthresh }

func (c *Cubic) inheritWindow(cwnd, ssthresh int) { c.cwnd, c.ssthresh = cwnd, ssthresh }
