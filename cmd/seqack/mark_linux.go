package main

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// markControl returns a net.Dialer Control function that sets SO_MARK to
// mark on each socket (socket(7); needs CAP_NET_ADMIN), so that a policy
// route (ip rule add fwmark MARK lookup TABLE) can keep the relay's own
// connections out of the TUN device it serves.
func markControl(mark int) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark)
		})
		if err == nil && serr != nil {
			err = fmt.Errorf("SO_MARK %d: %w", mark, serr)
		}
		return err
	}
}
