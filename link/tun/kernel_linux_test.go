package tun

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/seqack/seqack/internal/netns"
)

// fakeMTU is a device whose MTU is held in memory; setMTU fails if
// refuse is set, as SIOCSIFMTU does for a user without CAP_NET_ADMIN.
type fakeMTU struct {
	cur    int
	getErr error
	refuse bool
	sets   []int
}

func (f *fakeMTU) mtu(string) (int, error) { return f.cur, f.getErr }

func (f *fakeMTU) setMTU(name string, mtu int) error {
	f.sets = append(f.sets, mtu)
	if f.refuse {
		return fmt.Errorf("tun: set MTU of %s to %d: %w", name, mtu, unix.EPERM)
	}
	f.cur = mtu
	return nil
}

// The MTU is set only when it differs from the device's: a device made
// beforehand for its user cannot be changed by that user.
func TestEnsureMTU(t *testing.T) {
	for _, c := range []struct {
		name string
		dev  fakeMTU
		mtu  int
		sets []int
		err  string
	}{
		{"equal, not set", fakeMTU{cur: 1400, refuse: true}, 1400, nil, ""},
		{"different, set", fakeMTU{cur: 1500}, 1400, []int{1400}, ""},
		{"unreadable, set", fakeMTU{getErr: unix.ENODEV}, 1400, []int{1400}, ""},
		{"different, refused", fakeMTU{cur: 1500, refuse: true}, 1400, []int{1400}, "sq0 has MTU 1500: ask for that one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ensureMTU(&c.dev, "sq0", c.mtu)
			if !slices.Equal(c.dev.sets, c.sets) {
				t.Errorf("MTUs set %v, want %v", c.dev.sets, c.sets)
			}
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, unix.EPERM)) {
				t.Errorf("ensureMTU = %v, want %q", err, c.err)
			}
		})
	}
}

// refusingMTU reads a device's MTU with the ioctls and fails the test if
// asked to set it.
type refusingMTU struct {
	ioctlSocket
	t *testing.T
}

func (r refusingMTU) setMTU(name string, mtu int) error {
	r.t.Errorf("SIOCSIFMTU %s to %d issued, want none", name, mtu)
	return unix.EPERM
}

// premade makes a persistent TUN device in ns for user Nobody, with MTU
// 1400, as a system administrator would for that user.
func premade(t *testing.T, ns *netns.NS, name string) {
	t.Helper()
	ns.Run(t, "ip", "tuntap", "add", "dev", name, "mode", "tun", "user", strconv.Itoa(netns.Nobody))
	ns.Run(t, "ip", "link", "set", name, "mtu", "1400")
}

// A device made beforehand with the MTU asked for is opened without an
// attempt to set its MTU; one with another MTU gets the MTU asked for.
func TestOpenPremadeDevice(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	premade(t, ns, "sqpre0")
	var ep *Endpoint
	err := ns.Do(func() error {
		s, err := newIoctlSocket()
		if err != nil {
			return err
		}
		defer s.close()
		ep, err = openConfig("sqpre0", Config{MTU: 1400}, refusingMTU{s, t})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ep.MTU() != 1400 {
		t.Errorf("MTU %d, want 1400", ep.MTU())
	}
	ep.Close()
	if err := ns.Do(func() (err error) { ep, err = Open("sqpre0", 1500); return err }); err != nil {
		t.Fatal(err)
	}
	ep.Close()
	if out := ns.Run(t, "ip", "link", "show", "sqpre0"); !strings.Contains(out, "mtu 1500") {
		t.Errorf("after Open with MTU 1500:\n%s", out)
	}
}

// helperEnv marks the re-executed test binary, and says what it does
// (see TestHelperProcess).
const helperEnv = "SEQACK_TUN_HELPER"

// TestHelperProcess is not a test: in a process started by runHelper it
// opens the TUN device named in its arguments with the MTU given, gives
// the kernel's side the addresses that follow (if any) with
// ConfigureKernel, says "ready" and holds the device until its standard
// input ends.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	args := os.Args[slices.Index(os.Args, "--")+1:]
	mtu, _ := strconv.Atoi(args[1])
	ep, err := Open(args[0], mtu)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var addrs []netip.Prefix
	for _, a := range args[2:] {
		addrs = append(addrs, netip.MustParsePrefix(a))
	}
	if len(addrs) > 0 {
		if err := ConfigureKernel(ep.Name(), addrs); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	ep.Close()
	os.Exit(0)
}

// runHelper runs exe (a copy of the test binary) as user Nobody inside
// ns with an empty PATH, so that no ip(8) can be run, and returns what
// it says first. The process holds the device until the test ends.
func runHelper(t *testing.T, ns *netns.NS, exe string, args ...string) string {
	t.Helper()
	cmd := exec.Command(exe, append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = []string{helperEnv + "=1", "PATH="}
	cmd.SysProcAttr = netns.AsNobody()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Started from a thread inside ns, the process is inside it too.
	if err := ns.Do(cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	return strings.TrimSpace(line)
}

// The user a device was made for opens it without CAP_NET_ADMIN when it
// asks for the MTU the device has, and is told the MTU when it asks for
// another. (The copy of the test binary has CAP_DAC_OVERRIDE only to
// open /dev/net/tun, which on this machine is for root alone, where
// distributions make it 0666.)
func TestOpenPremadeDeviceAsItsUser(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	premade(t, ns, "sqpre0")
	premade(t, ns, "sqpre1")
	exe := netns.CopyExecutable(t, unix.CAP_DAC_OVERRIDE)
	if got := runHelper(t, ns, exe, "sqpre0", "1400"); got != "ready" {
		t.Errorf("opening sqpre0 with its own MTU: %s", got)
	}
	if got := runHelper(t, ns, exe, "sqpre1", "1500"); !strings.Contains(got, "operation not permitted (sqpre1 has MTU 1400: ask for that one") {
		t.Errorf("opening sqpre1 with another MTU: %s", got)
	}
}

// ipAddr is what `ip -j addr show` says of an interface.
type ipAddr struct {
	Flags    []string `json:"flags"`
	MTU      int      `json:"mtu"`
	AddrInfo []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// kernelSide reads the kernel's view of the device name in ns: its
// flags, MTU and addresses ("192.0.2.1/24", ...).
func kernelSide(t *testing.T, ns *netns.NS, name string) (flags []string, mtu int, addrs []string) {
	t.Helper()
	var got []ipAddr
	if err := json.Unmarshal([]byte(ns.Run(t, "ip", "-j", "addr", "show", "dev", name)), &got); err != nil || len(got) != 1 {
		t.Fatalf("ip -j addr show dev %s: %v %v", name, got, err)
	}
	for _, a := range got[0].AddrInfo {
		if !strings.HasPrefix(a.Local, "fe80:") {
			addrs = append(addrs, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
		}
	}
	return got[0].Flags, got[0].MTU, addrs
}

// ConfigureKernel gives the kernel's side its addresses and brings it
// up, through rtnetlink; again on a configured device, it changes
// nothing and does not fail.
func TestConfigureKernel(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	var ep *Endpoint
	if err := ns.Do(func() (err error) { ep, err = Open("sqcfg0", 1400); return err }); err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	addrs := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")}
	for range 2 {
		if err := ns.Do(func() error { return ConfigureKernel("sqcfg0", addrs) }); err != nil {
			t.Fatal(err)
		}
		flags, mtu, got := kernelSide(t, ns, "sqcfg0")
		if !slices.Contains(flags, "UP") || mtu != 1400 || !slices.Equal(got, []string{"192.0.2.1/24", "2001:db8::1/64"}) {
			t.Errorf("kernel's side: flags %v, MTU %d, addresses %v", flags, mtu, got)
		}
	}
	err := ns.Do(func() error { return ConfigureKernel("sqnone0", addrs) })
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("ConfigureKernel of no device: %v", err)
	}
}

// A program with CAP_NET_ADMIN as a file capability, run by a user
// without root, opens a device and configures the kernel's side of it
// with no child process (its PATH is empty, so ip(8) could not be run).
func TestConfigureKernelWithFileCapability(t *testing.T) {
	netns.Require(t)
	ns := netns.New(t)
	exe := netns.CopyExecutable(t, unix.CAP_NET_ADMIN, unix.CAP_DAC_OVERRIDE)
	if got := runHelper(t, ns, exe, "sqcap0", "1400", "192.0.2.1/24", "2001:db8::1/64"); got != "ready" {
		t.Fatalf("as nobody with CAP_NET_ADMIN: %s", got)
	}
	flags, mtu, got := kernelSide(t, ns, "sqcap0")
	if !slices.Contains(flags, "UP") || mtu != 1400 || !slices.Equal(got, []string{"192.0.2.1/24", "2001:db8::1/64"}) {
		t.Errorf("kernel's side: flags %v, MTU %d, addresses %v", flags, mtu, got)
	}
}
