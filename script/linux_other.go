//go:build !linux

package script

// ReasonNeedsRoot is the reason a linux run is skipped without root.
const ReasonNeedsRoot = "needs root to create a network namespace"

// runLinux skips: the linux target needs Linux network namespaces.
func runLinux(s *Script, r Result) Result {
	r.Status, r.Unsupported = Skipped, []string{"the linux target needs Linux network namespaces"}
	return r
}
