//go:build linux

package linux

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/script"
)

// sockopt.go: the Linux target's side of script/sockopt.go — the
// options beyond the first few, lengths as the script gives them, and
// sendmsg/recvmsg — each a system call whose answer the kernel gives.

// linuxIntOptions are the integer options by name: level and number.
var linuxIntOptions = map[string][2]int{
	"TCP_NODELAY": {unix.IPPROTO_TCP, unix.TCP_NODELAY}, "TCP_MAXSEG": {unix.IPPROTO_TCP, unix.TCP_MAXSEG},
	"TCP_CORK": {unix.IPPROTO_TCP, unix.TCP_CORK}, "TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
	"TCP_DEFER_ACCEPT": {unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT}, "TCP_LINGER2": {unix.IPPROTO_TCP, unix.TCP_LINGER2},
	"IP_TOS": {unix.IPPROTO_IP, unix.IP_TOS}, "IP_MTU_DISCOVER": {unix.IPPROTO_IP, unix.IP_MTU_DISCOVER},
	"SO_SNDBUF": {unix.SOL_SOCKET, unix.SO_SNDBUF}, "SO_RCVBUF": {unix.SOL_SOCKET, unix.SO_RCVBUF},
	"SO_KEEPALIVE": {unix.SOL_SOCKET, unix.SO_KEEPALIVE}, "SO_REUSEADDR": {unix.SOL_SOCKET, unix.SO_REUSEADDR},
}

// linuxLevels are setsockopt's levels by name.
var linuxLevels = map[string]int{
	"SOL_SOCKET": unix.SOL_SOCKET, "SOL_TCP": unix.IPPROTO_TCP, "IPPROTO_TCP": unix.IPPROTO_TCP,
	"SOL_IP": unix.IPPROTO_IP, "IPPROTO_IP": unix.IPPROTO_IP,
}

// optionNumber gives c's level and option number: a name the runner
// knows, or a number (which the kernel judges).
func optionNumber(c *script.Call) (level, opt int, ok bool) {
	name := c.Args[2]
	if lo, found := linuxIntOptions[name]; found {
		return lo[0], lo[1], true
	}
	n, err := strconv.Atoi(name)
	if err != nil {
		return 0, 0, false
	}
	level, ok = linuxLevels[c.Args[1]]
	return level, n, ok
}

// rawSetsockopt is setsockopt with the value's bytes as given.
func rawSetsockopt(fd, level, opt int, val []byte) error {
	var p unsafe.Pointer
	if len(val) > 0 {
		p = unsafe.Pointer(&val[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(p), uintptr(len(val)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawGetsockopt is getsockopt of an int with the length given (which may
// be negative); it returns the value read.
func rawGetsockopt(fd, level, opt, length int) (int, error) {
	var buf [8]byte
	l := int32(length)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(int32(binary.NativeEndian.Uint32(buf[:4]))), nil
}

// setsockoptExt is setsockopt for the options of script/sockopt.go,
// for numbered options, and for any integer option given a length other
// than 4; handled false leaves c to linuxSetsockopt.
func setsockoptExt(fd int, c *script.Call) (f func() callResult, handled bool, err error) {
	if len(c.Args) < 4 {
		return nil, false, nil
	}
	name := c.Args[2]
	length, given := script.OptionLength(c)
	if !script.ExtraOptions[name] && !script.NumericOption(name) && (!given || length == 4) {
		return nil, false, nil
	}
	level, opt, ok := optionNumber(c)
	if !ok {
		return nil, false, nil
	}
	v, err := script.OptionValue(c.Args[3])
	if err != nil {
		return nil, true, fmt.Errorf("%w: setsockopt %s: %w", script.ErrSyntax, name, err)
	}
	if !given {
		length = 4
	}
	val := make([]byte, max(length, 4))
	binary.NativeEndian.PutUint32(val, uint32(int32(v)))
	val = val[:max(length, 0)]
	return func() callResult { return result(0, rawSetsockopt(fd, level, opt, val)) }, true, nil
}

// getsockoptExt is getsockopt for the options of script/sockopt.go and
// numbered ones, comparing the value read with the script's; TCP_INFO
// returns 0 and makes fd the socket inline Python reads.
func (lx *linuxExec) getsockoptExt(fd int, c *script.Call) (f func() callResult, handled bool, err error) {
	if len(c.Args) < 4 {
		return nil, false, nil
	}
	name := c.Args[2]
	if name == "TCP_INFO" {
		return func() callResult {
			_, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
			res := result(0, err)
			if err == nil {
				res.apply = func() { lx.testFd = fd }
			}
			return res
		}, true, nil
	}
	length, given := script.OptionLength(c)
	if _, known := script.ExtraOptions[name]; !known && !script.NumericOption(name) && (!given || length >= 0) {
		return nil, false, nil
	}
	level, opt, ok := optionNumber(c)
	if !ok {
		return nil, false, nil
	}
	if !given {
		length = 4
	}
	want := strings.Trim(c.Args[3], "[] ")
	w := 0
	if want != "..." {
		if w, err = script.OptionValue(want); err != nil {
			return nil, true, fmt.Errorf("%w: getsockopt %s: %w", script.ErrSyntax, name, err)
		}
	}
	return func() callResult {
		got, err := rawGetsockopt(fd, level, opt, length)
		res := result(0, err)
		if err == nil && want != "..." && got != w {
			res.fail = fmt.Errorf("%w in getsockopt %s: expected value %s but got %d", script.ErrMismatch, name, want, got)
		}
		return res
	}, true, nil
}

// msgCall is sendmsg or recvmsg with the script's msghdr: its iovecs,
// and for recvmsg the msg_flags to compare.
func msgCall(fd int, c *script.Call) (func() callResult, error) {
	if len(c.Args) < 2 {
		return nil, fmt.Errorf("%w: %s needs 3 arguments", script.ErrSyntax, c.Name)
	}
	m, err := script.ParseMsghdr(c.Args[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", script.ErrSyntax, c.Name, err)
	}
	flags := 0
	if len(c.Args) > 2 {
		flags = sendRecvFlags(c.Args[2])
	}
	iov := make([][]byte, len(m.Iov))
	for i, n := range m.Iov {
		iov[i] = make([]byte, n)
	}
	if c.Name == "sendmsg" {
		return func() callResult {
			n, err := unix.SendmsgBuffers(fd, iov, nil, nil, flags|unix.MSG_NOSIGNAL)
			return result(int64(n), err)
		}, nil
	}
	wantFlags := -1
	if m.Flags != "" {
		if wantFlags, err = script.ParseMsgFlags(m.Flags); err != nil {
			return nil, fmt.Errorf("%w: recvmsg: %w", script.ErrSyntax, err)
		}
	}
	return func() callResult {
		n, _, got, _, err := unix.RecvmsgBuffers(fd, iov, nil, flags)
		res := result(int64(n), err)
		if err == nil && wantFlags >= 0 && got != wantFlags {
			res.fail = fmt.Errorf("%w in recvmsg: expected msg_flags %s but got %#x", script.ErrMismatch, m.Flags, got)
		}
		return res
	}, nil
}

// sendRecvFlags reads a flags argument ("MSG_PEEK|MSG_DONTWAIT").
func sendRecvFlags(arg string) int {
	flags := 0
	for _, f := range strings.Split(arg, "|") {
		switch strings.TrimSpace(f) {
		case "MSG_DONTWAIT":
			flags |= unix.MSG_DONTWAIT
		case "MSG_PEEK":
			flags |= unix.MSG_PEEK
		case "MSG_MORE":
			flags |= unix.MSG_MORE
		}
	}
	return flags
}
