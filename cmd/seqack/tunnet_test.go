package main

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
)

// The command lines of listen, dial and http that are wrong (status 2)
// or fail before any device is created (status 1): none needs root.
func TestNetCommandsUsage(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		status int
		out    string // expected on stdout for status 0, on stderr otherwise
	}{
		{"help lists them", []string{"help"}, exitOK, "seqack dial [flags] HOST:PORT"},
		{"listen help", []string{"listen", "--help"}, exitOK, "ip addr add 192.0.2.1/24 dev seqack0"},
		{"dial help", []string{"dial", "-h"}, exitOK, "--kernel-addr CIDR"},
		{"listen help tells of offloads", []string{"listen", "--help"}, exitOK, "--no-offload"},
		{"http help", []string{"http", "--help"}, exitOK, "--dir DIR"},
		{"listen no port", []string{"listen"}, exitUsage, "want one PORT, got 0"},
		{"listen two ports", []string{"listen", "1", "2"}, exitUsage, "want one PORT, got 2"},
		{"listen port 0", []string{"listen", "0"}, exitUsage, `port "0": want a number from 1 to 65535`},
		{"listen port too big", []string{"listen", "65536"}, exitUsage, "want a number from 1 to 65535"},
		{"listen port name", []string{"listen", "http"}, exitUsage, "want a number"},
		{"addr without length", []string{"listen", "--addr", "192.0.2.2", "9000"}, exitUsage, "want an address with its prefix length"},
		{"bad mtu", []string{"listen", "--mtu", "20", "9000"}, exitUsage, "--mtu 20"},
		{"long tun name", []string{"listen", "--tun", "a-very-long-name0", "9000"}, exitUsage, "1 to 15 characters"},
		{"empty tun name", []string{"dial", "--tun", "", "192.0.2.1:9"}, exitUsage, "1 to 15 characters"},
		{"kernel addr is ours", []string{"listen", "--kernel-addr", "192.0.2.2/24", "9000"}, exitUsage, "is seqack's own address"},
		{"unknown flag", []string{"listen", "--colour", "9000"}, exitUsage, "--colour is not a flag of seqack listen"},
		{"dial nothing", []string{"dial"}, exitUsage, "want one HOST:PORT"},
		{"dial host name", []string{"dial", "localhost:80"}, exitUsage, "host names are not resolved"},
		{"dial no port", []string{"dial", "192.0.2.1"}, exitUsage, "want an IP address and a port"},
		{"dial port 0", []string{"dial", "192.0.2.1:0"}, exitUsage, "want an IP address and a port"},
		{"dial bad timeout", []string{"dial", "--timeout", "0s", "192.0.2.1:9"}, exitUsage, "--timeout 0s"},
		{"http two addrs", []string{"http", ":80", ":81"}, exitUsage, "at most one"},
		{"http host name", []string{"http", "example.com:80"}, exitUsage, "not an IP address"},
		{"http bad port", []string{"http", ":http"}, exitUsage, "want a number"},
		// Runtime errors caught before a device is created.
		{"pcap in no directory", []string{"dial", "--pcap", "/nonexistent/dir/x.pcap", "192.0.2.1:9"}, exitError, "--pcap: open /nonexistent/dir/x.pcap"},
		{"http no dir", []string{"http", "--dir", "/nonexistent/dir"}, exitError, "--dir /nonexistent/dir"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(c.args, &stdout, &stderr)
			if status != c.status {
				t.Errorf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, c.status, stdout.String(), stderr.String())
			}
			out := stderr.String()
			if c.status == exitOK {
				out = stdout.String()
			}
			if !strings.Contains(out, c.out) {
				t.Errorf("output lacks %q:\n%s", c.out, out)
			}
		})
	}
}

func TestParseListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"8080": ":8080", ":80": ":80", "192.0.2.2:80": "192.0.2.2:80", "[2001:db8::2]:443": "[2001:db8::2]:443",
		"x:80": "", ":0": "", "": "", "[::1]": "",
	} {
		got, err := parseListenAddr(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("parseListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestKernelSetupHint(t *testing.T) {
	got := kernelSetupHint("seqack0", []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("2001:db8::1/64")})
	want := "  ip addr add 192.0.2.1/24 dev seqack0\n  ip addr add 2001:db8::2/64 dev seqack0 nodad\n  ip link set seqack0 up\n"
	if got != want {
		t.Errorf("hint:\n%s\nwant:\n%s", got, want)
	}
}

// pipePair returns a connection between two stacks joined in memory:
// seqack's end for netcat, and the peer's.
func pipePair(t *testing.T) (*stack.Conn, *stack.Conn) {
	t.Helper()
	a, b := pipe.New(1500)
	sa, sb := stack.New(stack.Options{}), stack.New(stack.Options{})
	sa.AddInterface(a, netip.MustParsePrefix("192.0.2.2/24"))
	sb.AddInterface(b, netip.MustParsePrefix("192.0.2.1/24"))
	t.Cleanup(func() { sa.Close(); sb.Close() })
	ln, err := sb.Listen("tcp", ":9000")
	if err != nil {
		t.Fatal(err)
	}
	c, err := sa.Dial("tcp", "192.0.2.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// A stall fails the test rather than hanging it.
	c.SetDeadline(time.Now().Add(30 * time.Second))
	p.SetDeadline(time.Now().Add(30 * time.Second))
	return c.(*stack.Conn), p.(*stack.Conn)
}

// netcat half-closes at the end of its input and still receives until
// the peer closes.
func TestNetcatHalfClose(t *testing.T) {
	c, peer := pipePair(t)
	go func() {
		// The peer reads everything, up to netcat's FIN, before it
		// answers: only a half-close lets this finish.
		got, _ := io.ReadAll(peer)
		peer.Write([]byte("you said: "))
		peer.Write(got)
		peer.Close()
	}()
	var stdout bytes.Buffer
	if err := netcat(c, strings.NewReader("hello"), &stdout); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "you said: hello" {
		t.Errorf("stdout %q", stdout.String())
	}
}

// When the peer resets the connection, netcat returns at once with the
// error, without waiting for its input to end.
func TestNetcatReset(t *testing.T) {
	c, peer := pipePair(t)
	stdin, w := io.Pipe() // never ends
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- netcat(c, stdin, io.Discard) }()
	peer.SetLinger(0)
	peer.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "receiving") {
			t.Errorf("netcat = %v, want a receive error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("netcat still waits for its input after a reset")
	}
}
