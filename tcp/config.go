package tcp

import "time"

// Defaults for zero Config fields.
const (
	DefaultMSS                    = 1460
	DefaultBufferSize             = 65535
	DefaultSynRetries             = 6
	DefaultSynAckRetries          = 5
	DefaultRetries                = 15
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

func (c *Config) mss() uint16            { return orDefault(c.MSS, DefaultMSS) }
func (c *Config) receiveBufferSize() int { return orDefault(c.ReceiveBufferSize, DefaultBufferSize) }
func (c *Config) sendBufferSize() int    { return orDefault(c.SendBufferSize, DefaultBufferSize) }

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
// that a default connection's SYN is the plain one of RFC 9293.
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
func (c *Config) msl() time.Duration        { return orDefault(c.MSL, DefaultMSL) }
func (c *Config) initialRTO() time.Duration { return orDefault(c.InitialRTO, DefaultInitialRTO) }
func (c *Config) minRTO() time.Duration     { return orDefault(c.MinRTO, DefaultMinRTO) }
func (c *Config) maxRTO() time.Duration     { return orDefault(c.MaxRTO, DefaultMaxRTO) }
func (c *Config) delayedAck() time.Duration { return orDefault(c.DelayedAck, DefaultDelayedAck) }
