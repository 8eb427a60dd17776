// Package linux is the Linux target of the packetdrill runner in package
// script: Run plays a parsed script against the Linux kernel, as
// packetdrill does, where script.Engine plays it against seqack's
// engine. Running the same scripts on both is how seqack's scripts are
// known to state TCP's behaviour rather than seqack's habits.
//
// Each run makes a network namespace of its own (root needed), with a
// TUN device (link/tun) whose kernel side is 192.168.0.1/24 and the
// script's side 192.0.2.1; socket calls are system calls made inside the
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
)
