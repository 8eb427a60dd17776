package tcp

import "sync/atomic"

// Counters are host-wide TCP counters in the spirit of `netstat -s`.
// Set Config.Counters to have every Conn using that Config add to them;
// they are atomic, so Conns driven from different goroutines may share
// them.
type Counters struct {
	ActiveOpens         atomic.Uint64 // Connect calls (CLOSED → SYN_SENT)
	PassiveOpens        atomic.Uint64 // SYNs taken by a listening Conn (LISTEN → SYN_RCVD)
	SegmentsReceived    atomic.Uint64
	SegmentsSent        atomic.Uint64
	Retransmissions     atomic.Uint64 // segments sent again
	ResetsReceived      atomic.Uint64 // RSTs that reset or refused a connection
	ResetsSent          atomic.Uint64
	OutOfWindow         atomic.Uint64 // segments failing the acceptability test (RFC 9293 §3.10.7.4)
	ChallengeACKs       atomic.Uint64 // RFC 5961 challenge ACKs: for in-window RSTs and SYNs, and unacceptable ACK numbers
	ChallengeLimited    atomic.Uint64 // ... not sent: the host's budget for the second was spent (RFC 5961 §7)
	UnacceptableLimited atomic.Uint64 // replies to unacceptable segments not sent: the connection answered one less than 500 ms before
	TimeOuts            atomic.Uint64 // connections abandoned after retransmissions or keepalives
	SpuriousTimeouts    atomic.Uint64 // retransmission timeouts found spurious by their ACK's timestamp (RFC 3522)
	BlackHoles          atomic.Uint64 // paths found to drop large segments silently: MSS lowered (RFC 4821 §7.7)
	PMTUProbes          atomic.Uint64 // segments sent larger than the MSS to test the path (RFC 4821 §7)
	PMTUProbesSucceeded atomic.Uint64 // ... acknowledged: the MSS raised to their size
	RACKLosses          atomic.Uint64 // segments RACK deemed lost (RFC 8985 §6), retransmissions included
	TLPProbes           atomic.Uint64 // tail loss probes sent (RFC 8985 §7)
	TLPRecoveries       atomic.Uint64 // ... that repaired a loss, with a congestion response (§7.4)
}

// counter names one of the Counters, for Conn.count.
type counter uint8

// The Counters, in the order of their fields.
const (
	activeOpens counter = iota
	passiveOpens
	segmentsReceived
	segmentsSent
	retransmissions
	resetsReceived
	resetsSent
	outOfWindow
	challengeACKs
	challengeACKsLimited
	unacceptableLimited
	timeOuts
	spuriousTimeouts
	blackHoles
	pmtuProbes
	pmtuProbesSucceeded
	rackLosses
	tlpProbes
	tlpRecoveries
	numCounters
)

// count adds one to counter i, if the Config has Counters. (Not
// c.cfg.count(i): one call deeper, it would not be inlined.)
func (c *Conn) count(i counter) {
	if k := c.cfg.Counters; k != nil {
		k.field(i).Add(1)
	}
}

// count adds one to counter i, if cfg has Counters.
func (cfg *Config) count(i counter) {
	if k := cfg.Counters; k != nil {
		k.field(i).Add(1)
	}
}

// field returns the field of k that i names.
func (k *Counters) field(i counter) *atomic.Uint64 {
	switch i {
	case activeOpens:
		return &k.ActiveOpens
	case passiveOpens:
		return &k.PassiveOpens
	case segmentsReceived:
		return &k.SegmentsReceived
	case segmentsSent:
		return &k.SegmentsSent
	case retransmissions:
		return &k.Retransmissions
	case resetsReceived:
		return &k.ResetsReceived
	case resetsSent:
		return &k.ResetsSent
	case outOfWindow:
		return &k.OutOfWindow
	case challengeACKs:
		return &k.ChallengeACKs
	case challengeACKsLimited:
		return &k.ChallengeLimited
	case unacceptableLimited:
		return &k.UnacceptableLimited
	case timeOuts:
		return &k.TimeOuts
	case spuriousTimeouts:
		return &k.SpuriousTimeouts
	case blackHoles:
		return &k.BlackHoles
	case pmtuProbes:
		return &k.PMTUProbes
	case pmtuProbesSucceeded:
		return &k.PMTUProbesSucceeded
	case rackLosses:
		return &k.RACKLosses
	case tlpProbes:
		return &k.TLPProbes
	default: // tlpRecoveries
		return &k.TLPRecoveries
	}
}
