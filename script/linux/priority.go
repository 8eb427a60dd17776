//go:build linux

package linux

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// linuxPriority is the real-time priority (SCHED_RR, the lowest) the
// runner's threads take during a run. On a loaded machine a thread
// waking from its sleep to inject a packet, or from a system call the
// kernel has answered, waited for a CPU behind the busy ones: with two
// busy loops on two cores, SYN+ACKs scripted 100 ms after the SYN went
// 103 to 111 ms after it, and a connect() refused at 0.101 s returned
// at 0.127 s. The kernel takes a late SYN+ACK's RTT sample as the
// path's, and every timer derived from it (the RTO is three RTTs, then
// doubled at each backoff) moves by many times as much, beyond the
// script's tolerance. A nice value does not help where the kernel
// shares the CPUs among sessions first (sched_autogroup_enabled, the
// default): a real-time policy gets the runner the CPU when it wakes.
// It sleeps the rest of the time, and the kernel keeps 5 % of each
// second for other tasks whatever real-time ones do
// (sched_rt_runtime_us).
const linuxPriority = 1

// raisePriority puts every thread of the process under SCHED_RR at
// linuxPriority (threads made later inherit it from the one that makes
// them), and returns the function that puts back each thread's own
// policy (the process's for threads it did not see). Without the right
// to (CAP_SYS_NICE), nothing changes.
func raisePriority() (restore func()) {
	tids := threads()
	before := make(map[int]*unix.SchedAttr, len(tids))
	var base *unix.SchedAttr
	for _, tid := range tids {
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue
		}
		before[tid] = attr
		if tid == os.Getpid() {
			base = attr
		}
		rt := *attr
		rt.Policy, rt.Priority, rt.Nice = unix.SCHED_RR, linuxPriority, 0
		unix.SchedSetAttr(tid, &rt, 0)
	}
	return func() {
		for _, tid := range threads() {
			attr, ok := before[tid]
			if !ok {
				attr = base // made during the run: the process's own
			}
			if attr != nil {
				unix.SchedSetAttr(tid, attr, 0)
			}
		}
	}
}

// threads lists the process's thread IDs.
func threads() []int {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}
