package stack_test

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// BenchmarkUDPDatagrams sends b.N datagrams through two stacks over a
// pipe (checksums computed and checked), then b.N through the kernel
// over loopback (127.0.0.1), and reports both rates and their ratio.
// The sender keeps at most udpWindow datagrams unread, so that neither
// receive queue overflows and what is measured is the path, not drops.
func BenchmarkUDPDatagrams(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			client, server := twoStacks(b, 1500)
			sock := listenUDP(b, server, "udp4", "192.0.2.2:9")
			conn, err := client.Dial("udp4", "192.0.2.2:9")
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			kln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Skip(err)
			}
			defer kln.Close()
			kconn, err := net.DialUDP("udp4", nil, kln.LocalAddr().(*net.UDPAddr))
			if err != nil {
				b.Fatal(err)
			}
			defer kconn.Close()

			b.ResetTimer()
			seqack := pumpDatagrams(b, conn, sock, size, b.N)
			kernel := pumpDatagrams(b, kconn, kln, size, b.N)
			b.StopTimer()
			b.ReportMetric(seqack, "seqack-dgram/s")
			b.ReportMetric(kernel, "kernel-dgram/s")
			b.ReportMetric(seqack/kernel, "ratio")
		})
	}
}

// udpWindow and udpCredit: the sender may be udpWindow datagrams ahead
// of the reader, which hands back credit every udpCredit datagrams.
const udpWindow, udpCredit = 64, 16

// pumpDatagrams sends n datagrams of size bytes on send and reads them
// from recv, and returns datagrams received per second. It fails if any
// is lost.
func pumpDatagrams(b *testing.B, send, recv net.Conn, size, n int) float64 {
	credits := make(chan struct{}, udpWindow/udpCredit)
	for range cap(credits) {
		credits <- struct{}{}
	}
	done := make(chan int)
	go func() {
		buf := make([]byte, 2048)
		got := 0
		for got < n {
			recv.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := recv.Read(buf); err != nil {
				break
			}
			got++
			if got%udpCredit == 0 {
				credits <- struct{}{}
			}
		}
		done <- got
	}()
	data := make([]byte, size)
	start := time.Now()
	for i := 0; i < n; i++ {
		if i%udpCredit == 0 {
			<-credits
		}
		if _, err := send.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	got := <-done
	elapsed := time.Since(start)
	if got != n {
		b.Fatalf("%d of %d datagrams received", got, n)
	}
	return float64(n) / elapsed.Seconds()
}
