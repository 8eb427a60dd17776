package tcp

// RecoveryState is where a connection's loss recovery stands, numbered
// as Linux numbers its congestion-avoidance states (tcp_info's
// tcpi_ca_state), so that tools reading either stack compare them. The
// value 2, Linux's TCP_CA_CWR (a window reduced for ECN or a local
// drop), is never taken: seqack has no ECN.
type RecoveryState uint8

// The recovery states.
const (
	// RecoveryOpen: nothing outstanding looks reordered or lost.
	RecoveryOpen RecoveryState = 0
	// RecoveryDisorder: duplicate ACKs or SACKed data, not (yet) a sign
	// of loss (RFC 5681 §3.2 steps 1-2, RFC 6675 §5 before IsLost).
	RecoveryDisorder RecoveryState = 1
	// RecoveryFast: in fast recovery (RFC 5681 §3.2, RFC 6582, RFC 6675).
	RecoveryFast RecoveryState = 3
	// RecoveryLoss: after a retransmission timeout, until everything
	// sent before it is acknowledged (RFC 6298 §5, RFC 6582 §3.2).
	RecoveryLoss RecoveryState = 4
)

// String returns the state's name in Linux's terms: Open, Disorder,
// Recovery, Loss.
func (s RecoveryState) String() string {
	switch s {
	case RecoveryOpen:
		return "Open"
	case RecoveryDisorder:
		return "Disorder"
	case RecoveryFast:
		return "Recovery"
	case RecoveryLoss:
		return "Loss"
	}
	return "RecoveryState(?)"
}

// RecoveryState returns where the connection's loss recovery stands.
func (c *Conn) RecoveryState() RecoveryState {
	switch {
	case c.inRecovery:
		return RecoveryFast
	case c.recovering():
		// Not fast recovery, so a timeout's: its recovery point is
		// SND.MAX when the timer expired.
		return RecoveryLoss
	case c.dupAcks > 0 || c.sb.bytes(c.sndUna, c.sndMax) > 0:
		return RecoveryDisorder
	}
	return RecoveryOpen
}

// Timeouts returns the retransmission timer's expiries since data was
// last acknowledged: Linux's tcpi_retransmits (icsk_retransmits). Zero-
// window probes do not count, whether the persist timer or a
// retransmission timeout behind a zero window sent them: Linux counts
// those in icsk_probes_out (tcpi_probes).
func (c *Conn) Timeouts() int { return int(c.retries) }

// AdvertisedMSS returns the MSS this end offers in its SYN (RFC 9293
// §3.7.1): Config.MSS, or its default. Linux's tcpi_advmss.
func (c *Conn) AdvertisedMSS() int { return int(c.cfg.mss()) }
