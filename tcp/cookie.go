package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/seqack/seqack/wire"
)

// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
// SYN+ACK carries the connection's state in its initial sequence number
// instead of in memory, and the ACK that completes the handshake brings
// it back. The ISS is
//
//	[5 bits: minutes counter][3 bits: MSS index][24 bits: keyed hash]
//
// where the hash covers the key, the 4-tuple, the counter and the
// client's ISN, so that only a client that received our SYN+ACK can
// complete the handshake, within two minutes. Window scale and
// SACK-permitted ride in the low 6 bits of our TSval when the client
// sent timestamps (as Linux does); without timestamps they are lost,
// as in Linux.

// cookieMSS are the MSS values a cookie can carry: the largest not above
// the client's is chosen.
var cookieMSS = [8]uint16{536, 1220, 1440, 1460, 4312, 8960, 16344, 65495}

// cookiePeriod is how long a cookie's counter ticks; a cookie is good for
// its own and the previous period.
const cookiePeriod = 64 * time.Second

// CookieJar makes and checks SYN cookies with a secret key.
type CookieJar struct {
	key [32]byte
}

// NewCookieJar returns a jar with the given secret key (take it from
// crypto/rand).
func NewCookieJar(key []byte) *CookieJar { return &CookieJar{key: sha256.Sum256(key)} }

func (j *CookieJar) hash(local, remote netip.AddrPort, count uint32, peerISN Seq) uint32 {
	var buf [32 + 2*18 + 8]byte
	n := copy(buf[:], j.key[:])
	n += putAddrPort(buf[n:], local)
	n += putAddrPort(buf[n:], remote)
	binary.BigEndian.PutUint32(buf[n:], count)
	binary.BigEndian.PutUint32(buf[n+4:], uint32(peerISN))
	sum := sha256.Sum256(buf[:n+8])
	return binary.BigEndian.Uint32(sum[:4]) & 0xffffff
}

// SynAck returns the stateless SYN+ACK answering syn, with a cookie as
// its ISS and the options cfg allows (RFC 4987 §3.6).
func (j *CookieJar) SynAck(cfg *Config, syn *Segment, local, remote netip.AddrPort, now time.Time) Segment {
	if cfg == nil {
		cfg = &defaultConfig
	}
	peerMSS := uint16(defaultPeerMSS)
	if syn.Options.HasMSS && syn.Options.MSS > 0 {
		peerMSS = syn.Options.MSS
	}
	idx := 0
	for i, m := range cookieMSS {
		if m <= peerMSS && m <= cfg.mss() {
			idx = i
		}
	}
	count := uint32(now.Unix() / int64(cookiePeriod/time.Second))
	iss := Seq(count&0x1f<<27 | uint32(idx)<<24 | j.hash(local, remote, count, syn.Seq))
	buf := cfg.receiveBufferSize()
	seg := Segment{Seq: iss, Ack: syn.Seq + 1, Flags: wire.FlagSYN | wire.FlagACK, Window: uint16(min(buf, 0xffff))}
	seg.Options.MSS, seg.Options.HasMSS = cfg.mss(), true
	if cfg.timestamps() && syn.Options.HasTimestamps {
		// The low 6 bits of TSval keep what the client offered: window
		// scale (0–14, 15 for none) and SACK-permitted.
		bits := uint32(15)
		if syn.Options.HasWindowScale {
			bits = uint32(min(syn.Options.WindowScale, maxWindowShift))
			seg.Options.WindowScale, seg.Options.HasWindowScale = windowShift(max(buf, cfg.maxReceiveBufferSize())), true
		}
		if syn.Options.SACKPermitted && cfg.sack() {
			bits |= 1 << 4
			seg.Options.SACKPermitted = true
		}
		// The clock is the one the connection will have (its ISS plus
		// milliseconds, see tick), started 64 ms back, so that the
		// TSvals after this one never go backwards (PAWS at the client).
		seg.Options.TSVal = uint32(iss)&^0x3f | bits
		seg.Options.TSEcr, seg.Options.HasTimestamps = syn.Options.TSVal, true
	}
	return seg
}

// Cookie is the state a valid cookie brought back.
type Cookie struct {
	ISS, IRS    Seq
	MSS         uint16
	WindowScale int  // the client's shift, or -1 without scaling
	SACK        bool // both sides permit SACK
	Timestamps  bool
	TSRecent    uint32 // the client's TSval in the ACK
}

// Check reports whether ack (a segment with only ACK among SYN, ACK and
// RST) completes a handshake whose SYN+ACK carried a cookie, and what
// the cookie held.
func (j *CookieJar) Check(cfg *Config, ack *Segment, local, remote netip.AddrPort, now time.Time) (Cookie, bool) {
	if cfg == nil {
		cfg = &defaultConfig
	}
	if ack.Flags&(wire.FlagSYN|wire.FlagACK|wire.FlagRST) != wire.FlagACK {
		return Cookie{}, false
	}
	iss, irs := ack.Ack-1, ack.Seq-1
	cookie := uint32(iss)
	count := uint32(now.Unix() / int64(cookiePeriod/time.Second))
	for _, c := range []uint32{count, count - 1} {
		if c&0x1f != cookie>>27 || j.hash(local, remote, c, irs) != cookie&0xffffff {
			continue
		}
		k := Cookie{ISS: iss, IRS: irs, MSS: cookieMSS[cookie>>24&7], WindowScale: -1}
		if o := ack.Options; cfg.timestamps() && o.HasTimestamps {
			bits := o.TSEcr & 0x3f
			if ws := int(bits & 0xf); ws != 15 {
				k.WindowScale = ws
			}
			k.SACK = bits&(1<<4) != 0 && cfg.sack()
			k.Timestamps, k.TSRecent = true, o.TSVal
		}
		return k, true
	}
	return Cookie{}, false
}

// NewConnFromCookie returns the ESTABLISHED connection a valid cookie
// describes, then processes the ACK that brought it (which may carry
// data).
func NewConnFromCookie(cfg *Config, k Cookie, ack *Segment, now time.Time) *Conn {
	c := NewConn(cfg, k.ISS)
	c.passive = true
	c.at(now.Add(-64 * time.Millisecond)) // the TSval clock runs ahead of the cookie's (see SynAck)
	c.tick(now)
	c.openSend(k.ISS)
	c.sndUna, c.sndNxt, c.sndMax = k.ISS+1, k.ISS+1, k.ISS+1
	c.irs, c.rcvNxt = k.IRS, k.IRS+1
	c.rcvRight = c.rcvNxt.Add(uint32(min(c.rcvBufSize(), 0xffff))) // the SYN+ACK's unscaled window
	c.lastAckSent = c.rcvNxt
	c.peerMSS = k.MSS
	if k.WindowScale >= 0 {
		c.scaling = true
		c.sndShift = uint8(k.WindowScale)
		c.rcvShift = windowShift(c.rcvBufCeiling())
	}
	c.setSACK(k.SACK)
	c.tsOK, c.tsRecent = k.Timestamps && c.cfg.timestamps(), k.TSRecent
	c.updateWindow(ack)
	c.state = Established
	c.quickAcks = maxQuickAcks
	c.events |= EventEstablished | EventWritable
	if len(ack.Payload) > 0 || ack.Flags.Has(wire.FlagFIN) {
		c.Input(ack, now)
	}
	return c
}
