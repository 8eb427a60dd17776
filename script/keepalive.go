package script

import (
	"strconv"
	"time"

	"github.com/seqack/seqack/tcp"
)

// keepaliveOption is a keepalive socket option of Linux's (TCP_KEEPIDLE,
// TCP_KEEPINTVL in seconds, TCP_KEEPCNT a count): the largest value it
// takes (the least is 1) and the tcp.Keepalive field it sets.
type keepaliveOption struct {
	max   int
	field func(k *tcp.Keepalive) (d *time.Duration, n *int)
}

// keepaliveOptions are the options RFC 1122 §4.2.3.6's keepalive
// settings are set by, with Linux's bounds (MAX_TCP_KEEPIDLE,
// MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT).
var keepaliveOptions = map[string]keepaliveOption{
	"TCP_KEEPIDLE":  {32767, func(k *tcp.Keepalive) (*time.Duration, *int) { return &k.Idle, nil }},
	"TCP_KEEPINTVL": {32767, func(k *tcp.Keepalive) (*time.Duration, *int) { return &k.Interval, nil }},
	"TCP_KEEPCNT":   {127, func(k *tcp.Keepalive) (*time.Duration, *int) { return nil, &k.Count }},
}

// setKeepaliveOption sets a keepalive option to n on s, and on its
// connection if keepalive is on (which starts the idle period again);
// ok is false if name is not a keepalive option.
func (x *executor) setKeepaliveOption(s *socket, name string, n int) (try func() (bool, int64, string), ok bool) {
	o, ok := keepaliveOptions[name]
	if !ok {
		return nil, false
	}
	if n < 1 || n > o.max {
		return fail("EINVAL"), true
	}
	if d, c := o.field(&s.kaParams); d != nil {
		*d = time.Duration(n) * time.Second
	} else {
		*c = n
	}
	if s.ep != nil && s.keepalive {
		s.ep.conn.SetKeepalive(&s.kaParams, x.now)
		x.flush(s.ep)
	}
	return now(0, ""), true
}

// keepaliveOptionValue is getsockopt of a keepalive option: the value
// set, or Linux's default (tcp_keepalive_time, _intvl, _probes); ok is
// false if name is not a keepalive option.
func keepaliveOptionValue(s *socket, name string) (v string, ok bool) {
	o, ok := keepaliveOptions[name]
	if !ok {
		return "", false
	}
	k := s.kaParams
	defaults := tcp.Keepalive{Idle: tcp.DefaultKeepaliveIdle, Interval: tcp.DefaultKeepaliveInterval, Count: tcp.DefaultKeepaliveCount}
	d, c := o.field(&k)
	dd, dc := o.field(&defaults)
	switch {
	case d != nil && *d == 0:
		return strconv.Itoa(int(*dd / time.Second)), true
	case d != nil:
		return strconv.Itoa(int(*d / time.Second)), true
	case *c == 0:
		return strconv.Itoa(*dc), true
	}
	return strconv.Itoa(*c), true
}
