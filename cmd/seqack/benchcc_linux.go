package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelAlgorithms returns the congestion controls the kernel has
// loaded (tcp_available_congestion_control) and its default
// (tcp_congestion_control); none and "" where /proc does not say.
func kernelAlgorithms() (available []string, def string) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control"); err == nil {
		available = strings.Fields(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_congestion_control"); err == nil {
		def = strings.TrimSpace(string(b))
	}
	return available, def
}

// congestionControl returns a Control function for net.Dialer and
// net.ListenConfig that sets TCP_CONGESTION to name on each socket (a
// listener's choice passes to the connections it accepts).
func congestionControl(name string) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, name)
		})
		if err == nil && serr != nil {
			err = fmt.Errorf("TCP_CONGESTION %s: %w", name, serr)
		}
		return err
	}
}
