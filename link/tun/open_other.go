//go:build !linux

package tun

import (
	"errors"
	"fmt"
	"net/netip"
)

// errUnsupported is what Open and FromFD return where TUN devices are
// not the Linux ones this package drives.
var errUnsupported = fmt.Errorf("tun: TUN devices are supported on Linux only: %w", errors.ErrUnsupported)

// Open creates or attaches to the TUN device name. It is implemented on
// Linux only.
func Open(name string, mtu int) (*Endpoint, error) { return nil, errUnsupported }

// FromFD wraps a file descriptor bound to a TUN device. It is implemented
// on Linux only.
func FromFD(fd int, mtu int) (*Endpoint, error) { return nil, errUnsupported }

// OpenConfig creates or attaches to the TUN device name with the settings
// in cfg. It is implemented on Linux only.
func OpenConfig(name string, cfg Config) (*Endpoint, error) { return nil, errUnsupported }

// ConfigureKernel gives the kernel's side of a TUN device addresses and
// brings it up. It is implemented on Linux only.
func ConfigureKernel(name string, addrs []netip.Prefix) error { return errUnsupported }
