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

// Targets lists the targets Run knows.
var Targets = []string{"seqack", "linux"}

// RunFile reads, parses and runs the script at path.
func RunFile(path, target string) Result {
	src, err := os.ReadFile(path)
	if err != nil {
		return Result{Status: Failed, Err: fmt.Errorf("script: %w", err)}
	}
	return RunSource(path, src, target)
}

// RunSource parses and runs src, naming it path in messages.
func RunSource(path string, src []byte, target string) Result {
	s, err := Parse(path, src)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	return Run(s, target)
}

// Run runs a parsed script against target: "seqack" (the engine, in
// virtual time) or "linux" (the kernel, in a network namespace of its
// own, in real time; see runLinux).
func Run(s *Script, target string) Result {
	var r Result
	for _, o := range s.Options {
		if !knownOptions[o.Name] {
			r.Notes = append(r.Notes, fmt.Sprintf("%s:%d: ignoring option --%s", s.Path, o.Line, o.Name))
		}
	}
	if target == "linux" {
		return runLinux(s, r)
	}
	if target != "seqack" {
		r.Status, r.Err = Failed, fmt.Errorf("script: %w: target %q", ErrUnsupported, target)
		return r
	}
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
		return r
	}
	return r
}

// settings are the header options the runner uses.
type settings struct {
	tolerance        time.Duration
	tolerancePercent float64
	mtu              int
	strict           bool // --strict_segments: one real segment per scripted one
}

func readSettings(s *Script) (settings, error) {
	st := settings{tolerance: 4000 * time.Microsecond, tolerancePercent: 12.5, mtu: 1500}
	for _, o := range s.Options {
		switch o.Name {
		case "tolerance_usecs":
			v, _ := strconv.Atoi(o.Value) // checked by Parse
			st.tolerance = time.Duration(v) * time.Microsecond
		case "tolerance_percent":
			st.tolerancePercent, _ = strconv.ParseFloat(o.Value, 64)
		case "strict_segments":
			st.strict = true
		case "mtu":
			st.mtu, _ = strconv.Atoi(o.Value)
			if st.mtu < 40+64 || st.mtu > 65535 {
				return st, &Error{s.Path, o.Line, fmt.Errorf("--mtu=%d out of range", st.mtu)}
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
