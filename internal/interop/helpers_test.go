package interop

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seqack/seqack/internal/netns"
	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/link/tun"
	"github.com/seqack/seqack/stack"
)

// The addresses of the two ends of the TUN device (documentation
// prefixes, RFC 5737 and RFC 3849).
var (
	kernel4 = netip.MustParseAddr("192.0.2.1")
	kernel6 = netip.MustParseAddr("2001:db8::1")
	seqack4 = netip.MustParseAddr("192.0.2.2")
	seqack6 = netip.MustParseAddr("2001:db8::2")
)

// device is the TUN device's name inside each test's namespace.
const device = "sq0"

// env is one test's world: a namespace whose kernel owns one side of a
// TUN device and a seqack stack the other.
type env struct {
	ns    *netns.NS
	tun   *tun.Endpoint
	stack *stack.Stack
}

// options tune newEnv.
type options struct {
	mtu   int
	pcap  string // if set, the stack's traffic is recorded there
	stack stack.Options
	// impaired puts 20 ms of delay, 2% reordering and 1% loss on the
	// link, both ways.
	impaired bool
	// plain opens the TUN device without offloads (tun.Config.Plain).
	plain bool
}

// newEnv makes a namespace with the TUN device in it, configures the
// kernel's side and starts a seqack stack on the other. Everything is
// removed when the test ends. tools are the commands the test runs.
func newEnv(t *testing.T, o options, tools ...string) *env {
	t.Helper()
	netns.Require(t, tools...)
	// One real-time test at a time on the machine: another package's
	// (or another subtest's transfer) would starve this one of CPU.
	netns.Exclusive(t)
	e := &env{ns: netns.New(t)}
	err := e.ns.Do(func() (err error) {
		// An impaired link loses and delays packets the size they
		// have on a wire, not the kernel's large segments.
		e.tun, err = tun.OpenConfig(device, tun.Config{MTU: o.mtu, Plain: o.impaired || o.plain})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var ep link.Endpoint = e.tun
	if o.pcap != "" {
		f, err := os.Create(o.pcap)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		w, err := pcap.NewWriterNano(f, pcap.LinkTypeRaw)
		if err != nil {
			t.Fatal(err)
		}
		ep = pcap.Wrap(ep, w)
	}
	if o.impaired {
		ep = &impairedEndpoint{Endpoint: ep, loss: 0.01, reorder: 0.02, delay: 20 * time.Millisecond, rng: mrand.New(mrand.NewPCG(1, 2))}
	}
	e.stack = stack.New(o.stack)
	e.stack.AddInterface(ep, netip.PrefixFrom(seqack4, 24), netip.PrefixFrom(seqack6, 64))
	t.Cleanup(func() { e.stack.Close() }) // closes the device too
	// nodad: the address is usable at once, not after a second of
	// Duplicate Address Detection (RFC 4862 §5.4) that seqack, which
	// does not answer Neighbor Solicitations, would pass anyway.
	e.ns.Run(t, "ip", "addr", "add", kernel4.String()+"/24", "dev", device)
	e.ns.Run(t, "ip", "addr", "add", kernel6.String()+"/64", "dev", device, "nodad")
	e.ns.Run(t, "ip", "link", "set", device, "up")
	return e
}

// kernelDial connects with the kernel's TCP, from inside the namespace.
func (e *env) kernelDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	err := e.ns.Do(func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// kernelListen listens with the kernel's TCP, inside the namespace.
func (e *env) kernelListen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	err := e.ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// kernelSockets returns the lines of `ss -Htan` in the namespace that
// show the connection between ports a and b (listeners excluded).
func (e *env) kernelSockets(t *testing.T, a, b string) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(e.ns.Run(t, "ss", "-Htan"), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] == "LISTEN" {
			continue
		}
		if hasPort(f[3], a) && hasPort(f[4], b) || hasPort(f[3], b) && hasPort(f[4], a) {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	return lines
}

// hasPort reports whether ss's address:port ends in port.
func hasPort(addrPort, port string) bool { return strings.HasSuffix(addrPort, ":"+port) }

// waitKernelState waits until the kernel's socket of the connection c
// (the kernel's end) is in state, as ss spells it (ESTAB, FIN-WAIT-2,
// TIME-WAIT, ...), or is gone for state "".
func (e *env) waitKernelState(t *testing.T, c net.Conn, state string) {
	t.Helper()
	a := strconv.Itoa(int(netip.MustParseAddrPort(c.LocalAddr().String()).Port()))
	b := strconv.Itoa(int(netip.MustParseAddrPort(c.RemoteAddr().String()).Port()))
	var lines []string
	ok := eventually(func() bool {
		lines = e.kernelSockets(t, a, b)
		if state == "" {
			return len(lines) == 0
		}
		return len(lines) == 1 && strings.HasPrefix(lines[0], state+" ")
	})
	if !ok {
		t.Fatalf("kernel: connection %s–%s not in state %q; ss -tan shows %q", a, b, state, lines)
	}
}

// waitKernelListening waits until the kernel listens on port (a tool
// started in the background is ready).
func (e *env) waitKernelListening(t *testing.T, port string) {
	t.Helper()
	if !eventually(func() bool {
		out, _ := e.ns.Output("ss", "-Htln", "sport = :"+port)
		return strings.TrimSpace(out) != ""
	}) {
		t.Fatalf("nothing listens on port %s in the namespace", port)
	}
}

// seqackState returns the state of the seqack socket between local and
// remote port, from stack.Connections (TIME_WAIT records included), or
// "" if there is none.
func (e *env) seqackState(localPort, remotePort uint16) string {
	for _, i := range e.stack.Connections() {
		if i.Local.Port() == localPort && i.Remote.Port() == remotePort {
			return i.State.String()
		}
	}
	return ""
}

// waitSeqackState waits until seqack's socket between the ports is in
// state ("" for gone).
func (e *env) waitSeqackState(t *testing.T, localPort, remotePort uint16, state string) {
	t.Helper()
	if !eventually(func() bool { return e.seqackState(localPort, remotePort) == state }) {
		t.Fatalf("seqack: socket %d→%d in state %q, want %q", localPort, remotePort, e.seqackState(localPort, remotePort), state)
	}
}

// eventually polls cond for up to ten seconds.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// randomFile writes size random bytes to a file in dir and returns its
// path and SHA-256.
func randomFile(t *testing.T, dir string, size int) (string, [32]byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sha256.Sum256(data)
}

// fileHash returns the SHA-256 of the file at path.
func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// serveFiles serves dir over HTTP on seqack's port 80, IPv4 and IPv6,
// until the test ends.
func (e *env) serveFiles(t *testing.T, dir string) {
	t.Helper()
	ln, err := e.stack.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// transferSize is the size of the files the transfer tests move: 64 MiB,
// or SEQACK_INTEROP_MIB MiB.
func transferSize(t *testing.T) int {
	size := 64 << 20
	if s := os.Getenv("SEQACK_INTEROP_MIB"); s != "" {
		mib, err := strconv.Atoi(s)
		if err != nil || mib <= 0 {
			t.Fatalf("SEQACK_INTEROP_MIB=%q: want a positive number", s)
		}
		size = mib << 20
	}
	return size
}

// impairedEndpoint impairs a link both ways, as netem would (this
// machine's kernel has no sch_netem): each packet, sent or received, is
// lost with probability loss, and otherwise delayed by delay, except a
// share reorder of them that go at once and so overtake the others.
type impairedEndpoint struct {
	link.Endpoint
	loss, reorder float64
	delay         time.Duration

	mu      sync.Mutex // guards rng
	rng     *mrand.Rand
	deliver sync.Mutex // serializes deliveries, as the Endpoint contract promises
}

// fate decides what happens to one packet: dropped, or sent after wait.
func (l *impairedEndpoint) fate() (drop bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rng.Float64() < l.loss {
		return true, 0
	}
	if l.rng.Float64() < l.reorder {
		return false, 0
	}
	return false, l.delay
}

// later runs f after wait, or at once.
func later(wait time.Duration, f func()) {
	if wait == 0 {
		f()
		return
	}
	time.AfterFunc(wait, f)
}

// WritePacket implements link.Endpoint.
func (l *impairedEndpoint) WritePacket(p []byte) error {
	if drop, wait := l.fate(); !drop {
		later(wait, func() { l.Endpoint.WritePacket(p) })
	}
	return nil
}

// WritePackets implements link.Endpoint.
func (l *impairedEndpoint) WritePackets(ps [][]byte) (int, error) {
	for _, p := range ps {
		l.WritePacket(p)
	}
	return len(ps), nil
}

// Attach implements link.Endpoint, impairing what arrives.
func (l *impairedEndpoint) Attach(deliver func([]byte)) {
	l.Endpoint.Attach(func(p []byte) {
		if drop, wait := l.fate(); !drop {
			later(wait, func() {
				l.deliver.Lock()
				defer l.deliver.Unlock()
				deliver(p)
			})
		}
	})
}
