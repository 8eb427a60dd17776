package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"
)

// ISNGenerator chooses initial sequence numbers as RFC 6528 §3 says:
// ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where
// M is a timer ticking every 4 µs and F a keyed hash (here SHA-256 of the
// key and the 4-tuple, truncated to 32 bits). The two sides' ISNs are
// independent, and an off-path attacker cannot predict them without the
// key. The same key and clock give the same ISNs, which is what the
// simulator relies on; production callers use a key from crypto/rand.
type ISNGenerator struct {
	key   [32]byte
	epoch time.Time
}

// NewISNGenerator returns a generator with the given secret key whose
// 4-µs clock counts from epoch.
func NewISNGenerator(key []byte, epoch time.Time) *ISNGenerator {
	return &ISNGenerator{key: sha256.Sum256(key), epoch: epoch}
}

// ISN returns the initial sequence number for a connection between local
// and remote at time now.
func (g *ISNGenerator) ISN(local, remote netip.AddrPort, now time.Time) Seq {
	var buf [32 + 2*18]byte
	n := copy(buf[:], g.key[:])
	n += putAddrPort(buf[n:], local)
	n += putAddrPort(buf[n:], remote)
	sum := sha256.Sum256(buf[:n])
	m := uint32(now.Sub(g.epoch) / (4 * time.Microsecond))
	return Seq(m + binary.BigEndian.Uint32(sum[:4]))
}

func putAddrPort(b []byte, ap netip.AddrPort) int {
	a := ap.Addr().As16()
	copy(b, a[:])
	binary.BigEndian.PutUint16(b[16:], ap.Port())
	return 18
}
