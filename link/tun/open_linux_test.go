package tun_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link/tun"
	"github.com/seqack/seqack/wire"
)

// openIn opens a TUN device inside ns and closes it when the test ends.
func openIn(t *testing.T, ns *netns.NS, name string, mtu int) *tun.Endpoint {
	t.Helper()
	var ep *tun.Endpoint
	err := ns.Do(func() (err error) {
		ep, err = tun.Open(name, mtu)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

func TestOpen(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	ep := openIn(t, ns, "sqtest0", 1400)
	if ep.Name() != "sqtest0" || ep.MTU() != 1400 {
		t.Errorf("Name %q, MTU %d", ep.Name(), ep.MTU())
	}
	if out := ns.Run(t, "ip", "link", "show", "sqtest0"); !strings.Contains(out, "mtu 1400") || !strings.Contains(out, "POINTOPOINT") {
		t.Errorf("ip link show sqtest0:\n%s", out)
	}

	// The name is taken while the endpoint holds it.
	err := ns.Do(func() error { _, err := tun.Open("sqtest0", 0); return err })
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), `device "sqtest0" is in use`) {
		t.Errorf("second Open of sqtest0: %v", err)
	}

	// Another kind of interface has the name.
	err = ns.Do(func() error { _, err := tun.Open("lo", 0); return err })
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), `device "lo" exists and is not a TUN device`) {
		t.Errorf("Open(lo): %v", err)
	}

	// An empty name lets the kernel choose.
	auto := openIn(t, ns, "", 0)
	if !strings.HasPrefix(auto.Name(), "tun") || auto.MTU() != tun.DefaultMTU {
		t.Errorf("kernel-named device %q, MTU %d", auto.Name(), auto.MTU())
	}

	// Closing the endpoint deletes the device (it is not persistent).
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Output("ip", "link", "show", "sqtest0"); err == nil {
		t.Error("sqtest0 still exists after Close")
	}
}

// A packet written to the device reaches the kernel's IP stack, and the
// kernel's answer is delivered: an ICMP echo request from 192.0.2.2 to
// the kernel's 192.0.2.1 comes back as a reply.
func TestKernelAnswersPing(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	ep := openIn(t, ns, "sqtest0", 0)
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "sqtest0")
	ns.Run(t, "ip", "link", "set", "sqtest0", "up")

	replies := make(chan []byte, 16)
	ep.Attach(func(p []byte) {
		if ip, err := wire.ParseIP(p); err == nil && ip.Protocol == wire.ProtocolICMPv4 {
			replies <- ip.Payload
		}
	})
	if err := ep.WritePacket(echoRequest(netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.1"), 0x5eac)); err != nil {
		t.Fatal(err)
	}
	select {
	case icmp := <-replies:
		if icmp[0] != wire.ICMPv4EchoReply || binary.BigEndian.Uint16(icmp[4:]) != 0x5eac || string(icmp[8:]) != "seqack" {
			t.Errorf("kernel answered % x", icmp)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo reply from the kernel")
	}
}

// echoRequest builds an IPv4 ICMP echo request (RFC 792) with payload
// "seqack".
func echoRequest(src, dst netip.Addr, id uint16) []byte {
	p := make([]byte, 20+8+6)
	h := wire.IPv4Header{TTL: 64, Protocol: wire.ProtocolICMPv4, Src: src, Dst: dst}
	if _, err := h.Marshal(p, 8+6); err != nil {
		panic(err)
	}
	icmp := p[20:]
	icmp[0] = 8 // echo request
	binary.BigEndian.PutUint16(icmp[4:], id)
	binary.BigEndian.PutUint16(icmp[6:], 1)
	copy(icmp[8:], "seqack")
	binary.BigEndian.PutUint16(icmp[2:], wire.Checksum(icmp, 0))
	return p
}

func TestFromFD(t *testing.T) {
	// Not a TUN device at all: refused, without needing root.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := tun.FromFD(int(r.Fd()), 0); err == nil || !strings.Contains(err.Error(), "not a TUN device") {
		t.Errorf("FromFD(pipe) = %v", err)
	}

	netns.Require(t)
	ns := netns.New(t)
	for i, c := range []struct {
		flags uint16
		ok    bool
	}{{unix.IFF_TUN | unix.IFF_NO_PI, true}, {unix.IFF_TAP | unix.IFF_NO_PI, false}} {
		var fd int
		err := ns.Do(func() (err error) {
			fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			ifr, _ := unix.NewIfreq(fmt.Sprintf("sqfd%d", i))
			ifr.SetUint16(c.flags)
			return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		})
		if err != nil {
			t.Fatal(err)
		}
		ep, err := tun.FromFD(fd, 9000)
		if !c.ok {
			unix.Close(fd)
			if err == nil || !strings.Contains(err.Error(), "want a TUN device") {
				t.Errorf("flags %#x: FromFD = %v", c.flags, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ep.Name() != fmt.Sprintf("sqfd%d", i) || ep.MTU() != 9000 {
			t.Errorf("FromFD: name %q, MTU %d", ep.Name(), ep.MTU())
		}
		// The descriptor was blocking; the endpoint made it
		// non-blocking so that Close interrupts its reader.
		ep.Attach(func([]byte) {})
		done := make(chan error, 1)
		go func() { done <- ep.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not return")
		}
	}
}
