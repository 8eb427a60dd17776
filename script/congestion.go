package script

import (
	"fmt"

	"github.com/seqack/seqack/tcp"
)

// setCongestion is setsockopt(TCP_CONGESTION) of name on s, through the
// engine's registry (tcp.CongestionControlByName). A name the engine
// lacks fails with ENOENT where the script expects that (Linux's answer
// for a name it lacks), and is unsupported otherwise: Linux has
// algorithms the engine has not. A connection switches at once, as
// Linux's does (tcp.Conn.SetCongestionControl); a listener's choice
// passes to what it accepts.
func (x *executor) setCongestion(s *socket, c *Call, name string) (func() (bool, int64, string), error) {
	if _, err := tcp.CongestionControlByName(name); err != nil {
		if c.Result == -1 && c.Errno == "ENOENT" {
			return fail("ENOENT"), nil
		}
		return nil, fmt.Errorf("%w: setsockopt TCP_CONGESTION: %w", ErrUnsupported, err)
	}
	if s.ep != nil {
		if err := s.ep.conn.SetCongestionControl(name, x.now); err != nil {
			return nil, fmt.Errorf("setsockopt TCP_CONGESTION: %w", err)
		}
		x.flush(s.ep)
	}
	s.congestion = name
	return now(0, ""), nil
}

// congestionOf is getsockopt(TCP_CONGESTION) on s: what its connection
// runs, or else what was set on the socket, or else the default the
// sysctl chose.
func (x *executor) congestionOf(s *socket) string {
	switch {
	case s.ep != nil:
		return s.ep.conn.CongestionControlName()
	case s.congestion != "":
		return s.congestion
	}
	return x.congestion
}
