// Package script runs packetdrill scripts against seqack's TCP engine.
//
// A packetdrill script (the language of github.com/google/packetdrill,
// described in "packetdrill: Scriptable Network Stack Testing, from
// Sockets to Packets", USENIX ATC 2013) describes one side of a TCP
// conversation: socket calls the application makes, segments the script
// injects ("<") and segments the stack must send (">"), each at a time.
// Parse reads a script; Run executes it against a Target. Engine, the
// target here, is a small socket layer over tcp.Conn driven in virtual
// time, so a script with multi-second timers runs instantly and the same
// way every time. The Linux kernel is the other target, in package
// script/linux, kept apart so that this package imports no TUN device,
// namespace or system call code; the two share Settings (the header
// options), Numbers (relative to absolute sequence numbers and back) and
// Call.Check (a call's result against the script's).
//
// Backtick shell lines are understood when they run packetdrill's shared
// prologue (../common/defaults.sh: DefaultsSysctls lists what it sets)
// or only set known TCP sysctls: on the engine each maps to a tcp.Config
// field (Sysctl.Apply), and the Linux target runs the prologue, or writes
// the settings, in its namespace.
//
// Inline Python blocks %{ ... }% are evaluated when they are assert
// statements on tcp_info (Python): the expressions' subset (integers,
// arithmetic, chained comparisons, and/or/not, the TCP_* names) and the
// fields of InfoFields, read on the engine from tcp.Conn's Stats and on
// Linux from getsockopt(TCP_INFO) of the socket under test.
//
// Socket options beyond the basic ones (TCP_CORK, TCP_USER_TIMEOUT,
// TCP_DEFER_ACCEPT, TCP_LINGER2, IP_TOS, IP_MTU_DISCOVER, TCP_INFO, the
// buffer sizes as Linux reports them), their errors for bad lengths and
// values, MSG_MORE and sendmsg/recvmsg with packetdrill's msghdr are in
// sockopt.go, which the Linux target shares (OptionValue, ParseMsghdr,
// ...).
//
// A script that uses something the runner cannot do (other shell
// commands, other Python, tcp_info fields seqack does not keep, options
// seqack lacks) is Skipped, never passed: the reasons
// are listed in Result.Unsupported.
package script
