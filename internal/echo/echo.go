// Package echo serves the echo protocol on any net.Listener, for the
// tests that need a peer that sends back what it gets (seqack's stacks,
// the WireGuard tunnel, the kernel over TUN).
package echo

import (
	"io"
	"net"
)

// Serve accepts connections on ln until Accept fails (the listener
// closed) and copies each one's bytes back to it until its peer closes,
// each on a goroutine of its own. It returns at once; the loop runs on a
// goroutine.
func Serve(ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
}
