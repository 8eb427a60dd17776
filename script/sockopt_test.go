package script

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TCP_DEFER_ACCEPT's seconds become SYN+ACK timeouts and read back as
// the seconds those add up to: the values measured on Linux 6.18.
func TestDeferAcceptRounds(t *testing.T) {
	for _, c := range []struct{ set, get int }{
		{-5, 0}, {0, 0}, {1, 1}, {2, 3}, {3, 3}, {4, 7}, {5, 7}, {8, 15}, {100, 127}, {200, 247},
	} {
		if got := DeferAcceptSeconds(DeferAcceptRounds(c.set)); got != c.get {
			t.Errorf("TCP_DEFER_ACCEPT %d reads back %d, want %d", c.set, got, c.get)
		}
	}
}

// SO_SNDBUF and SO_RCVBUF read back doubled, within bounds: the values
// measured on Linux 6.18 (net.core.[rw]mem_max 4 MiB).
func TestLinuxBufferSize(t *testing.T) {
	for _, c := range []struct{ set, snd, rcv int }{
		{-1, 4608, 2304}, {0, 4608, 2304}, {1000, 4608, 2304}, {5000, 10000, 10000},
		{100000, 200000, 200000}, {10000000, 8388608, 8388608},
	} {
		if s, r := LinuxBufferSize(c.set, true), LinuxBufferSize(c.set, false); s != c.snd || r != c.rcv {
			t.Errorf("%d: SO_SNDBUF %d SO_RCVBUF %d, want %d %d", c.set, s, r, c.snd, c.rcv)
		}
	}
}

func TestOptionValue(t *testing.T) {
	for in, want := range map[string]int{"[1]": 1, "4": 4, "[0x10]": 16, "[-1]": -1, "[IP_PMTUDISC_DO]": 2} {
		if got, err := OptionValue(in); err != nil || got != want {
			t.Errorf("OptionValue(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"[x]", "", "[1.5]", "[99999999999]"} {
		if _, err := OptionValue(in); err == nil {
			t.Errorf("OptionValue(%q) took it", in)
		}
	}
}

func TestParseMsghdr(t *testing.T) {
	m, err := ParseMsghdr("{msg_name(...)=..., msg_iov(2)=[{..., 100}, {..., 200}], msg_flags=MSG_TRUNC}")
	if err != nil || !slices.Equal(m.Iov, []int{100, 200}) || m.Len() != 300 || m.Flags != "MSG_TRUNC" {
		t.Fatalf("got %+v, %v", m, err)
	}
	if f, err := ParseMsgFlags(m.Flags); err != nil || f != 0x20 {
		t.Errorf("msg_flags %q = %#x, %v", m.Flags, f, err)
	}
	for _, c := range []struct{ in, want string }{
		{"msg_iov(1)=[{..., 1}]", "msghdr"},
		{"{msg_name(...)=...}", "without msg_iov"},
		{"{msg_iov(2)=[{..., 1}]}", "msg_iov(2) with 1 iovecs"},
		{"{msg_iov(1)=[{..., -1}]}", "iovec"},
		{"{msg_iov(1)=[{..., 1}], msg_bogus=1}", "msghdr field"},
		{"{msg_iov(1)=[{..., 1}], msg_flags}", "msghdr field"},
		{"{msg_iov(1)=[{..., 1}], msg_control(...)=[{cmsg_len=1}]}", "msg_control"},
	} {
		if _, err := ParseMsghdr(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseMsghdr(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	if _, err := ParseMsgFlags("MSG_BOGUS"); err == nil {
		t.Error("ParseMsgFlags took MSG_BOGUS")
	}
}

// Bad option calls fail as on Linux (sockopt-bad.pkt has the rest), and
// a value the runner cannot read is a syntax error, not a pass.
func TestSockoptBadInput(t *testing.T) {
	const sock = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
	for _, c := range []struct{ src, want string }{
		{"+0 setsockopt(3, SOL_TCP, TCP_CORK, [on], 4) = 0", "syntax error"},
		{"+0 getsockopt(3, SOL_TCP, TCP_CORK, [on], [4]) = 0", "syntax error"},
		{"+0 setsockopt(3, SOL_TCP, 1234, [1], 4) = 0", "ENOPROTOOPT"},
		{"+0 setsockopt(3, SOL_TCP, TCP_LINGER2, [1], 3) = 0", "EINVAL"},
		{"+0 setsockopt(3, SOL_IP, IP_TOS, [16], 0) = 0", "EINVAL"},
		{"+0 getsockopt(3, SOL_IP, IP_TOS, [16], [4]) = 0", "expected value 16 but got 0"},
		{"+0 recvmsg(3, {msg_iov(1)=[{..., 1}], msg_flags=MSG_TRUNC}, 0) = 0", "msg_flags"},
		{"+0 sendmsg(3, {msg_iov(1)=[{..., 1}]}, 0) = 1", "EPIPE"},
	} {
		r := RunSource("t.pkt", []byte(sock+c.src), Engine)
		if r.Status != Failed || !strings.Contains(r.Err.Error(), c.want) {
			t.Errorf("%q: got %v %v %v, want failure %q", c.src, r.Status, r.Err, r.Unsupported, c.want)
		}
	}
	r := RunSource("t.pkt", []byte(sock+"+0 setsockopt(3, SOL_TCP, TCP_CORK, [on], 4) = 0"), Engine)
	if !errors.Is(r.Err, ErrSyntax) {
		t.Errorf("bad value: %v, want ErrSyntax", r.Err)
	}
}
