package wgnet_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/seqack/seqack/adapter/wgnet"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
	"golang.zx2c4.com/wireguard/tun"
)

func newDevice(t *testing.T, addr string) (*wgnet.Device, *wgnet.Net) {
	t.Helper()
	d, n, err := wgnet.CreateNetTUNOptions([]netip.Addr{netip.MustParseAddr(addr)}, nil, tunMTU, stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, n
}

// readBatch reads once from d into BatchSize buffers of 2048 bytes at
// offset 16 (wireguard-go's header room), failing after a second.
func readBatch(t *testing.T, d tun.Device) ([][]byte, []int, int) {
	t.Helper()
	bufs := make([][]byte, d.BatchSize())
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	sizes := make([]int, len(bufs))
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := d.Read(bufs, sizes, 16)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return bufs, sizes, r.n
	case <-time.After(time.Second):
		t.Fatal("Read returned nothing in a second")
	}
	return nil, nil, 0
}

// The device says what wireguard-go asks of it: no file, its name, MTU
// and batch size, and tun.EventUp once, the channel closing with it.
func TestDeviceSurface(t *testing.T) {
	d, _ := newDevice(t, "10.99.0.1")
	if d.File() != nil {
		t.Error("File() is not nil")
	}
	if name, err := d.Name(); name != "go" || err != nil {
		t.Errorf("Name() = %q, %v", name, err)
	}
	if mtu, err := d.MTU(); mtu != tunMTU || err != nil {
		t.Errorf("MTU() = %d, %v", mtu, err)
	}
	if d.BatchSize() != wgnet.BatchSize {
		t.Errorf("BatchSize() = %d", d.BatchSize())
	}
	if ev := <-d.Events(); ev != tun.EventUp {
		t.Errorf("first event %v, want EventUp", ev)
	}
	d.Close()
	if _, ok := <-d.Events(); ok {
		t.Error("Events() still open after Close")
	}
}

// The packets the stack sends come out of one Read together, each at
// the offset asked; those Written to another device reach its stack,
// in one batch.
func TestDeviceBatches(t *testing.T) {
	a, na := newDevice(t, "10.99.0.1")
	b, nb := newDevice(t, "10.99.0.2")
	rx, err := nb.ListenUDPAddrPort(netip.MustParseAddrPort("10.99.0.2:9"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := na.DialUDPAddrPort(netip.AddrPort{}, netip.MustParseAddrPort("10.99.0.2:9"))
	if err != nil {
		t.Fatal(err)
	}
	const count = 10
	for i := range count {
		if _, err := tx.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	bufs, sizes, n := readBatch(t, a)
	if n != count {
		t.Fatalf("Read gave %d packets, want the %d sent", n, count)
	}
	for i := range n {
		if bufs[i][16]>>4 != 4 || sizes[i] != 20+8+1 {
			t.Fatalf("packet %d: % x (%d bytes), want an IPv4 UDP datagram of 29 bytes at offset 16", i, bufs[i][:16+sizes[i]], sizes[i])
		}
		bufs[i] = bufs[i][:16+sizes[i]]
	}
	if w, err := b.Write(bufs[:n], 16); w != n || err != nil {
		t.Fatalf("Write = %d, %v", w, err)
	}
	rx.SetReadDeadline(time.Now().Add(time.Second))
	for i := range count {
		buf := make([]byte, 8)
		m, _, err := rx.ReadFrom(buf)
		if err != nil || m != 1 || buf[0] != byte(i) {
			t.Fatalf("datagram %d: % x, %v", i, buf[:m], err)
		}
	}
}

// Packets too long for Read's buffers, and empty or garbled ones
// written, are dropped and counted; none panics.
func TestDeviceDropsBadPackets(t *testing.T) {
	a, na := newDevice(t, "10.99.0.1")
	tx, err := na.DialUDPAddrPort(netip.AddrPort{}, netip.MustParseAddrPort("10.99.0.2:9"))
	if err != nil {
		t.Fatal(err)
	}
	tx.Write(make([]byte, 1000))
	bufs := [][]byte{make([]byte, 100)}
	sizes := []int{0}
	tx.Write([]byte("small"))
	if n, err := a.Read(bufs, sizes, 16); err != nil || n != 1 || sizes[0] != 20+8+5 {
		t.Errorf("Read = %d (%d bytes), %v; want the small datagram alone", n, sizes[0], err)
	}
	if got := a.Counters().Oversize.Load(); got != 1 {
		t.Errorf("Oversize = %d, want 1", got)
	}
	garbage := []byte{0x45, 1, 2, 3, 4, 5, 6, 7}
	if n, err := a.Write([][]byte{{0, 0}, make([]byte, 16), append(make([]byte, 16), garbage...)}, 16); n != 3 || err != nil {
		t.Errorf("Write = %d, %v", n, err)
	}
	if got := a.Counters().Malformed.Load(); got != 2 {
		t.Errorf("Malformed = %d, want 2 (the short and the empty packet)", got)
	}
	if got := a.Stack().Stats().MalformedPackets.Load(); got != 1 {
		t.Errorf("stack's MalformedPackets = %d, want 1", got)
	}
}

// Close wakes a blocked Read with os.ErrClosed; Write after it fails.
func TestDeviceClose(t *testing.T) {
	a, _ := newDevice(t, "10.99.0.1")
	done := make(chan error, 1)
	go func() {
		_, err := a.Read([][]byte{make([]byte, 2048)}, []int{0}, 0)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	a.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Read still blocked a second after Close")
	}
	if _, err := a.Write([][]byte{make([]byte, 40)}, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want os.ErrClosed", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Past QueueLen packets unread, what the stack sends is dropped and
// counted packet by packet, and the stack's send errors count it too:
// here a datagram's fragments, of which only the first finds room.
func TestDeviceQueueBound(t *testing.T) {
	a, na := newDevice(t, "10.99.0.1")
	tx, err := na.DialUDPAddrPort(netip.AddrPort{}, netip.MustParseAddrPort("10.99.0.2:9"))
	if err != nil {
		t.Fatal(err)
	}
	for range wgnet.QueueLen - 1 {
		tx.Write([]byte("x"))
	}
	tx.Write(make([]byte, 9000))
	frags := a.Stack().Stats().Frag.FragmentsCreated.Load()
	if frags < 2 {
		t.Fatalf("%d fragments made of a 9000-byte datagram", frags)
	}
	if got := a.Counters().QueueFull.Load(); got != frags-1 {
		t.Errorf("QueueFull = %d, want %d (the fragments past the first)", got, frags-1)
	}
	read := 0
	for read < wgnet.QueueLen {
		_, _, n := readBatch(t, a)
		read += n
	}
	if read != wgnet.QueueLen {
		t.Errorf("read %d packets, want %d", read, wgnet.QueueLen)
	}
}

// A name looked up with no DNS servers fails with ErrNoDNSServers,
// whatever the host's /etc/hosts holds; an address is its own answer.
func TestLookupWithoutServers(t *testing.T) {
	_, n := newDevice(t, "10.99.0.1")
	if _, err := n.LookupHost("localhost"); !errors.Is(err, stack.ErrNoDNSServers) {
		t.Errorf("LookupHost(localhost) with no DNS servers: %v, want ErrNoDNSServers", err)
	}
	if addrs, err := n.LookupHost("10.99.0.7"); err != nil || len(addrs) != 1 || addrs[0] != "10.99.0.7" {
		t.Errorf("LookupHost(10.99.0.7) = %v, %v", addrs, err)
	}
}

// pump carries packets from one device's Read to another's Write until
// from is closed, checking that each is at most the MTU and has right
// IPv4 and TCP checksums.
func pump(t *testing.T, from, to *wgnet.Device) {
	bufs := make([][]byte, from.BatchSize())
	for i := range bufs {
		bufs[i] = make([]byte, 16+65536)
	}
	sizes := make([]int, len(bufs))
	for {
		n, err := from.Read(bufs, sizes, 16)
		if err != nil {
			return
		}
		out := make([][]byte, n)
		for i := range n {
			p := bufs[i][16 : 16+sizes[i]]
			if len(p) > tunMTU {
				t.Errorf("a packet of %d bytes, over the MTU of %d", len(p), tunMTU)
			}
			var src, dst netip.Addr
			tcp := p[20:]
			if p[0]>>4 == 4 {
				if wire.Checksum(p[:20], 0) != 0 {
					t.Errorf("IPv4 header checksum wrong: % x", p[:20])
				}
				src, dst = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
			} else {
				src, dst, tcp = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40])), p[40:]
			}
			if !wire.VerifyTCPChecksum(tcp, src, dst) {
				t.Errorf("TCP checksum wrong in a packet of %d bytes", len(p))
			}
			out[i] = bufs[i][:16+sizes[i]]
		}
		to.Write(out, 16)
	}
}

// The stack hands the device TCP segments of up to 64 KiB
// (link.SegmentOffloader); Read cuts them into packets of the MTU with
// right headers and checksums, which the stack at the far end puts
// back together, over IPv4 and IPv6.
func TestDeviceCutsSegments(t *testing.T) {
	for _, addrs := range [][2]string{{"10.99.0.1", "10.99.0.2"}, {"fd99::1", "fd99::2"}} {
		t.Run(addrs[0], func(t *testing.T) {
			a, na := newDevice(t, addrs[0])
			b, nb := newDevice(t, addrs[1])
			go pump(t, a, b)
			go pump(t, b, a)
			to := netip.AddrPortFrom(netip.MustParseAddr(addrs[1]), 80)
			ln, err := nb.ListenTCPAddrPort(to)
			if err != nil {
				t.Fatal(err)
			}
			c, err := na.DialTCPAddrPort(to)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, 1<<20)
			rand.Read(data)
			go func() { c.Write(data); c.Close() }()
			s.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := io.ReadAll(s)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("received %d bytes of %d (equal: %v), %v", len(got), len(data), bytes.Equal(got, data), err)
			}
			if a.Counters().SegmentsCut.Load() == 0 {
				t.Error("no segment was cut: the stack sent only MTU-sized packets")
			}
			if n := b.Stack().Stats().BadChecksums.Load(); n != 0 {
				t.Errorf("the receiving stack counted %d bad checksums", n)
			}
		})
	}
}
