package stack

import (
	"net/netip"
	"time"

	"github.com/seqack/seqack/tcp"
)

// actionNames name the actions for the tests.
var actionNames = [...]string{
	actDrop:   "drop",
	actConn:   "conn",
	actOpened: "opened",
	actReply:  "reply",
	actCookie: "cookie",
	actReset:  "reset",
}

// Demux makes, at time now, the decision deliverTCP makes for seg from
// remote to local, without sending anything, and names it: "drop",
// "conn", "opened", "reply", "cookie" or "reset". For "cookie" it also
// returns the SYN+ACK that would carry the cookie.
func (s *Stack) Demux(local, remote netip.AddrPort, seg *tcp.Segment, now time.Time) (string, tcp.Segment) {
	t := tuple{local, remote}
	s.mu.Lock()
	v := s.demux(t, seg, now)
	s.mu.Unlock()
	var synAck tcp.Segment
	if v.act == actCookie {
		synAck = s.cookies.SynAck(v.cfg, seg, local, remote, now)
	}
	return actionNames[v.act], synAck
}

// CookieFor returns the SYN+ACK a cookie for syn would be sent in at
// now, without the listener having sent it: what a blind attacker would
// have to guess.
func (s *Stack) CookieFor(local, remote netip.AddrPort, syn *tcp.Segment, now time.Time) tcp.Segment {
	return s.cookies.SynAck(nil, syn, local, remote, now)
}
