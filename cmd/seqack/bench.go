package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/seqack/seqack/internal/workload"
	"github.com/seqack/seqack/internal/workload/tunnel"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

const benchUsage = `Usage: seqack bench [flags]

Runs each workload on seqack (two stacks joined by an in-memory pipe) and
on the kernel (Go's net over 127.0.0.1), one after the other in this
process, and prints both figures and their ratio. The machine, the Go
runtime and the workload code are the same for both; only the stack
differs.

Workloads:
  bulk       one connection, 64 KiB writes, throughput at the receiver,
             at MTU 1500 and 65535 (the kernel's loopback MTU is its own)
  handshake  connect, one-byte echo, close; four dialers at once
  idle       Go heap per idle ESTABLISHED connection end (seqack only:
             the kernel's socket memory is not in the Go heap)
  udp        UDP datagrams of 64 and 1024 bytes per second, at most 64
             unread (MTU 1500)

Through a WireGuard tunnel (two wireguard-go devices in this process
joined by UDP on 127.0.0.1, MTU 1420), seqack against wireguard-go's
gVisor netstack at both ends rather than against the kernel:
  tunnel        one connection, 64 KiB writes, throughput at the receiver
  tunnel-conns  connect, one-byte echo, close; four dialers at once

Flags:
  --time D     how long each throughput measurement runs (default 2s)
  --only LIST  comma-separated workloads to run (default bulk,handshake,idle;
               all: bulk,handshake,idle,udp,tunnel,tunnel-conns)
  --conns N    connections the idle measurement opens (default 1000)
  --norack     run seqack's stacks without RACK-TLP loss detection
               (RFC 8985), which they run by default, to measure its cost
  --cc NAME    congestion control of seqack's stacks (default cubic; names:
               tcp.CongestionControlNames); the kernel's sockets get the
               same through TCP_CONGESTION if it has it loaded
               (tcp_available_congestion_control), else run its default.
               The first line says what each side runs. Neither --cc nor
               --norack reaches the tunnel workloads' stacks
`

// benchWorkloads are the workloads --only accepts, in the order they
// run: those quoted against the kernel, then those against gVisor.
var benchWorkloads = []string{"bulk", "handshake", "idle", "udp", "tunnel", "tunnel-conns"}

// benchDefault are the workloads run without --only.
var benchDefault = []string{"bulk", "handshake", "idle"}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seqack bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		d      = fs.Duration("time", 2*time.Second, "")
		only   = fs.String("only", strings.Join(benchDefault, ","), "")
		conns  = fs.Int("conns", 1000, "")
		norack = fs.Bool("norack", false, "")
		cc     string
	)
	fs.Func("cc", "", func(name string) error {
		if _, err := tcp.CongestionControlByName(name); err != nil {
			return fmt.Errorf("%w (have %s)", tcp.ErrUnknownCongestionControl, strings.Join(tcp.CongestionControlNames(), ", "))
		}
		cc = name
		return nil
	})
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, benchUsage)
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil && *d <= 0 {
		err = fmt.Errorf("--time %v: must be positive", *d)
	}
	if err == nil && *conns <= 0 {
		err = fmt.Errorf("--conns %d: must be positive", *conns)
	}
	var selected []string
	if err == nil {
		selected, err = parseOnly(*only)
	}
	if err != nil {
		fmt.Fprintln(stderr, flagError("seqack bench", args, err))
		return exitUsage
	}

	// Rows are printed as each is measured, rather than as one table at
	// the end, so that a run of several seconds shows its progress; the
	// columns are therefore fixed widths, not a tabwriter's.
	opts := stack.Options{TCP: &tcp.Config{NoRACK: *norack}}
	if cc != "" {
		opts.TCP.CongestionControl, _ = tcp.CongestionControlByName(cc) // checked by the flag
	}
	available, def := kernelAlgorithms()
	kernelCC, note := kernelCongestion(cc, available, def)
	kernel := workload.Kernel()
	if kernelCC != "" {
		kernel = kernelWith(congestionControl(kernelCC))
	}
	fmt.Fprintf(stdout, "congestion control: seqack %s, kernel %s\n", tcp.NewConn(opts.TCP, 0).CongestionControlName(), note)
	fmt.Fprintf(stdout, benchRow, "workload", "seqack", "kernel", "ratio")
	againstGVisor := false
	for _, w := range selected {
		if strings.HasPrefix(w, "tunnel") && !againstGVisor {
			// The tunnel rows compare with gVisor: a header says so.
			fmt.Fprintf(stdout, benchRow, "in a tunnel", "seqack", "gVisor", "ratio")
			againstGVisor = true
		}
		var err error
		switch w {
		case "bulk":
			for _, mtu := range []int{1500, 65535} {
				if err = benchBulk(stdout, mtu, *d, opts, kernel); err != nil {
					break
				}
			}
		case "handshake":
			err = benchHandshake(stdout, *d, opts, kernel)
		case "idle":
			err = benchIdle(stdout, *conns, opts)
		case "udp":
			for _, size := range []int{64, 1024} {
				if err = benchUDP(stdout, size, *d, opts); err != nil {
					break
				}
			}
		case "tunnel":
			err = benchTunnel(stdout, "tunnel", workload.Bulk, bitRate, *d)
		case "tunnel-conns":
			err = benchTunnel(stdout, "tunnel-conns", workload.Handshake, connRate, *d)
		}
		if err != nil {
			fmt.Fprintf(stderr, "seqack bench: %v\n", err)
			return exitError
		}
	}
	return exitOK
}

// benchRow is the format of one row of the table.
const benchRow = "%-20s%-16s%-16s%s\n"

// parseOnly parses --only's comma-separated list, returning the chosen
// workloads in benchWorkloads' order, so that the table reads the same
// whatever order they were named in.
func parseOnly(list string) ([]string, error) {
	var chosen []string
	for w := range strings.SplitSeq(list, ",") {
		w = strings.TrimSpace(w)
		if !slices.Contains(benchWorkloads, w) {
			return nil, fmt.Errorf("--only: unknown workload %q (want %s)", w, strings.Join(benchWorkloads, ", "))
		}
		chosen = append(chosen, w)
	}
	var ordered []string
	for _, w := range benchWorkloads {
		if slices.Contains(chosen, w) {
			ordered = append(ordered, w)
		}
	}
	return ordered, nil
}

// kernelCongestion decides the kernel side's congestion control for
// --cc name, given the kernel's available algorithms and its default:
// the name to set with TCP_CONGESTION ("" for the default) and what to
// print after "kernel".
func kernelCongestion(name string, available []string, def string) (set, note string) {
	if def == "" {
		def = "?"
	}
	switch {
	case name == "":
		return "", def + " (its default)"
	case slices.Contains(available, name):
		return name, name + " (TCP_CONGESTION)"
	}
	return "", fmt.Sprintf("%s (its default: no %s in tcp_available_congestion_control)", def, name)
}

// kernelWith is workload.Kernel with control run on every socket it
// listens or dials on.
func kernelWith(control func(network, address string, c syscall.RawConn) error) workload.Net {
	n := workload.Kernel()
	lc := net.ListenConfig{Control: control}
	d := &net.Dialer{Timeout: workload.Timeout, Control: control}
	n.Listen = func(network, addr string) (net.Listener, error) {
		return lc.Listen(context.Background(), network, addr)
	}
	n.Dial = d.Dial
	return n
}

func benchBulk(stdout io.Writer, mtu int, d time.Duration, opts stack.Options, kernel workload.Net) error {
	n, closeNet := workload.SeqackWith(mtu, opts)
	s, err := workload.Bulk(n, d)
	closeNet()
	if err != nil {
		return fmt.Errorf("on seqack (mtu %d): %w", mtu, err)
	}
	k, err := workload.Bulk(kernel, d)
	if err != nil {
		return fmt.Errorf("on the kernel: %w", err)
	}
	fmt.Fprintf(stdout, benchRow, fmt.Sprintf("bulk mtu %d", mtu), bitRate(s), bitRate(k), ratio(s, k))
	return nil
}

func benchHandshake(stdout io.Writer, d time.Duration, opts stack.Options, kernel workload.Net) error {
	n, closeNet := workload.SeqackWith(1500, opts)
	s, err := workload.Handshake(n, d)
	closeNet()
	if err != nil {
		return fmt.Errorf("on seqack: %w", err)
	}
	k, err := workload.Handshake(kernel, d)
	if err != nil {
		return fmt.Errorf("on the kernel: %w", err)
	}
	fmt.Fprintf(stdout, benchRow, "handshake", sig3(s)+" conn/s", sig3(k)+" conn/s", ratio(s, k))
	return nil
}

// benchUDP quotes datagrams of size bytes through two stacks over a
// pipe against the kernel's over loopback.
func benchUDP(stdout io.Writer, size int, d time.Duration, opts stack.Options) error {
	n, closeNet := workload.SeqackWith(1500, opts)
	s, err := workload.Datagrams(n, size, d)
	closeNet()
	if err != nil {
		return fmt.Errorf("on seqack: %w", err)
	}
	k, err := workload.Datagrams(workload.Kernel(), size, d)
	if err != nil {
		return fmt.Errorf("on the kernel: %w", err)
	}
	fmt.Fprintf(stdout, benchRow, fmt.Sprintf("udp %d B", size), sig3(s)+" dgram/s", sig3(k)+" dgram/s", ratio(s, k))
	return nil
}

// benchTunnel runs measure through a WireGuard tunnel with seqack at
// both ends, then with gVisor, and prints the row name, both figures
// formatted by unit, and their ratio. The stacks run with their
// defaults (--norack does not reach them).
func benchTunnel(stdout io.Writer, name string, measure func(workload.Net, time.Duration) (float64, error), unit func(float64) string, d time.Duration) error {
	var figures [2]float64
	for i, kind := range []string{tunnel.Seqack, tunnel.GVisor} {
		n, closeNet, err := tunnel.New(kind)
		if err != nil {
			return err
		}
		figures[i], err = measure(n, d)
		closeNet()
		if err != nil {
			return fmt.Errorf("%s through a tunnel on %s: %w", name, kind, err)
		}
	}
	fmt.Fprintf(stdout, benchRow, name, unit(figures[0]), unit(figures[1]), ratio(figures[0], figures[1]))
	return nil
}

// connRate formats connections per second.
func connRate(perSec float64) string { return sig3(perSec) + " conn/s" }

// benchIdle reports seqack's figure only: measuring the kernel the same
// way would show Go's few hundred bytes of file descriptor bookkeeping
// and hide the socket buffers the kernel keeps, a comparison that would
// mislead.
func benchIdle(stdout io.Writer, conns int, opts stack.Options) error {
	n, closeNet := workload.SeqackWith(1500, opts)
	defer closeNet()
	s, err := workload.IdleHeap(n, conns)
	if err != nil {
		return fmt.Errorf("on seqack: %w", err)
	}
	fmt.Fprintf(stdout, benchRow, "idle heap/conn end", fmt.Sprintf("%.0f B", s), "(not visible)", "—")
	return nil
}

// bitRate formats bytes per second as bits per second, the unit links
// and NICs are quoted in.
func bitRate(bytesPerSec float64) string {
	bits := bytesPerSec * 8
	switch {
	case bits >= 1e9:
		return sig3(bits/1e9) + " Gbit/s"
	case bits >= 1e6:
		return sig3(bits/1e6) + " Mbit/s"
	}
	return sig3(bits/1e3) + " kbit/s"
}

// sig3 formats x with about three significant digits: run-to-run noise
// makes more digits meaningless.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

// ratio formats seqack's figure over the kernel's (or gVisor's).
func ratio(s, k float64) string {
	if k == 0 {
		return "—"
	}
	return sig3(s/k) + "×"
}
