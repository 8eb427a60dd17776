//go:build linux

package interop

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/tun"
)

// The Linux kernel against itself on the lossy path of sim/lossy_test.go
// (100 Mbit/s bottleneck, 40 ms RTT, 1% random loss each way): how much
// faster is CUBIC with SACK than Reno without it, when the reference
// implementation does both? Two namespaces, each with a TUN device, are
// joined by a forwarder in this process that impairs each direction; a
// Go sender in one namespace and a Go receiver in the other are kernel
// sockets. It measures, and asserts nothing about the ratio; a subtest
// first checks the emulator, which without loss should let the kernel
// fill the bottleneck.
//
// It takes real time (about 40 s per configuration at 16 MiB), so it
// runs only with SEQACK_LINUX_LOSSY=1. SEQACK_LINUX_LOSSY_MB sets the
// size (default 16 MiB; the lossless check moves at least 64 MiB) and
// SEQACK_LINUX_LOSSY_SEEDS the number of seeds, 1, 2, ... (default 1),
// each run with both configurations.
func TestLinuxLossyPath(t *testing.T) {
	if os.Getenv("SEQACK_LINUX_LOSSY") != "1" {
		t.Skip("kernel-to-kernel transfers over an emulated lossy path take minutes; set SEQACK_LINUX_LOSSY=1 to run them")
	}
	netns.Require(t, "sysctl", "nstat")
	size := envInt(t, "SEQACK_LINUX_LOSSY_MB", 16) << 20
	seeds := envInt(t, "SEQACK_LINUX_LOSSY_SEEDS", 1)
	lossy := lossyPath{rate: 100e6, delay: 20 * time.Millisecond, queue: 500_000, loss: 0.01}
	kernels := kernelTCP{sack: true, bufMax: 4 << 20}
	noSACK := kernelTCP{sack: false, bufMax: 4 << 20}
	t.Logf("path: %.0f Mbit/s bottleneck, %v one-way delay, %d-byte drop-tail queue, %.0f%% random loss each way; %d MiB per transfer",
		lossy.rate/1e6, lossy.delay, lossy.queue, lossy.loss*100, size>>20)

	t.Run("lossless", func(t *testing.T) {
		// The emulator itself: without random loss the kernel should
		// fill the bottleneck.
		clean := lossy
		clean.loss, clean.seed = 0, 1
		r := linuxTransfer(t, "cubic", kernels, clean, max(size, 64<<20))
		t.Logf("lossless, cubic+SACK: %s", r)
	})

	type pair struct{ cubic, reno transferResult }
	var pairs []pair
	for seed := 1; seed <= seeds; seed++ {
		path := lossy
		path.seed = uint64(seed)
		var p pair
		ok := t.Run(fmt.Sprintf("seed%d/cubic-sack", seed), func(t *testing.T) {
			p.cubic = linuxTransfer(t, "cubic", kernels, path, size)
			t.Logf("seed %d, cubic+SACK: %s", seed, p.cubic)
		})
		ok = t.Run(fmt.Sprintf("seed%d/reno-nosack", seed), func(t *testing.T) {
			p.reno = linuxTransfer(t, "reno", noSACK, path, size)
			t.Logf("seed %d, reno, no SACK: %s", seed, p.reno)
		}) && ok
		if ok {
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return
	}
	var sumC, sumR float64
	for i, p := range pairs {
		sumC += p.cubic.goodput
		sumR += p.reno.goodput
		t.Logf("seed %d: cubic+SACK %.2f Mbit/s, reno/no SACK %.2f Mbit/s, ratio %.2f×",
			i+1, p.cubic.goodput/1e6, p.reno.goodput/1e6, p.cubic.goodput/p.reno.goodput)
	}
	n := float64(len(pairs))
	t.Logf("mean over %d seed(s): cubic+SACK %.2f Mbit/s, reno/no SACK %.2f Mbit/s, ratio of means %.2f×",
		len(pairs), sumC/n/1e6, sumR/n/1e6, sumC/sumR)
}

// envInt reads a positive integer from the environment, or returns def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

// lossyPath describes one direction of the emulated path (both are
// alike).
type lossyPath struct {
	rate  float64       // bottleneck, bits per second
	delay time.Duration // one-way propagation delay
	queue int           // bottleneck queue limit, bytes (drop-tail)
	loss  float64       // probability a packet is dropped at random
	seed  uint64        // for the random losses
}

// lane carries one direction of the path: packets read from one TUN
// device are written to the other after the impairment. admit runs on
// the reading device's goroutine only (one per endpoint), so the random
// source and the bottleneck's clock need no lock.
type lane struct {
	path lossyPath
	rng  *mrand.Rand
	out  link.Endpoint
	free time.Time // when the bottleneck has sent all it holds
	line chan timedPacket

	forwarded, lost, queueDrops, overflow atomic.Uint64
	// How late release wrote the packets it forwarded, in sum and at
	// most (nanoseconds): a forwarder that cannot keep up is late.
	lateSum, lateMax atomic.Int64
}

// timedPacket is a packet on the delay line, to be written at due.
type timedPacket struct {
	p   []byte
	due time.Time
}

// newLane starts a lane that writes to out until ctx is done. stream
// tells the lanes of one path apart, so that they draw different losses
// from the same seed.
func newLane(ctx context.Context, path lossyPath, stream uint64, out link.Endpoint) *lane {
	l := &lane{
		path: path,
		rng:  mrand.New(mrand.NewPCG(path.seed, stream)),
		out:  out,
		// The packets between the queue's entrance and the far end are
		// at most a queue's worth plus a delay's worth at the
		// bottleneck rate, all as small as ACKs; this bounds them
		// generously.
		line: make(chan timedPacket, 1<<16),
	}
	go l.release(ctx)
	return l
}

// admit takes a packet read from the near device: it is lost at random,
// dropped when the bottleneck's queue is full, or else leaves the
// bottleneck once the packets before it have been serialized and its
// own size·8/rate has passed, and arrives a propagation delay later.
func (l *lane) admit(p []byte) {
	now := time.Now()
	if l.path.loss > 0 && l.rng.Float64() < l.path.loss {
		l.lost.Add(1)
		link.Recycle(p)
		return
	}
	start := now
	if l.free.After(now) {
		start = l.free
		backlog := start.Sub(now).Seconds() * l.path.rate / 8 // bytes waiting
		if int(backlog)+len(p) > l.path.queue {
			l.queueDrops.Add(1)
			link.Recycle(p)
			return
		}
	}
	l.free = start.Add(time.Duration(float64(len(p)) * 8 / l.path.rate * float64(time.Second)))
	select {
	case l.line <- timedPacket{p, l.free.Add(l.path.delay)}:
	default:
		l.overflow.Add(1)
		link.Recycle(p)
	}
}

// release writes the packets of the delay line to the far device in
// order, each no earlier than it is due. Since every packet is delayed
// alike after a FIFO bottleneck, they fall due in the order they came:
// one sleeping goroutine is the whole timer wheel.
func (l *lane) release(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var tp timedPacket
		select {
		case <-ctx.Done():
			return
		case tp = <-l.line:
		}
		if d := time.Until(tp.due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		late := int64(time.Since(tp.due))
		l.out.WritePacket(tp.p) // fails only once the device is closed
		l.forwarded.Add(1)
		l.lateSum.Add(late)
		if late > l.lateMax.Load() {
			l.lateMax.Store(late) // release alone writes it
		}
	}
}

func (l *lane) String() string {
	fwd, lost, q, o := l.forwarded.Load(), l.lost.Load(), l.queueDrops.Load(), l.overflow.Load()
	total := fwd + lost + q + o
	return fmt.Sprintf("%d packets: %d lost at random (%.2f%%), %d queue drops, %d delay-line overflows; forwarded late by %v on average, %v at most",
		total, lost, 100*float64(lost)/float64(max(total, 1)), q, o, l.meanLateness().Round(time.Microsecond), time.Duration(l.lateMax.Load()).Round(time.Microsecond))
}

// meanLateness is how late, on average, the lane forwarded a packet
// after it fell due.
func (l *lane) meanLateness() time.Duration {
	return time.Duration(l.lateSum.Load() / int64(max(l.forwarded.Load(), 1)))
}

// transferResult is the outcome of one transfer across the emulated
// path, from a kernel sender or a seqack one.
type transferResult struct {
	size    int
	elapsed time.Duration // at the receiver, from accept to EOF
	goodput float64       // bits per second
	// From the sender at the end.
	segsOut, totalRetrans uint64
	bytesRetrans          uint64
	totalRTO              int // retransmission timeouts; -1 if the sender does not count them
	mss                   int
	// Sampled from the sender during the transfer.
	rtoMin, rtoMax time.Duration
	rttMean        time.Duration
	cwndMean       float64 // segments
	maxBackoff     uint8
	// Deltas of the sender's counters (nstat, or the stack's Stats).
	counters map[string]int64
	// The forwarder's view, data direction and ACK direction, and how
	// late each forwarded packets on average.
	data, acks         string
	dataLate, acksLate time.Duration
}

func (r transferResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f Mbit/s (%d MiB in %.1f s); sender: %d segments, %d retransmitted (%.2f%%, %d bytes)",
		r.goodput/1e6, r.size>>20, r.elapsed.Seconds(), r.segsOut, r.totalRetrans,
		100*float64(r.totalRetrans)/float64(max(r.segsOut, 1)), r.bytesRetrans)
	if r.totalRTO >= 0 {
		fmt.Fprintf(&b, ", %d RTOs, max backoff %d", r.totalRTO, r.maxBackoff)
	}
	fmt.Fprintf(&b, "; sampled rto %v–%v, mean srtt %v, mean cwnd %.1f × %d B",
		r.rtoMin, r.rtoMax, r.rttMean.Round(100*time.Microsecond), r.cwndMean, r.mss)
	var names []string
	for k := range r.counters {
		names = append(names, k)
	}
	sort.Strings(names)
	b.WriteString("\n\tcounters (sender):")
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%d", k, r.counters[k])
	}
	fmt.Fprintf(&b, "\n\tpath data→: %s\n\tpath ←acks: %s", r.data, r.acks)
	return b.String()
}

// tcpiOptSACK is TCPI_OPT_SACK of linux/tcp.h: TCP_INFO's options say
// SACK was negotiated.
const tcpiOptSACK = 2

// The addresses of the two namespaces' ends of the emulated path.
const (
	lossySender   = "10.77.1.1"
	lossyReceiver = "10.77.1.2"
)

// kernelTCP is how the kernels at the ends of the path are set up.
type kernelTCP struct {
	sack bool
	// bufMax is the maximum of net.ipv4.tcp_rmem and tcp_wmem, bytes:
	// what auto-tuning may grow a socket's buffers to.
	bufMax int
}

// configure sets ns's kernel up as k says. A namespace other than the
// first may make only the algorithms in the machine's
// net.ipv4.tcp_allowed_congestion_control its default (here "reno
// bbr"; widening that list would change the host), but root may pick
// any available one for a socket. So every namespace defaults to Reno,
// and a sender's socket is given its algorithm with TCP_CONGESTION (and
// checked).
func (k kernelTCP) configure(t *testing.T, ns *netns.NS) {
	t.Helper()
	sackVal := "0"
	if k.sack {
		sackVal = "1"
	}
	ns.Run(t, "sysctl", "-q", "-w",
		"net.ipv4.tcp_congestion_control=reno",
		"net.ipv4.tcp_sack="+sackVal,
		fmt.Sprintf("net.ipv4.tcp_rmem=4096 131072 %d", k.bufMax),
		fmt.Sprintf("net.ipv4.tcp_wmem=4096 16384 %d", k.bufMax),
		"net.ipv4.tcp_no_metrics_save=1",
		// Keep the link to IPv4 and the transfer's own packets.
		"net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1")
	if got := strings.TrimSpace(ns.Run(t, "sysctl", "-n", "net.ipv4.tcp_sack")); got != sackVal {
		t.Fatalf("%s: net.ipv4.tcp_sack is %s, want %s", ns.Name, got, sackVal)
	}
}

// pathDevice opens the TUN device of one end of the path in ns, without
// offloads: its packets are the size the path loses them at. It is
// closed when the test ends.
func pathDevice(t *testing.T, ns *netns.NS) *tun.Endpoint {
	t.Helper()
	var dev *tun.Endpoint
	if err := ns.Do(func() (err error) {
		dev, err = tun.OpenConfig(device, tun.Config{MTU: 1500, Plain: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

// deviceQueue is the length of the TUN devices' transmit queues, in
// packets: as long as a link/pipe's (which a seqack sender's packets
// wait in), and long enough that a burst waits for the forwarder
// rather than being dropped before the path (the default, 500, drops
// some of slow start's when the forwarder is not scheduled for a few
// milliseconds). The bottleneck's queue is then the path's only one
// that drops.
const deviceQueue = 4096

// bringUp gives ns's end of the path its address and sets it up.
func bringUp(t *testing.T, ns *netns.NS, addr string) {
	t.Helper()
	ns.Run(t, "ip", "addr", "add", addr+"/24", "dev", device)
	ns.Run(t, "ip", "link", "set", device, "txqueuelen", strconv.Itoa(deviceQueue), "up")
}

// emulatedPath joins near (the sender's link) and far (the receiver's)
// with a lane each way, until the test ends. It must be called before
// either end carries packets.
func emulatedPath(t *testing.T, path lossyPath, near, far link.Endpoint) (data, acks *lane) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // runs before the devices close
	data = newLane(ctx, path, 1, far)
	acks = newLane(ctx, path, 2, near)
	near.Attach(data.admit)
	far.Attach(acks.admit)
	return data, acks
}

// transferDeadline is when a transfer of size bytes has stalled rather
// than gone slowly: it is allowed 0.5 Mbit/s.
func transferDeadline(size int) time.Time {
	return time.Now().Add(time.Minute + time.Duration(size*8/500_000)*time.Second)
}

// received is what the receiver got.
type received struct {
	n       int64
	elapsed time.Duration
	err     error
}

// kernelReceiver listens with ns's kernel at the receiver's address and
// reads one connection to its end; the result comes on the channel.
func kernelReceiver(t *testing.T, ns *netns.NS, deadline time.Time) <-chan received {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", lossyReceiver+":5001")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan received, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- received{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(deadline)
		start := time.Now()
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, c, make([]byte, 256<<10))
		got <- received{n, time.Since(start), err}
	}()
	return got
}

// sampler calls sample every 100 ms until stopped.
type sampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startSampler(sample func()) *sampler {
	s := &sampler{stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return s
}

// Stop stops the sampler and waits for a sample under way.
func (s *sampler) Stop() {
	close(s.stop)
	s.wg.Wait()
}

// sendAll writes size bytes to c and closes its sending half.
func sendAll(c interface {
	io.Writer
	CloseWrite() error
}, size int) error {
	buf := make([]byte, 64<<10)
	for left := size; left > 0; {
		n, err := c.Write(buf[:min(len(buf), left)])
		if err != nil {
			return fmt.Errorf("after %d of %d bytes: %w", size-left+n, size, err)
		}
		left -= n
	}
	return c.CloseWrite()
}

// linuxTransfer makes the two namespaces and the path between them, sets
// both kernels up as k says, and sends size bytes from one kernel, with
// congestion control cc, to the other.
func linuxTransfer(t *testing.T, cc string, k kernelTCP, path lossyPath, size int) transferResult {
	t.Helper()
	netns.Exclusive(t)
	a, b := netns.New(t), netns.New(t) // a sends, b receives
	k.configure(t, a)
	k.configure(t, b)
	devA, devB := pathDevice(t, a), pathDevice(t, b)
	data, acks := emulatedPath(t, path, devA, devB)
	bringUp(t, a, lossySender)
	bringUp(t, b, lossyReceiver)
	deadline := transferDeadline(size)
	got := kernelReceiver(t, b, deadline)

	before := nstat(t, a)
	var conn net.Conn
	if err := a.Do(func() (err error) {
		d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
			}); err != nil {
				return err
			}
			if serr != nil {
				return fmt.Errorf("TCP_CONGESTION %s: %w", cc, serr)
			}
			return nil
		}}
		conn, err = d.Dial("tcp", lossyReceiver+":5001")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	tc.SetDeadline(deadline)
	if got := congestionControl(t, tc); got != cc {
		t.Fatalf("the sender's socket runs %q, want %q", got, cc)
	}
	if got := tcpInfo(t, tc); got != nil && (got.Options&tcpiOptSACK != 0) != k.sack {
		t.Fatalf("SACK negotiated: %v, want %v", got.Options&tcpiOptSACK != 0, k.sack)
	}

	var r transferResult
	r.size = size
	r.rtoMin = time.Hour
	var samples int
	var rttSum time.Duration
	var cwndSum float64
	s := startSampler(func() {
		info := tcpInfo(t, tc)
		if info == nil {
			return
		}
		rto := time.Duration(info.Rto) * time.Microsecond
		r.rtoMin, r.rtoMax = min(r.rtoMin, rto), max(r.rtoMax, rto)
		r.maxBackoff = max(r.maxBackoff, info.Backoff)
		rttSum += time.Duration(info.Rtt) * time.Microsecond
		cwndSum += float64(info.Snd_cwnd)
		samples++
	})
	if err := sendAll(tc, size); err != nil {
		s.Stop()
		t.Fatalf("sender: %v", err)
	}
	rc := <-got
	s.Stop()
	if rc.err != nil || rc.n != int64(size) {
		t.Fatalf("receiver: %d of %d bytes in %v: %v", rc.n, size, rc.elapsed, rc.err)
	}
	if info := tcpInfo(t, tc); info != nil {
		r.segsOut, r.totalRetrans, r.bytesRetrans = uint64(info.Segs_out), uint64(info.Total_retrans), info.Bytes_retrans
		r.totalRTO, r.mss = int(info.Total_rto), int(info.Snd_mss)
	}
	r.elapsed = rc.elapsed
	r.goodput = float64(size) * 8 / rc.elapsed.Seconds()
	if samples > 0 {
		r.rttMean = rttSum / time.Duration(samples)
		r.cwndMean = cwndSum / float64(samples)
	} else {
		r.rtoMin = 0
	}
	after := nstat(t, a)
	r.counters = map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 && interesting(k) {
			r.counters[k] = d
		}
	}
	r.data, r.acks = data.String(), acks.String()
	r.dataLate, r.acksLate = data.meanLateness(), acks.meanLateness()
	if out, err := a.Output("cat", "/sys/class/net/"+device+"/statistics/tx_dropped"); err == nil && strings.TrimSpace(out) != "0" {
		t.Logf("the sender's TUN device dropped %s packets itself", strings.TrimSpace(out))
	}
	return r
}

// tcpInfo returns the kernel's TCP_INFO for c.
func tcpInfo(t *testing.T, c *net.TCPConn) *unix.TCPInfo {
	raw, err := c.SyscallConn()
	if err != nil {
		t.Error(err)
		return nil
	}
	var info *unix.TCPInfo
	var ierr error
	if err := raw.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || ierr != nil {
		t.Errorf("TCP_INFO: %v %v", err, ierr)
		return nil
	}
	return info
}

// congestionControl returns the congestion control algorithm of c.
func congestionControl(t *testing.T, c *net.TCPConn) string {
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var name string
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		name, gerr = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	}); err != nil || gerr != nil {
		t.Fatalf("TCP_CONGESTION: %v %v", err, gerr)
	}
	return strings.TrimRight(name, "\x00")
}

// nstat returns the namespace's SNMP and extended counters, absolute.
// -s leaves nstat's history file alone.
func nstat(t *testing.T, ns *netns.NS) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, line := range strings.Split(ns.Run(t, "nstat", "-asz"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			m[f[0]] = v
		}
	}
	return m
}

// interesting picks the counters that tell how losses were recovered.
func interesting(name string) bool {
	if name == "TcpRetransSegs" || name == "TcpOutSegs" {
		return true
	}
	if !strings.HasPrefix(name, "TcpExt") {
		return false
	}
	for _, s := range []string{"Retrans", "Recovery", "Timeout", "Loss", "RTO", "DSACK", "Fail", "Reno", "Sack", "SACK", "Undo", "Reorder"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}
