package stack

// FragmentsHeld returns the bytes IP reassembly holds and the datagrams
// it has in progress.
func (s *Stack) FragmentsHeld() (bytes, datagrams int) { return s.frag.held() }
