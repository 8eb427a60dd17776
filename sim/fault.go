package sim

import (
	"fmt"
	"strings"
	"time"
)

// Action is what a Fault does to the segments it selects.
type Action uint8

// The fault actions.
const (
	Drop Action = iota + 1
	Delay
	Duplicate
	Corrupt
)

var actionNames = [...]string{Drop: "drop", Delay: "delay", Duplicate: "dup", Corrupt: "corrupt"}

func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return "action?"
}

// Fault applies an action to the segments a selector picks.
type Fault struct {
	Selector Selector
	Action   Action
	Delay    time.Duration // for Delay: the extra delay
}

// ParseFault parses a fault: action is "drop", "delay", "dup" or
// "corrupt"; text is a selector, for "delay" followed by "=DURATION"
// ("client:ack@TIME_WAIT=5s").
func ParseFault(action, text string) (Fault, error) {
	var f Fault
	for i, name := range actionNames {
		if name != "" && name == action {
			f.Action = Action(i)
		}
	}
	if f.Action == 0 {
		return f, fmt.Errorf("sim: unknown fault action %q: want drop, delay, dup or corrupt", action)
	}
	if f.Action == Delay {
		sel, dur, ok := strings.Cut(text, "=")
		if !ok {
			return f, fmt.Errorf("sim: delay %q: want SELECTOR=DURATION, e.g. client:ack@TIME_WAIT=5s", text)
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d < 0 {
			return f, fmt.Errorf("sim: delay %q: %q is not a duration such as 5s or 200ms", text, dur)
		}
		f.Delay, text = d, sel
	}
	s, err := ParseSelector(text)
	if err != nil {
		return f, err
	}
	f.Selector = s
	return f, nil
}

// String returns the fault as "drop server:fin" or "delay
// client:ack@TIME_WAIT=5s".
func (f Fault) String() string {
	if f.Action == Delay {
		return fmt.Sprintf("%v %v=%v", f.Action, f.Selector, f.Delay)
	}
	return fmt.Sprintf("%v %v", f.Action, f.Selector)
}

// faultState is a fault with its running count of matching segments.
type faultState struct {
	Fault
	seen int
}
