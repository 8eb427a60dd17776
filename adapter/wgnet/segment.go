package wgnet

import (
	"encoding/binary"
	"net/netip"

	"github.com/seqack/seqack/wire"
)

// maxSegment is the longest TCP packet the device takes from the stack
// to cut into MTU-sized ones (link.SegmentOffloader): what a network card
// with TCP segmentation offload does, done here in Read, so that the
// stack goes down its layers once for many packets.
const maxSegment = 65535

// SegmentOffload implements link.SegmentOffloader.
func (e *endpoint) SegmentOffload() int { return maxSegment }

// TCP flags a segment's pieces do not all carry: FIN and PSH belong
// to the last, CWR to the first (RFC 3168 §6.1.2, as Linux's TSO).
const (
	tcpFIN = 0x01
	tcpPSH = 0x08
	tcpCWR = 0x80
)

// segmentPieces returns how many packets of at most mtu bytes the TCP
// packet p is cut into, and where its TCP header starts and ends; 0 if
// p is not a TCP packet over IPv4 or IPv6 (without extension headers)
// as the stack makes them.
func segmentPieces(p []byte, mtu int) (pieces, tcpStart, tcpEnd int) {
	switch {
	case len(p) >= wire.IPv4MinHeaderLen && p[0]>>4 == 4 && p[9] == wire.ProtocolTCP:
		tcpStart = int(p[0]&0x0f) * 4
	case len(p) >= wire.IPv6HeaderLen && p[0]>>4 == 6 && p[6] == wire.ProtocolTCP:
		tcpStart = wire.IPv6HeaderLen
	default:
		return 0, 0, 0
	}
	if len(p) < tcpStart+20 {
		return 0, 0, 0
	}
	tcpEnd = tcpStart + int(p[tcpStart+12]>>4)*4
	mss := mtu - tcpEnd
	if tcpEnd < tcpStart+20 || len(p) < tcpEnd || mss <= 0 {
		return 0, 0, 0
	}
	return (len(p) - tcpEnd + mss - 1) / mss, tcpStart, tcpEnd
}

// cutSegment cuts p, a TCP packet longer than mtu with a partial
// checksum (wire.BuildTCPPacketPartialChecksum), into pieces of at most
// mtu bytes, one into each of bufs at offset, their lengths in sizes:
// the headers are copied, the lengths, sequence numbers, flags and
// checksums made right for each. It returns how many bufs it filled
// (segmentPieces tells how many it needs), or 0 if one is too short.
func cutSegment(p []byte, mtu int, bufs [][]byte, sizes []int, offset int) int {
	pieces, tcpStart, tcpEnd := segmentPieces(p, mtu)
	if pieces == 0 || pieces > len(bufs) || pieces > len(sizes) {
		return 0
	}
	var src, dst netip.Addr
	if p[0]>>4 == 4 {
		src, dst = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
	} else {
		src, dst = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
	}
	mss := mtu - tcpEnd
	seq := binary.BigEndian.Uint32(p[tcpStart+4:])
	flags := p[tcpStart+13]
	payload := p[tcpEnd:]
	for i := range pieces {
		chunk := payload[i*mss : min((i+1)*mss, len(payload))]
		size := tcpEnd + len(chunk)
		if len(bufs[i]) < offset+size {
			return 0
		}
		out := bufs[i][offset : offset+size]
		copy(out, p[:tcpEnd])
		copy(out[tcpEnd:], chunk)
		if out[0]>>4 == 4 {
			binary.BigEndian.PutUint16(out[2:], uint16(size))
			out[10], out[11] = 0, 0
			binary.BigEndian.PutUint16(out[10:], wire.Checksum(out[:tcpStart], 0))
		} else {
			binary.BigEndian.PutUint16(out[4:], uint16(size-wire.IPv6HeaderLen))
		}
		tcp := out[tcpStart:]
		binary.BigEndian.PutUint32(tcp[4:], seq+uint32(i*mss))
		f := flags
		if i < pieces-1 {
			f &^= tcpFIN | tcpPSH
		}
		if i > 0 {
			f &^= tcpCWR
		}
		tcp[13] = f
		wire.SetTCPChecksum(tcp, src, dst)
		sizes[i] = size
	}
	return pieces
}
