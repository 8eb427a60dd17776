package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// The kernel's curl downloads a file from a net/http FileServer running
// on seqack, over IPv4 and IPv6, and gets every byte.
func TestCurlDownload(t *testing.T) {
	for _, c := range []struct{ name, url string }{
		{"IPv4", "http://192.0.2.2/data.bin"},
		{"IPv6", "http://[2001:db8::2]/data.bin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, options{}, "curl")
			dir := t.TempDir()
			size := transferSize(t)
			_, want := randomFile(t, dir, size)
			e.serveFiles(t, dir)
			out := filepath.Join(t.TempDir(), "got.bin")
			start := time.Now()
			e.ns.Run(t, "curl", "--silent", "--show-error", "--fail", "--globoff", "--max-time", "30", "--output", out, c.url)
			elapsed := time.Since(start)
			if got := fileHash(t, out); got != want {
				t.Fatalf("SHA-256 of the download %x, want %x", got, want)
			}
			t.Logf("%d MiB in %v: %.1f MB/s", size>>20, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
		})
	}
}

// 64 MiB each way between seqack and the kernel over the TUN device,
// over IPv4 and IPv6. With the device's offloads (the default) the kernel
// hands up its TCP segments whole, up to 64 KiB each, and takes seqack's
// the same way, cutting them into packets itself; without them (plain),
// one packet per system call. Every byte arrives either way. The log
// gives each speed, and the kernel's own over a veth pair between two
// namespaces (MTU 1500, with the same offloads) as the baseline. The
// veth pair gets MTU-sized segments with GSO, as the kernel sends.
func TestThroughputWithKernel(t *testing.T) {
	speeds := map[string]float64{}
	for _, c := range []struct {
		name, listen string
		toSeqack     bool
		plain        bool
	}{
		{"to-seqack-IPv4", "192.0.2.1:9001", true, false},
		{"to-seqack-IPv6", "[2001:db8::1]:9001", true, false},
		{"to-seqack-IPv4-plain", "192.0.2.1:9001", true, true},
		{"from-seqack-IPv4", "192.0.2.1:9001", false, false},
		{"from-seqack-IPv6", "[2001:db8::1]:9001", false, false},
		{"from-seqack-IPv4-plain", "192.0.2.1:9001", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, options{plain: c.plain})
			ln := e.kernelListen(t, c.listen)
			conn, err := e.stack.Dial("tcp", c.listen)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			speeds[c.name] = transfer(t, ln, conn, transferSize(t), c.toSeqack)
			in, out := e.tun.LargeSegmentsReceived(), e.tun.LargeSegmentsSent()
			t.Logf("%.1f MB/s; large segments: %d from the kernel, %d to it", speeds[c.name], in, out)
			if large := map[bool]uint64{true: in, false: out}[c.toSeqack]; c.plain != (large == 0) {
				t.Errorf("%d large segments the sender's way (plain device: %v)", large, c.plain)
			}
		})
	}
	t.Run("kernel-over-veth", func(t *testing.T) {
		netns.Require(t)
		netns.Exclusive(t)
		a, b := netns.New(t), netns.New(t)
		if out, err := exec.Command("ip", "link", "add", "sqv0", "netns", a.Name, "type", "veth", "peer", "name", "sqv1", "netns", b.Name).CombinedOutput(); err != nil {
			t.Fatalf("ip link add veth: %v\n%s", err, out)
		}
		a.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "sqv0")
		b.Run(t, "ip", "addr", "add", "198.51.100.2/24", "dev", "sqv1")
		a.Run(t, "ip", "link", "set", "sqv0", "up")
		b.Run(t, "ip", "link", "set", "sqv1", "up")
		var ln net.Listener
		if err := a.Do(func() (err error) { ln, err = net.Listen("tcp", "198.51.100.1:9001"); return err }); err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var conn net.Conn
		if err := b.Do(func() (err error) { conn, err = net.DialTimeout("tcp", "198.51.100.1:9001", 5*time.Second); return err }); err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		speeds["veth"] = transfer(t, ln, conn, transferSize(t), true)
		t.Logf("%.1f MB/s", speeds["veth"])
	})
	if v := speeds["veth"]; v > 0 {
		for _, way := range []string{"to-seqack", "from-seqack"} {
			t.Logf("%s over TUN: %.2f× the kernel to itself over veth with offloads, %.2f× without",
				way, speeds[way+"-IPv4"]/v, speeds[way+"-IPv4-plain"]/v)
		}
	}
}

// transfer sends size random bytes between the kernel's side of ln and
// conn, to conn if toConn is set, else from it; checks that they all
// arrive, and returns the speed in MB/s. The receiver checks what it
// gets with CRC-32C, which runs at many GB/s, so that the stacks and not
// the check set the speed.
func transfer(t *testing.T, ln net.Listener, conn net.Conn, size int, toConn bool) float64 {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	type result struct {
		n   int64
		sum uint32
		err error
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	send := func(c net.Conn) {
		c.Write(data)
		c.Close()
	}
	recv := func(c net.Conn) result {
		h := crc32.New(table)
		n, err := io.Copy(h, c)
		return result{n, h.Sum32(), err}
	}
	kernel := make(chan result, 1)
	go func() {
		k, err := ln.Accept()
		if err != nil {
			kernel <- result{err: err}
			return
		}
		k.SetDeadline(time.Now().Add(30 * time.Second))
		if toConn {
			send(k)
			kernel <- result{}
		} else {
			kernel <- recv(k)
		}
	}()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	var got result
	if toConn {
		got = recv(conn)
		<-kernel
	} else {
		go send(conn)
		got = <-kernel
	}
	elapsed := time.Since(start)
	if got.err != nil || got.n != int64(size) {
		t.Fatalf("received %d bytes, %v; want %d", got.n, got.err, size)
	}
	if got.sum != crc32.Checksum(data, table) {
		t.Fatal("CRC-32C of the bytes received differs from the bytes sent")
	}
	return float64(size) / elapsed.Seconds() / 1e6
}

// seqack dials the kernel's socat and sends it a file, which socat writes
// to disk whole.
func TestSendToSocat(t *testing.T) {
	for _, c := range []struct{ name, listen, addr string }{
		{"IPv4", "TCP4-LISTEN:9000,reuseaddr", "192.0.2.1:9000"},
		{"IPv6", "TCP6-LISTEN:9000,reuseaddr", "[2001:db8::1]:9000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, options{}, "socat", "ss")
			size := transferSize(t)
			src, want := randomFile(t, t.TempDir(), size)
			out := filepath.Join(t.TempDir(), "got.bin")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// -u: one way only, from the connection to the file; socat
			// exits at the connection's EOF (our FIN).
			socat := e.ns.Command(ctx, "socat", "-u", c.listen, "CREATE:"+out)
			var stderr bytes.Buffer
			socat.Stderr = &stderr
			if err := socat.Start(); err != nil {
				t.Fatal(err)
			}
			defer socat.Process.Kill()
			e.waitKernelListening(t, "9000")

			conn, err := e.stack.Dial("tcp", c.addr)
			if err != nil {
				t.Fatal(err)
			}
			// A stalled transfer fails the test rather than hanging it.
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			start := time.Now()
			if err := copyFile(conn, src); err != nil {
				t.Fatal(err)
			}
			if err := conn.(*stack.Conn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			// socat closes its side once it has everything.
			if n, err := io.Copy(io.Discard, conn); n != 0 || err != nil {
				t.Errorf("read %d bytes, %v; want EOF", n, err)
			}
			conn.Close()
			if err := socat.Wait(); err != nil {
				t.Fatalf("socat: %v\n%s", err, stderr.Bytes())
			}
			elapsed := time.Since(start)
			if got := fileHash(t, out); got != want {
				t.Fatalf("SHA-256 of what socat received %x, want %x", got, want)
			}
			t.Logf("%d MiB in %v: %.1f MB/s", size>>20, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
		})
	}
}

// copyFile writes the file at path to w.
func copyFile(w io.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// The four ways a connection closes between seqack and the kernel:
// either side may have opened it and either may close first. The side
// that closes first ends in TIME_WAIT (RFC 9293 §3.6), the other passes
// through CLOSE_WAIT and LAST_ACK; both are checked on seqack's side with
// stack.Connections and on the kernel's with ss.
func TestCloseStates(t *testing.T) {
	for _, c := range []struct {
		name          string
		seqackDials   bool
		seqackCloses1 bool
		v6            bool
	}{
		{"kernel dials, kernel closes first", false, false, false},
		{"kernel dials, seqack closes first", false, true, true},
		{"seqack dials, kernel closes first", true, false, true},
		{"seqack dials, seqack closes first", true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, options{}, "ss")
			host := "192.0.2.%s"
			if c.v6 {
				host = "[2001:db8::%s]"
			}
			var sc, kc net.Conn // seqack's end, the kernel's end
			if c.seqackDials {
				ln := e.kernelListen(t, strings.ReplaceAll(host, "%s", "1")+":7000")
				var err error
				sc, err = e.stack.Dial("tcp", strings.ReplaceAll(host, "%s", "1")+":7000")
				if err != nil {
					t.Fatal(err)
				}
				if kc, err = ln.Accept(); err != nil {
					t.Fatal(err)
				}
			} else {
				ln, err := e.stack.Listen("tcp", ":7000")
				if err != nil {
					t.Fatal(err)
				}
				kc = e.kernelDial(t, strings.ReplaceAll(host, "%s", "2")+":7000")
				if sc, err = ln.Accept(); err != nil {
					t.Fatal(err)
				}
			}
			defer sc.Close()
			defer kc.Close()
			local := netip.MustParseAddrPort(sc.LocalAddr().String()).Port()
			remote := netip.MustParseAddrPort(sc.RemoteAddr().String()).Port()

			// Some data each way, so the close follows real traffic.
			echo(t, sc, kc)
			echo(t, kc, sc)
			e.waitSeqackState(t, local, remote, "ESTABLISHED")
			e.waitKernelState(t, kc, "ESTAB")

			if c.seqackCloses1 {
				if err := sc.Close(); err != nil {
					t.Fatal(err)
				}
				// seqack's FIN is ACKed: FIN_WAIT_2 here, CLOSE_WAIT there.
				e.waitSeqackState(t, local, remote, "FIN_WAIT_2")
				e.waitKernelState(t, kc, "CLOSE-WAIT")
				mustEOF(t, kc)
				kc.Close()
				// The kernel's FIN: seqack holds TIME_WAIT; the kernel's
				// LAST_ACK ends with seqack's ACK.
				e.waitSeqackState(t, local, remote, "TIME_WAIT")
				e.waitKernelState(t, kc, "")
			} else {
				kc.Close()
				e.waitSeqackState(t, local, remote, "CLOSE_WAIT")
				e.waitKernelState(t, kc, "FIN-WAIT-2")
				mustEOF(t, sc)
				if s := sc.(*stack.Conn).State(); s != tcp.CloseWait {
					t.Errorf("seqack after reading EOF: %v, want CLOSE_WAIT", s)
				}
				if err := sc.Close(); err != nil {
					t.Fatal(err)
				}
				e.waitSeqackState(t, local, remote, "")
				e.waitKernelState(t, kc, "TIME-WAIT")
				if n := e.stack.NumConns(); n != 0 {
					t.Errorf("seqack still holds %d connections", n)
				}
			}
			if s := e.stack.Stats(); s.TCP.ResetsSent.Load() != 0 || s.ResetsSent.Load() != 0 {
				t.Errorf("seqack sent resets: %d by connections, %d for no connection", s.TCP.ResetsSent.Load(), s.ResetsSent.Load())
			}
		})
	}
}

// echo writes a message on from and reads it on to.
func echo(t *testing.T, from, to net.Conn) {
	t.Helper()
	msg := []byte("hello from " + from.LocalAddr().String())
	if _, err := from.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	to.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(to, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read %q, %v; want %q", got, err, msg)
	}
	to.SetReadDeadline(time.Time{})
}

// mustEOF reads c and wants io.EOF at once.
func mustEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("read %d bytes, %v; want EOF", n, err)
	}
}

// A SYN to a closed port is answered by RST (RFC 9293 §3.10.7.1), both
// ways: curl reports "connection refused" (exit 7), and seqack's Dial
// fails with ECONNREFUSED.
func TestRefused(t *testing.T) {
	e := newEnv(t, options{}, "curl")
	for _, url := range []string{"http://192.0.2.2:81/", "http://[2001:db8::2]:81/"} {
		_, err := e.ns.Output("curl", "--silent", "--globoff", "--max-time", "10", url)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 7 {
			t.Errorf("curl %s: %v; want exit status 7 (connection refused)", url, err)
		}
	}
	for _, addr := range []string{"192.0.2.1:81", "[2001:db8::1]:81"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := e.stack.DialContext(ctx, "tcp", addr)
		cancel()
		if err == nil {
			c.Close()
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial %s: %v; want ECONNREFUSED", addr, err)
		}
	}
}

// The kernel pings seqack, which answers ICMP and ICMPv6 echo requests.
func TestPing(t *testing.T) {
	e := newEnv(t, options{}, "ping")
	for _, args := range [][]string{{"-4", "192.0.2.2"}, {"-6", "2001:db8::2"}} {
		out := e.ns.Run(t, "ping", append([]string{"-c", "3", "-i", "0.2", "-W", "2", "-n"}, args...)...)
		if !strings.Contains(out, "3 packets transmitted, 3 received") {
			t.Errorf("ping %s:\n%s", args[1], out)
		}
	}
	if n := e.stack.Stats().EchoRequests.Load(); n != 6 {
		t.Errorf("seqack counted %d echo requests, want 6", n)
	}
}

// A download recorded by link/pcap on seqack's side is a capture tshark
// reads without finding malformed packets, bad checksums or errors.
func TestCapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "download.pcap")
	e := newEnv(t, options{pcap: path}, "curl", "tshark")
	dir := t.TempDir()
	_, want := randomFile(t, dir, 1<<20)
	e.serveFiles(t, dir)
	out := filepath.Join(t.TempDir(), "got.bin")
	e.ns.Run(t, "curl", "--silent", "--show-error", "--fail", "--max-time", "30", "--output", out, "http://192.0.2.2/data.bin")
	if got := fileHash(t, out); got != want {
		t.Fatalf("SHA-256 of the download %x, want %x", got, want)
	}
	// Let curl's connection finish closing, then close the stack, which
	// flushes the capture.
	if !eventually(func() bool { return e.stack.NumConns() == 0 }) {
		t.Errorf("seqack still holds %d connections", e.stack.NumConns())
	}
	e.stack.Close()

	summary := netns.CheckCapture(t, path)
	t.Logf("tshark -z expert:\n%s", summary)
	if codes := netns.Fields(t, path, "http.response", "http.response.code"); len(codes) != 1 || codes[0] != "200" {
		t.Errorf("HTTP responses in the capture: %q, want one 200", codes)
	}
	// Retransmissions or lost segments are not errors here: the link
	// loses nothing, but a loaded machine can delay an ACK past a
	// retransmission timeout, and the kernel drops what overflows the
	// device's transmit queue before seqack sees it. They are shown.
	if seen := netns.Fields(t, path, "tcp.analysis.retransmission || tcp.analysis.lost_segment || tcp.analysis.out_of_order",
		"frame.number", "ip.src", "_ws.col.Info"); len(seen) > 0 {
		t.Logf("tshark sees retransmissions or lost segments:\n%s", strings.Join(seen, "\n"))
	}
}

// Transfers across an impaired path still arrive whole: every packet
// either way is delayed 20 ms, 2% are reordered and 1% lost, so data and
// ACKs are lost both ways and loss recovery runs on both stacks. The
// impairment is netem's, done in the link (impairedEndpoint): the
// kernels this runs on are built without sch_netem.
func TestTransfersOverImpairedPath(t *testing.T) {
	t.Run("kernel curl downloads from seqack", func(t *testing.T) {
		e := newEnv(t, options{impaired: true}, "curl")
		dir := t.TempDir()
		_, want := randomFile(t, dir, 4<<20)
		e.serveFiles(t, dir)
		out := filepath.Join(t.TempDir(), "got.bin")
		start := time.Now()
		e.ns.Run(t, "curl", "--silent", "--show-error", "--fail", "--max-time", "120", "--output", out, "http://192.0.2.2/data.bin")
		if got := fileHash(t, out); got != want {
			t.Fatalf("SHA-256 of the download %x, want %x", got, want)
		}
		t.Logf("4 MiB in %v; seqack: %s", time.Since(start).Round(time.Millisecond), retransmissions(e.stack))
	})
	t.Run("seqack sends to the kernel's socat", func(t *testing.T) {
		e := newEnv(t, options{impaired: true}, "socat", "ss")
		src, want := randomFile(t, t.TempDir(), 4<<20)
		out := filepath.Join(t.TempDir(), "got.bin")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		socat := e.ns.Command(ctx, "socat", "-u", "TCP4-LISTEN:9000,reuseaddr", "CREATE:"+out)
		if err := socat.Start(); err != nil {
			t.Fatal(err)
		}
		defer socat.Process.Kill()
		e.waitKernelListening(t, "9000")
		conn, err := e.stack.Dial("tcp", "192.0.2.1:9000")
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(2 * time.Minute))
		start := time.Now()
		if err := copyFile(conn, src); err != nil {
			t.Fatal(err)
		}
		conn.(*stack.Conn).CloseWrite()
		io.Copy(io.Discard, conn)
		conn.Close()
		if err := socat.Wait(); err != nil {
			t.Fatalf("socat: %v", err)
		}
		if got := fileHash(t, out); got != want {
			t.Fatalf("SHA-256 of what socat received %x, want %x", got, want)
		}
		t.Logf("4 MiB in %v; seqack: %s", time.Since(start).Round(time.Millisecond), retransmissions(e.stack))
	})
}

// retransmissions summarizes a stack's loss recovery for the log.
func retransmissions(s *stack.Stack) string {
	st := &s.Stats().TCP
	return fmt.Sprintf("%d segments sent, %d resent, %d timeouts", st.SegmentsSent.Load(), st.Retransmissions.Load(), st.TimeOuts.Load())
}
