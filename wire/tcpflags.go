package wire

import "strings"

// TCPFlags is the set of control bits of a TCP header (RFC 9293 §3.1,
// RFC 3168 for ECE and CWR).
type TCPFlags uint8

// The TCP control bits, in header bit order.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Has reports whether every flag in g is set in f.
func (f TCPFlags) Has(g TCPFlags) bool { return f&g == g }

// String returns the flags in packetdrill notation: the letters S, F, R, P,
// U, E, W in that order followed by "." for ACK ("S.", "F.", "P."); "-"
// when no flag is set.
func (f TCPFlags) String() string {
	if f == 0 {
		return "-"
	}
	var b strings.Builder
	for _, l := range flagLetters {
		if f.Has(l.flag) {
			b.WriteByte(l.letter)
		}
	}
	return b.String()
}

// flagLetters is the order packetdrill prints flags in.
var flagLetters = [...]struct {
	flag   TCPFlags
	letter byte
}{
	{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'},
	{FlagURG, 'U'}, {FlagECE, 'E'}, {FlagCWR, 'W'}, {FlagACK, '.'},
}

// ParseTCPFlags parses flags in packetdrill notation (see TCPFlags.String).
// ok is false if s holds a letter that names no flag or names one twice.
func ParseTCPFlags(s string) (f TCPFlags, ok bool) {
	if s == "-" {
		return 0, true
	}
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		found := false
		for _, l := range flagLetters {
			if s[i] == l.letter {
				if f.Has(l.flag) {
					return 0, false
				}
				f |= l.flag
				found = true
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}

// MaxSACKBlocks is the most SACK blocks a TCP header can carry (four
// fit in 40 option bytes; three fit next to timestamps).
const MaxSACKBlocks = 4

// SACKBlock is one block of a SACK option (RFC 2018 §3): the received
// bytes [Left, Right).
type SACKBlock struct {
	Left, Right uint32
}

// TCPOptions holds the TCP options seqack understands. Absent options are
// zero with their Has flag false. Unknown options are skipped by length on
// parse and never built.
type TCPOptions struct {
	// MSS is the maximum segment size (RFC 9293 §3.7.1), valid if HasMSS.
	MSS    uint16
	HasMSS bool
	// WindowScale is the shift count (RFC 7323 §2), valid if
	// HasWindowScale.
	WindowScale    uint8
	HasWindowScale bool
	// SACKPermitted is the SACK-permitted option (RFC 2018 §2).
	SACKPermitted bool
	// SACK holds the first NumSACK blocks of a SACK option.
	SACK    [MaxSACKBlocks]SACKBlock
	NumSACK int
	// TSVal and TSEcr are the timestamps option (RFC 7323 §3), valid if
	// HasTimestamps.
	TSVal, TSEcr  uint32
	HasTimestamps bool
}

// SACKBlocks returns the SACK blocks in use.
func (o *TCPOptions) SACKBlocks() []SACKBlock { return o.SACK[:o.NumSACK] }

// IsZero reports whether no option is present.
func (o *TCPOptions) IsZero() bool {
	return !o.HasMSS && !o.HasWindowScale && !o.SACKPermitted && o.NumSACK == 0 && !o.HasTimestamps
}
