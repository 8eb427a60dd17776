package tcp

import "strconv"

// State is a connection state of RFC 9293 §3.3.2.
type State uint8

// The eleven states of RFC 9293 §3.3.2. Closed is the zero value: a
// control block that does not (or no longer) represents a connection.
const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var stateNames = [...]string{
	Closed:      "CLOSED",
	Listen:      "LISTEN",
	SynSent:     "SYN_SENT",
	SynReceived: "SYN_RCVD",
	Established: "ESTABLISHED",
	FinWait1:    "FIN_WAIT_1",
	FinWait2:    "FIN_WAIT_2",
	CloseWait:   "CLOSE_WAIT",
	Closing:     "CLOSING",
	LastAck:     "LAST_ACK",
	TimeWait:    "TIME_WAIT",
}

// String returns the state's name as netstat and ss spell it (RFC 9293
// writes SYN-SENT): "SYN_SENT", "FIN_WAIT_1", "TIME_WAIT".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ParseState returns the state named name (as String spells it).
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// Synchronized reports whether the state is one in which both sides' initial
// sequence numbers are known (RFC 9293 §3.5.2): ESTABLISHED and every state
// after it.
func (s State) Synchronized() bool { return s >= Established }
