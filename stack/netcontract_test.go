package stack_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// What package net's users expect of Listen: a free port for port 0,
// reported by Addr, and EADDRNOTAVAIL for an address the host lacks.
func TestListenAsPackageNet(t *testing.T) {
	_, server := twoStacks(t, 1500)
	for _, c := range []struct {
		network, address string
		err              error  // wanted error; nil: success
		addr             string // wanted Addr's host ("" for any port check only)
	}{
		{"tcp", ":0", nil, "::"},
		{"tcp", ":0", nil, "::"}, // a second one gets another port
		{"tcp4", ":0", nil, "0.0.0.0"},
		{"tcp6", ":0", nil, "::"},
		{"tcp", "192.0.2.2:0", nil, "192.0.2.2"},
		{"tcp", "[2001:db8::2]:0", nil, "2001:db8::2"},
		{"tcp", "192.0.2.9:80", syscall.EADDRNOTAVAIL, ""},
		{"tcp6", "[2001:db8::9]:80", syscall.EADDRNOTAVAIL, ""},
		{"tcp", "198.51.100.1:0", syscall.EADDRNOTAVAIL, ""},
	} {
		t.Run(c.network+" "+c.address, func(t *testing.T) {
			ln, err := server.Listen(c.network, c.address)
			if c.err != nil {
				var op *net.OpError
				if !errors.Is(err, c.err) || !errors.As(err, &op) || op.Op != "listen" {
					t.Fatalf("Listen: %v, want a *net.OpError wrapping %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			a := ln.Addr().(*net.TCPAddr)
			if a.Port == 0 || a.IP.String() != c.addr {
				t.Errorf("Addr() = %v, want %s with a port picked", a, c.addr)
			}
		})
	}
	// Ports picked are distinct, and one picked is then in use.
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		ln, err := server.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		if seen[port] {
			t.Fatalf("port %d picked twice", port)
		}
		seen[port] = true
		if _, err := server.Listen("tcp", ln.Addr().String()); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Listen on the port picked, %v: %v, want EADDRINUSE", ln.Addr(), err)
		}
	}
}
