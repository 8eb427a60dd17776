//go:build unix

package workload

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBulkParallel runs Bulk's workload over one and over eight
// connections at once between the same two hosts, at MTU 1500, and
// reports their aggregate throughput. Each op is one 64 KiB write,
// whichever connection makes it. Eight windows open at once fill the
// pipe's bounded queue, so packets are dropped and the receivers
// reassemble out-of-order data: the aggregate should be no less than
// one stream's.
func BenchmarkBulkParallel(b *testing.B) {
	for _, streams := range []int{1, 8} {
		b.Run(fmt.Sprintf("seqack/mtu1500/streams%d", streams), func(b *testing.B) {
			benchmarkBulkParallel(b, seqack(b, 1500), streams)
		})
	}
	for _, streams := range []int{1, 8} {
		b.Run(fmt.Sprintf("kernel/streams%d", streams), func(b *testing.B) {
			benchmarkBulkParallel(b, Kernel(), streams)
		})
	}
}

func benchmarkBulkParallel(b *testing.B, n Net, streams int) {
	b.SetBytes(chunk)
	var left atomic.Int64
	left.Store(int64(b.N))
	var (
		wg    sync.WaitGroup
		total atomic.Int64
		errs  = make(chan error, streams)
	)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := range streams {
		ni := n
		// Each stream listens on a port of its own.
		if host, port, err := net.SplitHostPort(n.Addr); err == nil && port != "0" {
			p, _ := strconv.Atoi(port)
			ni.Addr = net.JoinHostPort(host, strconv.Itoa(p+i))
		}
		first := true // every stream writes at least once: Bulk fails on an empty stream
		more := func() bool {
			ok := left.Add(-1) >= 0 || first
			first = false
			return ok
		}
		wg.Go(func() {
			bytes, _, err := bulk(ni, more)
			if err != nil {
				errs <- err
				return
			}
			total.Add(bytes)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total.Load())*8/elapsed.Seconds()/1e9, "Gbit/s")
	// CPU time a gigabyte costs both stacks together (for the kernel,
	// only what the process is charged): unlike throughput, it does
	// not depend on what else the machine is running.
	b.ReportMetric(cpu.Seconds()/(float64(total.Load())/1e9), "cpu-s/GB")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
