//go:build linux

package linux

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/tun"
	"github.com/seqack/seqack/script"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/wire"
)

const (
	linuxLocalPort  = 8080
	linuxRemotePort = 48000
	// linuxDevice is the TUN device's name inside the namespace:
	// packetdrill's, which its shared prologue (defaults.sh) names.
	linuxDevice = "tun0"
	// linuxCongestion is the congestion control every socket gets
	// unless the script's shell lines name another: the one packetdrill
	// scripts are written for. A new namespace inherits the first one's
	// default, which on this kernel is bbr.
	linuxCongestion = "cubic"
	// linuxQuiet is how long coalesce waits for the next packet of a
	// burst before it decides a segment is complete: the device's reader
	// hands packets over one by one, so a burst the kernel sent at once
	// is otherwise split wherever the reader happens to be.
	linuxQuiet = 5 * time.Millisecond
	// linuxDeviceMTU is the TUN device's MTU: the largest IPv4 packet,
	// so that an injected packet larger than the script's MTU still
	// reaches the kernel (a receiver does not check a sender's MTU).
	linuxDeviceMTU = 65535
	// linuxCallGrace is how long past a call's deadline the runner
	// still waits for its result, which is then judged by when the
	// system call returned, not by when the runner saw it, and from
	// when it was made: the runner may have been late making it.
	linuxCallGrace = time.Second
	// linuxMaxWait bounds how long "*" waits for a packet.
	linuxMaxWait = 10 * time.Second
	// linuxCleanupWait bounds how long the runner waits, at the end, for
	// calls still blocked in the kernel once their sockets are shut down.
	linuxCleanupWait = 2 * time.Second
)

// Run runs s against the Linux kernel: in a network namespace made for
// the run (and deleted on every exit path), with a TUN device whose
// kernel side is linuxLocal/24 and a route to linuxRemote through it.
// The script runs in real time: calls are system calls made from threads
// inside the namespace, "<" packets are written to the device and ">"
// packets read from it and compared as script.Engine compares them.
// Without root the script is Skipped with ReasonNeedsRoot.
func Run(s *script.Script) script.Result {
	var r script.Result
	if len(s.Unsupported) > 0 {
		r.Status, r.Unsupported = script.Skipped, s.Unsupported
		return r
	}
	if os.Geteuid() != 0 {
		r.Status, r.Unsupported = script.Skipped, []string{ReasonNeedsRoot}
		return r
	}
	var version string
	for _, o := range s.Options {
		if o.Name == "ip_version" {
			version = o.Value
		}
	}
	addrs, ok := addrsFor(version)
	if !ok {
		r.Status, r.Unsupported = script.Skipped, []string{ReasonIPVersion}
		return r
	}
	set, err := s.Settings()
	if err != nil {
		r.Status, r.Err = script.Failed, err
		return r
	}
	defer raisePriority()()
	lx, err := newLinuxExec(s, set, addrs)
	if err != nil {
		r.Status, r.Err = script.Failed, err
		return r
	}
	err = lx.run()
	lx.drain()
	if cerr := lx.close(); err == nil && cerr != nil {
		err = cerr
	}
	r.Trace = chronological(lx.trace)
	if err != nil {
		if errors.Is(err, script.ErrUnsupported) {
			r.Status, r.Unsupported = script.Skipped, []string{err.Error()}
			return r
		}
		r.Status, r.Err = script.Failed, err
	}
	return r
}

// chronological sorts trace lines by their times: a packet is stamped
// with when the kernel sent it, which may come before the return of the
// call that made it send, logged first.
func chronological(trace []string) []string {
	at := func(line string) float64 {
		f, _, _ := strings.Cut(line, " ")
		v, _ := strconv.ParseFloat(f, 64)
		return v
	}
	slices.SortStableFunc(trace, func(a, b string) int { return cmp.Compare(at(a), at(b)) })
	return trace
}

// received is a packet read from the TUN device, with when (since the
// start of the script).
type received struct {
	at  time.Duration
	pkt []byte
}

// cause is the line of an injected packet or call and when the kernel
// ran it: a packet sent then answers that line.
type cause struct {
	line     int
	from, to time.Duration
}

// remoteAt is the script's ISN from at on.
type remoteAt struct {
	at     time.Duration
	remote tcp.Seq
}

// linuxCauseSlack is how long after an injected packet was written or a
// call returned a packet the kernel sent still counts as its answer:
// the kernel answers within the write or the system call, but its
// timestamp and the runner's clock are read apart.
const linuxCauseSlack = time.Millisecond

// linuxSocket is a kernel socket the script names by its own number.
type linuxSocket struct {
	fd       int
	nonblock bool
}

// linuxCall is a call running on its own goroutine.
type linuxCall struct {
	line       int
	call       *script.Call
	blocking   bool // "T...E": the script goes on while it blocks
	start, end time.Duration
	tol        time.Duration
	done       chan callResult // buffered: the goroutine never waits
	// begun is when the system call was made (since the start), 0
	// until then: a blocked call's lateness is known before it returns.
	begun atomic.Int64
}

// callResult is what a system call returned, at when; apply, if set,
// runs on the runner's goroutine once the result is taken (it updates
// the descriptor table), and fail is a mismatch found by the call.
type callResult struct {
	ret   int64
	errno string
	// begun and at are when the system call was made and returned.
	begun, at time.Duration
	apply     func()
	fail      error
}

// linuxExec runs one script against the kernel in real time.
type linuxExec struct {
	s   *script.Script
	set script.Settings
	// addrs is the run's addressing (IPv4 or IPv6).
	addrs linuxAddrs
	ns    *netns.NS
	dev   *tun.Endpoint
	// sniff, if it could be opened, reads the kernel's packets with the
	// kernel's times; else the device's reader stamps them.
	sniff *sniffer
	in    chan received
	t0    time.Time

	fds map[int]*linuxSocket // by the number the script uses
	// cc is the congestion control a shell line chose, set on every
	// socket made after it (see shell).
	cc string
	// testFd is the kernel descriptor of the socket under test, whose
	// TCP_INFO inline Python reads: the connection last accepted or
	// connected; -1 before.
	testFd    int
	localPort uint16 // the kernel socket's port

	// nums translates the script's relative numbers; its Local (the
	// kernel's ISN) is learned from the kernel's SYN or SYN+ACK.
	nums script.Numbers

	held *received // a packet read ahead while coalescing
	// causes are when each injected packet and call ran, to tell which
	// line a packet the kernel sent answers; remotes when each
	// injected SYN changed the script's ISN, to print a packet in the
	// numbers of its time.
	causes  []cause
	remotes []remoteAt
	// lag is the most the runner has been late injecting a packet or
	// making a system call: the
	// kernel's answers, and its timers, move by as much, so the late
	// side of every later deadline does too (never the early side).
	lag     time.Duration
	pending *linuxCall
	calls   sync.WaitGroup
	err     error
	trace   []string

	now, last   time.Duration
	lastInbound bool
	lastInAt    time.Duration
}

// newLinuxExec makes the namespace and the TUN device and configures the
// kernel's side; on failure nothing is left behind.
func newLinuxExec(s *script.Script, set script.Settings, addrs linuxAddrs) (_ *linuxExec, err error) {
	var b [4]byte
	rand.Read(b[:])
	// The "seqack-" prefix and the pid second to last let netns.New
	// remove the namespace if this process dies without cleaning up.
	ns := &netns.NS{Name: fmt.Sprintf("seqack-script-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))}
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("script: ip netns add %s: %w: %s", ns.Name, err, bytes.TrimSpace(out))
	}
	lx := &linuxExec{
		cc: linuxCongestion,
		s:  s, set: set, addrs: addrs, ns: ns, in: make(chan received, 4096),
		fds: make(map[int]*linuxSocket), testFd: -1,
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, lx.close())
		}
	}()
	err = ns.Do(func() (err error) {
		// The device takes packets of any size the script injects;
		// the route to the script's side carries the script's MTU, from
		// which the kernel derives its MSS and the size of what it sends.
		lx.dev, err = tun.OpenConfig(linuxDevice, tun.Config{MTU: linuxDeviceMTU, Plain: true}) // the kernel's segments one by one, as the script states them
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	for _, cmd := range append([][]string{
		{"ip", "link", "set", "lo", "up"},
	}, addrs.setup(linuxDevice, set.MTU)...) {
		if _, err := ns.Output(cmd[0], cmd[1:]...); err != nil {
			return nil, fmt.Errorf("script: %w", err)
		}
	}
	if err := ns.Do(linuxSysctls); err != nil {
		return nil, fmt.Errorf("script: %w", err)
	}
	// The prologue runs before the clock starts (it may take a while);
	// its trace lines are timed from when it began.
	lx.t0 = time.Now()
	for i := range s.Events {
		if ev := &s.Events[i]; ev.Shell != nil && ev.Shell.Init {
			if lx.shell(ev); lx.err != nil {
				return nil, lx.err
			}
		}
	}
	if err := ns.Do(func() (err error) { lx.sniff, err = openSniffer(linuxDevice); return err }); err != nil {
		lx.sniff = nil // the device's reader stamps packets as it reads them
	}
	lx.t0 = time.Now()
	deliver := func(r received) {
		select {
		case lx.in <- r:
		default: // the script is not reading: nothing to compare with
		}
	}
	lx.dev.Attach(func(p []byte) {
		if lx.sniff == nil {
			deliver(received{at: time.Since(lx.t0), pkt: bytes.Clone(p)})
		}
		link.Recycle(p) // the device is drained; the sniffer has a copy
	})
	if lx.sniff != nil {
		go lx.sniff.run(lx.t0, deliver)
	}
	return lx, nil
}

// linuxSysctls sets, in the calling thread's namespace (/proc/sys/net
// is the opener's namespace's), the settings the scripts assume where a
// new namespace inherits others from the machine: a receive buffer
// limit of 6 MB, so that SYNs offer window scale 7, as with Linux's
// defaults, and (on Linux 6.5 and later) SYN retransmissions backed off
// from the first (RFC 6298 §5.5), not after tcp_syn_linear_timeouts
// linear ones.
func linuxSysctls() error {
	for _, s := range []struct{ path, value string }{
		{"/proc/sys/net/ipv4/tcp_rmem", "4096 131072 6291456"},
		{"/proc/sys/net/ipv4/tcp_syn_linear_timeouts", "0"},
	} {
		if err := os.WriteFile(s.path, []byte(s.value), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sysctl: %w", err)
		}
	}
	return nil
}

// close shuts down and closes the sockets left open (waking calls still
// blocked), waits a little for their goroutines, closes the device and
// deletes the namespace.
func (lx *linuxExec) close() error {
	for n, s := range lx.fds {
		unix.Shutdown(s.fd, unix.SHUT_RDWR)
		unix.Close(s.fd)
		delete(lx.fds, n)
	}
	idle := make(chan struct{})
	go func() { lx.calls.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(linuxCleanupWait):
	}
	var errs []error
	if lx.sniff != nil {
		errs = append(errs, lx.sniff.close())
	}
	if lx.dev != nil {
		errs = append(errs, lx.dev.Close())
	}
	if out, err := exec.Command("ip", "netns", "del", lx.ns.Name).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("script: ip netns del %s: %w: %s", lx.ns.Name, err, bytes.TrimSpace(out)))
	}
	return errors.Join(errs...)
}

// fail records err if it is the first failure.
func (lx *linuxExec) fail(err *script.Error) {
	if lx.err == nil {
		lx.err = err
	}
}

// failf records the first failure, at line.
func (lx *linuxExec) failf(line int, format string, args ...any) {
	if lx.err == nil {
		lx.err = &script.Error{Path: lx.s.Path, Line: line, Err: fmt.Errorf(format, args...)}
	}
}

// log records a line of the trace at the current real time.
func (lx *linuxExec) log(format string, args ...any) {
	lx.trace = append(lx.trace, secs(time.Since(lx.t0))+" "+fmt.Sprintf(format, args...))
}

// run runs the events; time zero (t0) was set just before the device's
// reader started, and is read by it.
func (lx *linuxExec) run() error {
	for i := range lx.s.Events {
		if ev := &lx.s.Events[i]; ev.Shell != nil && ev.Shell.Init {
			continue // run by newLinuxExec
		}
		lx.event(&lx.s.Events[i])
		if lx.err != nil {
			return lx.err
		}
	}
	if lx.pending != nil {
		lx.waitPending()
	}
	return lx.err
}

// drain reads, into the trace, what the kernel sent that no line
// matched (-v shows every packet), until it is quiet.
func (lx *linuxExec) drain() {
	lx.held = nil // in the trace already
	for {
		if _, _, ok := lx.next(time.Since(lx.t0) + 2*linuxQuiet); !ok {
			return
		}
	}
}

// tolerance is the engine runner's (script.Settings: the larger of
// Tolerance and TolerancePercent of the gap since the previous event).
// It used to have a floor of 20 ms of real time; since the kernel's
// packets carry the kernel's timestamps and the runner runs under
// SCHED_RR, 97 scripts ran six times at packetdrill's 4 ms, twice with
// two busy loops on the two cores, without a timing failure.
func (lx *linuxExec) tolerance(at time.Duration) time.Duration {
	gap := max(at-lx.last, 0)
	return max(lx.set.Tolerance, time.Duration(float64(gap)*lx.set.TolerancePercent/100))
}

// when resolves an event's scripted times, as the engine runner does,
// to durations since the start.
func (lx *linuxExec) when(ev *script.Event) (start, end time.Duration) {
	var base time.Duration
	if ev.Time.Kind == script.Relative {
		base = lx.now
		if lx.lastInbound && ev.Packet != nil && ev.Packet.Inbound {
			base = lx.lastInAt
		}
	}
	start = base + ev.Time.Start
	end = start
	if ev.Time.Range || ev.Time.Blocking {
		end = base + ev.Time.End
	}
	return start, end
}

// sleepUntil waits for the script's time t and makes it the current
// time.
func (lx *linuxExec) sleepUntil(t time.Duration) {
	if d := t - time.Since(lx.t0); d > 0 {
		time.Sleep(d)
	}
	lx.now = max(lx.now, t)
}

func (lx *linuxExec) event(ev *script.Event) {
	lx.pollPending()
	if lx.err != nil {
		return
	}
	if ev.Call != nil && lx.pending != nil {
		// Calls are serialized: a call waits for the blocked one.
		lx.waitPending()
		if lx.err != nil {
			return
		}
	}
	if ev.Time.Kind == script.AnyTime {
		lx.expect(ev, 0, 0, true)
		lx.lastInbound = false
		lx.last = lx.now
		return
	}
	start, end := lx.when(ev)
	switch {
	case ev.Packet != nil && ev.Packet.Inbound:
		lx.sleepUntil(start)
		lx.inject(ev)
		lx.lag = max(lx.lag, time.Since(lx.t0)-start)
		lx.lastInbound, lx.lastInAt = true, start
	case ev.Packet != nil:
		lx.expect(ev, start, end, false)
		lx.lastInbound = false
	case ev.Shell != nil:
		lx.sleepUntil(start)
		lx.shell(ev)
		lx.lastInbound = false
	case ev.Python != nil:
		lx.sleepUntil(start)
		lx.python(ev)
		lx.lastInbound = false
	default:
		lx.sleepUntil(start)
		lx.startCall(ev, start, end)
		lx.lastInbound = false
	}
	lx.last = lx.now
}

// shell runs a backtick line inside the namespace: the shared prologue
// itself when the script's ../common/defaults.sh is there (with the
// script's directory as the working directory, as packetdrill is run),
// else the settings the parser read from the line, written to /proc/sys
// (a setting this kernel lacks is left out, as defaults.sh does).
func (lx *linuxExec) shell(ev *script.Event) {
	sh := ev.Shell
	dir := filepath.Dir(lx.s.Path)
	lx.log("`%s`", sh.Text)
	lx.noteCongestion(sh.Sysctls)
	if _, err := os.Stat(filepath.Join(dir, script.DefaultsScript)); sh.Defaults && err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := lx.ns.Command(ctx, "bash", "-c", sh.Text)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			lx.failf(ev.Line, "shell command %s: %w: %s", sh.Text, err, bytes.TrimSpace(out))
		}
		return
	}
	err := lx.ns.Do(func() error { return writeSysctls(sh.Sysctls) })
	if err != nil {
		lx.failf(ev.Line, "shell command %s: %w", sh.Text, err)
	}
}

// noteCongestion remembers the congestion control a shell line sets.
// Outside the first namespace Linux lets tcp_congestion_control name
// only the algorithms of tcp_allowed_congestion_control (cubic is not
// always one), so the runner sets it on each socket with TCP_CONGESTION
// instead, which root may; children of a listener inherit it.
func (lx *linuxExec) noteCongestion(list []script.Sysctl) {
	for _, s := range list {
		if s.Name == congestionSysctl {
			lx.cc = s.Value
		}
	}
}

// congestionSysctl names the default congestion control.
const congestionSysctl = "net.ipv4.tcp_congestion_control"

// writeSysctls writes settings to /proc/sys, in the calling thread's
// namespace; those this kernel does not have are left out.
func writeSysctls(list []script.Sysctl) error {
	for _, s := range list {
		if s.Name == congestionSysctl {
			continue // set per socket: see noteCongestion
		}
		path := "/proc/sys/" + strings.ReplaceAll(s.Name, ".", "/")
		if err := os.WriteFile(path, []byte(s.Value), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sysctl %s=%q: %w", s.Name, s.Value, err)
		}
	}
	return nil
}

// inject writes an injected packet to the device, its numbers made
// absolute as on the engine (script.Numbers.Inject).
func (lx *linuxExec) inject(ev *script.Event) {
	seg := lx.nums.Inject(ev.Packet.Seg)
	port := lx.localPort
	if port == 0 {
		port = linuxLocalPort
	}
	h := seg.Header(linuxRemotePort, port)
	buf := link.Buffer(wire.IPv4MinHeaderLen + lx.addrs.headerExtra + h.Len() + len(seg.Payload))
	n, err := wire.BuildTCPPacket(buf, lx.addrs.remote, lx.addrs.local, 0, &h, seg.Payload)
	if err != nil {
		lx.failf(ev.Line, "building packet %s: %w", ev.Packet.Text, err)
		return
	}
	lx.log("< %s", ev.Packet.Text)
	from := time.Since(lx.t0)
	if seg.Flags.Has(wire.FlagSYN) {
		lx.remotes = append(lx.remotes, remoteAt{from, lx.nums.Remote})
	}
	if err := lx.dev.WritePacket(buf[:n]); err != nil {
		lx.failf(ev.Line, "injecting packet %s: %w", ev.Packet.Text, err)
	}
	lx.causes = append(lx.causes, cause{ev.Line, from, time.Since(lx.t0) + linuxCauseSlack})
}

// causeOf returns the line of the injected packet or call a packet the
// kernel sent at answers, or 0 (a timer's, or not known).
func (lx *linuxExec) causeOf(at time.Duration) int {
	if p := lx.pending; p != nil {
		// A blocked call answers for what the kernel sent as it began.
		if b := time.Duration(p.begun.Load()); b > 0 && at >= b && at <= b+linuxCauseSlack {
			return p.line
		}
	}
	for i := len(lx.causes) - 1; i >= 0; i-- {
		if c := lx.causes[i]; at >= c.from && at <= c.to {
			return c.line
		}
	}
	return 0
}

// format prints a packet the kernel sent at in the script's numbers of
// that time: an injected SYN read later may have changed them.
func (lx *linuxExec) format(seg tcp.Segment, at time.Duration) string {
	nums := lx.nums
	if len(lx.remotes) > 0 {
		nums.Remote = 0
		for _, r := range lx.remotes {
			if r.at <= at {
				nums.Remote = r.remote
			}
		}
	}
	return nums.Format(seg)
}

// next returns the next TCP segment the kernel sent to the script's
// address by the deadline (since the start); other packets (IPv6
// router solicitations and the like) are skipped.
func (lx *linuxExec) next(deadline time.Duration) (received, tcp.Segment, bool) {
	timer := time.NewTimer(max(deadline-time.Since(lx.t0), 0))
	defer timer.Stop()
	for {
		var r received
		held := lx.held != nil
		if held {
			r, lx.held = *lx.held, nil
		} else {
			select {
			case r = <-lx.in:
			case <-timer.C:
				return received{}, tcp.Segment{}, false
			}
		}
		ip, h, payload, err := wire.ParseTCPPacket(r.pkt)
		if err != nil || ip.Src != lx.addrs.local || ip.Dst != lx.addrs.remote {
			continue
		}
		seg := tcp.SegmentFromHeader(&h, payload)
		if seg.Flags.Has(wire.FlagSYN) {
			lx.nums.Local, lx.localPort = seg.Seq, h.SrcPort
		}
		lx.nums.Sent(&seg)
		if !held { // a packet read ahead is in the trace already
			lx.trace = append(lx.trace, secs(r.at)+" > "+lx.format(seg, r.at))
		}
		return r, seg, true
	}
}

// expect matches the next segment the kernel sent against a ">" line.
func (lx *linuxExec) expect(ev *script.Event, start, end time.Duration, any bool) {
	lx.notePendingLag()
	limit := end + lx.lag + 2*time.Second
	if any {
		limit = time.Since(lx.t0) + linuxMaxWait
	}
	r, got, ok := lx.next(limit)
	if !ok {
		lx.failf(ev.Line, "%w handling packet: timed out waiting for outbound packet: expected: %s", script.ErrMismatch, ev.Packet.Text)
		return
	}
	first := r.at // when the first of the segments merged was sent
	if !lx.set.Strict {
		r.at = lx.coalesce(&got, r.at, len(ev.Packet.Seg.Payload))
	}
	lx.now = max(lx.now, r.at)
	text := lx.format(got, r.at)
	field := lx.nums.Compare(ev.Packet, &got)
	if field != "" && script.Unexpected(ev.Packet, &got) {
		// Another segment than the line's: its time is no matter.
		lx.fail(script.PacketError(lx.s.Path, ev.Line, ev.Packet, field, &got, text, lx.causeOf(first)))
		return
	}
	if !any {
		tol := lx.tolerance(start)
		switch {
		case r.at < start-tol:
			lx.failf(ev.Line, "%w handling packet: timing error: expected outbound packet at %s sec but happened at %s sec; tolerance %s sec: %s",
				script.ErrMismatch, secs(start), secs(r.at), secs(tol), text)
			return
		case r.at > end+tol+lx.lag+timerSlack(end-lx.last):
			lx.failf(ev.Line, "%w handling packet: timing error: expected outbound packet at %s sec but happened at %s sec; tolerance %s sec: %s",
				script.ErrMismatch, secs(end), secs(r.at), secs(tol+timerSlack(end-lx.last)), text)
			return
		}
	}
	if field != "" {
		lx.fail(script.PacketError(lx.s.Path, ev.Line, ev.Packet, field, &got, text, lx.causeOf(first)))
		return
	}
	lx.nums.Matched(ev.Packet, &got)
}

// timerSlack is how late the kernel may fire a timer of about d: its
// timer wheel rounds an expiry up to the granularity of the level the
// timeout falls in, which is at most an eighth of the timeout (the
// wheel's levels are 8 times apart), and at least a jiffy (10 ms at the
// lowest HZ). A 300 ms RTO fires up to 32 ms late with HZ=250, where
// 12.5 % of tolerance leaves 37.5 ms for everything: measured, the
// first RTO of rto-backoff.pkt went 335 ms after its segment on an idle
// machine. Only the late side of an outbound packet's window moves:
// the kernel is never early for this.
func timerSlack(d time.Duration) time.Duration {
	return max(d, 0)/8 + linuxJiffy
}

// linuxJiffy is the longest jiffy: HZ=100.
const linuxJiffy = 10 * time.Millisecond

// notePendingLag adds to lag how late the pending call's system call
// was made, once it has been: a connect made late sends its SYN late.
func (lx *linuxExec) notePendingLag() {
	if p := lx.pending; p != nil {
		if b := time.Duration(p.begun.Load()); b > 0 {
			lx.lag = max(lx.lag, b-p.start)
		}
	}
}

// coalesce merges into got the packets that continue it
// (script.Continues), while it is shorter than want bytes, as the engine
// runner does unless --strict_segments is given, and returns when the
// last of them came.
func (lx *linuxExec) coalesce(got *tcp.Segment, at time.Duration, want int) time.Duration {
	for len(got.Payload) < want {
		r, next, ok := lx.next(time.Since(lx.t0) + linuxQuiet) // what has come, or comes within the quiet interval
		if !ok {
			return at
		}
		if !script.Continues(got, &next, want) {
			lx.held = &r
			return at
		}
		got.Payload = make([]byte, len(got.Payload)+len(next.Payload))
		got.Flags |= next.Flags
		got.Window = next.Window
		at = r.at
	}
	return at
}

// startCall starts a call at its scripted time; a call scripted to
// return at once is waited for, a blocking one ("T...E") is left
// pending while the script goes on.
func (lx *linuxExec) startCall(ev *script.Event, start, end time.Duration) {
	c := ev.Call
	f, err := lx.prepare(c)
	if err != nil {
		lx.failf(ev.Line, "%w", err)
		return
	}
	p := &linuxCall{line: ev.Line, call: c, blocking: ev.Time.Blocking, start: start, end: end, tol: lx.tolerance(end), done: make(chan callResult, 1)}
	lx.calls.Add(1)
	go func() {
		defer lx.calls.Done()
		var res callResult
		// Stamped as the system call returns, inside the namespace's
		// thread: leaving it may wait for the scheduler.
		if err := lx.ns.Do(func() error {
			begun := time.Since(lx.t0)
			p.begun.Store(int64(max(begun, 1)))
			res = f()
			res.begun, res.at = begun, time.Since(lx.t0)
			return nil
		}); err != nil {
			res = callResult{ret: -1, fail: err, at: time.Since(lx.t0)}
		}
		p.done <- res
	}()
	lx.pending = p
	if !ev.Time.Blocking {
		lx.waitPending()
	}
}

// pollPending takes the pending call's result if it is there, and fails
// if the call is past its deadline.
func (lx *linuxExec) pollPending() {
	p := lx.pending
	if p == nil || lx.err != nil {
		return
	}
	select {
	case res := <-p.done:
		lx.finish(p, res)
	default:
		if time.Since(lx.t0) > p.end+p.tol+lx.lag {
			lx.waitPending()
		}
	}
}

// waitPending waits for the pending call until its deadline.
func (lx *linuxExec) waitPending() {
	p := lx.pending
	if p == nil || lx.err != nil {
		return
	}
	timer := time.NewTimer(max(p.end+p.tol+lx.lag-time.Since(lx.t0), 0))
	defer timer.Stop()
	select {
	case res := <-p.done:
		lx.finish(p, res)
		return
	case <-timer.C:
	}
	// Past the deadline: the call may have returned in the kernel while
	// its goroutine waited for a CPU. Its result, stamped when the system
	// call returned, is judged by that time if it comes within the grace.
	grace := time.NewTimer(linuxCallGrace)
	defer grace.Stop()
	select {
	case res := <-p.done:
		lx.finish(p, res)
	case <-grace.C:
		lx.failf(p.line, "%w in %s: expected it to return at %s sec, still blocked at %s sec",
			script.ErrMismatch, p.call.Name, secs(p.end), secs(time.Since(lx.t0)))
	}
}

// finish checks what and when a call returned, as retryPending does.
func (lx *linuxExec) finish(p *linuxCall, res callResult) {
	lx.pending = nil
	c := p.call
	to := res.at // what the kernel sent while the call ran answers it ...
	if p.blocking {
		to = res.begun // ... or as it began, for one that blocks
	}
	lx.causes = append(lx.causes, cause{p.line, res.begun, to + linuxCauseSlack})
	lx.trace = append(lx.trace, fmt.Sprintf("%s %s() = %d %s", secs(res.at), c.Name, res.ret, res.errno))
	if res.fail != nil {
		lx.failf(p.line, "%w", res.fail)
		return
	}
	if res.apply != nil {
		res.apply()
	}
	lx.now = max(lx.now, p.start)
	lx.lag = max(lx.lag, res.begun-p.start)
	if err := c.Check(res.ret, res.errno); err != nil {
		lx.failf(p.line, "%w", err)
		return
	}
	if res.at < p.end-p.tol {
		lx.failf(p.line, "%w in %s: timing error: expected it to return at %s sec but it returned at %s sec; tolerance %s sec",
			script.ErrMismatch, c.Name, secs(p.end), secs(res.at), secs(p.tol))
	}
	// Late: judged from when the system call was made, and moved by the
	// runner's own earlier lateness (lag), not by when the result was
	// seen.
	if late := p.end + p.tol + lx.lag + max(res.begun-p.start, 0); res.at > late {
		lx.failf(p.line, "%w in %s: timing error: expected it to return at %s sec but it returned at %s sec; tolerance %s sec",
			script.ErrMismatch, c.Name, secs(p.end), secs(res.at), secs(p.tol))
	}
}

// result makes a callResult from a system call's error: ret on success,
// -1 and the errno's name on failure.
func result(ret int64, err error) callResult {
	if err == nil {
		return callResult{ret: ret}
	}
	var en unix.Errno
	if errors.As(err, &en) {
		return callResult{ret: -1, errno: unix.ErrnoName(en)}
	}
	return callResult{ret: -1, fail: err}
}

// prepare reads a call's arguments and the descriptor table on the
// runner's goroutine and returns the system call to make, which runs
// on a goroutine of its own inside the namespace.
func (lx *linuxExec) prepare(c *script.Call) (func() callResult, error) {
	arg := func(i int) string {
		if i < len(c.Args) {
			return c.Args[i]
		}
		return "..."
	}
	if c.Name == "socket" {
		if c.Result < 0 {
			return nil, fmt.Errorf("%w: socket expected to fail", script.ErrUnsupported)
		}
		nonblock := strings.Contains(arg(1), "SOCK_NONBLOCK")
		typ := unix.SOCK_STREAM | unix.SOCK_CLOEXEC
		if nonblock {
			typ |= unix.SOCK_NONBLOCK
		}
		cc, family := lx.cc, lx.addrs.family()
		return func() callResult {
			fd, err := unix.Socket(family, typ, 0)
			if err == nil && cc != "" {
				if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc); err != nil {
					unix.Close(fd)
					return callResult{ret: -1, fail: fmt.Errorf("setting congestion control %s: %w", cc, err)}
				}
			}
			res := result(c.Result, err)
			if err == nil {
				res.apply = func() { lx.fds[int(c.Result)] = &linuxSocket{fd: fd, nonblock: nonblock} }
			}
			return res
		}, nil
	}
	if c.Name == "poll" {
		return lx.poll(c)
	}
	n, err := strconv.Atoi(arg(0))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: descriptor %q", script.ErrSyntax, c.Name, arg(0))
	}
	s := lx.fds[n]
	if s == nil {
		return func() callResult { return callResult{ret: -1, errno: "EBADF"} }, nil
	}
	fd := s.fd
	switch c.Name {
	case "bind":
		lx.localPort = linuxLocalPort
		return func() callResult {
			return result(0, unix.Bind(fd, lx.addrs.sockaddr(lx.addrs.local, linuxLocalPort)))
		}, nil
	case "listen":
		backlog, err := strconv.Atoi(arg(1))
		if err != nil {
			backlog = 1
		}
		return func() callResult { return result(0, unix.Listen(fd, backlog)) }, nil
	case "accept":
		return func() callResult {
			nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
			res := result(c.Result, err)
			if err == nil {
				res.apply = func() {
					if c.Result < 0 {
						unix.Close(nfd)
						return
					}
					lx.fds[int(c.Result)] = &linuxSocket{fd: nfd}
					lx.testFd = nfd
				}
			}
			return res
		}, nil
	case "connect":
		lx.testFd = fd
		return func() callResult {
			return result(0, unix.Connect(fd, lx.addrs.sockaddr(lx.addrs.remote, linuxRemotePort)))
		}, nil
	case "write", "send", "sendto", "read", "recv", "recvfrom":
		k, err := strconv.Atoi(arg(2))
		if err != nil || k < 0 {
			return nil, fmt.Errorf("%w: %s: length %q", script.ErrSyntax, c.Name, arg(2))
		}
		buf := make([]byte, k)
		flags := sendRecvFlags(arg(3)) // sockopt.go
		switch c.Name {
		case "write":
			return func() callResult { m, err := unix.Write(fd, buf); return result(int64(m), err) }, nil
		case "send", "sendto":
			return func() callResult {
				m, err := unix.SendmsgN(fd, buf, nil, nil, flags|unix.MSG_NOSIGNAL)
				return result(int64(m), err)
			}, nil
		case "recv", "recvfrom":
			return func() callResult { m, _, err := unix.Recvfrom(fd, buf, flags); return result(int64(m), err) }, nil
		}
		return func() callResult { m, err := unix.Read(fd, buf); return result(int64(m), err) }, nil
	case "sendmsg", "recvmsg":
		return msgCall(fd, c) // sockopt.go
	case "ioctl":
		return linuxIoctl(fd, c)
	case "writev", "readv":
		lens, err := script.IovecLengths(arg(1))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", script.ErrSyntax, c.Name, err)
		}
		iov := make([][]byte, len(lens))
		for i, n := range lens {
			iov[i] = make([]byte, n)
		}
		if c.Name == "writev" {
			return func() callResult { m, err := unix.Writev(fd, iov); return result(int64(m), err) }, nil
		}
		return func() callResult { m, err := unix.Readv(fd, iov); return result(int64(m), err) }, nil
	case "close":
		delete(lx.fds, n)
		return func() callResult { return result(0, unix.Close(fd)) }, nil
	case "shutdown":
		how := map[string]int{"SHUT_RD": unix.SHUT_RD, "SHUT_WR": unix.SHUT_WR, "SHUT_RDWR": unix.SHUT_RDWR}
		h, ok := how[arg(1)]
		if !ok {
			return nil, fmt.Errorf("%w: shutdown how %q", script.ErrSyntax, arg(1))
		}
		return func() callResult { return result(0, unix.Shutdown(fd, h)) }, nil
	case "setsockopt":
		if f, ok, err := setsockoptExt(fd, c); ok { // sockopt.go
			return f, err
		}
		return linuxSetsockopt(fd, c)
	case "getsockopt":
		if f, ok, err := lx.getsockoptExt(fd, c); ok { // sockopt.go
			return f, err
		}
		return linuxGetsockopt(fd, c)
	case "fcntl":
		switch arg(1) {
		case "F_GETFL":
			return func() callResult {
				fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
				return result(int64(fl), err)
			}, nil
		case "F_SETFL":
			nonblock := strings.Contains(arg(2), "O_NONBLOCK")
			fl := 0
			if nonblock {
				fl = unix.O_NONBLOCK
			}
			return func() callResult {
				_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
				res := result(0, err)
				res.apply = func() { s.nonblock = nonblock }
				return res
			}, nil
		}
		return nil, fmt.Errorf("%w: fcntl %s", script.ErrUnsupported, arg(1))
	}
	return nil, fmt.Errorf("%w: system call %s", script.ErrUnsupported, c.Name)
}

// linuxKeepalive are the keepalive options' numbers.
var linuxKeepalive = map[string]int{
	"TCP_KEEPIDLE": unix.TCP_KEEPIDLE, "TCP_KEEPINTVL": unix.TCP_KEEPINTVL, "TCP_KEEPCNT": unix.TCP_KEEPCNT,
}

// linuxSetsockopt is setsockopt for the options the parser accepts.
func linuxSetsockopt(fd int, c *script.Call) (func() callResult, error) {
	if len(c.Args) < 4 {
		return nil, fmt.Errorf("%w: setsockopt needs 4 or 5 arguments", script.ErrSyntax)
	}
	name, val := c.Args[2], c.Args[3]
	switch name {
	case "SO_LINGER":
		on, secs, err := script.ParseLinger(val)
		if err != nil {
			return nil, fmt.Errorf("%w: setsockopt %w", script.ErrSyntax, err)
		}
		l := &unix.Linger{Onoff: int32(on), Linger: int32(secs)}
		return func() callResult { return result(0, unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, l)) }, nil
	case "TCP_CONGESTION":
		cc := strings.Trim(val, `"`)
		return func() callResult {
			return result(0, unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc))
		}, nil
	}
	v, err := strconv.Atoi(strings.Trim(val, "[] ")) // "[N]" or "N"
	if err != nil {
		return nil, fmt.Errorf("%w: setsockopt %s value %q", script.ErrSyntax, name, val)
	}
	level, opt := unix.SOL_SOCKET, 0
	switch name {
	case "TCP_NODELAY":
		level, opt = unix.IPPROTO_TCP, unix.TCP_NODELAY
	case "SO_RCVBUF":
		opt = unix.SO_RCVBUF
	case "SO_SNDBUF":
		opt = unix.SO_SNDBUF
	case "SO_KEEPALIVE":
		opt = unix.SO_KEEPALIVE
	case "SO_REUSEADDR":
		opt = unix.SO_REUSEADDR
	case "TCP_MAXSEG":
		level, opt = unix.IPPROTO_TCP, unix.TCP_MAXSEG
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT":
		level, opt = unix.IPPROTO_TCP, linuxKeepalive[name]
	default:
		return nil, fmt.Errorf("%w: socket option %s", script.ErrUnsupported, name)
	}
	return func() callResult { return result(0, unix.SetsockoptInt(fd, level, opt, v)) }, nil
}

// linuxGetsockopt is getsockopt for the integer options the parser
// accepts, comparing the value with the script's.
func linuxGetsockopt(fd int, c *script.Call) (func() callResult, error) {
	if len(c.Args) < 4 {
		return nil, fmt.Errorf("%w: getsockopt needs 5 arguments", script.ErrSyntax)
	}
	name, want := c.Args[2], strings.Trim(c.Args[3], "[] ")
	switch name {
	case "SO_LINGER":
		on, secs, err := script.ParseLinger(c.Args[3])
		if err != nil {
			return nil, fmt.Errorf("%w: getsockopt %w", script.ErrSyntax, err)
		}
		return func() callResult {
			l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
			res := result(0, err)
			if err == nil && (int(l.Onoff) != on || int(l.Linger) != secs) {
				res.fail = fmt.Errorf("%w in getsockopt SO_LINGER: expected value %s but got {onoff=%d, linger=%d}",
					script.ErrMismatch, c.Args[3], l.Onoff, l.Linger)
			}
			return res
		}, nil
	case "TCP_CONGESTION":
		want = strings.Trim(want, `"`)
		return func() callResult {
			got, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION)
			res := result(0, err)
			if err == nil && want != "..." && got != want {
				res.fail = fmt.Errorf("%w in getsockopt TCP_CONGESTION: expected value %q but got %q", script.ErrMismatch, want, got)
			}
			return res
		}, nil
	}
	level, opt := unix.SOL_SOCKET, unix.SO_ERROR
	switch name {
	case "SO_ERROR":
	case "SO_KEEPALIVE":
		opt = unix.SO_KEEPALIVE
	case "SO_REUSEADDR":
		opt = unix.SO_REUSEADDR
	case "TCP_NODELAY":
		level, opt = unix.IPPROTO_TCP, unix.TCP_NODELAY
	case "TCP_MAXSEG":
		level, opt = unix.IPPROTO_TCP, unix.TCP_MAXSEG
	case "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT":
		level, opt = unix.IPPROTO_TCP, linuxKeepalive[name]
	default:
		return nil, fmt.Errorf("%w: getsockopt %s", script.ErrUnsupported, name)
	}
	return func() callResult {
		v, err := unix.GetsockoptInt(fd, level, opt)
		res := result(0, err)
		if err != nil {
			return res
		}
		got := strconv.Itoa(v)
		if name == "SO_ERROR" && v != 0 {
			got = unix.ErrnoName(unix.Errno(v))
		}
		if want != "..." && want != got {
			res.fail = fmt.Errorf("%w in getsockopt %s: expected value %s but got %s", script.ErrMismatch, name, want, got)
		}
		return res
	}, nil
}

// poll is poll(2) on the script's descriptors, comparing each revents
// with the script's.
func (lx *linuxExec) poll(c *script.Call) (func() callResult, error) {
	p, err := script.ParsePoll(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", script.ErrSyntax, err)
	}
	fds := make([]unix.PollFd, len(p.FDs))
	for i, f := range p.FDs {
		fds[i] = unix.PollFd{Fd: 1 << 20, Events: f.Events} // not open: POLLNVAL
		if s := lx.fds[f.FD]; s != nil {
			fds[i].Fd = int32(s.fd)
		}
	}
	ms := int(p.Timeout / time.Millisecond)
	return func() callResult {
		n, err := unix.Poll(fds, ms)
		res := result(int64(n), err)
		if err == nil {
			got := make([]int16, len(fds))
			for i := range fds {
				got[i] = fds[i].Revents
			}
			res.fail = p.Check(got)
		}
		return res
	}, nil
}

// linuxIoctl is ioctl for SIOCINQ (FIONREAD) and SIOCOUTQ (TIOCOUTQ),
// comparing the value with the script's "[N]".
func linuxIoctl(fd int, c *script.Call) (func() callResult, error) {
	if len(c.Args) < 3 {
		return nil, fmt.Errorf("%w: ioctl needs 3 arguments", script.ErrSyntax)
	}
	req := map[string]uint{"SIOCINQ": unix.SIOCINQ, "FIONREAD": unix.SIOCINQ, "SIOCOUTQ": unix.SIOCOUTQ, "TIOCOUTQ": unix.SIOCOUTQ}
	r, ok := req[c.Args[1]]
	if !ok {
		return nil, fmt.Errorf("%w: ioctl %s", script.ErrUnsupported, c.Args[1])
	}
	want := strings.Trim(c.Args[2], "[] ")
	return func() callResult {
		v, err := unix.IoctlGetInt(fd, r)
		res := result(0, err)
		if err == nil && want != "..." && want != strconv.Itoa(v) {
			res.fail = fmt.Errorf("%w in ioctl %s: expected value %s but got %d", script.ErrMismatch, c.Args[1], want, v)
		}
		return res
	}, nil
}

// secs prints a duration since the start as seconds, as packetdrill
// prints times.
func secs(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }

// python checks an inline Python block against TCP_INFO of the socket
// under test: the connection last accepted or connected.
func (lx *linuxExec) python(ev *script.Event) {
	if lx.testFd < 0 {
		lx.failf(ev.Line, "%w: inline Python with no connection to read tcp_info from", script.ErrMismatch)
		return
	}
	ti, err := unix.GetsockoptTCPInfo(lx.testFd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		lx.failf(ev.Line, "getsockopt TCP_INFO: %w", err)
		return
	}
	lx.log("%%{ %s }%%", strings.TrimSpace(ev.Python.Text))
	if err := ev.Python.Check(lx.s.Path, tcpInfo(ti)); err != nil && lx.err == nil {
		lx.err = err
	}
}

// tcpInfo gives the fields of script.InfoFields from Linux's tcp_info.
func tcpInfo(ti *unix.TCPInfo) func(field string) (int64, bool) {
	return func(field string) (int64, bool) {
		switch field {
		case "state":
			return int64(ti.State), true
		case "ca_state":
			return int64(ti.Ca_state), true
		case "retransmits":
			return int64(ti.Retransmits), true
		case "advmss":
			return int64(ti.Advmss), true
		case "rto":
			return int64(ti.Rto), true
		case "rtt":
			return int64(ti.Rtt), true
		case "rttvar":
			return int64(ti.Rttvar), true
		case "snd_mss":
			return int64(ti.Snd_mss), true
		case "snd_cwnd":
			return int64(ti.Snd_cwnd), true
		case "snd_ssthresh":
			return int64(ti.Snd_ssthresh), true
		case "total_retrans":
			return int64(ti.Total_retrans), true
		case "bytes_received":
			return int64(ti.Bytes_received), true
		case "bytes_sent":
			return int64(ti.Bytes_sent), true
		case "bytes_retrans":
			return int64(ti.Bytes_retrans), true
		case "segs_in":
			return int64(ti.Segs_in), true
		case "snd_wnd":
			return int64(ti.Snd_wnd), true
		case "backoff":
			return int64(ti.Backoff), true
		case "ato":
			return int64(ti.Ato), true
		case "rcv_mss":
			return int64(ti.Rcv_mss), true
		case "unacked":
			return int64(ti.Unacked), true
		case "sacked":
			return int64(ti.Sacked), true
		case "lost":
			return int64(ti.Lost), true
		case "retrans":
			return int64(ti.Retrans), true
		case "reordering":
			return int64(ti.Reordering), true
		case "delivered":
			return int64(ti.Delivered), true
		case "data_segs_in":
			return int64(ti.Data_segs_in), true
		case "data_segs_out":
			return int64(ti.Data_segs_out), true
		}
		return 0, false
	}
}
