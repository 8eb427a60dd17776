package tcp

import "strings"

var timerNames = [...]string{
	TimerRetransmit: "RTO",
	TimerTimeWait:   "2MSL",
	TimerPersist:    "persist",
	TimerKeepalive:  "keepalive",
	TimerDelayedAck: "delayed-ACK",
	TimerFinWait2:   "FIN_WAIT_2 timeout",
	TimerReorder:    "RACK",
	TimerLossProbe:  "TLP",
}

// String names the timer as diagrams label it: "RTO", "2MSL", "persist".
func (t Timer) String() string {
	if int(t) < len(timerNames) && timerNames[t] != "" {
		return timerNames[t]
	}
	return "timer?"
}

var eventNames = [...]string{"established", "readable", "writable", "peer-closed", "reset", "timed-out", "closed"}

// String lists the events, e.g. "established|writable"; "none" if empty.
func (e Events) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for i, name := range eventNames {
		if e&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, "|")
}
