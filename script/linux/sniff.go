//go:build linux

package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sniffer reads the packets the kernel sends out of the TUN device
// through a packet socket bound to it, each with the time the kernel
// handed it to the device (SO_TIMESTAMPNS), as packetdrill sniffs its
// device with libpcap. The device's own reader learns of a packet only
// when the Go runtime's poller wakes it, which on a loaded machine can
// be many milliseconds later; those milliseconds would count against
// the kernel, and a late SYN would make the runner answer it late, so
// that the kernel measures a longer RTT and stretches every timer
// derived from it.
type sniffer struct {
	f *os.File
}

// openSniffer opens a packet socket on the device named ifname; it must
// run inside the device's namespace.
func openSniffer(ifname string) (*sniffer, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("sniffer: %w", err)
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, fmt.Errorf("sniffer: packet socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sniffer: SO_TIMESTAMPNS: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sniffer: bind to %s: %w", ifname, err)
	}
	return &sniffer{f: os.NewFile(uintptr(fd), "packet:"+ifname)}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// run hands deliver each packet the kernel sent, with the kernel's time
// of sending as a duration since t0, until close.
func (s *sniffer) run(t0 time.Time, deliver func(received)) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, linuxDeviceMTU)
	oob := make([]byte, unix.CmsgSpace(16))
	for {
		var r received
		var ok bool
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, from, err := unix.Recvmsg(int(fd), buf, oob, 0)
			if errors.Is(err, unix.EAGAIN) {
				return false
			}
			if err != nil {
				return true
			}
			ll, isLL := from.(*unix.SockaddrLinklayer)
			if !isLL || ll.Pkttype != unix.PACKET_OUTGOING {
				return true // an injected packet, coming in
			}
			at, stamped := stamp(oob[:oobn])
			if !stamped {
				at = time.Now()
			}
			r, ok = received{at: at.Sub(t0), pkt: append([]byte(nil), buf[:n]...)}, true
			return true
		})
		if err != nil {
			return // closed
		}
		if ok {
			deliver(r)
		}
	}
}

// stamp returns the SO_TIMESTAMPNS time among a message's control
// messages.
func stamp(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		// struct timespec: two longs.
		switch d := m.Data; len(d) {
		case 16:
			return time.Unix(int64(binary.NativeEndian.Uint64(d)), int64(binary.NativeEndian.Uint64(d[8:]))), true
		case 8:
			return time.Unix(int64(int32(binary.NativeEndian.Uint32(d))), int64(int32(binary.NativeEndian.Uint32(d[4:])))), true
		}
	}
	return time.Time{}, false
}

// close stops run.
func (s *sniffer) close() error { return s.f.Close() }
