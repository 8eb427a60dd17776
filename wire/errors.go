package wire

import (
	"errors"
	"fmt"
)

// The kinds of malformed input. Every parse error wraps one of them, so a
// caller can count drops by cause with errors.Is.
var (
	ErrTruncated       = errors.New("truncated")
	ErrVersion         = errors.New("bad IP version")
	ErrHeaderLength    = errors.New("bad header length")
	ErrTotalLength     = errors.New("length field disagrees with the packet")
	ErrOption          = errors.New("malformed option")
	ErrChecksum        = errors.New("bad checksum")
	ErrExtensionHeader = errors.New("too many or malformed IPv6 extension headers")
	ErrProtocol        = errors.New("unexpected upper-layer protocol")
	ErrBufferTooSmall  = errors.New("buffer too small")
	ErrAddressFamily   = errors.New("source and destination address families differ")
	// ErrFragment marks a packet that is one fragment of a larger one:
	// ParseIP refuses it, ParseFragment parses it for reassembly.
	ErrFragment = errors.New("a fragment of a larger packet")
)

// ParseError says which layer rejected a packet and why. Kind is one of
// the Err* values above; errors.Is(err, wire.ErrChecksum) works on it.
type ParseError struct {
	Layer  string // "ipv4", "ipv6", "tcp", "icmpv4", "icmpv6"
	Kind   error
	Detail string
}

func (e *ParseError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("wire: %s: %v", e.Layer, e.Kind)
	}
	return fmt.Sprintf("wire: %s: %v: %s", e.Layer, e.Kind, e.Detail)
}

// Unwrap returns Kind.
func (e *ParseError) Unwrap() error { return e.Kind }

func parseError(layer string, kind error, detail string) error {
	return &ParseError{Layer: layer, Kind: kind, Detail: detail}
}
