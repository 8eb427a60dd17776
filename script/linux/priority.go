//go:build linux

package linux

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// linuxNice is the nice value the runner's threads take during a run.
// On a loaded machine a thread waking from its sleep to inject a packet
// waits for a CPU behind the busy ones, several milliseconds at nice 0
// with two busy loops on two cores (measured: SYN+ACKs scripted 100 ms
// after the SYN went 103 to 111 ms after it). The kernel takes the late
// SYN+ACK's RTT sample as the path's, and every timer derived from it
// (the RTO is three RTTs, then doubled at each backoff) moves by many
// times as much, beyond the script's tolerance. A lower nice value gets
// the runner the CPU when it wakes; it sleeps the rest of the time.
const linuxNice = -10

// raisePriority sets the nice value of every thread of the process to
// linuxNice, where it is higher (threads made later inherit it from the
// one that makes them), and returns the function that puts back each
// thread's own (linuxNice's for threads it did not see). Without the
// right to raise it (CAP_SYS_NICE), nothing changes.
func raisePriority() (restore func()) {
	tids := threads()
	before := make(map[int]int, len(tids))
	base := 0
	for _, tid := range tids {
		raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			continue
		}
		nice := 20 - raw // the system call returns 20 - nice
		before[tid] = nice
		if tid == os.Getpid() {
			base = nice
		}
		if nice > linuxNice {
			unix.Setpriority(unix.PRIO_PROCESS, tid, linuxNice)
		}
	}
	return func() {
		for _, tid := range threads() {
			nice, ok := before[tid]
			if !ok {
				nice = base // made during the run: the process's own
			}
			unix.Setpriority(unix.PRIO_PROCESS, tid, nice)
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
