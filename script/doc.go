// Package script runs packetdrill scripts against seqack's TCP engine.
//
// A packetdrill script (see /work/shared/PACKETDRILL.md, and the
// packetdrill paper, USENIX ATC 2013) describes one side of a TCP
// conversation: socket calls the application makes, segments the script
// injects ("<") and segments the stack must send (">"), each at a time.
// Parse reads a script; Run executes it against a target. The target
// "seqack" is a small socket layer over tcp.Conn driven in virtual time,
// so a script with multi-second timers runs instantly and the same way
// every time.
//
// A script that uses something the runner cannot do (inline Python,
// shell commands, tcp_info, options seqack lacks) is Skipped, never
// passed: the reasons are listed in Result.Unsupported.
package script
