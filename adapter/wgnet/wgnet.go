// Package wgnet runs wireguard-go over a seqack stack: it is
// wireguard-go's tun/netstack with seqack in place of gVisor. A program
// that builds its tunnel with netstack.CreateNetTUN switches by changing
// one import:
//
//	import "golang.zx2c4.com/wireguard/tun/netstack"
//
// becomes
//
//	import netstack "github.com/seqack/seqack/adapter/wgnet"
//
// CreateNetTUN returns the same pair: a tun.Device for
// device.NewDevice, whose Read gives wireguard-go the packets the stack
// sends and whose Write hands the stack the packets that arrive through
// the tunnel, and a *Net with netstack's methods to dial, listen, look up
// names and ping inside the tunnel. Its connections are seqack's
// (*stack.Conn, *stack.Listener, *stack.UDPConn, *stack.PingConn) where
// netstack's are gVisor's gonet types; both are net.Conn, net.Listener
// and net.PacketConn.
//
// Where it differs from netstack: names are looked up by Go's own
// resolver over the stack (stack.Stack.Resolver), which, as for every Go
// program, also reads the host's /etc/hosts and the options and search
// domains of /etc/resolv.conf (not its servers); a lookup with no DNS
// servers fails with stack.ErrNoDNSServers where netstack returns no
// addresses; ListenPing(nil) fails as netstack's does, ListenPingAddr
// takes an unspecified address for any.
//
// The stack hands the device TCP segments of up to 64 KiB, which Read
// cuts into packets of the MTU (link.SegmentOffloader), as a network
// card's segmentation offload: one trip down the stack for many packets.
//
// This package is an adapter (see ARCHITECTURE.md): it alone imports
// wireguard-go, so that a program using package stack compiles no
// wireguard-go or gVisor.
package wgnet

import (
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/seqack/seqack/stack"
	"golang.zx2c4.com/wireguard/tun"
)

// Device is the tun.Device CreateNetTUN returns: the TUN side of a
// seqack stack, for wireguard-go's device.NewDevice.
type Device struct {
	ep     *endpoint
	s      *stack.Stack
	events chan tun.Event
	once   sync.Once
}

// CreateNetTUN makes a seqack stack with localAddresses on one interface
// of the given MTU, default routes of each family it has an address of
// into the tunnel, and dnsServers for its resolver, as wireguard-go's
// netstack.CreateNetTUN does. The device reports tun.EventUp once.
func CreateNetTUN(localAddresses, dnsServers []netip.Addr, mtu int) (tun.Device, *Net, error) {
	return CreateNetTUNOptions(localAddresses, dnsServers, mtu, stack.Options{})
}

// CreateNetTUNOptions is CreateNetTUN with the stack's options (TCP
// settings, limits, logging, tracing); opts.DNSServers is set from
// dnsServers.
func CreateNetTUNOptions(localAddresses, dnsServers []netip.Addr, mtu int, opts stack.Options) (*Device, *Net, error) {
	opts.DNSServers = nil
	for _, a := range dnsServers {
		opts.DNSServers = append(opts.DNSServers, netip.AddrPortFrom(a, 53))
	}
	s := stack.New(opts)
	ep := newEndpoint(mtu)
	n := &Net{s: s, hasDNS: len(dnsServers) > 0}
	var prefixes []netip.Prefix
	for _, a := range localAddresses {
		a = a.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		n.hasV4 = n.hasV4 || a.Is4()
		n.hasV6 = n.hasV6 || a.Is6()
	}
	nic, err := s.AddInterface(ep, prefixes...)
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("wgnet: %w", err)
	}
	for _, r := range []struct {
		has bool
		dst netip.Prefix
	}{{n.hasV4, netip.MustParsePrefix("0.0.0.0/0")}, {n.hasV6, netip.MustParsePrefix("::/0")}} {
		if !r.has {
			continue
		}
		if err := s.AddRoute(stack.Route{Dst: r.dst, NIC: nic}); err != nil {
			s.Close()
			return nil, nil, fmt.Errorf("wgnet: %w", err)
		}
	}
	d := &Device{ep: ep, s: s, events: make(chan tun.Event, 1)}
	d.events <- tun.EventUp
	return d, n, nil
}

// Stack returns the seqack stack behind the device, for what Net does
// not offer (Stats, Shutdown, ...).
func (d *Device) Stack() *stack.Stack { return d.s }

// Counters returns the device's drop counters.
func (d *Device) Counters() *Counters { return &d.ep.counters }

// File implements tun.Device: there is no file.
func (d *Device) File() *os.File { return nil }

// Read implements tun.Device: it waits for the packets the stack sends,
// and gives up to len(bufs) of them, each copied into bufs[i] at offset
// (the room wireguard-go keeps for its header), its length in sizes[i].
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	return d.ep.read(bufs, sizes, offset)
}

// Write implements tun.Device: the packets, each bufs[i] from offset,
// are copied and handed to the stack in one batch. Empty or oversized
// ones are dropped and counted (Counters().Malformed).
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	return d.ep.write(bufs, offset)
}

// MTU implements tun.Device.
func (d *Device) MTU() (int, error) { return d.ep.mtu, nil }

// Name implements tun.Device: "go", as netstack's.
func (d *Device) Name() (string, error) { return "go", nil }

// Events implements tun.Device: tun.EventUp once, and the channel closes
// with the device.
func (d *Device) Events() <-chan tun.Event { return d.events }

// BatchSize implements tun.Device.
func (d *Device) BatchSize() int { return BatchSize }

// Close implements tun.Device: the stack closes (its connections are
// aborted, its sockets closed), a blocked Read returns os.ErrClosed, and
// Close returns once no Write is handing packets to the stack. No
// goroutine of the device or the stack is left.
func (d *Device) Close() error {
	var err error
	d.once.Do(func() {
		err = d.s.Close() // closes the endpoint too
		d.ep.Close()
		d.ep.delivering.Wait()
		close(d.events)
	})
	return err
}
