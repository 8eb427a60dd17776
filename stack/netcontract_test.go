package stack_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
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

// After Close, a stack's calls fail at once with net.ErrClosed, and a
// dial under way when it closes returns.
func TestClosedStack(t *testing.T) {
	client, server := twoStacks(t, 1500)
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A dial to a host that never answers, under way when Close comes.
	lonely := stack.New(stack.Options{})
	a, _ := pipe.New(1500)
	lonely.AddInterface(a, netip.MustParsePrefix("203.0.113.1/24"))
	pending := make(chan error, 1)
	go func() {
		_, err := lonely.Dial("tcp", "203.0.113.2:80")
		pending <- err
	}()
	time.Sleep(20 * time.Millisecond)
	lonely.Close()
	client.Close()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Dial", func() error { _, err := client.Dial("tcp", "192.0.2.2:80"); return err }},
		{"DialContext", func() error {
			_, err := client.DialContext(context.Background(), "tcp6", "[2001:db8::2]:80")
			return err
		}},
		{"Listen", func() error { _, err := client.Listen("tcp", ":81"); return err }},
		{"Listen :0", func() error { _, err := client.Listen("tcp4", ":0"); return err }},
		{"ListenBacklog", func() error { _, err := client.ListenBacklog("tcp", "192.0.2.1:82", 1); return err }},
		{"dial under way", func() error {
			select {
			case err := <-pending:
				return err
			case <-time.After(time.Second):
				return errors.New("still blocked a second after Close")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- c.call() }()
			select {
			case err := <-done:
				var op *net.OpError
				if !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) {
					t.Errorf("%v, want a *net.OpError wrapping net.ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("blocked after Close")
			}
		})
	}
}
