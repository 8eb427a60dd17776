package tun

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// cloneDevice is the TUN/TAP clone device: each open of it gives a file
// descriptor that TUNSETIFF then binds to a device.
const cloneDevice = "/dev/net/tun"

// Open creates the TUN device name, or attaches to it if it exists and is
// persistent and free, and sets its MTU (0 means DefaultMTU). An empty
// name lets the kernel pick one ("tun0", "tun1", ...); Name tells which.
//
// The device is created in the network namespace of the calling thread,
// and stays there: a caller that wants it in another namespace can lock
// its goroutine to its thread, setns(2) into that namespace, call Open and
// switch back.
//
// The device is deleted when the endpoint is closed, unless it was made
// persistent (ip tuntap add). It is down, with no address, until the
// kernel's side is configured with ip(8).
//
// The device comes with the kernel's offloads (see Config); Open is
// OpenConfig with only the MTU set.
func Open(name string, mtu int) (*Endpoint, error) {
	return OpenConfig(name, Config{MTU: mtu})
}

// OpenConfig is Open with the settings in cfg.
func OpenConfig(name string, cfg Config) (*Endpoint, error) {
	mtu, err := checkMTU(cfg.MTU)
	if err != nil {
		return nil, err
	}
	if len(name) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("tun: device name %q longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	fd, err := unix.Open(cloneDevice, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: device name %q: %w", name, err)
	}
	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if !cfg.Plain {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, setIffError(name, err)
	}
	name = ifr.Name()
	if err := setMTU(name, mtu); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// os.NewFile sees that fd is non-blocking and registers it with the
	// runtime's poller: a Read parks its goroutine instead of a thread,
	// and Close wakes it with os.ErrClosed.
	return wrap(os.NewFile(uintptr(fd), cloneDevice), name, mtu, !cfg.Plain)
}

// wrap makes the endpoint for f, speaking virtio-net headers if vnet is
// set (the device has IFF_VNET_HDR).
func wrap(f *os.File, name string, mtu int, vnet bool) (*Endpoint, error) {
	e := newEndpoint(f, name, mtu)
	if !vnet {
		return e, nil
	}
	v, err := newVnetIO(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tun: %s: %w", name, err)
	}
	e.vnet, e.bufSize = v, largeBufSize
	return e, nil
}

// FromFD wraps fd, a file descriptor of /dev/net/tun already bound to a
// TUN device with IFF_NO_PI (by a parent process, or a VPN framework that
// hands one over), with the given MTU (0 means DefaultMTU). If the device
// was bound with IFF_VNET_HDR too, the endpoint reads and writes the
// virtio-net headers and turns the kernel's offloads on (see Config). That the
// device was set up without packet information cannot be checked, and is
// the caller's to ensure. The device's
// own MTU is left as it is: mtu should match it. The endpoint owns fd
// from then on and closes it on Close.
func FromFD(fd int, mtu int) (*Endpoint, error) {
	mtu, err := checkMTU(mtu)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return nil, fmt.Errorf("tun: fd %d: %w", fd, err)
	}
	if err := unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr); err != nil {
		return nil, fmt.Errorf("tun: fd %d is not a TUN device bound to an interface: %w", fd, err)
	}
	// Only TUN versus TAP can be checked: TUNGETIFF reports IFF_NOFILTER
	// in the bit that IFF_NO_PI has in TUNSETIFF, so whether packets
	// carry the 4-byte packet information header is the caller's word.
	if flags := ifr.Uint16(); flags&(unix.IFF_TUN|unix.IFF_TAP) != unix.IFF_TUN {
		return nil, fmt.Errorf("tun: fd %d (%s) has flags %#x; want a TUN device (IFF_TUN), not TAP", fd, ifr.Name(), flags)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("tun: fd %d: set non-blocking: %w", fd, err)
	}
	// A device set up with IFF_VNET_HDR says so, and its packets carry
	// virtio-net headers: the endpoint then asks for the offloads too.
	vnet := ifr.Uint16()&unix.IFF_VNET_HDR != 0
	return wrap(os.NewFile(uintptr(fd), cloneDevice), ifr.Name(), mtu, vnet)
}

// setMTU sets the MTU of the device name with SIOCSIFMTU, which any
// socket of the device's network namespace can carry.
func setMTU(name string, mtu int) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tun: set MTU of %s: %w", name, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("tun: set MTU of %s: %w", name, err)
	}
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return fmt.Errorf("tun: set MTU of %s to %d: %w", name, mtu, err)
	}
	return nil
}

// openError explains why /dev/net/tun could not be opened.
func openError(name string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("tun: %s does not exist (load the tun module with `modprobe tun`; in a container, pass the device in, e.g. docker run --device /dev/net/tun --cap-add NET_ADMIN): %w", cloneDevice, err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("tun: opening %s needs root or CAP_NET_ADMIN: %w", cloneDevice, err)
	}
	return fmt.Errorf("tun: open %s for device %q: %w", cloneDevice, name, err)
}

// setIffError explains why TUNSETIFF refused to bind the device.
func setIffError(name string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("tun: opening %s needs root or CAP_NET_ADMIN (creating device %q): %w", cloneDevice, name, err)
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("tun: device %q is in use by another process (pick another name, or stop the process using it): %w", name, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("tun: device %q exists and is not a TUN device without packet information (a TAP device, or another kind of interface, has the name): %w", name, err)
	}
	return fmt.Errorf("tun: create device %q: %w", name, err)
}
