package wire_test

import (
	"fmt"
	"testing"

	"github.com/seqack/seqack/wire"
)

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{64, 1500, 65536} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				wire.Checksum(buf, 0)
			}
		})
	}
}

func BenchmarkBuildTCPPacket(b *testing.B) {
	h := synHeader()
	payload := make([]byte, 1460)
	buf := make([]byte, 1600)
	for _, fam := range []string{"v4", "v6"} {
		src, dst := v4a, v4b
		if fam == "v6" {
			src, dst = v6a, v6b
		}
		b.Run(fam, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(1460)
			for b.Loop() {
				wire.BuildTCPPacket(buf, src, dst, 0, &h, payload)
			}
		})
	}
}

func BenchmarkParseTCPPacket(b *testing.B) {
	payload := string(make([]byte, 1460))
	for _, fam := range []string{"v4", "v6"} {
		p := buildPacket(b, v4a, v4b, payload)
		if fam == "v6" {
			p = buildPacket(b, v6a, v6b, payload)
		}
		b.Run(fam, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				if _, _, _, err := wire.ParseTCPPacket(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
