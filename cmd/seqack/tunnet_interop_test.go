package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link/tun"
)

// The interop tests of the commands run seqack as its own process inside
// a network namespace: the test binary, re-executed, runs as the command
// (TestHelperProcess), so that nothing needs building.

// helperEnv marks the re-executed test binary.
const helperEnv = "SEQACK_TEST_HELPER_PROCESS"

// TestHelperProcess is not a test: in a process started by seqackCmd it
// runs the seqack command line after "--" and exits with its status.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// withKernel returns the command line of a seqack command on device sq0
// that gives the kernel's side its addresses.
func withKernel(command string, args ...string) []string {
	return append([]string{command, "--tun", "sq0", "--kernel-addr", "192.0.2.1/24", "--kernel-addr", "2001:db8::1/64"}, args...)
}

// seqackProc is a seqack command running in a namespace.
type seqackProc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string // stderr, line by line
	done   chan error
}

// startSeqack starts `seqack args...` inside ns with stdin as its
// standard input, and kills it when the test ends.
func startSeqack(t *testing.T, ns *netns.NS, stdin io.Reader, args ...string) *seqackProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := ns.Command(ctx, "env", append([]string{helperEnv + "=1", exe, "-test.run=^TestHelperProcess$", "--"}, args...)...)
	return runSeqack(t, cmd, stdin, cmd.Start)
}

// startSeqackAsNobody starts `seqack args...` inside ns as user nobody,
// from exe, a copy of the test binary (netns.CopyExecutable), with
// stdin as its standard input, and kills it when the test ends.
func startSeqackAsNobody(t *testing.T, ns *netns.NS, exe string, stdin io.Reader, args ...string) *seqackProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, exe, append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Dir = filepath.Dir(exe)
	cmd.SysProcAttr = netns.AsNobody()
	// Started from a thread inside ns, the process is inside it too.
	return runSeqack(t, cmd, stdin, func() error { return ns.Do(cmd.Start) })
}

// runSeqack starts cmd, a seqack command, with start, collecting its
// output, and kills it when the test ends.
func runSeqack(t *testing.T, cmd *exec.Cmd, stdin io.Reader, start func() error) *seqackProc {
	t.Helper()
	p := &seqackProc{cmd: cmd, lines: make(chan string, 100), done: make(chan error, 1)}
	p.cmd.Stdin = stdin
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// waitFor waits for a line of stderr containing s.
func (p *seqackProc) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("seqack exited before saying %q:\n%s", s, p.errText())
			}
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("seqack did not say %q:\n%s", s, p.errText())
		}
	}
}

// wait waits for the process to exit and returns its status.
func (p *seqackProc) wait(t *testing.T) int {
	t.Helper()
	go func() {
		for range p.lines { // keep draining
		}
	}()
	select {
	case err := <-p.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("seqack did not exit:\n%s", p.errText())
		return -1
	}
}

func (p *seqackProc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// kernelDo runs f, which dials or listens with the kernel's TCP, inside
// ns.
func kernelDo(t *testing.T, ns *netns.NS, f func() error) {
	t.Helper()
	if err := ns.Do(f); err != nil {
		t.Fatal(err)
	}
}

// seqack listen: the kernel connects, both sides send, both half-close,
// and seqack exits 0 with what the kernel sent on its stdout and the
// connection drawn on its stderr.
func TestListenCommand(t *testing.T) {
	netns.Require(t)
	netns.Exclusive(t)
	ns := netns.New(t)
	p := startSeqack(t, ns, strings.NewReader("from seqack\n"), withKernel("listen", "--trace", "9000")...)
	p.waitFor(t, "listening on port 9000")

	var c net.Conn
	kernelDo(t, ns, func() (err error) { c, err = net.DialTimeout("tcp", "[2001:db8::2]:9000", 5*time.Second); return err })
	defer c.Close()
	c.Write([]byte("from the kernel\n"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "from seqack\n" {
		t.Errorf("kernel received %q, %v", got, err)
	}
	if status := p.wait(t); status != 0 {
		t.Fatalf("status %d\n%s", status, p.errText())
	}
	if p.stdout.String() != "from the kernel\n" {
		t.Errorf("seqack's stdout %q", p.stdout.String())
	}
	// Which FIN goes first is a race (seqack's stdin ends at once), so
	// the states of the close are not checked.
	for _, want := range []string{"connection from [2001:db8::1]:", "SYN_RCVD", "ESTABLISHED", "P. 1:17(16)"} {
		if !strings.Contains(p.errText(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.errText())
		}
	}
}

// seqack dial: seqack connects to the kernel's listener, sends its stdin,
// half-closes and prints the reply; and a closed port is refused.
func TestDialCommand(t *testing.T) {
	netns.Require(t)
	netns.Exclusive(t)
	ns := netns.New(t)
	var ln net.Listener
	kernelDo(t, ns, func() (err error) { ln, err = net.Listen("tcp", ":9000"); return err })
	defer ln.Close()
	served := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err.Error()
			return
		}
		defer c.Close()
		got, _ := io.ReadAll(c)
		c.Write([]byte("reply\n"))
		served <- string(got)
	}()
	pcapFile := filepath.Join(t.TempDir(), "dial.pcap")
	p := startSeqack(t, ns, strings.NewReader("request\n"), withKernel("dial", "--pcap", pcapFile, "192.0.2.1:9000")...)
	if status := p.wait(t); status != 0 {
		t.Fatalf("status %d\n%s", status, p.errText())
	}
	if got := <-served; got != "request\n" {
		t.Errorf("kernel received %q", got)
	}
	if p.stdout.String() != "reply\n" {
		t.Errorf("seqack's stdout %q", p.stdout.String())
	}
	if _, err := exec.LookPath("tshark"); err == nil || netns.Required() {
		if lines := netns.Fields(t, pcapFile, "tcp", "tcp.flags.str"); len(lines) < 6 {
			t.Errorf("capture holds %d TCP segments, want a handshake, data and a close:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		netns.CheckCapture(t, pcapFile)
	}

	// Nothing listens on port 9 (the device is gone with the last
	// process; this one makes it anew, without offloads).
	p = startSeqack(t, ns, strings.NewReader(""), withKernel("dial", "--no-offload", "192.0.2.1:9")...)
	if status := p.wait(t); status != exitError || !strings.Contains(p.errText(), "connection refused") {
		t.Errorf("dial to a closed port: status %d\n%s", status, p.errText())
	}
}

// seqack http serves a directory to curl over IPv4 and IPv6 until it is
// told to stop, and then exits 0.
func TestHTTPCommand(t *testing.T) {
	netns.Require(t, "curl")
	netns.Exclusive(t)
	ns := netns.New(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello over seqack\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSeqack(t, ns, nil, withKernel("http", "--dir", dir, ":8080")...)
	p.waitFor(t, "serving "+dir)
	for _, url := range []string{"http://192.0.2.2:8080/hello.txt", "http://[2001:db8::2]:8080/hello.txt"} {
		out := ns.Run(t, "curl", "--silent", "--show-error", "--fail", "--globoff", "--max-time", "10", url)
		if out != "hello over seqack\n" {
			t.Errorf("curl %s: %q", url, out)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if status := p.wait(t); status != 0 {
		t.Fatalf("status %d after SIGTERM\n%s", status, p.errText())
	}
	if !strings.Contains(p.errText(), "GET /hello.txt from [2001:db8::1]:") {
		t.Errorf("no request logged:\n%s", p.errText())
	}
}

// The errors of a device that cannot be had say what to do.
func TestCommandTUNErrors(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)

	// The name is held by another process (here, this one).
	var held *tun.Endpoint
	kernelDo(t, ns, func() (err error) { held, err = tun.Open("sq0", 0); return err })
	defer held.Close()
	p := startSeqack(t, ns, nil, "listen", "--tun", "sq0", "9000")
	if status := p.wait(t); status != exitError || !strings.Contains(p.errText(), `device "sq0" is in use by another process`) {
		t.Errorf("busy device: status %d\n%s", status, p.errText())
	}

	// Not root: the binary, copied where another user can run it, runs
	// as nobody (outside the namespace: entering one needs root too).
	// It fails before creating anything.
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	exe, _ := os.Executable()
	copyExe := filepath.Join(dir, "seqack.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyExe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^TestHelperProcess$", "--", "listen", "--tun", "sq1", "9000")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError ||
		!strings.Contains(string(out), "opening /dev/net/tun needs root or CAP_NET_ADMIN") || !strings.Contains(string(out), "setcap cap_net_admin") {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}

// With CAP_NET_ADMIN given by a file capability (sudo setcap
// cap_net_admin+ep seqack), a user without root runs seqack with
// --kernel-addr: the kernel's side gets its addresses and comes up, and
// the kernel reaches seqack. (CAP_DAC_OVERRIDE only opens /dev/net/tun,
// which on this machine is for root alone, where distributions make it
// 0666.)
func TestKernelAddrWithFileCapability(t *testing.T) {
	netns.Require(t)
	netns.Exclusive(t)
	ns := netns.New(t)
	exe := netns.CopyExecutable(t, unix.CAP_NET_ADMIN, unix.CAP_DAC_OVERRIDE)
	p := startSeqackAsNobody(t, ns, exe, strings.NewReader("from seqack\n"), withKernel("listen", "--mtu", "1400", "9000")...)
	p.waitFor(t, "listening on port 9000")
	if out := ns.Run(t, "ip", "addr", "show", "dev", "sq0"); !strings.Contains(out, "mtu 1400") || !strings.Contains(out, ",UP") ||
		!strings.Contains(out, "inet 192.0.2.1/24") || !strings.Contains(out, "inet6 2001:db8::1/64") {
		t.Errorf("kernel's side of sq0:\n%s", out)
	}
	var c net.Conn
	kernelDo(t, ns, func() (err error) { c, err = net.DialTimeout("tcp", "192.0.2.2:9000", 5*time.Second); return err })
	defer c.Close()
	c.Write([]byte("from the kernel\n"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "from seqack\n" {
		t.Errorf("kernel received %q, %v", got, err)
	}
	if status := p.wait(t); status != 0 || p.stdout.String() != "from the kernel\n" {
		t.Errorf("status %d, stdout %q\n%s", status, p.stdout.String(), p.errText())
	}
}

// A device made beforehand for a user (ip tuntap add ... user NAME)
// serves that user without any capability when --mtu is the device's;
// --kernel-addr then fails, saying what root should run instead.
// (CAP_DAC_OVERRIDE only opens /dev/net/tun, as in
// TestKernelAddrWithFileCapability.)
func TestPremadeDeviceAsItsUser(t *testing.T) {
	netns.Require(t)
	netns.Exclusive(t)
	ns := netns.New(t)
	ns.Run(t, "ip", "tuntap", "add", "dev", "sq0", "mode", "tun", "user", strconv.Itoa(netns.Nobody))
	ns.Run(t, "ip", "link", "set", "sq0", "mtu", "1400")
	exe := netns.CopyExecutable(t, unix.CAP_DAC_OVERRIDE)

	p := startSeqackAsNobody(t, ns, exe, nil, withKernel("listen", "--mtu", "1400", "9000")...)
	if status := p.wait(t); status != exitError || !strings.Contains(p.errText(), "operation not permitted") ||
		!strings.Contains(p.errText(), "have root run\n  ip addr add 192.0.2.1/24 dev sq0\n  ip addr add 2001:db8::1/64 dev sq0 nodad\n  ip link set sq0 up") {
		t.Errorf("--kernel-addr without CAP_NET_ADMIN: status %d\n%s", status, p.errText())
	}

	p = startSeqackAsNobody(t, ns, exe, strings.NewReader("from seqack\n"), "listen", "--tun", "sq0", "--mtu", "1400", "9000")
	p.waitFor(t, "listening on port 9000")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "sq0")
	ns.Run(t, "ip", "link", "set", "sq0", "up")
	var c net.Conn
	kernelDo(t, ns, func() (err error) { c, err = net.DialTimeout("tcp", "192.0.2.2:9000", 5*time.Second); return err })
	defer c.Close()
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "from seqack\n" {
		t.Errorf("kernel received %q, %v", got, err)
	}
	if status := p.wait(t); status != 0 {
		t.Errorf("status %d\n%s", status, p.errText())
	}
}
