package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// ConfigureKernel gives the kernel's side of the TUN device name each
// address in addrs and brings the device up: what
//
//	ip addr replace ADDR dev NAME [nodad]
//	ip link set NAME up
//
// does, but through rtnetlink from this process rather than by running
// ip(8). A program given CAP_NET_ADMIN as a file capability (setcap
// cap_net_admin+ep) keeps it here, where a child process such as ip(8)
// would not inherit it.
//
// An address the device already has is kept (as `ip addr replace`
// does), so a persistent device can be configured again. IPv6 addresses
// skip Duplicate Address Detection (RFC 4862 §5.4, IFA_F_NODAD): they
// are usable at once rather than a second later. Like Open, it acts in
// the network namespace of the calling thread.
func ConfigureKernel(name string, addrs []netip.Prefix) error {
	ctl, err := newIoctlSocket()
	if err != nil {
		return fmt.Errorf("tun: configure %s: %w", name, err)
	}
	defer ctl.close()
	index, err := ctl.index(name)
	if err != nil {
		return err
	}
	nl, err := dialRoute()
	if err != nil {
		return fmt.Errorf("tun: configure %s: %w", name, err)
	}
	defer nl.close()
	for _, a := range addrs {
		if !a.IsValid() || a.Addr().Zone() != "" {
			return fmt.Errorf("tun: configure %s: address %v: want an IP address with its prefix length and no zone", name, a)
		}
		if err := nl.do(newAddrMessage(index, a)); err != nil {
			return fmt.Errorf("tun: give %s the address %v: %w", name, a, err)
		}
	}
	if err := nl.do(linkUpMessage(index)); err != nil {
		return fmt.Errorf("tun: bring %s up: %w", name, err)
	}
	return nil
}

// routeSocket is a NETLINK_ROUTE socket (RFC 3549) that sends one
// request at a time and waits for its acknowledgement.
type routeSocket struct {
	fd  int
	seq uint32
}

// dialRoute opens a rtnetlink socket in the calling thread's network
// namespace.
func dialRoute() (*routeSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &routeSocket{fd: fd}, nil
}

func (s *routeSocket) close() { unix.Close(s.fd) }

// do sends the request msg (its header's length, sequence number and
// flags are filled in here) and returns the error the kernel
// acknowledges it with, nil for success.
func (s *routeSocket) do(msg []byte) error {
	s.seq++
	binary.NativeEndian.PutUint32(msg[0:4], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[6:8], binary.NativeEndian.Uint16(msg[6:8])|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:12], s.seq)
	if err := unix.Sendto(s.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		done, err := ackOf(buf[:n], s.seq)
		if done {
			return err
		}
	}
}

// ackOf looks in the netlink messages b for the acknowledgement of
// request seq (an NLMSG_ERROR message, whose error is 0 for success or a
// negated errno) and reports whether it found it, and its error.
func ackOf(b []byte, seq uint32) (bool, error) {
	for len(b) >= unix.SizeofNlMsghdr {
		length := binary.NativeEndian.Uint32(b[0:4])
		if length < unix.SizeofNlMsghdr || int(length) > len(b) {
			return true, fmt.Errorf("netlink: malformed reply (message length %d of %d bytes)", length, len(b))
		}
		typ := binary.NativeEndian.Uint16(b[4:6])
		if binary.NativeEndian.Uint32(b[8:12]) == seq && typ == unix.NLMSG_ERROR {
			if length < unix.SizeofNlMsghdr+4 {
				return true, errors.New("netlink: truncated acknowledgement")
			}
			if errno := int32(binary.NativeEndian.Uint32(b[16:20])); errno != 0 {
				return true, unix.Errno(-errno)
			}
			return true, nil
		}
		b = b[(length+3)&^3:]
	}
	return false, nil
}

// newAddrMessage is an RTM_NEWADDR request giving interface index the
// address a, as `ip addr replace` sends it: IFA_LOCAL and IFA_ADDRESS
// both a's address (no peer), created or replaced.
func newAddrMessage(index uint32, a netip.Prefix) []byte {
	family, flags := uint8(unix.AF_INET), uint8(0)
	if a.Addr().Is6() {
		family, flags = unix.AF_INET6, unix.IFA_F_NODAD
	}
	addr := a.Addr().AsSlice()
	msg := nlHeader(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE)
	msg = append(msg, family, uint8(a.Bits()), flags, unix.RT_SCOPE_UNIVERSE)
	msg = binary.NativeEndian.AppendUint32(msg, index)
	msg = appendAttr(msg, unix.IFA_LOCAL, addr)
	msg = appendAttr(msg, unix.IFA_ADDRESS, addr)
	return msg
}

// linkUpMessage is an RTM_NEWLINK request setting IFF_UP on interface
// index, as `ip link set NAME up` sends it.
func linkUpMessage(index uint32) []byte {
	msg := nlHeader(unix.RTM_NEWLINK, 0)
	msg = append(msg, unix.AF_UNSPEC, 0, 0, 0) // family, padding, type
	msg = binary.NativeEndian.AppendUint32(msg, index)
	msg = binary.NativeEndian.AppendUint32(msg, unix.IFF_UP) // flags
	msg = binary.NativeEndian.AppendUint32(msg, unix.IFF_UP) // change: only IFF_UP
	return msg
}

// nlHeader starts a netlink message of type typ with flags; routeSocket.do
// fills in its length and sequence number.
func nlHeader(typ, flags uint16) []byte {
	msg := make([]byte, unix.SizeofNlMsghdr, 64)
	binary.NativeEndian.PutUint16(msg[4:6], typ)
	binary.NativeEndian.PutUint16(msg[6:8], flags)
	return msg
}

// appendAttr appends the route attribute typ with value v, padded to 4
// bytes.
func appendAttr(msg []byte, typ uint16, v []byte) []byte {
	msg = binary.NativeEndian.AppendUint16(msg, uint16(unix.SizeofRtAttr+len(v)))
	msg = binary.NativeEndian.AppendUint16(msg, typ)
	msg = append(msg, v...)
	for len(msg)%4 != 0 {
		msg = append(msg, 0)
	}
	return msg
}
