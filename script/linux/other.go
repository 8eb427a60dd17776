//go:build !linux

package linux

import "github.com/seqack/seqack/script"

// Run skips: the Linux target needs Linux network namespaces.
func Run(s *script.Script) script.Result {
	return script.Result{Status: script.Skipped, Unsupported: []string{ReasonNotLinux}}
}
