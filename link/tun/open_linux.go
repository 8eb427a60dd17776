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
// persistent and free, and gives it the MTU mtu (0 means DefaultMTU),
// changing a persistent device's MTU only if it differs: a user that a
// device was made for (ip tuntap add ... user NAME) can open it without
// CAP_NET_ADMIN when asking for the MTU it has. An empty
// name lets the kernel pick one ("tun0", "tun1", ...); Name tells which.
//
// The device is created in the network namespace of the calling thread,
// and stays there: a caller that wants it in another namespace can lock
// its goroutine to its thread, setns(2) into that namespace, call Open and
// switch back.
//
// The device is deleted when the endpoint is closed, unless it was made
// persistent (ip tuntap add). It is down, with no address, until the
// kernel's side is configured, with ConfigureKernel or ip(8).
//
// The device comes with the kernel's offloads (see Config); Open is
// OpenConfig with only the MTU set.
func Open(name string, mtu int) (*Endpoint, error) {
	return OpenConfig(name, Config{MTU: mtu})
}

// OpenConfig is Open with the settings in cfg.
func OpenConfig(name string, cfg Config) (*Endpoint, error) {
	s, err := newIoctlSocket()
	if err != nil {
		return nil, fmt.Errorf("tun: open %q: %w", name, err)
	}
	defer s.close()
	return openConfig(name, cfg, s)
}

// openConfig is OpenConfig, reading and setting the device's MTU with
// dev.
func openConfig(name string, cfg Config, dev deviceMTU) (*Endpoint, error) {
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
	if err := ensureMTU(dev, name, mtu); err != nil {
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

// deviceMTU reads and sets the MTU of a device by name. OpenConfig uses
// the ioctls of ioctlSocket; a test substitutes one that records or
// refuses a change.
type deviceMTU interface {
	mtu(name string) (int, error)
	setMTU(name string, mtu int) error
}

// ensureMTU gives the device name the MTU mtu, changing it only if it
// differs: a device made beforehand for a user without CAP_NET_ADMIN
// (ip tuntap add ... user NAME) can be opened by that user, but not
// changed, so asking for the MTU it has must not try to set it.
func ensureMTU(dev deviceMTU, name string, mtu int) error {
	cur, err := dev.mtu(name)
	if err == nil && cur == mtu {
		return nil
	}
	serr := dev.setMTU(name, mtu)
	if serr != nil && err == nil && errors.Is(serr, unix.EPERM) {
		return fmt.Errorf("%w (%s has MTU %d: ask for that one, or have root change it)", serr, name, cur)
	}
	return serr
}

// ioctlSocket is a datagram socket that carries interface ioctls
// (SIOCGIFMTU, SIOCSIFMTU, SIOCGIFINDEX) for the devices of the network
// namespace it was created in.
type ioctlSocket struct{ fd int }

// newIoctlSocket opens an ioctlSocket in the calling thread's network
// namespace.
func newIoctlSocket() (ioctlSocket, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ioctlSocket{}, fmt.Errorf("socket for interface ioctls: %w", err)
	}
	return ioctlSocket{fd}, nil
}

func (s ioctlSocket) close() { unix.Close(s.fd) }

// mtu returns the MTU of the device name (SIOCGIFMTU).
func (s ioctlSocket) mtu(name string) (int, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("tun: MTU of %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, fmt.Errorf("tun: MTU of %s: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// setMTU sets the MTU of the device name (SIOCSIFMTU), which needs
// CAP_NET_ADMIN.
func (s ioctlSocket) setMTU(name string, mtu int) error {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("tun: set MTU of %s: %w", name, err)
	}
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s.fd, unix.SIOCSIFMTU, ifr); err != nil {
		return fmt.Errorf("tun: set MTU of %s to %d: %w", name, mtu, err)
	}
	return nil
}

// index returns the interface index of the device name (SIOCGIFINDEX).
func (s ioctlSocket) index(name string) (uint32, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("tun: index of %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("tun: index of %s: %w", name, err)
	}
	return ifr.Uint32(), nil
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
