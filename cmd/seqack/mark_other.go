//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// markControl fails: socket marks (SO_MARK) are Linux's.
func markControl(mark int) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		return errors.New("--mark: socket marks exist only on Linux")
	}
}
