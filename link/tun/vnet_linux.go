package tun

import (
	"encoding/binary"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

// A device opened with IFF_VNET_HDR puts a virtio-net header (struct
// virtio_net_hdr, include/uapi/linux/virtio_net.h) before every packet,
// both ways, the way the kernel talks to a virtual network card. With
// the offloads below turned on, the kernel hands up a TCP segment of up
// to 64 KiB in one read instead of cutting it into MTU-sized packets
// (generic segmentation offload), and leaves its checksum for the
// receiver to finish: one read(2) and one trip through the stack for
// dozens of packets' worth of data.
const vnetHdrLen = 10

// offloads are what the endpoint takes from the kernel: packets with
// checksums left unfinished (TUN_F_CSUM, which segmentation offload
// needs), and large TCP segments over IPv4 and IPv6. Not TUN_F_TSO_ECN:
// the stack does not negotiate ECN.
const offloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6

// vnetHdr is a virtio-net header, its fields in the host's byte order
// (a TUN device's default).
type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16 // headers' length, for a GSO packet
	gsoSize    uint16 // the MSS its segments would have
	csumStart  uint16 // where the checksummed bytes begin ...
	csumOffset uint16 // ... and where, from there, the checksum goes
}

func parseVnetHdr(b *[vnetHdrLen]byte) vnetHdr {
	return vnetHdr{
		flags:      b[0],
		gsoType:    b[1],
		hdrLen:     binary.NativeEndian.Uint16(b[2:]),
		gsoSize:    binary.NativeEndian.Uint16(b[4:]),
		csumStart:  binary.NativeEndian.Uint16(b[6:]),
		csumOffset: binary.NativeEndian.Uint16(b[8:]),
	}
}

// finish makes packet, which arrived with header h, a packet any reader
// takes: the checksum the kernel left unfinished (VIRTIO_NET_HDR_F_NEEDS_CSUM:
// the pseudo-header's sum in the checksum field) is completed over the
// bytes from csumStart, as a network card would. It reports false for a
// packet that cannot be taken: a segmentation offload other than TCP's,
// or a checksum position outside the packet.
func finish(h vnetHdr, packet []byte) bool {
	switch h.gsoType { // a GSO type with the ECN bit was never offered (offloads)
	case unix.VIRTIO_NET_HDR_GSO_NONE, unix.VIRTIO_NET_HDR_GSO_TCPV4, unix.VIRTIO_NET_HDR_GSO_TCPV6:
	default:
		return false
	}
	if h.flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM == 0 {
		return true
	}
	start, at := int(h.csumStart), int(h.csumStart)+int(h.csumOffset)
	if start > len(packet) || at+2 > len(packet) {
		return false
	}
	binary.BigEndian.PutUint16(packet[at:], wire.Checksum(packet[start:], 0))
	return true
}

// vnetIO reads and writes packets with their virtio-net headers.
type vnetIO struct {
	*vnetReader
	*vnetWriter
}

// newVnetIO prepares f, a TUN device opened with IFF_VNET_HDR, for
// packets with virtio-net headers, and asks the kernel for the offloads
// (a kernel that refuses them still puts the headers on).
func newVnetIO(f *os.File) (*vnetIO, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	rc.Control(func(fd uintptr) { unix.IoctlSetInt(int(fd), unix.TUNSETOFFLOAD, offloads) })
	return &vnetIO{newVnetReader(rc), newVnetWriter(rc)}, nil
}

// vnetReader reads packets with their virtio-net headers, through the
// runtime's poller. One goroutine uses it; it allocates nothing per
// packet.
type vnetReader struct {
	rc   syscall.RawConn
	hdr  [vnetHdrLen]byte
	buf  []byte
	n    int
	err  error
	read func(fd uintptr) bool
}

func newVnetReader(rc syscall.RawConn) *vnetReader {
	r := &vnetReader{rc: rc}
	r.read = func(fd uintptr) bool {
		r.n, r.err = readv(fd, &r.hdr, r.buf)
		return r.err != unix.EAGAIN
	}
	return r
}

// readPacket reads one packet into buf and returns its length, and what
// the endpoint makes of it.
func (r *vnetReader) readPacket(buf []byte) (int, verdict, error) {
	r.buf = buf
	err := r.rc.Read(r.read)
	r.buf = nil
	if err == nil {
		err = r.err
	}
	switch {
	case err != nil:
		return 0, drop, err
	case r.n == 0:
		return 0, drop, io.EOF // see readLoop
	}
	n := r.n - vnetHdrLen
	if n <= 0 || n == len(buf) { // no packet, or one that may not have fitted
		return 0, drop, nil
	}
	h := parseVnetHdr(&r.hdr)
	switch {
	case !finish(h, buf[:n]):
		return 0, drop, nil
	case h.gsoType != unix.VIRTIO_NET_HDR_GSO_NONE:
		return n, deliverLarge, nil
	}
	return n, deliver, nil
}

// vnetWriter writes packets after a virtio-net header, one at a time,
// through the runtime's poller. A packet up to the MTU goes with a
// header that asks nothing of the kernel (the stack's checksums are
// whole); a longer TCP segment goes with one that has the kernel cut it
// into MTU-sized packets and finish each one's checksum. It allocates
// nothing per packet.
type vnetWriter struct {
	mu     sync.Mutex
	rc     syscall.RawConn
	hdr    [vnetHdrLen]byte
	packet []byte
	err    error
	write  func(fd uintptr) bool
}

// gsoHeader fills h for packet, a TCP segment over IPv4 or IPv6 longer
// than mtu with a partial checksum, so that the kernel cuts it into
// packets of mtu bytes with the same headers (VIRTIO_NET_HDR_GSO_TCPV4,
// _TCPV6). It reports false for a packet it cannot describe: not TCP, an
// IPv6 extension header, headers that leave no room in mtu.
func gsoHeader(h *[vnetHdrLen]byte, packet []byte, mtu int) bool {
	var ipLen int
	var gsoType uint8
	switch {
	case len(packet) >= 20 && packet[0]>>4 == 4 && packet[9] == wire.ProtocolTCP:
		ipLen, gsoType = int(packet[0]&0x0f)*4, unix.VIRTIO_NET_HDR_GSO_TCPV4
	case len(packet) >= 40 && packet[0]>>4 == 6 && packet[6] == wire.ProtocolTCP:
		ipLen, gsoType = 40, unix.VIRTIO_NET_HDR_GSO_TCPV6
	default:
		return false
	}
	if ipLen < 20 || len(packet) < ipLen+20 {
		return false
	}
	hdrLen := ipLen + int(packet[ipLen+12]>>4)*4
	if hdrLen < ipLen+20 || hdrLen >= len(packet) || hdrLen >= mtu {
		return false
	}
	h[0], h[1] = unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType
	binary.NativeEndian.PutUint16(h[2:], uint16(hdrLen))
	binary.NativeEndian.PutUint16(h[4:], uint16(mtu-hdrLen))
	binary.NativeEndian.PutUint16(h[6:], uint16(ipLen))
	binary.NativeEndian.PutUint16(h[8:], 16) // the TCP checksum field
	return true
}

func newVnetWriter(rc syscall.RawConn) *vnetWriter {
	w := &vnetWriter{rc: rc}
	w.write = func(fd uintptr) bool {
		w.err = writev(fd, &w.hdr, w.packet)
		return w.err != unix.EAGAIN
	}
	return w
}

// writePacket writes packet whole, or has the kernel cut it into
// packets of mtu bytes if it is longer.
func (w *vnetWriter) writePacket(packet []byte, mtu int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hdr = [vnetHdrLen]byte{}
	if len(packet) > mtu && !gsoHeader(&w.hdr, packet, mtu) {
		return link.ErrTooBig
	}
	w.packet = packet
	err := w.rc.Write(w.write)
	w.packet = nil
	if err == nil {
		err = w.err
	}
	return err
}

// readv reads one packet and its virtio-net header from fd: the header
// into hdr, the packet into buf. It returns the packet's length with the
// header's.
func readv(fd uintptr, hdr *[vnetHdrLen]byte, buf []byte) (int, error) {
	return vectored(unix.SYS_READV, fd, hdr, buf)
}

// writev writes packet to fd after hdr.
func writev(fd uintptr, hdr *[vnetHdrLen]byte, packet []byte) error {
	_, err := vectored(unix.SYS_WRITEV, fd, hdr, packet)
	return err
}

// vectored makes the readv(2) or writev(2) system call trap on fd, for
// the header and then b, without allocating.
func vectored(trap, fd uintptr, hdr *[vnetHdrLen]byte, b []byte) (int, error) {
	var iov [2]unix.Iovec
	iov[0].Base, iov[1].Base = &hdr[0], &b[0]
	iov[0].SetLen(vnetHdrLen)
	iov[1].SetLen(len(b))
	n, _, errno := unix.Syscall(trap, fd, uintptr(unsafe.Pointer(&iov[0])), 2)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
