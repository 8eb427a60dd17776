package script

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// The poll event bits, as Linux numbers them.
const (
	PollIn     = 0x1
	PollPri    = 0x2
	PollOut    = 0x4
	PollErr    = 0x8
	PollHup    = 0x10
	PollNval   = 0x20
	PollRdNorm = 0x40
	PollRdBand = 0x80
	PollWrNorm = 0x100
	PollWrBand = 0x200
	PollRdHup  = 0x2000
)

// pollBits names the event bits a script may write.
var pollBits = map[string]int16{
	"POLLIN": PollIn, "POLLPRI": PollPri, "POLLOUT": PollOut, "POLLERR": PollErr,
	"POLLHUP": PollHup, "POLLNVAL": PollNval, "POLLRDNORM": PollRdNorm, "POLLRDBAND": PollRdBand,
	"POLLWRNORM": PollWrNorm, "POLLWRBAND": PollWrBand, "POLLRDHUP": PollRdHup,
}

// PollFD is one entry of a poll call: the script's descriptor, the
// events asked for and the events the script expects back.
type PollFD struct {
	FD              int
	Events, Revents int16
}

// Poll is a poll call's arguments: "[{fd=4, events=POLLIN,
// revents=POLLIN}], 1, 1000".
type Poll struct {
	FDs     []PollFD
	Timeout time.Duration // negative: none
}

// ParsePoll reads a poll call's arguments.
func ParsePoll(c *Call) (*Poll, error) {
	if len(c.Args) != 3 {
		return nil, fmt.Errorf("poll needs 3 arguments")
	}
	list, ok := enclosed(c.Args[0], "[", "]")
	if !ok {
		return nil, fmt.Errorf("poll list %q", c.Args[0])
	}
	p := &Poll{}
	for _, entry := range splitArgs(list) {
		body, ok := enclosed(entry, "{", "}")
		if !ok {
			return nil, fmt.Errorf("pollfd %q", entry)
		}
		var fd PollFD
		seen := 0
		for _, f := range splitArgs(body) {
			k, v, _ := strings.Cut(f, "=")
			switch k = strings.TrimSpace(k); k {
			case "fd":
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return nil, fmt.Errorf("pollfd %q: fd", entry)
				}
				fd.FD, seen = n, seen|1
			case "events", "revents":
				bits, err := parsePollBits(v)
				if err != nil {
					return nil, fmt.Errorf("pollfd %q: %w", entry, err)
				}
				if k == "events" {
					fd.Events, seen = bits, seen|2
				} else {
					fd.Revents, seen = bits, seen|4
				}
			default:
				return nil, fmt.Errorf("pollfd %q: field %q", entry, k)
			}
		}
		if seen != 7 {
			return nil, fmt.Errorf("pollfd %q: want fd, events and revents", entry)
		}
		p.FDs = append(p.FDs, fd)
	}
	if n, err := strconv.Atoi(c.Args[1]); err != nil || n != len(p.FDs) {
		return nil, fmt.Errorf("poll nfds %q for %d entries", c.Args[1], len(p.FDs))
	}
	ms, err := strconv.Atoi(c.Args[2])
	if err != nil || ms > 1e9 {
		return nil, fmt.Errorf("poll timeout %q", c.Args[2])
	}
	p.Timeout = time.Duration(ms) * time.Millisecond
	return p, nil
}

// parsePollBits reads "POLLIN|POLLOUT" or "0".
func parsePollBits(v string) (int16, error) {
	var bits int16
	for _, name := range strings.Split(v, "|") {
		name = strings.TrimSpace(name)
		if name == "0" {
			continue
		}
		b, ok := pollBits[name]
		if !ok {
			return 0, fmt.Errorf("poll event %q", name)
		}
		bits |= b
	}
	return bits, nil
}

// FormatPollBits prints event bits as a script writes them.
func FormatPollBits(bits int16) string {
	var names []string
	for _, n := range []string{"POLLIN", "POLLPRI", "POLLOUT", "POLLERR", "POLLHUP", "POLLNVAL",
		"POLLRDNORM", "POLLRDBAND", "POLLWRNORM", "POLLWRBAND", "POLLRDHUP"} {
		if bits&pollBits[n] != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// Check compares the revents a target gave with the script's, entry by
// entry: nil if they agree, else an error wrapping ErrMismatch.
func (p *Poll) Check(got []int16) error {
	for i, fd := range p.FDs {
		if got[i] != fd.Revents {
			return fmt.Errorf("%w in poll: fd %d: expected revents %s but got %s",
				ErrMismatch, fd.FD, FormatPollBits(fd.Revents), FormatPollBits(got[i]))
		}
	}
	return nil
}

// revents is what Linux's tcp_poll would report for a socket of the
// engine target, limited to the events asked for (POLLERR, POLLHUP and
// POLLNVAL are always reported).
func (x *executor) revents(s *socket, events int16) int16 {
	const always = PollErr | PollHup | PollNval
	if s == nil {
		return PollNval
	}
	var m int16
	switch {
	case s.listening:
		if len(s.backlog) > 0 {
			m |= PollIn | PollRdNorm
		}
	case s.ep == nil:
		m |= PollOut | PollWrNorm | PollHup // CLOSED, nothing to send
	default:
		c := s.ep.conn
		st := c.State()
		finIn := st == tcp.CloseWait || st == tcp.LastAck || st == tcp.Closing || st == tcp.TimeWait
		finOut := st == tcp.FinWait1 || st == tcp.FinWait2 || st == tcp.Closing || st == tcp.TimeWait || st == tcp.LastAck
		if st == tcp.Closed {
			finIn, finOut = true, true // Linux's tcp_done shuts both ways
		}
		rdShut := finIn || s.rdShut
		if (rdShut && finOut) || st == tcp.Closed {
			m |= PollHup
		}
		if rdShut {
			m |= PollIn | PollRdNorm | PollRdHup
		}
		if st != tcp.SynSent && st != tcp.SynReceived {
			if c.Buffered() > 0 {
				m |= PollIn | PollRdNorm
			}
			if finOut || c.Available() > 0 {
				m |= PollOut | PollWrNorm
			}
		}
		if c.Err() != nil && !s.errTaken {
			m |= PollErr
		}
	}
	return m & (events | always)
}

// poll returns how to run a poll call on the engine target: it returns
// as soon as an entry has events, or after the timeout with 0.
func (x *executor) poll(c *Call) (func() (bool, int64, string), error) {
	p, err := ParsePoll(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	deadline := x.now.Add(p.Timeout)
	got := make([]int16, len(p.FDs))
	return func() (bool, int64, string) {
		n := 0
		for i, fd := range p.FDs {
			got[i] = x.revents(x.sockets[fd.FD], fd.Events)
			if got[i] != 0 {
				n++
			}
		}
		if n == 0 && (p.Timeout < 0 || x.now.Before(deadline)) {
			if x.pending != nil && p.Timeout >= 0 {
				x.pending.wake = deadline
			}
			return false, 0, ""
		}
		if err := p.Check(got); err != nil && x.err == nil {
			x.pollErr = err
		}
		return true, int64(n), ""
	}, nil
}
