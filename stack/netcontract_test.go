package stack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pipe"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
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

// Dial's errors are the ones package net's users test for: ENETUNREACH
// with no route, and an "i/o timeout" that is a net.Error with Timeout
// when the context's deadline passes, as net.Dialer says.
func TestDialErrorsAsPackageNet(t *testing.T) {
	client, _ := twoStacks(t, 1500)
	a, _ := pipe.New(1500)
	lonely := stack.New(stack.Options{})
	lonely.AddInterface(a, netip.MustParsePrefix("203.0.113.1/24"))
	t.Cleanup(func() { lonely.Close() })
	expired, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(30 * time.Millisecond); cancel2() }()
	for _, c := range []struct {
		name     string
		s        *stack.Stack
		ctx      context.Context
		address  string
		is       []error
		text     string // the error's text ends so
		timeout  bool   // net.Error's Timeout
		opErrDst string
	}{
		{"no route v4", client, context.Background(), "198.51.100.1:80", []error{syscall.ENETUNREACH, stack.ErrNoRoute}, "network is unreachable", false, "198.51.100.1:80"},
		{"no route v6", client, context.Background(), "[2001:db9::1]:80", []error{syscall.ENETUNREACH}, "network is unreachable", false, "[2001:db9::1]:80"},
		{"deadline", lonely, expired, "203.0.113.2:80", []error{context.DeadlineExceeded, os.ErrDeadlineExceeded}, "i/o timeout", true, "203.0.113.2:80"},
		{"canceled", lonely, canceled, "203.0.113.2:81", []error{context.Canceled}, "operation was canceled", false, "203.0.113.2:81"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.s.DialContext(c.ctx, "tcp", c.address)
			for _, want := range c.is {
				if !errors.Is(err, want) {
					t.Errorf("%v is not %v", err, want)
				}
			}
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "dial" || op.Addr.String() != c.opErrDst {
				t.Errorf("%#v is not a *net.OpError for dialing %s", err, c.opErrDst)
			}
			if err != nil && !strings.HasSuffix(err.Error(), c.text) {
				t.Errorf("%q does not end %q", err, c.text)
			}
			var ne net.Error
			if !errors.As(err, &ne) || ne.Timeout() != c.timeout {
				t.Errorf("%v: Timeout() is not %v", err, c.timeout)
			}
		})
	}
}

// Over a link with a small MTU, segments carry at most MTU less the IP
// and TCP headers, options included, and data goes through.
func TestSmallMTU(t *testing.T) {
	for _, c := range []struct {
		mtu          int
		server, addr string
	}{
		{68, "192.0.2.2/24", "192.0.2.2:80"}, // IPv4's minimum (RFC 791)
		{100, "192.0.2.2/24", "192.0.2.2:80"},
		{128, "192.0.2.2/24", "192.0.2.2:80"},
		{160, "192.0.2.2/24", "192.0.2.2:80"},
		{576, "192.0.2.2/24", "192.0.2.2:80"},
		{1280, "2001:db8::2/64", "[2001:db8::2]:80"}, // IPv6's minimum (RFC 8200 §5)
	} {
		t.Run(fmt.Sprint(c.mtu, " ", c.addr), func(t *testing.T) {
			a, b := pipe.New(c.mtu)
			client, server := stack.New(stack.Options{}), stack.New(stack.Options{})
			clientAddr := "192.0.2.1/24"
			if strings.Contains(c.server, ":") {
				clientAddr = "2001:db8::1/64"
			}
			if _, err := client.AddInterface(a, netip.MustParsePrefix(clientAddr)); err != nil {
				t.Fatal(err)
			}
			if _, err := server.AddInterface(b, netip.MustParsePrefix(c.server)); err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			defer server.Close()
			ln, err := server.Listen("tcp", ":80")
			if err != nil {
				t.Fatal(err)
			}
			echoServer(t, ln)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, err := client.DialContext(ctx, "tcp", c.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			hdr := 40
			if strings.Contains(c.server, ":") {
				hdr = 60
			}
			if mss := conn.(*stack.Conn).Info().MSS; mss > c.mtu-hdr || mss <= 0 {
				t.Errorf("MSS %d over an MTU of %d", mss, c.mtu)
			}
			data := bytes.Repeat([]byte("0123456789abcdef"), 1024)
			go conn.Write(data)
			got := make([]byte, len(data))
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("echo of %d bytes: %v", len(data), err)
			}
		})
	}
}

// AddInterface refuses what cannot work, with an error rather than a
// panic or a silent stall.
func TestAddInterfaceRefuses(t *testing.T) {
	small4, _ := pipe.New(68)
	v6, _ := pipe.New(1280)
	small6, _ := pipe.New(1279)
	for _, c := range []struct {
		name  string
		ep    link.Endpoint
		addrs []netip.Prefix
		ok    bool
	}{
		{"nil endpoint", nil, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, false},
		{"zero prefix", v6, []netip.Prefix{{}}, false},
		{"IPv6 under 1280", small6, []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")}, false},
		{"IPv6 beside IPv4 under 1280", small6, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")}, false},
		{"IPv4 under 68", mtuLink{67}, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, false},
		{"IPv4 at 68", small4, []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}, true},
		{"IPv6 at 1280", v6, []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := stack.New(stack.Options{})
			defer s.Close()
			_, err := s.AddInterface(c.ep, c.addrs...)
			if (err == nil) != c.ok {
				t.Fatalf("AddInterface: %v, want ok %v", err, c.ok)
			}
			if !c.ok && len(s.Connections()) != 0 {
				t.Error("refused, yet changed the stack")
			}
		})
	}
}

// mtuLink is a link of a given MTU that carries nothing.
type mtuLink struct{ mtu int }

func (l mtuLink) MTU() int                            { return l.mtu }
func (mtuLink) WritePacket([]byte) error              { return nil }
func (mtuLink) WritePackets(ps [][]byte) (int, error) { return len(ps), nil }
func (mtuLink) Attach(func([]byte))                   {}
func (mtuLink) Close() error                          { return nil }

// Info.String prints what `ss -tni` prints: times in milliseconds to the
// microsecond with %g, no rtt before a sample, and listeners' addresses
// as ss shows them.
func TestInfoStringAsSS(t *testing.T) {
	conn := func(rto, srtt, rttvar time.Duration) stack.Info {
		i := stack.Info{State: tcp.Established, Local: netip.MustParseAddrPort("192.0.2.1:40000"), Remote: netip.MustParseAddrPort("192.0.2.2:443")}
		i.RTO, i.SRTT, i.RTTVar, i.MSS, i.SendScale, i.ReceiveScale = rto, srtt, rttvar, 1448, 7, 7
		return i
	}
	for _, c := range []struct {
		name string
		info stack.Info
		want string // a part of the line
		not  string // not a part of it
	}{
		{"rto of a second", conn(time.Second, 0, 0), " rto:1000 ", "e+"},
		{"rto of two minutes", conn(120*time.Second, 0, 0), " rto:120000 ", "e+"},
		{"rto fractional", conn(204500*time.Microsecond, 0, 0), " rto:204.5 ", ""},
		{"sub-millisecond rtt", conn(200*time.Millisecond, 23*time.Microsecond, 11*time.Microsecond), " rtt:0.023/0.011 ", ""},
		{"rtt to the microsecond", conn(200*time.Millisecond, 12345678*time.Nanosecond, 1500*time.Nanosecond), " rtt:12.345/0.001 ", ""},
		{"no rtt sample yet", conn(time.Second, 0, 0), " mss:1448", "rtt:"},
		{"congestion control", func() stack.Info { i := conn(time.Second, 0, 0); i.CongestionControl = "bbr"; return i }(), " 192.0.2.2:443 bbr wscale:7,7 rto:1000 ", ""},
		{"IPv4 listener", stack.Info{State: tcp.Listen, Local: netip.MustParseAddrPort("0.0.0.0:80")}, " 0.0.0.0:80 0.0.0.0:*", ""},
		{"IPv6 listener", stack.Info{State: tcp.Listen, Local: netip.MustParseAddrPort("[::]:80")}, " [::]:80 [::]:*", ""},
		{"dual-stack listener", stack.Info{State: tcp.Listen, Local: netip.MustParseAddrPort("[::]:443"), DualStack: true}, " *:443 *:*", ""},
		{"bound listener", stack.Info{State: tcp.Listen, Local: netip.MustParseAddrPort("192.0.2.2:80")}, " 192.0.2.2:80 0.0.0.0:*", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.info.String()
			if !strings.Contains(s, c.want) || c.not != "" && strings.Contains(s, c.not) {
				t.Errorf("%q: want %q in it and not %q", s, c.want, c.not)
			}
		})
	}
	// What a stack reports of its own listeners.
	_, server := twoStacks(t, 1500)
	for _, l := range [][2]string{{"tcp", ":443"}, {"tcp4", ":80"}, {"tcp6", ":81"}} {
		ln, err := server.Listen(l[0], l[1])
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
	}
	var lines []string
	for _, i := range server.Connections() {
		lines = append(lines, strings.Join(strings.Fields(i.String()), " "))
	}
	want := []string{"LISTEN 0 128 0.0.0.0:80 0.0.0.0:*", "LISTEN 0 128 [::]:81 [::]:*", "LISTEN 0 128 *:443 *:*"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Connections:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// A snapshot of the counters holds every one of them, as plain numbers
// that print (go vet forbids copying the live atomics).
func TestStatsSnapshot(t *testing.T) {
	client, server := twoStacks(t, 1500)
	c, s := dialPair(t, client, server, 80)
	c.Write([]byte("hello"))
	io.ReadFull(s, make([]byte, 5))
	printed := fmt.Sprint(client.Stats().Snapshot())
	for _, want := range []string{"PacketsReceived ", "PacketsSent ", "TCP.ActiveOpens 1\n", "TCP.SegmentsSent "} {
		if !strings.Contains(printed, want) {
			t.Errorf("printed snapshot lacks %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, " 0\n") {
		t.Errorf("printed snapshot shows zeros:\n%s", printed)
	}
	if got := server.Stats().Snapshot().TCP.PassiveOpens; got != 1 {
		t.Errorf("PassiveOpens %d, want 1", got)
	}
	// Every live counter is in the snapshot, under its name.
	live := reflect.ValueOf(server.Stats()).Elem()
	for i := 0; i < live.NumField(); i++ {
		if f := live.Field(i); f.Type() == reflect.TypeOf(atomic.Uint64{}) {
			f.Addr().Interface().(*atomic.Uint64).Store(uint64(1000 + i))
		}
	}
	snap := reflect.ValueOf(server.Stats().Snapshot())
	for i := 0; i < live.NumField(); i++ {
		name := live.Type().Field(i).Name
		if name == "TCP" {
			continue
		}
		if group := live.Field(i); group.Kind() == reflect.Struct && group.Type() != reflect.TypeOf(atomic.Uint64{}) {
			// A group of counters (UDP, Frag): each in the snapshot's group.
			for j := 0; j < group.NumField(); j++ {
				group.Field(j).Addr().Interface().(*atomic.Uint64).Store(uint64(2000 + j))
			}
			gsnap := reflect.ValueOf(server.Stats().Snapshot()).FieldByName(name)
			for j := 0; j < group.NumField(); j++ {
				n := group.Type().Field(j).Name
				if !gsnap.IsValid() {
					t.Errorf("StatsSnapshot has no %s", name)
					break
				}
				if f := gsnap.FieldByName(n); !f.IsValid() || f.Uint() != uint64(2000+j) {
					t.Errorf("StatsSnapshot.%s.%s does not hold Stats.%s.%s", name, n, name, n)
				}
			}
			continue
		}
		if f := snap.FieldByName(name); !f.IsValid() || f.Uint() != uint64(1000+i) {
			t.Errorf("StatsSnapshot.%s does not hold Stats.%s", name, name)
		}
	}
}

// The engine's observer methods are the stack's plumbing, not part of
// Conn's API.
func TestConnHasNoPlumbing(t *testing.T) {
	if _, ok := any(&stack.Conn{}).(tcp.Observer); ok {
		t.Error("*stack.Conn implements tcp.Observer: users can call StateChanged and TimerFired")
	}
	for _, name := range []string{"StateChanged", "TimerFired"} {
		if _, ok := reflect.TypeOf(&stack.Conn{}).MethodByName(name); ok {
			t.Errorf("*stack.Conn has method %s", name)
		}
	}
}

// The documentation speaks for itself: it names sources a reader can
// find (RFCs, textbooks, tools), not "the founding article".
func TestDocsCiteWhatReadersCanFind(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != ".." {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" || strings.HasSuffix(path, "netcontract_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(bytes.ToLower(b), []byte("founding article")) {
			t.Errorf("%s mentions the founding article", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
