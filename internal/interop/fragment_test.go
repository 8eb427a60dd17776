package interop

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The kernel pings seqack with 3000 bytes, more than the TUN device's
// MTU of 1500: it sends each request in fragments, seqack puts them
// together and answers with a reply in fragments, which the kernel puts
// together in turn (`ping -s 3000`).
func TestPingFragmentedWithKernel(t *testing.T) {
	e := newEnv(t, options{}, "ping")
	for _, args := range [][]string{{"-4", "192.0.2.2"}, {"-6", "2001:db8::2"}} {
		out := e.ns.Run(t, "ping", append([]string{"-c", "3", "-i", "0.2", "-W", "2", "-n", "-s", "3000"}, args...)...)
		if !strings.Contains(out, "3 packets transmitted, 3 received") {
			t.Errorf("ping -s 3000 %s:\n%s", args[1], out)
		}
	}
	f := e.stack.Stats().Snapshot().Frag
	if f.Reassembled != 6 || f.DatagramsFragmented != 6 || f.FragmentsDropped != 0 {
		t.Errorf("seqack's fragment counters: %+v", f)
	}
}

// A kernel UDP socket sends 8000-byte datagrams to a seqack echo over a
// 1500-byte TUN device and gets them back: the kernel's fragments are
// put together by seqack, and seqack's by the kernel, IPv4 and IPv6.
func TestUDPFragmentsWithKernel(t *testing.T) {
	e := newEnv(t, options{})
	sock, err := e.stack.ListenPacket("udp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := sock.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			sock.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	msg := make([]byte, 8000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	for _, to := range []netip.Addr{seqack4, seqack6} {
		var c *net.UDPConn
		if err := e.ns.Do(func() (err error) {
			c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(to, 7)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// UDP promises nothing: a datagram sent while the kernel's new
		// address is still settling (IPv6 DAD on a loaded machine) may be
		// lost, so the echo is asked for up to five times.
		var n int
		buf := make([]byte, 10000)
		for try := 1; try <= 5; try++ {
			if _, err = c.Write(msg); err != nil {
				t.Fatalf("%v: %v", to, err)
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if n, err = c.Read(buf); err == nil {
				break
			}
			t.Logf("%v: try %d: %v", to, try, err)
		}
		if err != nil || !bytes.Equal(buf[:n], msg) {
			t.Errorf("%v: echo of %d bytes, %v", to, n, err)
		}
	}
	if f := e.stack.Stats().Snapshot().Frag; f.Reassembled < 2 || f.DatagramsFragmented < 2 || f.FragmentsDropped != 0 {
		t.Errorf("seqack's fragment counters: %+v", f)
	}
}
