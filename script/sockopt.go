package script

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// sockopt.go: the socket options beyond the first few (TCP_CORK,
// TCP_USER_TIMEOUT, TCP_DEFER_ACCEPT, TCP_LINGER2, IP_TOS,
// IP_MTU_DISCOVER, TCP_INFO, the buffer sizes as getsockopt reports
// them), the checks of option lengths, and sendmsg/recvmsg with
// packetdrill's msghdr, on the seqack target. Values and errors are
// Linux's (tcp(7), ip(7), socket(7)), measured on the kernel the Linux
// target runs.

// ExtraOptions are the socket options of sockopt.go, by name: true if
// setsockopt takes them (TCP_INFO is read only).
var ExtraOptions = map[string]bool{
	"TCP_CORK": true, "TCP_USER_TIMEOUT": true, "TCP_DEFER_ACCEPT": true, "TCP_LINGER2": true,
	"IP_TOS": true, "IP_MTU_DISCOVER": true, "SO_SNDBUF": true, "SO_RCVBUF": true, "TCP_INFO": false,
}

// Linux's values the options are measured against.
const (
	// linuxFinTimeout is tcp_fin_timeout's default, what TCP_LINGER2
	// reads unless set; linuxMaxLinger2 the most it takes (TCP_FIN_TIMEOUT_MAX).
	linuxFinTimeout = 60
	linuxMaxLinger2 = 120
	// Linux's SYN+ACK timeouts, in seconds, from which TCP_DEFER_ACCEPT
	// counts rounds: the first (TCP_TIMEOUT_INIT) and the most (TCP_RTO_MAX).
	linuxTimeoutInit = 1
	linuxRTOMax      = 120
	// A buffer size set is doubled (for the kernel's bookkeeping), at
	// most net.core.[rw]mem_max (4 MiB on the target's kernel) and at
	// least SOCK_MIN_SNDBUF or SOCK_MIN_RCVBUF.
	linuxMemMax    = 4 << 20
	linuxMinSndBuf = 4608
	linuxMinRcvBuf = 2304
	// The buffer sizes a socket reports before one is set: tcp_wmem's
	// and tcp_rmem's defaults (the Linux target sets tcp_rmem's).
	linuxSndBuf = 16384
	linuxRcvBuf = 131072
	// ipPMTUDiscWant is IP_MTU_DISCOVER's default, IP_PMTUDISC_WANT;
	// IP_PMTUDISC_OMIT (5) is the largest value taken.
	ipPMTUDiscWant = 1
	ipPMTUDiscMax  = 5
)

// PMTUDiscNames are the IP_MTU_DISCOVER values by name (ip(7)).
var PMTUDiscNames = map[string]int{
	"IP_PMTUDISC_DONT": 0, "IP_PMTUDISC_WANT": 1, "IP_PMTUDISC_DO": 2,
	"IP_PMTUDISC_PROBE": 3, "IP_PMTUDISC_INTERFACE": 4, "IP_PMTUDISC_OMIT": 5,
}

// sockExt holds a socket's options of sockopt.go, as set; a listener's
// are inherited by what it accepts, as Linux clones them.
type sockExt struct {
	cork        bool
	userTimeout int   // TCP_USER_TIMEOUT, in ms
	deferRounds uint8 // TCP_DEFER_ACCEPT, in SYN+ACK timeouts
	linger2     int   // TCP_LINGER2 in seconds: 0 unset, -1 set negative
	tos         int   // IP_TOS, without the ECN bits
	pmtuDisc    int   // IP_MTU_DISCOVER, less ipPMTUDiscWant (so that 0 is the default)
	// sndBuf and rcvBuf are what getsockopt reports once set, or 0.
	sndBuf, rcvBuf int
}

// apply sets the options on a new connection.
func (e *sockExt) apply(c *tcp.Conn, now time.Time) {
	if e.cork {
		c.SetCork(true, now)
	}
	c.SetUserTimeout(time.Duration(e.userTimeout) * time.Millisecond)
	if e.linger2 != 0 {
		c.SetFinWait2Timeout(time.Duration(e.linger2) * time.Second) // -1 s: reset
	}
	if e.deferRounds > 0 {
		c.SetDeferAccept(time.Duration(DeferAcceptSeconds(e.deferRounds)) * time.Second)
	}
}

// DeferAcceptRounds is Linux's secs_to_retrans for TCP_DEFER_ACCEPT's
// seconds: the engine's own (tcp.DeferAcceptRounds) over Linux's
// SYN+ACK timeouts.
func DeferAcceptRounds(secs int) uint8 {
	return tcp.DeferAcceptRounds(time.Duration(secs)*time.Second, linuxTimeoutInit*time.Second, linuxRTOMax*time.Second)
}

// DeferAcceptSeconds is Linux's retrans_to_secs: what getsockopt
// TCP_DEFER_ACCEPT reads after rounds were set.
func DeferAcceptSeconds(rounds uint8) int {
	if rounds == 0 {
		return 0
	}
	timeout, period := linuxTimeoutInit, linuxTimeoutInit
	for ; rounds > 1; rounds-- {
		timeout = min(2*timeout, linuxRTOMax)
		period += timeout
	}
	return period
}

// OptionValue reads an option's integer value: "[N]" or "N", in
// decimal or in hexadecimal with 0x, or an IP_PMTUDISC_* name.
func OptionValue(v string) (int, error) {
	v = strings.Trim(v, "[] ")
	if n, ok := PMTUDiscNames[v]; ok {
		return n, nil
	}
	n, err := strconv.ParseInt(v, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("option value %q", v)
	}
	return int(n), nil
}

// OptionLength reads the length argument of c (setsockopt's optlen, or
// getsockopt's "[N]"), if given as a number.
func OptionLength(c *Call) (n int, ok bool) {
	if len(c.Args) < 5 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.Trim(c.Args[4], "[] "))
	return n, err == nil
}

// ShortOption reports whether setsockopt's length is too short for the
// option: an int for options of SOL_TCP and SOL_SOCKET; IP_TOS and
// IP_MTU_DISCOVER take a single byte as well (ip(7)).
func ShortOption(c *Call) bool {
	n, ok := OptionLength(c)
	if !ok || len(c.Args) < 3 {
		return false
	}
	if strings.HasPrefix(c.Args[2], "IP_") {
		return n < 1
	}
	return n < 4
}

// NumericOption reports whether an option is named by a number: one the
// runner does not know, which Linux answers with ENOPROTOOPT.
func NumericOption(name string) bool {
	_, err := strconv.Atoi(name)
	return err == nil
}

// LinuxBufferSize is what getsockopt SO_SNDBUF (send) or SO_RCVBUF
// reads after setsockopt set v: doubled, within the kernel's bounds
// (socket(7)).
func LinuxBufferSize(v int, send bool) int {
	least := linuxMinRcvBuf
	if send {
		least = linuxMinSndBuf
	}
	return max(min(max(v, 0), linuxMemMax)*2, least)
}

// setsockoptExt is setsockopt for the options of sockopt.go and the
// checks every option gets; handled false leaves c to setsockopt.
func (x *executor) setsockoptExt(s *socket, c *Call) (try func() (bool, int64, string), handled bool, err error) {
	if len(c.Args) < 4 {
		return nil, false, nil
	}
	name := c.Args[2]
	switch {
	case NumericOption(name):
		return fail("ENOPROTOOPT"), true, nil
	case ShortOption(c):
		return fail("EINVAL"), true, nil
	case !ExtraOptions[name]:
		return nil, false, nil // setsockopt's, or TCP_INFO (read only: not known there either)
	}
	v, err := OptionValue(c.Args[3])
	if err != nil {
		return nil, true, fmt.Errorf("%w: setsockopt %s: %w", ErrSyntax, name, err)
	}
	var conn *tcp.Conn
	if s.ep != nil {
		conn = s.ep.conn
	}
	e := &s.ext
	switch name {
	case "SO_SNDBUF":
		e.sndBuf = LinuxBufferSize(v, true)
		return nil, false, nil // the size itself is setsockopt's
	case "SO_RCVBUF":
		e.rcvBuf = LinuxBufferSize(v, false)
		return nil, false, nil
	case "TCP_CORK":
		e.cork = v != 0
		if conn != nil {
			conn.SetCork(e.cork, x.now)
		}
	case "TCP_USER_TIMEOUT":
		if v < 0 {
			return fail("EINVAL"), true, nil
		}
		e.userTimeout = v
		if conn != nil {
			conn.SetUserTimeout(time.Duration(v) * time.Millisecond)
		}
	case "TCP_DEFER_ACCEPT":
		e.deferRounds = DeferAcceptRounds(v)
	case "TCP_LINGER2":
		// Negative: an orphan reaching FIN_WAIT_2 is reset.
		e.linger2 = max(min(v, linuxMaxLinger2), -1)
		if conn != nil {
			conn.SetFinWait2Timeout(time.Duration(e.linger2) * time.Second)
		}
	case "IP_TOS":
		// The ECN bits are TCP's to set (RFC 3168 §6.1.1): Linux keeps
		// them out of a stream socket's TOS.
		e.tos = v & 0xfc
	case "IP_MTU_DISCOVER":
		if v < 0 || v > ipPMTUDiscMax {
			return fail("EINVAL"), true, nil
		}
		e.pmtuDisc = v - ipPMTUDiscWant
	}
	if conn != nil {
		x.flush(s.ep)
	}
	return now(0, ""), true, nil
}

// getsockoptExt is getsockopt for the options of sockopt.go; handled
// false leaves c to getsockopt.
func (x *executor) getsockoptExt(s *socket, c *Call) (try func() (bool, int64, string), handled bool, err error) {
	if len(c.Args) < 4 {
		return nil, false, nil
	}
	name := c.Args[2]
	if NumericOption(name) {
		return fail("ENOPROTOOPT"), true, nil
	}
	if n, ok := OptionLength(c); ok && n < 0 {
		return fail("EINVAL"), true, nil
	}
	if _, ok := ExtraOptions[name]; !ok {
		return nil, false, nil
	}
	e := &s.ext
	var got int
	switch name {
	case "TCP_INFO":
		// The structure is for inline Python to read (%{ }%): the call
		// itself returns 0.
		return now(0, ""), true, nil
	case "SO_SNDBUF":
		got = e.sndBuf
		if got == 0 {
			got = cmpOr(x.cfg.SendBufferSize, linuxSndBuf)
		}
	case "SO_RCVBUF":
		got = e.rcvBuf
		if got == 0 {
			got = cmpOr(x.cfg.ReceiveBufferSize, linuxRcvBuf)
		}
	case "TCP_CORK":
		got = 0
		if e.cork {
			got = 1
		}
	case "TCP_USER_TIMEOUT":
		got = e.userTimeout
	case "TCP_DEFER_ACCEPT":
		got = DeferAcceptSeconds(e.deferRounds)
	case "TCP_LINGER2":
		got = e.linger2
		if got == 0 {
			got = linuxFinTimeout
			if d := x.cfg.FinWait2Timeout; d > 0 {
				got = int(d / time.Second)
			}
		}
	case "IP_TOS":
		got = e.tos
	case "IP_MTU_DISCOVER":
		got = e.pmtuDisc + ipPMTUDiscWant
	}
	want := strings.Trim(c.Args[3], "[] ")
	if want != "..." {
		w, err := OptionValue(want)
		if err != nil {
			return nil, true, fmt.Errorf("%w: getsockopt %s: %w", ErrSyntax, name, err)
		}
		if w != got {
			return nil, true, fmt.Errorf("%w in getsockopt %s: expected value %s but got %d", ErrMismatch, name, want, got)
		}
	}
	return now(0, ""), true, nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// Msghdr is what the runner reads of packetdrill's struct msghdr,
// "{msg_name(...)=..., msg_iov(1)=[{..., 100}], msg_flags=0}": the
// lengths of the iovecs, and the flags recvmsg is to report ("" if not
// given or "...").
type Msghdr struct {
	Iov   []int
	Flags string
}

// Len is the bytes the iovecs hold.
func (m Msghdr) Len() int {
	n := 0
	for _, k := range m.Iov {
		n += k
	}
	return n
}

// ParseMsghdr reads a msghdr argument.
func ParseMsghdr(v string) (Msghdr, error) {
	var m Msghdr
	body, ok := enclosed(v, "{", "}")
	if !ok {
		return m, fmt.Errorf("msghdr %q", v)
	}
	seenIov := false
	for _, f := range splitArgs(body) {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return m, fmt.Errorf("msghdr field %q", f)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		field, count, _ := strings.Cut(strings.TrimSuffix(key, ")"), "(")
		switch field {
		case "msg_name":
			// The address: the runner's own, whatever is written.
		case "msg_iov":
			lens, err := IovecLengths(val)
			if err != nil {
				return m, fmt.Errorf("msghdr: %w", err)
			}
			if n, err := strconv.Atoi(count); count != "" && (err != nil || n != len(lens)) {
				return m, fmt.Errorf("msghdr: msg_iov(%s) with %d iovecs", count, len(lens))
			}
			m.Iov, seenIov = lens, true
		case "msg_flags":
			if val != "..." {
				m.Flags = val
			}
		case "msg_control":
			if val != "..." {
				return m, fmt.Errorf("%w: msghdr msg_control", ErrUnsupported)
			}
		default:
			return m, fmt.Errorf("msghdr field %q", key)
		}
	}
	if !seenIov {
		return m, fmt.Errorf("msghdr %q without msg_iov", v)
	}
	return m, nil
}

// MsgFlags are the recvmsg msg_flags values a TCP socket can report
// (recvmsg(2)), by name.
var MsgFlags = map[string]int{"MSG_EOR": 0x80, "MSG_TRUNC": 0x20, "MSG_CTRUNC": 0x8, "MSG_OOB": 0x1}

// ParseMsgFlags reads msg_flags: a number or names joined by "|".
func ParseMsgFlags(v string) (int, error) {
	if n, err := strconv.ParseInt(v, 0, 32); err == nil {
		return int(n), nil
	}
	flags := 0
	for _, f := range strings.Split(v, "|") {
		bit, ok := MsgFlags[strings.TrimSpace(f)]
		if !ok {
			return 0, fmt.Errorf("msg_flags %q", v)
		}
		flags |= bit
	}
	return flags, nil
}

// flagsArg reports whether a send or recv flags argument
// ("MSG_PEEK|MSG_DONTWAIT") includes flag.
func flagsArg(arg, flag string) bool {
	for _, f := range strings.Split(arg, "|") {
		if strings.TrimSpace(f) == flag {
			return true
		}
	}
	return false
}

// msgCall is sendmsg or recvmsg: "sendmsg(fd, msghdr, flags)". Data
// comes and goes as send and recv move it; recvmsg reports msg_flags 0
// (a TCP socket has no record boundaries to truncate).
func (x *executor) msgCall(s *socket, c *Call) (func() (bool, int64, string), error) {
	if len(c.Args) < 2 {
		return nil, fmt.Errorf("%w: %s needs 3 arguments", ErrSyntax, c.Name)
	}
	m, err := ParseMsghdr(c.Args[1])
	if err != nil {
		if errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrSyntax, c.Name, err)
	}
	flags := ""
	if len(c.Args) > 2 {
		flags = c.Args[2]
	}
	nonblock := s.nonblock || flagsArg(flags, "MSG_DONTWAIT")
	if c.Name == "sendmsg" {
		return x.write(s, m.Len(), nonblock, flagsArg(flags, "MSG_MORE")), nil
	}
	if m.Flags != "" {
		if f, err := ParseMsgFlags(m.Flags); err != nil || f != 0 {
			return nil, fmt.Errorf("%w in recvmsg: expected msg_flags %s but got 0", ErrMismatch, m.Flags)
		}
	}
	return x.read(s, m.Len(), nonblock, flagsArg(flags, "MSG_PEEK")), nil
}
