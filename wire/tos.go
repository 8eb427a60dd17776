package wire

import "encoding/binary"

// SetTrafficClass sets the traffic class of an IP packet already built:
// the TOS byte of IPv4 (RFC 791 §3.1, DSCP and ECN since RFC 2474 and
// RFC 3168), whose header checksum it then recomputes, or the Traffic
// Class of IPv6 (RFC 8200 §7). A packet too short for its header, or of
// another version, is left as it is.
func SetTrafficClass(pkt []byte, tc uint8) {
	if len(pkt) == 0 {
		return
	}
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0x0f) * 4
		if ihl < IPv4MinHeaderLen || len(pkt) < ihl {
			return
		}
		pkt[1] = tc
		pkt[10], pkt[11] = 0, 0
		binary.BigEndian.PutUint16(pkt[10:], Checksum(pkt[:ihl], 0))
	case 6:
		if len(pkt) < IPv6HeaderLen {
			return
		}
		v := binary.BigEndian.Uint32(pkt)
		binary.BigEndian.PutUint32(pkt, v&^(0xff<<20)|uint32(tc)<<20)
	}
}
