package tun

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/link"
)

// socketPair returns an Endpoint on one end of a SOCK_SEQPACKET pair and
// the other end's fd: a socket that, like a TUN device, carries one
// packet per read and write, so the endpoint's own logic is tested
// without root.
func socketPair(t *testing.T, mtu int) (*Endpoint, int) {
	t.Helper()
	return endpointPair(t, mtu, false)
}

// endpointPair is socketPair, with an endpoint that speaks virtio-net
// headers if vnet is set.
func endpointPair(t *testing.T, mtu int, vnet bool) (*Endpoint, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	e, err := wrap(os.NewFile(uintptr(fds[0]), "pair"), "pair0", mtu, vnet) // TUNSETOFFLOAD fails on a socket, unheeded
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		unix.Close(fds[1])
	})
	return e, fds[1]
}

func TestEndpointReadWrite(t *testing.T) {
	e, peer := socketPair(t, 100)
	got := make(chan []byte, 10)
	e.Attach(func(p []byte) { got <- p })

	// From the "kernel" to the stack: one packet per read, each in a
	// buffer of its own; a packet over the MTU is dropped.
	for _, p := range [][]byte{[]byte("first"), make([]byte, 101), []byte("second")} {
		if _, err := unix.Write(peer, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"first", "second"} {
		select {
		case p := <-got:
			if string(p) != want {
				t.Errorf("delivered %q, want %q", p, want)
			}
			if cap(p) != 2048 {
				t.Errorf("buffer capacity %d, want 2048 (a size the stack's pools keep)", cap(p))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not delivered", want)
		}
	}
	if e.Dropped() != 1 {
		t.Errorf("Dropped() = %d, want 1", e.Dropped())
	}

	// From the stack to the "kernel": WritePackets writes each packet on
	// its own, and stops at one too big.
	n, err := e.WritePackets([][]byte{[]byte("a"), []byte("bb"), make([]byte, 101), []byte("never")})
	if n != 2 || !errors.Is(err, link.ErrTooBig) {
		t.Errorf("WritePackets = %d, %v; want 2, ErrTooBig", n, err)
	}
	buf := make([]byte, 200)
	for _, want := range []string{"a", "bb"} {
		n, err := unix.Read(peer, buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != want {
			t.Errorf("peer read %q, want %q", buf[:n], want)
		}
	}
	if e.MTU() != 100 || e.Name() != "pair0" {
		t.Errorf("MTU %d, name %q", e.MTU(), e.Name())
	}
}

// Packets are read into buffers of link's pools (so that the stack can
// recycle them once processed), and written packets go back to the
// pools: the capacity of what is delivered is one of the pools' sizes.
func TestEndpointUsesPooledBuffers(t *testing.T) {
	e, peer := socketPair(t, 1500)
	out := link.Buffer(60)
	copy(out, "outgoing")
	if err := e.WritePacket(out); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	e.Attach(func(p []byte) { got <- p })
	if _, err := unix.Write(peer, []byte("incoming")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if c := cap(p); string(p) != "incoming" || c != 2048 && c != 16384 && c != 65536 {
			t.Errorf("delivered %q with capacity %d; want a pooled buffer", p, c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
	}
}

// Close wakes the reader blocked in read(2), and later writes fail with
// link.ErrClosed.
func TestEndpointClose(t *testing.T) {
	e, peer := socketPair(t, 1500)
	delivered := make(chan struct{}, 1)
	e.Attach(func([]byte) { delivered <- struct{}{} })
	time.Sleep(10 * time.Millisecond) // let the reader block
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := e.WritePacket([]byte("x")); !errors.Is(err, link.ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	if _, err := e.WritePackets([][]byte{[]byte("x")}); !errors.Is(err, link.ErrClosed) {
		t.Errorf("WritePackets after Close: %v, want ErrClosed", err)
	}
	unix.Write(peer, []byte("late"))
	select {
	case <-delivered:
		t.Error("a packet was delivered after Close")
	case <-time.After(50 * time.Millisecond):
	}
	if err := e.Err(); err != nil {
		t.Errorf("Err() = %v after Close, want nil", err)
	}
}

// The reader stops, and says why, when the descriptor reaches its end.
func TestEndpointReadError(t *testing.T) {
	e, peer := socketPair(t, 1500)
	e.Attach(func([]byte) {})
	unix.Shutdown(peer, unix.SHUT_WR)
	deadline := time.Now().Add(5 * time.Second)
	for e.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := e.Err(); !errors.Is(err, io.EOF) {
		t.Errorf("Err() = %v, want EOF", err)
	}
}

func TestCheckMTU(t *testing.T) {
	for _, c := range []struct {
		in, want int
		ok       bool
	}{{0, DefaultMTU, true}, {68, 68, true}, {65535, 65535, true}, {67, 0, false}, {65536, 0, false}, {-1, 0, false}} {
		got, err := checkMTU(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("checkMTU(%d) = %d, %v", c.in, got, err)
		}
	}
	for mtu, size := range map[int]int{1500: 2048, 2047: 2048, 2048: 16384, 9000: 16384, 65535: 65536} {
		if got := newEndpoint(nil, "", mtu).bufSize; got != size {
			t.Errorf("MTU %d: read buffers of %d bytes, want %d", mtu, got, size)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{openError("x", unix.ENOENT), "/dev/net/tun does not exist"},
		{openError("x", unix.EACCES), "opening /dev/net/tun needs root or CAP_NET_ADMIN"},
		{setIffError("x", unix.EPERM), "opening /dev/net/tun needs root or CAP_NET_ADMIN"},
		{setIffError("seqack0", unix.EBUSY), `device "seqack0" is in use`},
		{setIffError("eth0", unix.EINVAL), `device "eth0" exists and is not a TUN device`},
	} {
		if !bytes.Contains([]byte(c.err.Error()), []byte(c.want)) {
			t.Errorf("%v: lacks %q", c.err, c.want)
		}
		if !errors.Is(c.err, unix.ENOENT) && !errors.Is(c.err, unix.EACCES) && !errors.Is(c.err, unix.EPERM) &&
			!errors.Is(c.err, unix.EBUSY) && !errors.Is(c.err, unix.EINVAL) {
			t.Errorf("%v: does not wrap its errno", c.err)
		}
	}
	if _, err := Open("a-name-far-too-long", 0); err == nil {
		t.Error("Open accepted a 19-byte name")
	}
	if _, err := Open("x", 20); err == nil {
		t.Error("Open accepted MTU 20")
	}
}
