// Package linux is the Linux target of the packetdrill runner in package
// script: Run plays a parsed script against the Linux kernel, as
// packetdrill does, where script.Engine plays it against seqack's
// engine. Running the same scripts on both is how seqack's scripts are
// known to state TCP's behaviour rather than seqack's habits.
//
// Timing: the tolerance is the engine runner's, the larger of
// --tolerance_usecs (4 ms by default) and --tolerance_percent of the
// scripted gap, on both targets. A packet may come later by the kernel's timer slack
// (timerSlack: an eighth of the gap, plus a jiffy), since its timer
// wheel rounds expiries up. The kernel's packets are timed by the kernel (a packet
// socket on the device, SO_TIMESTAMPNS), not by when the runner reads
// them, and the runner's threads run under SCHED_RR during a run, so
// that on a loaded machine the runner injects and returns on time (see
// raisePriority). Unless --strict_segments is given, consecutive
// segments the kernel sent are merged to match a larger scripted one
// (script.Continues: PSH ORed in, a FIN ending it) when they follow
// within a quiet interval of 5 ms.
// Every socket uses cubic unless the script's shell lines name another
// congestion control (a new namespace inherits the first one's default,
// bbr on recent kernels); listeners pass it to accepted sockets. The
// TUN device takes packets of up to 65535 bytes, so a script may
// inject packets larger than its --mtu; the route to the script's side
// carries the MTU, from which the kernel takes its MSS.
//
// Each run makes a network namespace of its own (root needed), with a
// TUN device (link/tun) whose kernel side is 192.168.0.1/24 and the
// script's side 192.0.2.1 (with --ip_version=ipv6, fd3d:fa7b:d17d::1/48
// and 2001:db8::1, the route's MTU 20 bytes larger so that the MSS is
// the same: packetdrill's defaults); socket calls are system calls made inside the
// namespace, "<" packets are written to the device and ">" packets read
// from it, all in real time. The script's relative numbers are
// translated by script.Numbers, the same as on the engine.
//
// The target is a package of its own so that importing the runner pulls
// in no TUN device, namespace or system call code: only programs that
// name linux.Run link it. Use it as a script.Target:
//
//	r := script.RunFile("active-open.pkt", linux.Run)
package linux

// The reasons a run is Skipped before it starts.
const (
	// ReasonNeedsRoot: making a network namespace needs root.
	ReasonNeedsRoot = "needs root to create a network namespace"
	// ReasonNotLinux: the target needs Linux network namespaces.
	ReasonNotLinux = "the linux target needs Linux network namespaces"
	// ReasonIPVersion: the target runs --ip_version=ipv4 and ipv6, not
	// ipv4-mapped-ipv6.
	ReasonIPVersion = "the linux target runs --ip_version ipv4 and ipv6 only"
)
