package script

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// socket is a descriptor of the target's tiny socket layer.
type socket struct {
	listening bool
	backlog   []*endpoint // established connections not yet accepted
	ep        *endpoint   // the connection, once connecting or accepted
	nonblock  bool

	// Options set before the connection exists, applied when it does.
	noDelay        *bool
	rcvBuf, sndBuf int
	linger0        bool
	linger         [2]int // SO_LINGER's onoff and linger, as set
	congestion     string // TCP_CONGESTION before the connection exists, or ""
	keepalive      bool
	kaParams       tcp.Keepalive // TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT (keepalive.go)
	reuseAddr      bool
	maxSeg         int  // TCP_MAXSEG before the connection exists: the MSS it offers and takes
	errTaken       bool // the connection's error has been reported (SO_ERROR reads 0 after)
	rdShut         bool // shutdown(SHUT_RD): reads return 0 once the queue is empty

	ext sockExt // the options of sockopt.go
}

// apply sets the socket's options on a new connection.
func (s *socket) apply(c *tcp.Conn, now time.Time) {
	if s.noDelay != nil {
		c.SetNoDelay(*s.noDelay, now)
	}
	c.SetBufferSizes(s.rcvBuf, s.sndBuf)
	if s.keepalive {
		c.SetKeepalive(&s.kaParams, now)
	}
	s.ext.apply(c, now)
}

// pendingCall is a blocked call: it returns when try says so.
type pendingCall struct {
	line     int
	call     *Call
	end      time.Time // when the script says it returns
	deadline time.Time // end plus tolerance: later is a failure
	try      func() (done bool, ret int64, errno string)
	// wake, if set, is when try wants to be asked again though nothing
	// happened (a poll's timeout).
	wake time.Time
}

// errnoText gives the text Linux prints for the errno names we return.
var errnoText = map[string]string{
	"EAGAIN": "Resource temporarily unavailable", "EINPROGRESS": "Operation now in progress",
	"ECONNREFUSED": "Connection refused", "ECONNRESET": "Connection reset by peer",
	"ETIMEDOUT": "Connection timed out", "EPIPE": "Broken pipe", "ENOTCONN": "Transport endpoint is not connected",
	"EBADF": "Bad file descriptor", "EINVAL": "Invalid argument", "ECONNABORTED": "Software caused connection abort",
	"EISCONN": "Transport endpoint is already connected", "EALREADY": "Operation already in progress",
	"ENOPROTOOPT": "Protocol not available",
}

// errnoOf maps the engine's errors to the errno a socket returns.
func errnoOf(err error) string {
	switch {
	case errors.Is(err, tcp.ErrConnectionRefused):
		return "ECONNREFUSED"
	case errors.Is(err, tcp.ErrConnectionReset):
		return "ECONNRESET"
	case errors.Is(err, tcp.ErrTimedOut):
		return "ETIMEDOUT"
	case errors.Is(err, tcp.ErrConnectionAborted):
		return "ECONNABORTED"
	case errors.Is(err, tcp.ErrClosing):
		return "EPIPE"
	case errors.Is(err, tcp.ErrNotConnected):
		return "ENOTCONN"
	}
	return "EINVAL"
}

// call starts a socket call at x.now; it must return at end.
func (x *executor) call(ev *Event, end time.Time) {
	c := ev.Call
	try, err := x.start(c)
	if err != nil {
		x.failf(ev.Line, "%w", err)
		return
	}
	x.pending = &pendingCall{line: ev.Line, call: c, end: end, deadline: end.Add(x.tolerance(end)), try: try}
	x.retryPending()
}

// retryPending lets the blocked call return if it can now, and checks
// what and when it returned.
func (x *executor) retryPending() {
	p := x.pending
	if p == nil || x.err != nil {
		return
	}
	done, ret, errno := p.try()
	if !done {
		return
	}
	x.pending = nil
	c := p.call
	x.log("%s() = %d %s", c.Name, ret, errno)
	if err := c.Check(ret, errno); err != nil {
		x.failf(p.line, "%w", err)
		return
	}
	if err := x.pollErr; err != nil {
		x.pollErr = nil
		x.failf(p.line, "%w", err)
		return
	}
	if tol := x.tolerance(p.end); x.now.Before(p.end.Add(-tol)) {
		x.failf(p.line, "%w in %s: timing error: expected it to return at %s sec but it returned at %s sec; tolerance %s sec",
			ErrMismatch, c.Name, seconds(p.end), seconds(x.now), secs(tol))
	}
}

func withErrno(e string) string {
	if e == "" {
		return ""
	}
	return " with errno " + e
}

// waitPending runs timers until the blocked call returns or is late.
func (x *executor) waitPending() {
	p := x.pending
	x.fireUntil(p.deadline.Add(time.Nanosecond), func() bool { return x.pending == nil })
}

// now returns a try function that returns at once.
func now(ret int64, errno string) func() (bool, int64, string) {
	return func() (bool, int64, string) { return true, ret, errno }
}

func fail(errno string) func() (bool, int64, string) { return now(-1, errno) }

// start begins a call, returning how to tell when it is done.
func (x *executor) start(c *Call) (func() (bool, int64, string), error) {
	arg := func(i int) string {
		if i < len(c.Args) {
			return c.Args[i]
		}
		return "..."
	}
	if c.Name == "poll" {
		return x.poll(c)
	}
	if c.Name == "socket" {
		if c.Result < 0 {
			return nil, fmt.Errorf("%w: socket expected to fail", ErrUnsupported)
		}
		x.sockets[int(c.Result)] = &socket{nonblock: strings.Contains(arg(1), "SOCK_NONBLOCK")}
		return now(c.Result, ""), nil
	}
	fd, err := strconv.Atoi(arg(0))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: descriptor %q", ErrSyntax, c.Name, arg(0))
	}
	s := x.sockets[fd]
	if s == nil {
		return fail("EBADF"), nil
	}
	switch c.Name {
	case "bind":
		return now(0, ""), nil
	case "listen":
		s.listening = true
		return now(0, ""), nil
	case "accept":
		if !s.listening {
			return fail("EINVAL"), nil
		}
		return func() (bool, int64, string) {
			if len(s.backlog) == 0 {
				if s.nonblock {
					return true, -1, "EAGAIN"
				}
				return false, 0, ""
			}
			ep := s.backlog[0]
			s.backlog = s.backlog[1:]
			ep.listener = nil
			// The new socket has the listener's options (Linux
			// copies them when it clones the listener).
			child := &socket{
				ep: ep, noDelay: s.noDelay, rcvBuf: s.rcvBuf, sndBuf: s.sndBuf,
				linger0: s.linger0, linger: s.linger, keepalive: s.keepalive, kaParams: s.kaParams, reuseAddr: s.reuseAddr,
				maxSeg: s.maxSeg, congestion: s.congestion, ext: s.ext,
			}
			if c.Result >= 0 {
				x.sockets[int(c.Result)] = child
			}
			return true, c.Result, ""
		}, nil
	case "connect":
		if s.ep != nil {
			return x.connectAgain(s), nil
		}
		ep := x.open(s)
		s.ep = ep
		ep.conn.Connect(x.now)
		x.flush(ep)
		if s.nonblock {
			return fail("EINPROGRESS"), nil
		}
		return func() (bool, int64, string) {
			switch st := ep.conn.State(); {
			case st.Synchronized():
				return true, 0, ""
			case st == tcp.Closed:
				s.errTaken = true // the error is reported once, as SO_ERROR's would be (Linux)
				return true, -1, errnoOf(ep.conn.Err())
			}
			return false, 0, ""
		}, nil
	case "write", "send", "sendto":
		n, err := strconv.Atoi(arg(2))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s: length %q", ErrSyntax, c.Name, arg(2))
		}
		return x.write(s, n, s.nonblock || dontWait(c), hasFlag(c, "MSG_MORE")), nil
	case "read", "recv", "recvfrom":
		n, err := strconv.Atoi(arg(2))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s: length %q", ErrSyntax, c.Name, arg(2))
		}
		return x.read(s, n, s.nonblock || dontWait(c), hasFlag(c, "MSG_PEEK")), nil
	case "writev", "readv":
		lens, err := IovecLengths(arg(1))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrSyntax, c.Name, err)
		}
		n := 0
		for _, k := range lens {
			n += k
		}
		if c.Name == "writev" {
			return x.write(s, n, s.nonblock, false), nil
		}
		return x.read(s, n, s.nonblock, false), nil
	case "sendmsg", "recvmsg":
		return x.msgCall(s, c) // sockopt.go
	case "ioctl":
		return x.ioctl(s, c)
	case "close":
		delete(x.sockets, fd)
		switch {
		case s.listening:
			// Connections never accepted are reset, as Linux does.
			for _, ep := range s.backlog {
				ep.conn.Abort(x.now)
				x.flush(ep)
			}
			// Those still in their handshake are forgotten, without a
			// word (Linux drops its request sockets): the peer's ACK
			// then finds no connection and is answered with a RST.
			for _, ep := range append([]*endpoint(nil), x.eps...) {
				if ep.listener == s && !ep.queued {
					x.drop(ep)
				}
			}
		case s.ep != nil && s.linger0:
			// SO_LINGER with a zero timeout: abort (RFC 9293 §3.10.5).
			s.ep.conn.Abort(x.now)
			x.flush(s.ep)
		case s.ep != nil && s.ep.conn.Buffered() > 0:
			// Received data nobody will read: RFC 1122 §4.2.2.13 says a
			// RST SHOULD tell the peer it was lost (as Linux does).
			s.ep.conn.Abort(x.now)
			x.flush(s.ep)
		case s.ep != nil:
			s.ep.conn.Close(x.now)
			s.ep.conn.Orphan(x.now) // no one reads it now: FIN_WAIT_2 is bounded (TCP_LINGER2)
			x.flush(s.ep)
		}
		return now(0, ""), nil
	case "shutdown":
		if s.ep == nil {
			return fail("ENOTCONN"), nil
		}
		how := arg(1)
		if how != "SHUT_RD" && how != "SHUT_WR" && how != "SHUT_RDWR" {
			return nil, fmt.Errorf("%w: shutdown how %q", ErrSyntax, how)
		}
		if how == "SHUT_RD" || how == "SHUT_RDWR" {
			// Nothing is sent (RFC 9293 has no receive-side close);
			// data queued, or arriving later, is still read, and
			// then reads return 0 (Linux).
			s.rdShut = true
		}
		if how == "SHUT_WR" || how == "SHUT_RDWR" {
			// A half-close: our FIN; reading goes on (RFC 9293 §3.10.4).
			if err := s.ep.conn.Close(x.now); err != nil {
				return fail(errnoOf(err)), nil
			}
			x.flush(s.ep)
		}
		return now(0, ""), nil
	case "setsockopt":
		return x.setsockopt(s, c)
	case "getsockopt":
		return x.getsockopt(s, c)
	case "fcntl":
		switch arg(1) {
		case "F_GETFL":
			fl := int64(0x2) // O_RDWR
			if s.nonblock {
				fl |= 0x800 // O_NONBLOCK
			}
			return now(fl, ""), nil
		case "F_SETFL":
			s.nonblock = strings.Contains(arg(2), "O_NONBLOCK")
			return now(0, ""), nil
		}
		return nil, fmt.Errorf("%w: fcntl %s", ErrUnsupported, arg(1))
	}
	return nil, fmt.Errorf("%w: system call %s", ErrUnsupported, c.Name)
}

// connectAgain is connect on a socket already connecting: the result of
// a non-blocking connect.
func (x *executor) connectAgain(s *socket) func() (bool, int64, string) {
	switch st := s.ep.conn.State(); {
	case st.Synchronized():
		return fail("EISCONN")
	case st == tcp.Closed:
		s.errTaken = true
		return fail(errnoOf(s.ep.conn.Err()))
	}
	return fail("EALREADY")
}

// hasFlag reports whether a send or recv call's flags (its fourth
// argument, "MSG_PEEK|MSG_DONTWAIT") include flag.
func hasFlag(c *Call, flag string) bool {
	if len(c.Args) < 4 {
		return false
	}
	for _, f := range strings.Split(c.Args[3], "|") {
		if strings.TrimSpace(f) == flag {
			return true
		}
	}
	return false
}

// dontWait reports whether a send or recv has MSG_DONTWAIT: that call
// does not block.
func dontWait(c *Call) bool { return hasFlag(c, "MSG_DONTWAIT") }

// enclosed returns s, trimmed, without its opening and closing
// brackets, and whether it had them.
func enclosed(s, open, close string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < len(open)+len(close) || !strings.HasPrefix(s, open) || !strings.HasSuffix(s, close) {
		return "", false
	}
	return s[len(open) : len(s)-len(close)], true
}

// IovecLengths reads the lengths of an iovec list, as writev and readv
// take it: "[{..., 100}, {..., 200}]".
func IovecLengths(list string) ([]int, error) {
	in, ok := enclosed(list, "[", "]")
	if !ok {
		return nil, fmt.Errorf("iovec list %q", list)
	}
	var lens []int
	total := 0
	for _, v := range splitArgs(in) {
		body, ok := enclosed(v, "{", "}")
		if !ok {
			return nil, fmt.Errorf("iovec %q", v)
		}
		parts := splitArgs(body)
		if len(parts) != 2 {
			return nil, fmt.Errorf("iovec %q", v)
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 0 || n > 1<<30-total {
			return nil, fmt.Errorf("iovec %q", v)
		}
		lens, total = append(lens, n), total+n
	}
	return lens, nil
}

// ParseLinger reads SO_LINGER's value "{onoff=1, linger=0}".
func ParseLinger(v string) (onoff, linger int, err error) {
	body, ok := enclosed(v, "{", "}")
	if !ok {
		return 0, 0, fmt.Errorf("SO_LINGER value %q", v)
	}
	seen := 0
	for _, f := range strings.Split(body, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(f), "=")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return 0, 0, fmt.Errorf("SO_LINGER value %q", v)
		}
		switch strings.TrimSpace(k) {
		case "onoff":
			onoff, seen = n, seen|1
		case "linger":
			linger, seen = n, seen|2
		default:
			return 0, 0, fmt.Errorf("SO_LINGER value %q", v)
		}
	}
	if seen != 3 {
		return 0, 0, fmt.Errorf("SO_LINGER value %q", v)
	}
	return onoff, linger, nil
}

// write queues n bytes, blocking (unless nonblock) until all fit.
// With more (MSG_MORE) a partial segment waits for what follows
// (tcp.Conn.WriteMore).
func (x *executor) write(s *socket, n int, nonblock, more bool) func() (bool, int64, string) {
	if s.ep == nil {
		return fail("EPIPE")
	}
	done := 0
	return func() (bool, int64, string) {
		for done < n {
			w := s.ep.conn.Write
			if more {
				w = s.ep.conn.WriteMore
			}
			k, err := w(make([]byte, n-done), x.now)
			done += k
			if err != nil {
				if done > 0 {
					return true, int64(done), ""
				}
				return true, -1, s.writeErrno(err)
			}
			if k == 0 {
				break
			}
		}
		x.out = append(x.out, x.drain(s.ep, x.now)...)
		switch {
		case done == n:
			return true, int64(n), ""
		case nonblock && done > 0:
			return true, int64(done), ""
		case nonblock:
			return true, -1, "EAGAIN"
		}
		return false, 0, ""
	}
}

// read returns up to n bytes, blocking (unless nonblock) until some
// arrive or the peer's FIN does (0).
// With peek (MSG_PEEK) the bytes stay queued: a script's payloads are
// zeros, so the count is all a peek has to give.
func (x *executor) read(s *socket, n int, nonblock, peek bool) func() (bool, int64, string) {
	if s.ep == nil {
		return fail("ENOTCONN")
	}
	buf := make([]byte, n)
	return func() (bool, int64, string) {
		if k := s.ep.conn.Buffered(); peek && k > 0 {
			return true, int64(min(k, n)), ""
		}
		k, err := s.ep.conn.Read(buf, x.now)
		x.out = append(x.out, x.drain(s.ep, x.now)...)
		switch {
		case k > 0:
			return true, int64(k), ""
		case err == io.EOF:
			return true, 0, ""
		case err != nil && s.ep.conn.Err() != nil:
			// The connection ended with an error: Linux's tcp_recvmsg
			// reports it once (sock_error clears sk_err), then finds
			// the receive side shut (tcp_done) and returns 0.
			if e := s.takeErr(); e != "" {
				return true, -1, e
			}
			return true, 0, ""
		case s.rdShut:
			return true, 0, "" // shutdown(SHUT_RD) and nothing queued
		case err != nil:
			return true, -1, errnoOf(err)
		case nonblock:
			return true, -1, "EAGAIN"
		}
		return false, 0, ""
	}
}

// takeErr returns the errno of the connection's error, once: the call
// that reports it (read, write, connect, getsockopt SO_ERROR) clears it,
// as Linux's sock_error clears sk_err. It is "" if there is none, or it
// was reported already.
func (s *socket) takeErr() string {
	if s.ep == nil || s.ep.conn.Err() == nil || s.errTaken {
		return ""
	}
	s.errTaken = true
	return errnoOf(s.ep.conn.Err())
}

// writeErrno is the errno of a write the engine refused with err. A
// connection that ended with an error reports it once, before anything
// else (Linux's tcp_sendmsg: sk_stream_wait_connect and sk_stream_error
// take sk_err first); once it is reported, the socket is dead and
// every write fails with EPIPE.
func (s *socket) writeErrno(err error) string {
	if s.ep.conn.Err() == nil {
		return errnoOf(err)
	}
	if e := s.takeErr(); e != "" {
		return e
	}
	return "EPIPE"
}

// drain takes what a call inside a try sent (a window update, data);
// events are left for the next flush.
func (x *executor) drain(ep *endpoint, at time.Time) []sent {
	var out []sent
	for _, seg := range ep.conn.Outgoing() {
		seg.Payload = make([]byte, len(seg.Payload))
		out = append(out, x.sent(seg, at))
	}
	return out
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ioctl answers SIOCINQ (bytes ready to read) and SIOCOUTQ (bytes
// written and not yet acknowledged), comparing the value with the
// script's "[N]" as getsockopt does.
func (x *executor) ioctl(s *socket, c *Call) (func() (bool, int64, string), error) {
	if len(c.Args) < 3 {
		return nil, fmt.Errorf("%w: ioctl needs 3 arguments", ErrSyntax)
	}
	if s.listening {
		return fail("EINVAL"), nil // Linux: no queue to measure
	}
	got := 0
	if s.ep != nil {
		switch c.Args[1] {
		case "SIOCINQ", "FIONREAD":
			got = s.ep.conn.Buffered()
		default:
			got = s.ep.conn.Stats().SendQueue
		}
	}
	if want := strings.Trim(c.Args[2], "[] "); want != "..." && want != strconv.Itoa(got) {
		return nil, fmt.Errorf("%w in ioctl %s: expected value %s but got %d", ErrMismatch, c.Args[1], want, got)
	}
	return now(0, ""), nil
}

// intArg reads "[N]" or "N".
func intArg(a string) (int, bool) {
	v, err := strconv.Atoi(strings.Trim(a, "[] "))
	return v, err == nil
}

func (x *executor) setsockopt(s *socket, c *Call) (func() (bool, int64, string), error) {
	if len(c.Args) < 4 {
		return nil, fmt.Errorf("%w: setsockopt needs 4 or 5 arguments", ErrSyntax)
	}
	if try, ok, err := x.setsockoptExt(s, c); ok { // sockopt.go
		return try, err
	}
	name, val := c.Args[2], c.Args[3]
	var conn *tcp.Conn
	if s.ep != nil {
		conn = s.ep.conn
	}
	switch name {
	case "SO_LINGER":
		on, secs, err := ParseLinger(val)
		if err != nil {
			return nil, fmt.Errorf("%w: setsockopt %w", ErrSyntax, err)
		}
		s.linger = [2]int{on, secs}
		s.linger0 = on != 0 && secs == 0
		return now(0, ""), nil
	case "TCP_CONGESTION":
		return x.setCongestion(s, c, strings.Trim(val, `"`))
	}
	n, ok := intArg(val)
	if !ok {
		return nil, fmt.Errorf("%w: setsockopt %s value %q", ErrSyntax, name, val)
	}
	if try, ok := x.setKeepaliveOption(s, name, n); ok {
		return try, nil
	}
	switch name {
	case "TCP_NODELAY":
		on := n != 0
		s.noDelay = &on
		if conn != nil {
			conn.SetNoDelay(on, x.now)
		}
	case "SO_REUSEADDR":
		s.reuseAddr = n != 0
		return now(0, ""), nil
	case "TCP_MAXSEG":
		// Linux takes 88 (TCP_MIN_MSS) to 32767 (MAX_TCP_WINDOW), and
		// only before the handshake changes what is offered.
		if n < 88 || n > 32767 {
			return fail("EINVAL"), nil
		}
		if conn != nil {
			return nil, fmt.Errorf("%w: setsockopt TCP_MAXSEG on a connection", ErrUnsupported)
		}
		s.maxSeg = n
		return now(0, ""), nil
	case "SO_RCVBUF":
		s.rcvBuf = n
	case "SO_SNDBUF":
		s.sndBuf = n
	case "SO_KEEPALIVE":
		s.keepalive = n != 0
		if conn != nil {
			if s.keepalive {
				conn.SetKeepalive(&s.kaParams, x.now)
			} else {
				conn.SetKeepalive(nil, x.now)
			}
		}
	}
	if conn != nil {
		conn.SetBufferSizes(s.rcvBuf, s.sndBuf)
		x.flush(s.ep)
	}
	return now(0, ""), nil
}

func (x *executor) getsockopt(s *socket, c *Call) (func() (bool, int64, string), error) {
	if len(c.Args) < 4 {
		return nil, fmt.Errorf("%w: getsockopt needs 5 arguments", ErrSyntax)
	}
	if try, ok, err := x.getsockoptExt(s, c); ok { // sockopt.go
		return try, err
	}
	name, want := c.Args[2], strings.Trim(c.Args[3], "[] ")
	var got string
	switch name {
	case "SO_LINGER":
		on, secs, err := ParseLinger(c.Args[3])
		if err != nil {
			return nil, fmt.Errorf("%w: getsockopt %w", ErrSyntax, err)
		}
		if [2]int{on, secs} != s.linger {
			return nil, fmt.Errorf("%w in getsockopt SO_LINGER: expected value %s but got {onoff=%d, linger=%d}",
				ErrMismatch, c.Args[3], s.linger[0], s.linger[1])
		}
		return now(0, ""), nil
	case "TCP_CONGESTION":
		want, got = strings.Trim(want, `"`), x.congestionOf(s)
	case "SO_ERROR":
		// A pending error is reported once: by the call that fails with
		// it, or else here, which clears it (as Linux's sock_error).
		got = cmp.Or(s.takeErr(), "0")
	case "TCP_NODELAY":
		got = boolValue(s.noDelay != nil && *s.noDelay)
	case "SO_KEEPALIVE":
		got = boolValue(s.keepalive)
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT":
		got, _ = keepaliveOptionValue(s, name)
	case "SO_REUSEADDR":
		got = boolValue(s.reuseAddr)
	case "TCP_MAXSEG":
		// Linux: the MSS in use once connected (options taken off);
		// before, the one set, or 536 (RFC 9293 §3.7.1's default).
		switch {
		case s.ep != nil && s.ep.conn.State().Synchronized():
			got = strconv.Itoa(s.ep.conn.Stats().MSS)
		case s.maxSeg != 0:
			got = strconv.Itoa(s.maxSeg)
		default:
			got = "536"
		}
	default:
		return nil, fmt.Errorf("%w: getsockopt %s", ErrUnsupported, name)
	}
	if want != "..." && want != got {
		return nil, fmt.Errorf("%w in getsockopt %s: expected value %s but got %s", ErrMismatch, name, want, got)
	}
	return now(0, ""), nil
}
