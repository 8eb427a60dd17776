package wire

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// The Internet checksum (RFC 1071) is the one's complement of the one's
// complement sum of 16-bit words. Sums are carried here as uint32 values
// already folded to 16 bits, so partial sums (a pseudo-header, a header,
// a payload) can be added with AddChecksums.

// PartialChecksum adds the bytes of b, as big-endian 16-bit words (an odd
// last byte padded with zero), to the partial sum initial and returns the
// new partial sum, folded to 16 bits. b must start at an even offset of
// the checksummed data.
func PartialChecksum(b []byte, initial uint32) uint32 {
	return uint32(fold64(sum64(b, uint64(initial))))
}

// Checksum returns the checksum of b: the value to store in a header
// whose checksum field was zero while b was summed.
func Checksum(b []byte, initial uint32) uint16 {
	return ^fold64(sum64(b, uint64(initial)))
}

// FinishChecksum turns a partial sum into the checksum field value.
func FinishChecksum(sum uint32) uint16 { return ^fold64(uint64(sum)) }

// AddChecksums adds two partial sums.
func AddChecksums(a, b uint32) uint32 { return uint32(fold64(uint64(a) + uint64(b))) }

// PseudoHeaderChecksum returns the partial sum of the IPv4 (RFC 9293
// §3.1) or IPv6 (RFC 8200 §8.1) pseudo-header for an upper-layer packet
// of length bytes.
func PseudoHeaderChecksum(protocol uint8, src, dst netip.Addr, length int) uint32 {
	var s uint64
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		s = uint64(binary.BigEndian.Uint32(a[:])) + uint64(binary.BigEndian.Uint32(b[:]))
	} else {
		a, b := src.As16(), dst.As16()
		s = sum64(a[:], 0)
		s = sum64(b[:], s)
	}
	s += uint64(protocol) + uint64(length)
	return uint32(fold64(s))
}

// ChecksumUpdate16 returns the checksum after a 16-bit field covered by it
// changed from old to new, without summing the data again (RFC 1624 §3,
// equation 3: HC' = ~(~HC + ~m + m')).
func ChecksumUpdate16(check, old, new uint16) uint16 {
	s := uint64(^check) + uint64(^old) + uint64(new)
	return ^fold64(s)
}

// ChecksumUpdate32 is ChecksumUpdate16 for a 32-bit field (an IPv4
// address, a sequence number).
func ChecksumUpdate32(check uint16, old, new uint32) uint16 {
	check = ChecksumUpdate16(check, uint16(old>>16), uint16(new>>16))
	return ChecksumUpdate16(check, uint16(old), uint16(new))
}

// sum64 adds b as big-endian 64-bit words with end-around carry; the
// result folds to the same 16-bit one's complement sum (RFC 1071 §2(B):
// the sum is independent of word size and byte order up to a swap).
func sum64(b []byte, acc uint64) uint64 {
	var carry uint64
	for len(b) >= 64 {
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[0:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[32:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[40:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[48:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[56:]), carry)
		b = b[64:]
	}
	for len(b) >= 8 {
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b), carry)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, carry = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), carry)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, carry = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), carry)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, carry = bits.Add64(acc, uint64(b[0])<<8, carry)
	}
	acc, carry = bits.Add64(acc, 0, carry)
	return acc + carry
}

// fold64 folds a 64-bit end-around-carry sum to 16 bits.
func fold64(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}
