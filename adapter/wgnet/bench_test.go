package wgnet_test

import (
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// The two netstacks a benchmark compares, at both ends of the tunnel.
var benchKinds = []string{"seqack", "gvisor"}

// A TCP stream through a WireGuard tunnel (two wireguard-go devices,
// UDP on 127.0.0.1, MTU 1420) in 64 KiB writes, with seqack and with
// gVisor's netstack at both ends.
func BenchmarkTunnelStream(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			ends := tunnel(b, kind, kind, nil)
			ln, err := ends[1].listenTCP(netip.AddrPortFrom(tunV4[1], 5001))
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			drained := make(chan int64, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					drained <- 0
					return
				}
				n, _ := io.Copy(io.Discard, c)
				c.Close()
				drained <- n
			}()
			c, err := ends[0].dial(ctxFor(b, time.Minute), "tcp", netip.AddrPortFrom(tunV4[1], 5001).String())
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			c.(interface{ CloseWrite() error }).CloseWrite()
			if n := <-drained; n != int64(b.N*len(buf)) {
				b.Fatalf("received %d bytes of %d", n, b.N*len(buf))
			}
			b.StopTimer()
			c.Close()
		})
	}
}

// Connections through the tunnel: connect, one-byte echo, close.
func BenchmarkTunnelConnect(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			ends := tunnel(b, kind, kind, nil)
			to := netip.AddrPortFrom(tunV4[1], 7)
			ln, err := ends[1].listenTCP(to)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func(c net.Conn) {
						var one [1]byte
						if _, err := io.ReadFull(c, one[:]); err == nil {
							c.Write(one[:])
						}
						c.Close()
					}(c)
				}
			}()
			ctx := ctxFor(b, time.Minute)
			one := make([]byte, 1)
			b.ResetTimer()
			for range b.N {
				c, err := ends[0].dial(ctx, "tcp", to.String())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
		})
	}
}

// The heap an idle connection through the tunnel holds, per end (both
// ends are in the process): 500 connections opened and left idle.
func BenchmarkTunnelIdleMemory(b *testing.B) {
	const conns = 500
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			for range b.N {
				ends := tunnel(b, kind, kind, nil)
				to := netip.AddrPortFrom(tunV4[1], 7)
				ln, err := ends[1].listenTCP(to)
				if err != nil {
					b.Fatal(err)
				}
				ctx := ctxFor(b, time.Minute)
				var held []net.Conn
				heap := func() uint64 {
					var m runtime.MemStats
					runtime.GC()
					runtime.GC()
					runtime.ReadMemStats(&m)
					return m.HeapAlloc
				}
				before := heap()
				for range conns {
					c, err := ends[0].dial(ctx, "tcp", to.String())
					if err != nil {
						b.Fatal(err)
					}
					a, err := ln.Accept()
					if err != nil {
						b.Fatal(err)
					}
					held = append(held, c, a)
				}
				time.Sleep(50 * time.Millisecond) // the last ACKs
				after := heap()
				b.ReportMetric(float64(int64(after)-int64(before))/(2*conns), "B/conn-end")
				for _, c := range held {
					c.Close()
				}
				ln.Close()
				ends[0].dev.Close()
				ends[1].dev.Close()
			}
		})
	}
}
