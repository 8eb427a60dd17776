package script

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Status is the outcome of running a script.
type Status uint8

// The outcomes.
const (
	Passed  Status = iota
	Failed         // Result.Err says why
	Skipped        // Result.Unsupported says why
)

// String returns PASS, FAIL or SKIP.
func (s Status) String() string {
	switch s {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	}
	return "SKIP"
}

// Result is what running a script gave.
type Result struct {
	Status Status
	// Err is the failure, "file:line: error ..." (an *Error, or a syntax
	// error from Parse).
	Err error
	// Unsupported lists what made the script Skipped.
	Unsupported []string
	// Notes lists header options that were ignored.
	Notes []string
	// Trace is what the target did, a line per segment or call return,
	// with the virtual time: "0.100000 > . 1:1(0) ack 1 win 2048".
	Trace []string
}

// Error is a failure at a line of a script.
type Error struct {
	Path string
	Line int
	Err  error
}

// Error returns "file:line: message", as packetdrill prints failures.
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrMismatch is wrapped by failures where the target did something other
// than the script says: a different packet, result or time.
var ErrMismatch = errors.New("error")

// ErrUnsupported is wrapped by errors about features the runner lacks
// that only show when the script runs.
var ErrUnsupported = errors.New("unsupported")

// Target runs a parsed script and says how it went. Engine is seqack's
// TCP engine in virtual time; package script/linux has the Linux kernel,
// in a network namespace in real time. A target is a function, not a
// name, so that importing the runner links only the targets one uses.
type Target func(s *Script) Result

// RunFile reads, parses and runs the script at path against target.
func RunFile(path string, target Target) Result {
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{Status: Failed, Err: fmt.Errorf("script: %w", err)}
	}
	return RunSource(path, src, target)
}

// RunSource parses and runs src against target, naming it path in
// messages.
func RunSource(path string, src []byte, target Target) Result {
	s, err := Parse(path, src)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	return Run(s, target)
}

// Run runs a parsed script against target, with the header options the
// runners ignore listed first in the result's Notes.
func Run(s *Script, target Target) Result {
	var notes []string
	for _, o := range s.Options {
		if !knownOptions[o.Name] {
			notes = append(notes, fmt.Sprintf("%s:%d: ignoring option --%s", s.Path, o.Line, o.Name))
		}
	}
	r := target(s)
	r.Notes = append(notes, r.Notes...)
	return r
}

// Engine runs a parsed script against seqack's TCP engine, through a
// small socket layer, in virtual time: a script with multi-second
// timers runs at once, and the same way every time.
func Engine(s *Script) Result {
	var r Result
	if len(s.Unsupported) > 0 {
		r.Status, r.Unsupported = Skipped, s.Unsupported
		return r
	}
	x, err := newExecutor(s)
	if err != nil {
		r.Status, r.Err = Failed, err
		return r
	}
	err = x.run()
	r.Trace = x.trace
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			r.Status, r.Unsupported = Skipped, []string{err.Error()}
			return r
		}
		r.Status, r.Err = Failed, err
	}
	return r
}

// Check compares what a call returned, ret and (when ret is -1) the
// errno's name, with what the script says it returns: nil if they agree,
// else an error wrapping ErrMismatch in packetdrill's words.
func (c *Call) Check(ret int64, errno string) error {
	if ret == c.Result && (ret != -1 || errno == c.Errno) {
		return nil
	}
	got := strconv.FormatInt(ret, 10)
	if ret == -1 {
		got += fmt.Sprintf(" with errno %s (%s)", errno, errnoText[errno])
	}
	return fmt.Errorf("%w in %s: expected result %d%s but got %s", ErrMismatch, c.Name, c.Result, withErrno(c.Errno), got)
}

// Settings are the header options that change how a script runs.
type Settings struct {
	// Tolerance and TolerancePercent say how far from its scripted time
	// an event may happen: the larger of Tolerance
	// (--tolerance_usecs, 4 ms by default) and TolerancePercent
	// (--tolerance_percent, 12.5 by default) of the gap since the
	// previous event.
	Tolerance        time.Duration
	TolerancePercent float64
	// MTU is the link's MTU (--mtu, 1500 by default).
	MTU int
	// Strict (--strict_segments) wants one real segment per scripted
	// one, where by default several that continue each other may match
	// one longer scripted segment.
	Strict bool
}

// Settings reads the script's header options into Settings, with
// packetdrill's defaults for those it does not give.
func (s *Script) Settings() (Settings, error) {
	st := Settings{Tolerance: 4000 * time.Microsecond, TolerancePercent: 12.5, MTU: 1500}
	for _, o := range s.Options {
		switch o.Name {
		case "tolerance_usecs":
			v, _ := strconv.Atoi(o.Value) // checked by Parse
			st.Tolerance = time.Duration(v) * time.Microsecond
		case "tolerance_percent":
			st.TolerancePercent, _ = strconv.ParseFloat(o.Value, 64)
		case "strict_segments":
			st.Strict = true
		case "mtu":
			st.MTU, _ = strconv.Atoi(o.Value)
			if st.MTU < 40+64 || st.MTU > 65535 {
				return st, &Error{s.Path, o.Line, fmt.Errorf("--mtu=%d out of range", st.MTU)}
			}
		}
	}
	return st, nil
}

// linuxConfig is the engine configuration scripts written for Linux
// expect: the tcp package's defaults (SACK and timestamps on, buffers
// that make the SYN ask for window scale 7, as Linux does) with what a
// Linux socket does differently by default — Nagle's algorithm on and
// no black-hole detection (tcp_mtu_probing=0) — and the MSS from the MTU
// less 40 bytes of IPv4 and TCP headers (RFC 9293 §3.7.1).
func linuxConfig(mtu int) *tcp.Config {
	return &tcp.Config{
		MSS:                  uint16(mtu - 40),
		Nagle:                true,
		NoBlackHoleDetection: true,
	}
}
