package tun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

// vnetPair is socketPair for an endpoint speaking virtio-net headers:
// the peer plays a kernel with offloads.
func vnetPair(t *testing.T, mtu int) (*Endpoint, int) {
	t.Helper()
	return endpointPair(t, mtu, true)
}

// tcpPacket builds an IPv4 TCP packet with payload bytes of data whose
// checksum the "kernel" left unfinished: the pseudo-header's sum in the
// checksum field (CHECKSUM_PARTIAL).
func tcpPacket(t *testing.T, payload int) []byte {
	t.Helper()
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	h := wire.TCPHeader{SrcPort: 80, DstPort: 40000, Seq: 1, Ack: 1, Flags: wire.FlagACK, Window: 512}
	data := bytes.Repeat([]byte("large segment "), payload/14+1)[:payload]
	b := make([]byte, 40+payload)
	n, err := wire.BuildTCPPacket(b, src, dst, 64, &h, data)
	if err != nil {
		t.Fatal(err)
	}
	partial := wire.PseudoHeaderChecksum(wire.ProtocolTCP, src, dst, n-20)
	binary.BigEndian.PutUint16(b[20+16:], uint16(partial))
	return b[:n]
}

// header makes a virtio-net header.
func header(flags, gsoType uint8, gsoSize, csumStart, csumOffset uint16) []byte {
	b := make([]byte, vnetHdrLen)
	b[0], b[1] = flags, gsoType
	binary.NativeEndian.PutUint16(b[2:], 40)
	binary.NativeEndian.PutUint16(b[4:], gsoSize)
	binary.NativeEndian.PutUint16(b[6:], csumStart)
	binary.NativeEndian.PutUint16(b[8:], csumOffset)
	return b
}

// From a kernel with offloads: a packet with its checksum left
// unfinished is delivered with it finished; a large TCP segment, far
// over the MTU, is delivered whole and counted; what the endpoint
// cannot take (UDP segmentation, a checksum position outside the
// packet, a header with no packet, a plain packet over the MTU) is
// dropped and counted. To it: each packet after a header that asks
// nothing of the kernel, or for a TCP segment over the MTU one that has
// the kernel cut it up.
func TestVnetHeaders(t *testing.T) {
	e, peer := vnetPair(t, 1500)
	got := make(chan []byte, 10)
	e.Attach(func(p []byte) { got <- p })

	small, large := tcpPacket(t, 1000), tcpPacket(t, 30000)
	needsCsum := uint8(unix.VIRTIO_NET_HDR_F_NEEDS_CSUM)
	for _, w := range [][]byte{
		append(header(needsCsum, unix.VIRTIO_NET_HDR_GSO_NONE, 0, 20, 16), small...),
		append(header(needsCsum, unix.VIRTIO_NET_HDR_GSO_UDP, 1448, 20, 6), small...),
		append(header(needsCsum, unix.VIRTIO_NET_HDR_GSO_NONE, 0, 20, 2000), small...),
		header(0, 0, 0, 0, 0),
		append(header(0, unix.VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0), large...),
		append(header(needsCsum, unix.VIRTIO_NET_HDR_GSO_TCPV4, 1448, 20, 16), large...),
	} {
		if _, err := unix.Write(peer, w); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{len(small), len(large)} {
		select {
		case p := <-got:
			ip, err := wire.ParseIP(p)
			if len(p) != want || err != nil || !wire.VerifyTCPChecksum(ip.Payload, ip.Src, ip.Dst) {
				t.Errorf("delivered %d bytes (%v), want %d with a checksum that verifies", len(p), err, want)
			}
			if cap(p) != largeBufSize {
				t.Errorf("delivered in a buffer of %d bytes, want %d (one of link's pools)", cap(p), largeBufSize)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("a %d-byte packet not delivered", want)
		}
	}
	if e.Dropped() != 4 || e.LargeSegmentsReceived() != 1 {
		t.Errorf("Dropped %d, LargeSegments %d; want 4 and 1", e.Dropped(), e.LargeSegmentsReceived())
	}

	if err := e.WritePacket(small); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	n, err := unix.Read(peer, buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(make([]byte, vnetHdrLen), small...); !bytes.Equal(buf[:n], want) {
		t.Errorf("the kernel read %d bytes, want a zero header and the %d-byte packet", n, len(small))
	}
	// A TCP segment over the MTU goes with a header that has the kernel
	// cut it into MTU-sized packets and finish their checksums; anything
	// else over the MTU is refused.
	if err := e.WritePacket(large); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 40000)
	if n, err = unix.Read(peer, big); err != nil {
		t.Fatal(err)
	}
	if want := append(header(needsCsum, unix.VIRTIO_NET_HDR_GSO_TCPV4, 1500-40, 20, 16), large...); !bytes.Equal(big[:n], want) {
		t.Errorf("the kernel read the header % x, want % x", big[:vnetHdrLen], want[:vnetHdrLen])
	}
	notTCP := append([]byte(nil), large...)
	notTCP[9] = wire.ProtocolICMPv4
	if err := e.WritePacket(notTCP); !errors.Is(err, link.ErrTooBig) {
		t.Errorf("a %d-byte ICMP packet written: %v, want ErrTooBig", len(notTCP), err)
	}
	if e.SegmentOffload() != MaxMTU || e.LargeSegmentsSent() != 1 {
		t.Errorf("LargeSegmentsSent() = %d, want 1", e.LargeSegmentsSent())
	}
	if e.SegmentOffload() != MaxMTU {
		t.Errorf("SegmentOffload() = %d, want %d", e.SegmentOffload(), MaxMTU)
	}

	if !raceEnabled {
		if allocs := testing.AllocsPerRun(50, func() {
			e.WritePacket(small[:60])
			unix.Read(peer, buf)
		}); allocs > 0 {
			t.Errorf("%.1f allocations per packet written", allocs)
		}
	}
}
