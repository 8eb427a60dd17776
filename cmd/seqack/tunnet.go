package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/link/pcap"
	"github.com/seqack/seqack/link/tun"
	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/trace/render"
)

// The defaults of the commands that run seqack on a TUN device: the
// documentation prefixes (RFC 5737, RFC 3849), which no real network
// routes, with seqack as .2 / ::2 and the kernel's end as .1 / ::1.
const defaultTUN = "seqack0"

var defaultAddrs = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.2/24"),
	netip.MustParsePrefix("2001:db8::2/64"),
}

// tunFlagsUsage documents the flags netFlags registers, for the commands'
// help texts.
const tunFlagsUsage = `  --tun NAME          TUN device to create or attach to (default seqack0)
  --addr CIDR         seqack's address on it, repeatable
                      (default 192.0.2.2/24 and 2001:db8::2/64)
  --kernel-addr CIDR  give the kernel's side of the device this address and
                      bring it up (by netlink, as ip(8) would), repeatable, e.g.
                      --kernel-addr 192.0.2.1/24 --kernel-addr 2001:db8::1/64
  --mtu N             MTU of the device (default 1500)
  --no-offload        open the device without the kernel's offloads: every
                      packet the size it has on a wire, also in --pcap
                      (by default the kernel hands up TCP segments of up
                      to 64 KiB at once)
  --pcap FILE         record every packet, both ways, in FILE (pcap, for
                      tcpdump -r, wireshark or tshark); offloads stay on,
                      so the capture holds segments of up to 64 KiB too
  --trace             draw each connection as a sequence diagram on stderr
                      at exit, titled with its addresses and ports (the
                      first 100000 events, 64 MiB of payload at most)
`

// tunSetupUsage tells how to set up the kernel's side by hand.
const tunSetupUsage = `Creating a TUN device needs root (or CAP_NET_ADMIN: sudo setcap
cap_net_admin+ep PATH-TO-SEQACK). A device made beforehand for you
(sudo ip tuntap add seqack0 mode tun user $USER) needs neither, if --mtu is
the MTU it has. The device is down and has no address on the kernel's side
until you run (or pass --kernel-addr, which does it, with CAP_NET_ADMIN):

  ip addr add 192.0.2.1/24 dev seqack0
  ip addr add 2001:db8::1/64 dev seqack0 nodad
  ip link set seqack0 up
`

// prefixList is a repeatable flag of address prefixes.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var s []string
	for _, x := range *p {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(text string) error {
	x, err := netip.ParsePrefix(text)
	if err != nil {
		return fmt.Errorf("want an address with its prefix length, such as 192.0.2.2/24: %w", err)
	}
	if x.Addr().Zone() != "" {
		return fmt.Errorf("%s: zones are not supported", text)
	}
	*p = append(*p, x)
	return nil
}

// netFlags are the flags of the commands that run seqack on a TUN
// device.
type netFlags struct {
	tun         string
	addrs       prefixList
	kernelAddrs prefixList
	mtu         int
	noOffload   bool
	pcap        string
	trace       bool
}

// register adds the flags to fs.
func (f *netFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.tun, "tun", defaultTUN, "")
	fs.Var(&f.addrs, "addr", "")
	fs.Var(&f.kernelAddrs, "kernel-addr", "")
	fs.IntVar(&f.mtu, "mtu", tun.DefaultMTU, "")
	fs.BoolVar(&f.noOffload, "no-offload", false, "")
	fs.StringVar(&f.pcap, "pcap", "", "")
	fs.BoolVar(&f.trace, "trace", false, "")
}

// check validates the flags once parsed and fills in defaults.
func (f *netFlags) check() error {
	if len(f.addrs) == 0 {
		f.addrs = append(prefixList(nil), defaultAddrs...)
	}
	if f.tun == "" || len(f.tun) > 15 || strings.ContainsAny(f.tun, "/ \t\n:") {
		return fmt.Errorf("--tun %q: want an interface name of 1 to 15 characters", f.tun)
	}
	if f.mtu < 68 || f.mtu > tun.MaxMTU {
		return fmt.Errorf("--mtu %d: want 68 to %d (1280 at least for IPv6)", f.mtu, tun.MaxMTU)
	}
	for _, k := range f.kernelAddrs {
		for _, a := range f.addrs {
			if k.Addr() == a.Addr() {
				return fmt.Errorf("--kernel-addr %v is seqack's own address", k)
			}
		}
	}
	return nil
}

// tunNet is seqack on a TUN device: the stack, the device, and what
// records their traffic.
type tunNet struct {
	stack  *stack.Stack
	dev    *tun.Endpoint
	rec    *trace.Recorder
	pcapF  *os.File
	pcapW  *pcap.Writer
	stderr io.Writer
}

// openTunNet opens the device and starts a stack on it as the flags
// say, telling on stderr what it did.
func openTunNet(f *netFlags, stderr io.Writer) (*tunNet, error) {
	n := &tunNet{stderr: stderr}
	// The capture file first: a mistyped path fails before a device is
	// created.
	if f.pcap != "" {
		file, err := os.Create(f.pcap)
		if err != nil {
			return nil, fmt.Errorf("--pcap: %w", err)
		}
		w, err := pcap.NewWriterNano(file, pcap.LinkTypeRaw)
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("--pcap: %w", err)
		}
		n.pcapF, n.pcapW = file, w
	}
	dev, err := tun.OpenConfig(f.tun, tun.Config{MTU: f.mtu, Plain: f.noOffload})
	if err != nil {
		if n.pcapF != nil {
			n.pcapF.Close()
		}
		if errors.Is(err, os.ErrPermission) {
			err = fmt.Errorf("%w\n(run it as root, e.g. with sudo, or give the binary the capability: sudo setcap cap_net_admin+ep PATH-TO-SEQACK)", err)
		}
		return nil, err
	}
	n.dev = dev
	if len(f.kernelAddrs) > 0 {
		if err := configureKernelSide(dev.Name(), f.kernelAddrs); err != nil {
			dev.Close()
			if n.pcapF != nil {
				n.pcapF.Close()
			}
			return nil, err
		}
	}
	var opts stack.Options
	if f.trace {
		n.rec = trace.NewRecorderOptions(trace.RecorderOptions{MaxEvents: traceMaxEvents, MaxPayloadBytes: traceMaxPayload})
		opts.Trace = n.rec.Record
	}
	n.stack = stack.New(opts)
	var ep link.Endpoint = dev
	if n.pcapW != nil {
		ep = pcap.Wrap(dev, n.pcapW)
	}
	nic, err := n.stack.AddInterface(ep, f.addrs...)
	if err != nil {
		n.stack.Close()
		dev.Close()
		if n.pcapF != nil {
			n.pcapF.Close()
		}
		return nil, err
	}
	// Default routes, so that replies reach peers beyond the device's
	// own prefixes: the kernel forwards them if it routes.
	var has4, has6 bool
	for _, a := range f.addrs {
		has4, has6 = has4 || a.Addr().Is4(), has6 || a.Addr().Is6()
	}
	if has4 {
		n.stack.AddRoute(stack.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), NIC: nic})
	}
	if has6 {
		n.stack.AddRoute(stack.Route{Dst: netip.MustParsePrefix("::/0"), NIC: nic})
	}

	fmt.Fprintf(stderr, "seqack: on %s (MTU %d) as %s\n", dev.Name(), dev.MTU(), strings.ReplaceAll(f.addrs.String(), ",", ", "))
	if ifc, err := net.InterfaceByName(dev.Name()); err == nil && ifc.Flags&net.FlagUp == 0 {
		fmt.Fprintf(stderr, "seqack: %s is down on the kernel's side; set it up with\n%s", dev.Name(), kernelSetupHint(dev.Name(), f.addrs))
	}
	return n, nil
}

// kernelSetupHint returns the ip(8) commands that give the kernel's side
// of the device an address next to each of seqack's and bring it up.
func kernelSetupHint(dev string, addrs []netip.Prefix) string {
	var peers []netip.Prefix
	for _, a := range addrs {
		peer := a.Masked().Addr().Next()
		if peer == a.Addr() {
			peer = peer.Next()
		}
		peers = append(peers, netip.PrefixFrom(peer, a.Bits()))
	}
	return ipCommands(dev, peers)
}

// ipCommands returns the ip(8) commands that give the kernel's side of
// the device the addresses kernelAddrs and bring it up.
func ipCommands(dev string, kernelAddrs []netip.Prefix) string {
	var b strings.Builder
	for _, a := range kernelAddrs {
		nodad := ""
		if a.Addr().Is6() {
			nodad = " nodad"
		}
		fmt.Fprintf(&b, "  ip addr add %s dev %s%s\n", a, dev, nodad)
	}
	fmt.Fprintf(&b, "  ip link set %s up\n", dev)
	return b.String()
}

// configureKernelSide gives the kernel's side of the device its
// addresses and brings it up, through rtnetlink from this process
// (tun.ConfigureKernel): a binary given CAP_NET_ADMIN with setcap keeps
// it, where an ip(8) child would not inherit it.
func configureKernelSide(dev string, addrs []netip.Prefix) error {
	err := tun.ConfigureKernel(dev, addrs)
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("--kernel-addr: %w\n(giving the kernel's side addresses needs root or CAP_NET_ADMIN: sudo setcap cap_net_admin+ep PATH-TO-SEQACK; or leave out --kernel-addr and have root run\n%s)", err, ipCommands(dev, addrs))
	}
	if err != nil {
		return fmt.Errorf("--kernel-addr: %w", err)
	}
	return nil
}

// close waits up to linger for the stack's connections to finish closing
// (so that a FIN still in flight is ACKed rather than answered with a
// reset), then shuts the stack and the device, flushes the capture and
// draws the trace.
func (n *tunNet) close(linger time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), linger)
	defer cancel()
	err := n.stack.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil // the linger ran out: the rest were reset, as intended
	}
	if n.pcapF != nil {
		// Closing the stack closed the wrapping endpoint, which flushed
		// the writer; its error is the one that counts.
		err = errors.Join(err, n.pcapW.Flush(), n.pcapF.Close())
	}
	if n.rec != nil {
		err = errors.Join(err, drawTrace(n.stderr, n.rec))
	}
	return err
}

// The bounds of what --trace records: a diagram of more is unreadable,
// and a recorder without bounds grows with every segment of a transfer.
const (
	traceMaxEvents  = 100000
	traceMaxPayload = 64 << 20
)

// drawTrace draws what rec recorded, one diagram per connection titled
// with its 4-tuple (a run on the default addresses has IPv4 and IPv6
// connections, which one two-column diagram cannot hold), and says how
// much rec dropped.
func drawTrace(w io.Writer, rec *trace.Recorder) error {
	events := rec.Events()
	if len(events) == 0 {
		return nil
	}
	var errs []error
	for i, c := range trace.SplitByConn(events) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var title string
		if c.Conn.IsValid() {
			title = c.Conn.String()
		}
		if err := render.Text(w, c.Events, render.TextOptions{Title: title}); err != nil {
			errs = append(errs, fmt.Errorf("--trace: %s: %w", title, err))
		}
	}
	if d := rec.Dropped(); d > 0 {
		fmt.Fprintf(w, "seqack: --trace kept the first %d events and dropped %d more\n", len(events), d)
	}
	return errors.Join(errs...)
}

// parsePort parses a TCP port number, 1 to 65535.
func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("port %q: want a number from 1 to 65535", s)
	}
	return uint16(p), nil
}
