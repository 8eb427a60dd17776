package wgnet_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/seqack/seqack/adapter/wgnet"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/wire"
)

// fuzzBatch turns fuzz input into a Write's arguments: data[0] picks the
// offset (0 to 31), then each packet is a two-byte big-endian length
// and that many bytes (fewer if data runs out). A length of 0xffff
// makes a buffer shorter than the offset; one of 0xfffe a packet of
// 65536 bytes, longer than any IP packet. It returns the batch and how
// many of its packets the device must count as malformed.
func fuzzBatch(data []byte) (bufs [][]byte, offset, malformed int) {
	if len(data) == 0 {
		return nil, 0, 0
	}
	offset, data = int(data[0]%32), data[1:]
	for len(data) >= 2 && len(bufs) < 3*wgnet.BatchSize {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		switch n {
		case 0xffff:
			bufs = append(bufs, make([]byte, offset/2)) // or empty, at offset 0
			malformed++
			continue
		case 0xfffe:
			bufs = append(bufs, make([]byte, offset+65536))
			malformed++
			continue
		}
		n = min(n, len(data))
		b := make([]byte, offset+n)
		copy(b[offset:], data[:n])
		data = data[n:]
		bufs = append(bufs, b)
		if n == 0 {
			malformed++
		}
	}
	return bufs, offset, malformed
}

// seedPackets are packets as a tunnel delivers them, for the fuzz
// corpus: UDP to a listening socket, a TCP SYN to a listener, an ICMP
// echo request, over IPv4 and IPv6.
func seedPackets(f *testing.F) [][]byte {
	f.Helper()
	var out [][]byte
	build := func(n int, err error, b []byte) {
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b[:n])
	}
	for _, pair := range [][2]netip.Addr{{tunV4[1], tunV4[0]}, {tunV6[1], tunV6[0]}} {
		src, dst := pair[0], pair[1]
		b := make([]byte, 1500)
		n, err := wire.BuildUDPPacket(b, netip.AddrPortFrom(src, 1234), netip.AddrPortFrom(dst, 7), 64, []byte("hello"))
		build(n, err, b)
		b = make([]byte, 1500)
		n, err = wire.BuildTCPPacket(b, src, dst, 64, &wire.TCPHeader{SrcPort: 1234, DstPort: 80, Seq: 1, Flags: wire.FlagSYN, Window: 65535}, nil)
		build(n, err, b)
		b = make([]byte, 1500)
		if src.Is4() {
			n, err = wire.BuildICMPv4(b, &wire.ICMPHeader{Type: wire.ICMPv4EchoRequest}, []byte("ping"))
		} else {
			n, err = wire.BuildICMPv6(b, src, dst, &wire.ICMPHeader{Type: wire.ICMPv6EchoRequest}, []byte("ping"))
		}
		build(n, err, b)
	}
	return out
}

// FuzzDeviceWrite writes arbitrary batches of packets into a device, as
// wireguard-go does with what it decrypted: no panic, Write takes the
// whole batch, and every packet is either dropped and counted by the
// device (Counters().Malformed) or handed to the stack (its
// PacketsReceived), which counts its own drops.
func FuzzDeviceWrite(f *testing.F) {
	var batch []byte
	batch = append(batch, 16)
	for _, p := range seedPackets(f) {
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(p)))
		batch = append(batch, p...)
		f.Add(append([]byte{16, byte(len(p) >> 8), byte(len(p))}, p...))
	}
	f.Add(batch)
	f.Add([]byte{0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 3, 0x45, 0, 0})
	f.Add([]byte{7, 0xff, 0xff, 0, 1, 0x60})

	d, n, err := wgnet.CreateNetTUNOptions([]netip.Addr{tunV4[0], tunV6[0]}, nil, tunMTU, stack.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	// Sockets for the packets to reach: a UDP one and a listener.
	pc, err := n.ListenUDPAddrPort(netip.AddrPortFrom(netip.Addr{}, 7))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { pc.Close() })
	ln, err := n.ListenTCPAddrPort(netip.AddrPortFrom(netip.Addr{}, 80))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })

	var mu sync.Mutex // the counters are compared before and after
	f.Fuzz(func(t *testing.T, data []byte) {
		bufs, offset, malformed := fuzzBatch(data)
		mu.Lock()
		defer mu.Unlock()
		malformedBefore := d.Counters().Malformed.Load()
		receivedBefore := d.Stack().Stats().PacketsReceived.Load()
		got, err := d.Write(bufs, offset)
		if got != len(bufs) || err != nil {
			t.Fatalf("Write of %d packets = %d, %v", len(bufs), got, err)
		}
		dropped := int(d.Counters().Malformed.Load() - malformedBefore)
		received := int(d.Stack().Stats().PacketsReceived.Load() - receivedBefore)
		if dropped != malformed || dropped+received != len(bufs) {
			t.Errorf("%d packets: %d counted malformed (want %d), %d reached the stack", len(bufs), dropped, malformed, received)
		}
	})
}

// Writes racing with Close each take their whole batch or fail with
// os.ErrClosed, none panics, and once Close has returned every Write
// fails cleanly and no packet reaches the stack.
func TestDeviceWriteDuringClose(t *testing.T) {
	d, _ := newDevice(t, tunV4[0].String())
	b := make([]byte, 1500)
	n, err := wire.BuildUDPPacket(b, netip.AddrPortFrom(tunV4[1], 1234), netip.AddrPortFrom(tunV4[0], 9), 64, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	batch := make([][]byte, wgnet.BatchSize)
	for i := range batch {
		batch[i] = b[:n]
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := d.Write(batch, 0)
				if err != nil {
					if got != 0 || !errors.Is(err, os.ErrClosed) {
						t.Errorf("Write while closing = %d, %v; want 0, os.ErrClosed", got, err)
					}
					return
				}
				if got != len(batch) {
					t.Errorf("Write = %d, want %d", got, len(batch))
					return
				}
			}
		})
	}
	d.Close()
	received := d.Stack().Stats().PacketsReceived.Load()
	wg.Wait()
	if got, err := d.Write(batch, 0); got != 0 || !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %d, %v; want 0, os.ErrClosed", got, err)
	}
	if got := d.Stack().Stats().PacketsReceived.Load(); got != received {
		t.Errorf("%d packets reached the stack after Close returned", got-received)
	}
}
