package main

import (
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The kernel's sockets, dialed and accepted, run the algorithm
// kernelWith sets: reno, which every Linux has built in.
func TestKernelWithCongestionControl(t *testing.T) {
	n := kernelWith(congestionControl("reno"))
	ln, err := n.Listen("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	d, err := n.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := <-accepted
	if a == nil {
		t.Fatal("nothing accepted")
	}
	defer a.Close()
	for side, c := range map[string]net.Conn{"dialed": d, "accepted": a} {
		raw, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var name string
		var serr error
		if err := raw.Control(func(fd uintptr) {
			name, serr = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
		}); err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		if name != "reno" {
			t.Errorf("%s socket runs %q, want reno", side, name)
		}
	}
}
