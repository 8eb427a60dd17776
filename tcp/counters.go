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

// count adds one to the counter f picks, if the Config has Counters.
func (c *Conn) count(f func(*Counters) *atomic.Uint64) {
	if k := c.cfg.Counters; k != nil {
		f(k).Add(1)
	}
}

func activeOpens(k *Counters) *atomic.Uint64          { return &k.ActiveOpens }
func passiveOpens(k *Counters) *atomic.Uint64         { return &k.PassiveOpens }
func segmentsReceived(k *Counters) *atomic.Uint64     { return &k.SegmentsReceived }
func segmentsSent(k *Counters) *atomic.Uint64         { return &k.SegmentsSent }
func retransmissions(k *Counters) *atomic.Uint64      { return &k.Retransmissions }
func resetsReceived(k *Counters) *atomic.Uint64       { return &k.ResetsReceived }
func resetsSent(k *Counters) *atomic.Uint64           { return &k.ResetsSent }
func outOfWindow(k *Counters) *atomic.Uint64          { return &k.OutOfWindow }
func challengeACKs(k *Counters) *atomic.Uint64        { return &k.ChallengeACKs }
func timeOuts(k *Counters) *atomic.Uint64             { return &k.TimeOuts }
func spuriousTimeouts(k *Counters) *atomic.Uint64     { return &k.SpuriousTimeouts }
func blackHoles(k *Counters) *atomic.Uint64           { return &k.BlackHoles }
func pmtuProbes(k *Counters) *atomic.Uint64           { return &k.PMTUProbes }
func pmtuProbesSucceeded(k *Counters) *atomic.Uint64  { return &k.PMTUProbesSucceeded }
func rackLosses(k *Counters) *atomic.Uint64           { return &k.RACKLosses }
func tlpProbes(k *Counters) *atomic.Uint64            { return &k.TLPProbes }
func tlpRecoveries(k *Counters) *atomic.Uint64        { return &k.TLPRecoveries }
func challengeACKsLimited(k *Counters) *atomic.Uint64 { return &k.ChallengeLimited }
func unacceptableLimited(k *Counters) *atomic.Uint64  { return &k.UnacceptableLimited }
