package tcp

import "time"

// Defaults for zero Config fields.
const (
	DefaultMSS = 1460
	// The buffer sizes: the receive buffer starts at
	// DefaultReceiveBufferSize and auto-tuning grows it up to
	// DefaultMaxReceiveBufferSize (Linux's tcp_rmem is 4 KiB, 128 KiB,
	// 6 MiB); windows this large are advertised with window scaling.
	// The memory is taken only while data is queued.
	DefaultReceiveBufferSize    = 256 << 10
	DefaultMaxReceiveBufferSize = 4 << 20
	DefaultSendBufferSize       = 1 << 20
	// plainBufferSize is both buffers' size in PlainConfig: the largest
	// window the 16-bit field holds without window scaling.
	plainBufferSize = 65535

	DefaultSynRetries             = 6
	DefaultSynAckRetries          = 5
	DefaultRetries                = 15
	DefaultOrphanRetries          = 8
	DefaultMSL                    = 30 * time.Second
	DefaultInitialRTO             = time.Second
	DefaultMinRTO                 = 200 * time.Millisecond
	DefaultMaxRTO                 = 120 * time.Second
	DefaultDelayedAck             = 40 * time.Millisecond
	DefaultFinWait2Timeout        = 60 * time.Second
	defaultPeerMSS         uint16 = 536 // RFC 9293 §3.7.1: when the peer sends no MSS option
	maxWindowShift                = 14  // RFC 7323 §2.3
)

func orDefault[T int | uint16 | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

func (c *Config) mss() uint16 { return orDefault(c.MSS, DefaultMSS) }
func (c *Config) receiveBufferSize() int {
	return orDefault(c.ReceiveBufferSize, DefaultReceiveBufferSize)
}
func (c *Config) sendBufferSize() int { return orDefault(c.SendBufferSize, DefaultSendBufferSize) }

// maxReceiveBufferSize is auto-tuning's ceiling, 0 when it is off.
func (c *Config) maxReceiveBufferSize() int {
	if c.MaxReceiveBufferSize < 0 {
		return 0
	}
	return orDefault(c.MaxReceiveBufferSize, DefaultMaxReceiveBufferSize)
}

func (c *Config) sack() bool               { return !c.NoSACK }
func (c *Config) rack() bool               { return !c.NoRACK }
func (c *Config) timestamps() bool         { return !c.NoTimestamps }
func (c *Config) blackHoleDetection() bool { return !c.NoBlackHoleDetection }

// PlainConfig returns the configuration of RFC 9293's plain connection,
// with none of the companions the zero Config runs: its SYN carries only
// the MSS option (no SACK, timestamps or window scale), the window is at
// most 65535 bytes and does not grow, full-sized segments that keep
// timing out are not taken for a black hole, losses are found by
// duplicate ACKs and the retransmission timer (no RACK-TLP, should SACK
// be turned back on), slow start is RFC 5681's (no HyStart++), and
// Nagle's algorithm is on, as RFC 1122 §4.2.3.4 asks. The engine's tests and the teaching
// scenarios use it, so that their segments read like the RFC's figures;
// set fields on the result to add what a test is about.
func PlainConfig() *Config {
	return &Config{
		ReceiveBufferSize:    plainBufferSize,
		MaxReceiveBufferSize: -1,
		SendBufferSize:       plainBufferSize,
		NoSACK:               true,
		NoTimestamps:         true,
		NoBlackHoleDetection: true,
		NoRACK:               true,
		NoHyStart:            true,
		Nagle:                true,
	}
}

// windowShift is the window scale to ask for with a receive buffer of
// size bytes: the smallest shift that fits it in the 16-bit window field,
// at most 14 (RFC 7323 §2.3).
func windowShift(size int) uint8 {
	var s uint8
	for size>>s > 0xffff && s < maxWindowShift {
		s++
	}
	return s
}

// offersWindowScale reports whether an active open with a receive buffer
// of size bytes offers window scaling: only when the buffer needs it, so
// that a plain connection's SYN is RFC 9293's.
func offersWindowScale(size int) bool { return size > 0xffff }

// Keepalive defaults, as Linux's tcp_keepalive_time, _intvl and _probes.
const (
	DefaultKeepaliveIdle     = 2 * time.Hour
	DefaultKeepaliveInterval = 75 * time.Second
	DefaultKeepaliveCount    = 9
)

func (c *Config) synRetries() int           { return orDefault(c.SynRetries, DefaultSynRetries) }
func (c *Config) synAckRetries() int        { return orDefault(c.SynAckRetries, DefaultSynAckRetries) }
func (c *Config) retries() int              { return orDefault(c.Retries, DefaultRetries) }
func (c *Config) orphanRetries() int        { return orDefault(c.OrphanRetries, DefaultOrphanRetries) }
func (c *Config) msl() time.Duration        { return orDefault(c.MSL, DefaultMSL) }
func (c *Config) initialRTO() time.Duration { return orDefault(c.InitialRTO, DefaultInitialRTO) }
func (c *Config) minRTO() time.Duration     { return orDefault(c.MinRTO, DefaultMinRTO) }
func (c *Config) maxRTO() time.Duration     { return orDefault(c.MaxRTO, DefaultMaxRTO) }
func (c *Config) delayedAck() time.Duration { return orDefault(c.DelayedAck, DefaultDelayedAck) }
