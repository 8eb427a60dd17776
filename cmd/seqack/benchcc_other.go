//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// kernelAlgorithms says nothing of the kernel's congestion controls
// outside Linux: the kernel side runs its own default.
func kernelAlgorithms() (available []string, def string) { return nil, "" }

// congestionControl is never asked for outside Linux, where
// kernelAlgorithms names none to set.
func congestionControl(name string) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("TCP_CONGESTION " + name + ": only on Linux")
	}
}
