//go:build linux

package interop

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// Congestion control against Linux's on one emulated path, in one run
// (issue 16): Linux BBR and CUBIC as senders from one namespace to a
// Linux receiver in another (linuxTransfer), and seqack as sender to
// the same receiver (seqackTransfer), each with the congestion controls
// of its table (seqack's by their names in tcp's registry), across the forwarder of linuxlossy_test.go on two
// paths:
//
//   - the lossy path: 100 Mbit/s, 40 ms RTT, a 500 kB drop-tail queue
//     (one bandwidth-delay product), 1% random loss each way, with the
//     same seeds for every sender;
//   - the bloated path: no random loss and a 2.5 MB queue (5×BDP),
//     where a loss-based sender fills the queue and so the RTT.
//
// For each transfer it logs goodput (and utilisation of the 100 Mbit/s),
// retransmitted segments and bytes (TCP_INFO's tcpi_total_retrans and
// tcpi_bytes_retrans for the kernel, tcp.Stats for seqack), and the
// sender's smoothed RTT sampled every 100 ms, as a mean and against the
// 40 ms base; then a table of them all, with each goodput and
// retransmitted byte count against Linux BBR's on the same path. It
// asserts only that the emulator is not the bottleneck: first, with a
// 1 Gbit/s bottleneck, Linux CUBIC must get through the forwarder at
// twice the path's 100 Mbit/s at least; then, for reference, it runs
// Linux CUBIC on the lossy path without its losses. The forwarder also
// measures how late it releases packets; the table shows that beside
// each RTT (about a millisecond each way on a busy two-core machine,
// more when other processes take the cores).
//
// It takes real time (about two minutes with the defaults, most of it
// Linux CUBIC at 1% loss), so it runs only with SEQACK_LINUX_BBR=1.
// SEQACK_LINUX_BBR_MB sets the size of the lossy path's transfers
// (default 16 MiB), SEQACK_LINUX_BBR_BLOAT_MB the bloated path's
// (default 64 MiB: a 16 MiB transfer takes 1.4 s there and is mostly
// startup), SEQACK_LINUX_BBR_SEEDS the seeds of the lossy path (1, 2,
// ...; default 1), and SEQACK_LINUX_BBR_OUT names a file (relative to
// the repository's root) to write the results to, with the command.
// Subtests are named PATH/seedN/SENDER, so that -run can pick some: the
// BBR senders alone, without the minutes CUBIC takes at 1% loss, with
// -run 'TestCongestionAgainstLinux/(emulator|lossy|bloated)/.*/.*-bbr'.
//
// seqack's stack is the sender's host itself: its link is one end of a
// link/pipe whose other end feeds the forwarder, so that its packets
// meet the same lanes as the kernel sender's packets read from its TUN
// device, and the receiver's side (namespace, TUN device, kernel
// settings) is the same in every run. A TUN device on seqack's side
// would put a kernel routing between two devices on its path, a hop the
// kernel senders do not have.
func TestCongestionAgainstLinux(t *testing.T) {
	if os.Getenv("SEQACK_LINUX_BBR") != "1" {
		t.Skip("transfers over an emulated path against the kernel take minutes; set SEQACK_LINUX_BBR=1 to run them")
	}
	netns.Require(t, "sysctl", "nstat")
	lossSize := envInt(t, "SEQACK_LINUX_BBR_MB", 16) << 20
	bloatSize := envInt(t, "SEQACK_LINUX_BBR_BLOAT_MB", 64) << 20
	seeds := envInt(t, "SEQACK_LINUX_BBR_SEEDS", 1)

	// seqack's congestion controls, by their names in tcp's registry
	// (tcp.CongestionControlByName); one not registered yet is skipped.
	controllers := []string{
		"cubic",
		"bbr",
	}
	// Both kernels' buffers, and seqack's send buffer, may grow to 16
	// MiB: a sender filling the bloated path holds 3 MB in flight.
	kernels := kernelTCP{sack: true, bufMax: 16 << 20}
	lossy := lossyPath{rate: 100e6, delay: 20 * time.Millisecond, queue: 500_000, loss: 0.01}
	bloated := lossyPath{rate: 100e6, delay: 20 * time.Millisecond, queue: 2_500_000, seed: 1}
	base := 2 * lossy.delay

	rep := &report{t: t}
	rep.printf(t, "# %s, congestion control against Linux's on one emulated path (real time)", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	rep.printf(t, "# machine: %d cores, kernel %s, %s; load average at start %s", runtime.NumCPU(), kernelRelease(), runtime.Version(), loadAverage())
	rep.printf(t, "# command: %s", commandLine())
	rep.printf(t, "# paths: %.0f Mbit/s bottleneck, %v RTT; lossy: %d-byte drop-tail queue, %.0f%% random loss each way, %d MiB per transfer, seeds 1..%d;",
		lossy.rate/1e6, base, lossy.queue, lossy.loss*100, lossSize>>20, seeds)
	rep.printf(t, "#   bloated: no random loss, %d-byte queue (5×BDP), %d MiB per transfer", bloated.queue, bloatSize>>20)
	rep.printf(t, "# kernels: SACK on, tcp_rmem/tcp_wmem max %d MiB; seqack: zero tcp.Config but CongestionControl, SendBufferSize %d MiB",
		kernels.bufMax>>20, kernels.bufMax>>20)

	var rows []comparisonRow
	run := func(name, pathName string, seed int, transfer func(t *testing.T) transferResult) {
		t.Run(fmt.Sprintf("%s/seed%d/%s", pathName, seed, name), func(t *testing.T) {
			r := transfer(t)
			rep.printf(t, "%s, seed %d, %s: %s", pathName, seed, name, r)
			rows = append(rows, comparisonRow{path: pathName, sender: name, seed: seed, r: r})
		})
	}

	t.Run("emulator", func(t *testing.T) {
		// The forwarder's headroom: with a bottleneck ten times as
		// fast and a queue that never fills, the kernel must get
		// through it at twice the path's rate at least, or the
		// forwarder (a read and a write a packet) would limit the
		// transfers rather than the path. (About 600 Mbit/s on a busy
		// two-core machine; a sender's TUN device that the forwarder
		// does not read fast enough drops packets itself, which
		// linuxTransfer logs.)
		fast := lossyPath{rate: 10 * lossy.rate, delay: lossy.delay, queue: 20_000_000, seed: 1}
		r := linuxTransfer(t, "cubic", kernels, fast, 64<<20)
		rep.printf(t, "emulator check, %.0f Mbit/s bottleneck, no loss, linux cubic: %s", fast.rate/1e6, r)
		if r.goodput < 2*lossy.rate {
			t.Errorf("the forwarder carries only %.1f Mbit/s with a %.0f Mbit/s bottleneck: not twice the %.0f Mbit/s path's",
				r.goodput/1e6, fast.rate/1e6, lossy.rate/1e6)
		}
	})
	t.Run("lossless", func(t *testing.T) {
		// The lossy path without its losses, for reference: the
		// kernel should nearly fill the bottleneck (about 93%; a
		// slow-start exit of HyStart's, misled by the forwarder's
		// jitter, can leave it lower).
		clean := lossy
		clean.loss, clean.seed = 0, 1
		r := linuxTransfer(t, "cubic", kernels, clean, max(lossSize, 64<<20))
		rep.printf(t, "lossless, %d-byte queue, linux cubic: %s", clean.queue, r)
		noteLateness(t, r)
	})

	linuxBBR := kernelHasCongestionControl(t, "bbr")
	linuxSenders := []string{"bbr", "cubic"}
	for _, p := range []struct {
		name  string
		path  lossyPath
		size  int
		seeds int
	}{
		{"lossy", lossy, lossSize, seeds},
		{"bloated", bloated, bloatSize, 1},
	} {
		for seed := 1; seed <= p.seeds; seed++ {
			path := p.path
			path.seed = uint64(seed)
			for _, cc := range linuxSenders {
				run("linux-"+cc, p.name, seed, func(t *testing.T) transferResult {
					if cc == "bbr" && !linuxBBR {
						t.Skip("the kernel has no BBR (not in net.ipv4.tcp_available_congestion_control, and modprobe tcp_bbr failed)")
					}
					r := linuxTransfer(t, cc, kernels, path, p.size)
					noteLateness(t, r)
					return r
				})
			}
			for _, cc := range controllers {
				run("seqack-"+cc, p.name, seed, func(t *testing.T) transferResult {
					r := seqackTransfer(t, cc, kernels, path, p.size)
					noteLateness(t, r)
					return r
				})
			}
		}
	}
	rep.printf(t, "%s", comparisonTable(append(rows, meanRows(rows)...), lossy.rate, base))
	rep.printf(t, "# load average at end %s", loadAverage())
	if out := os.Getenv("SEQACK_LINUX_BBR_OUT"); out != "" {
		rep.write(out)
	}
}

// noteLateness logs it if either lane of r's path forwarded packets
// more than a millisecond late on average: the emulator then added
// that much to each RTT (on a loaded machine, mostly the wait for the
// forwarding goroutine to be scheduled). It is the same for every
// sender, and the table shows it beside the RTT.
func noteLateness(t *testing.T, r transferResult) {
	t.Helper()
	if r.dataLate > time.Millisecond || r.acksLate > time.Millisecond {
		t.Logf("note: the forwarder was late by %v (data) and %v (ACKs) on average: that much more than the path's delay is in each RTT",
			r.dataLate.Round(time.Microsecond), r.acksLate.Round(time.Microsecond))
	}
}

// seqackTransfer sends size bytes from a seqack stack, with the
// congestion control registered as cc, across path to a kernel set up
// as k in a namespace of its own: the receiver of linuxTransfer, with
// seqack in place of the sending kernel.
func seqackTransfer(t *testing.T, cc string, k kernelTCP, path lossyPath, size int) transferResult {
	t.Helper()
	newCC, err := tcp.CongestionControlByName(cc)
	if errors.Is(err, tcp.ErrUnknownCongestionControl) {
		t.Skipf("seqack has no congestion control %q yet (it has %s)", cc, strings.Join(tcp.CongestionControlNames(), ", "))
	}
	if err != nil {
		t.Fatal(err)
	}
	netns.Exclusive(t)
	b := netns.New(t) // the receiver's
	k.configure(t, b)
	devB := pathDevice(t, b)
	near, end := pipe.New(1500) // the forwarder's end and the stack's
	t.Cleanup(func() { near.Close() })
	data, acks := emulatedPath(t, path, near, devB)
	st := stack.New(stack.Options{TCP: &tcp.Config{CongestionControl: newCC, SendBufferSize: k.bufMax}})
	if _, err := st.AddInterface(end, netip.MustParsePrefix(lossySender+"/24")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // closes end too
	bringUp(t, b, lossyReceiver)
	deadline := transferDeadline(size)
	got := kernelReceiver(t, b, deadline)

	before := st.Stats().TCP.Snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := st.DialContext(ctx, "tcp", lossyReceiver+":5001")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sc := conn.(*stack.Conn)
	sc.SetDeadline(deadline)
	if got := sc.CongestionControl(); got != cc {
		t.Fatalf("the sender's connection runs %q, want %q", got, cc)
	}

	var r transferResult
	r.size = size
	r.totalRTO = -1 // seqack does not count a connection's timeouts
	r.rtoMin = time.Hour
	var samples int
	var rttSum time.Duration
	var cwndSum float64
	s := startSampler(func() {
		info := sc.Info()
		r.rtoMin, r.rtoMax = min(r.rtoMin, info.RTO), max(r.rtoMax, info.RTO)
		rttSum += info.SRTT
		cwndSum += float64(info.CongestionWindow) / float64(max(info.MSS, 1))
		samples++
	})
	if err := sendAll(sc, size); err != nil {
		s.Stop()
		t.Fatalf("sender: %v", err)
	}
	rc := <-got
	s.Stop()
	if rc.err != nil || rc.n != int64(size) {
		t.Fatalf("receiver: %d of %d bytes in %v: %v", rc.n, size, rc.elapsed, rc.err)
	}
	info := sc.Info()
	r.segsOut, r.totalRetrans, r.bytesRetrans, r.mss = info.SegmentsSent, info.Retransmissions, info.BytesRetransmitted, info.MSS
	r.elapsed = rc.elapsed
	r.goodput = float64(size) * 8 / rc.elapsed.Seconds()
	if samples > 0 {
		r.rttMean = rttSum / time.Duration(samples)
		r.cwndMean = cwndSum / float64(samples)
	} else {
		r.rtoMin = 0
	}
	r.counters = counterDeltas(before, st.Stats().TCP.Snapshot())
	if n := st.Stats().SendErrors.Load(); n > 0 {
		// The pipe's queue was full: the forwarder fell behind.
		r.counters["SendErrors"] = int64(n)
	}
	r.data, r.acks = data.String(), acks.String()
	r.dataLate, r.acksLate = data.meanLateness(), acks.meanLateness()
	return r
}

// counterDeltas returns the counters that moved between before and
// after, by name.
func counterDeltas(before, after tcp.CounterValues) map[string]int64 {
	m := map[string]int64{}
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	for i := range a.NumField() {
		if a.Field(i).Kind() != reflect.Uint64 {
			continue
		}
		if d := int64(a.Field(i).Uint() - b.Field(i).Uint()); d != 0 {
			m[a.Type().Field(i).Name] = d
		}
	}
	return m
}

// kernelHasCongestionControl reports whether the kernel offers the
// congestion control name, loading its module (tcp_NAME) if it does
// not yet.
func kernelHasCongestionControl(t *testing.T, name string) bool {
	t.Helper()
	has := func() bool {
		b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
		return err == nil && slices.Contains(strings.Fields(string(b)), name)
	}
	if has() {
		return true
	}
	if out, err := exec.Command("modprobe", "tcp_"+name).CombinedOutput(); err != nil {
		t.Logf("modprobe tcp_%s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return has()
}

// comparisonRow is one transfer of the comparison.
type comparisonRow struct {
	path, sender string
	seed         int
	r            transferResult
}

// comparisonTable lays rows out, path by path, with each goodput and
// retransmitted byte count against Linux BBR's on the same path and
// seed (none if it did not run); rows of seed 0 are means over the
// seeds (meanRows), set against Linux BBR's mean. "util" is goodput over the bottleneck
// rate: headers make 96.5% its ceiling (1448 bytes of payload in 1500).
// "/base" is the mean SRTT over the path's 40 ms; "fwd late" the part
// of the RTT the forwarder added, both lanes' mean lateness; a row
// where that passes busyLateness is marked with "!".
func comparisonTable(rows []comparisonRow, rate float64, base time.Duration) string {
	var b strings.Builder
	busy := false
	fmt.Fprintf(&b, "%-8s %-4s %-13s %12s %6s %16s %14s %10s %7s %9s %13s %13s\n",
		"path", "seed", "sender", "goodput Mb/s", "util", "retrans segs", "retrans bytes", "mean srtt", "/base", "fwd late", "goodput ×bbr", "retrans ×bbr")
	for _, row := range rows {
		r := row.r
		ref := -1
		for i, o := range rows {
			if o.path == row.path && o.seed == row.seed && o.sender == "linux-bbr" {
				ref = i
			}
		}
		gx, bx := "-", "-"
		if ref >= 0 {
			gx = fmt.Sprintf("%.3f", r.goodput/rows[ref].r.goodput)
			if rows[ref].r.bytesRetrans > 0 {
				bx = fmt.Sprintf("%.3f", float64(r.bytesRetrans)/float64(rows[ref].r.bytesRetrans))
			}
		}
		seed := strconv.Itoa(row.seed)
		if row.seed == 0 {
			seed = "mean"
		}
		fmt.Fprintf(&b, "%-8s %-4s %-13s %12.2f %5.1f%% %7d (%5.2f%%) %14d %8.1fms %6.2f× %7.1fms %13s %13s",
			row.path, seed, row.sender, r.goodput/1e6, 100*r.goodput/rate,
			r.totalRetrans, 100*float64(r.totalRetrans)/float64(max(r.segsOut, 1)), r.bytesRetrans,
			float64(r.rttMean)/float64(time.Millisecond), float64(r.rttMean)/float64(base),
			float64(r.dataLate+r.acksLate)/float64(time.Millisecond), gx, bx)
		if r.dataLate+r.acksLate > busyLateness {
			b.WriteString(" !")
			busy = true
		}
		b.WriteByte('\n')
	}
	if busy {
		fmt.Fprintf(&b, "! the forwarder added more than %v to the RTT: the machine was too busy to emulate the path faithfully\n", busyLateness)
	}
	return b.String()
}

// busyLateness is how much the forwarder may add to the RTT on average
// before comparisonTable marks a transfer as not measured faithfully.
const busyLateness = 5 * time.Millisecond

// meanRows returns, for each path and sender with more than one seed,
// a row (seed 0) of the means over the seeds: goodput, retransmitted
// segments and bytes, segments sent, SRTT and lateness.
func meanRows(rows []comparisonRow) []comparisonRow {
	var means []comparisonRow
	for i, row := range rows {
		if slices.ContainsFunc(rows[:i], func(o comparisonRow) bool { return o.path == row.path && o.sender == row.sender }) {
			continue // done with its first seed
		}
		var sum transferResult
		n := 0
		for _, o := range rows[i:] {
			if o.path != row.path || o.sender != row.sender {
				continue
			}
			n++
			sum.goodput += o.r.goodput
			sum.totalRetrans += o.r.totalRetrans
			sum.bytesRetrans += o.r.bytesRetrans
			sum.segsOut += o.r.segsOut
			sum.rttMean += o.r.rttMean
			sum.dataLate += o.r.dataLate
			sum.acksLate += o.r.acksLate
		}
		if n < 2 {
			continue
		}
		d := time.Duration(n)
		mean := transferResult{
			goodput: sum.goodput / float64(n), totalRetrans: sum.totalRetrans / uint64(n),
			bytesRetrans: sum.bytesRetrans / uint64(n), segsOut: sum.segsOut / uint64(n),
			rttMean: sum.rttMean / d, dataLate: sum.dataLate / d, acksLate: sum.acksLate / d,
		}
		means = append(means, comparisonRow{path: row.path, sender: row.sender, r: mean})
	}
	return means
}

// report gathers what the test logs, to write it to a file as well.
type report struct {
	t     *testing.T
	lines []string
}

// printf logs a line on t and keeps it.
func (r *report) printf(t testing.TB, format string, args ...any) {
	t.Helper()
	s := fmt.Sprintf(format, args...)
	t.Log(s)
	r.lines = append(r.lines, s)
}

// write writes the report to name, relative to the repository's root
// unless absolute.
func (r *report) write(name string) {
	if !filepath.IsAbs(name) {
		root, err := moduleRoot()
		if err != nil {
			r.t.Errorf("results not written: %v", err)
			return
		}
		name = filepath.Join(root, name)
	}
	if err := os.WriteFile(name, []byte(strings.Join(r.lines, "\n")+"\n"), 0o644); err != nil {
		r.t.Errorf("results not written: %v", err)
		return
	}
	r.t.Logf("results written to %s", name)
}

// moduleRoot returns the directory holding go.mod, above the working
// directory (the package's, under go test).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// commandLine is the go test command that runs this comparison as it
// ran: with its environment and its -run pattern.
func commandLine() string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SEQACK_LINUX_BBR") {
			env = append(env, kv)
		}
	}
	sort.Strings(env)
	pattern := "TestCongestionAgainstLinux"
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		pattern = f.Value.String()
	}
	return strings.Join(append(env, "go test -count=1 -run '"+pattern+"' -v -timeout 30m ./internal/interop"), " ")
}

// kernelRelease is the running kernel's release.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// loadAverage is the machine's 1, 5 and 15-minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// The comparison's table sets each row against Linux BBR's on the same
// path and seed, and the means over seeds against Linux BBR's mean.
func TestComparisonTable(t *testing.T) {
	row := func(seed int, sender string, mbps float64, retrans uint64) comparisonRow {
		return comparisonRow{path: "lossy", sender: sender, seed: seed,
			r: transferResult{goodput: mbps * 1e6, bytesRetrans: retrans, segsOut: 1000, rttMean: 50 * time.Millisecond}}
	}
	rows := []comparisonRow{
		row(1, "linux-bbr", 80, 1000), row(1, "seqack-x", 40, 500),
		row(2, "linux-bbr", 60, 3000), row(2, "seqack-x", 60, 1500),
		{path: "bloated", sender: "seqack-x", seed: 1, r: transferResult{goodput: 90e6}},
		{path: "bloated", sender: "seqack-y", seed: 1, r: transferResult{goodput: 90e6, dataLate: 3 * time.Millisecond, acksLate: 3 * time.Millisecond}},
	}
	means := meanRows(rows)
	if len(means) != 2 || means[0].sender != "linux-bbr" || means[0].r.goodput != 70e6 || means[1].r.bytesRetrans != 1000 {
		t.Fatalf("meanRows: %+v", means)
	}
	table := comparisonTable(append(rows, means...), 100e6, 40*time.Millisecond)
	for _, want := range []string{
		"lossy    1    seqack-x             40.00  40.0%", // goodput and utilisation
		"1.25×",                 // 50 ms over the 40 ms base
		"0.500         0.500\n", // seed 1: half of BBR's goodput and retransmissions
		"1.000         0.500\n", // seed 2
		"mean seqack-x             50.00  50.0%",
		"0.714         0.500\n", // 50/70, 1000/2000
		"90.0%       0 ( 0.00%)              0      0.0ms   0.00×     0.0ms             -             -\n", // no BBR on that path
		"6.0ms             -             - !\n", // the forwarder was late
		"! the forwarder added more than 5ms",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
