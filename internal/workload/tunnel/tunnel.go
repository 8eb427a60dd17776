// Package tunnel gives package workload a Net through a WireGuard
// tunnel: two wireguard-go devices in the process joined by UDP on
// 127.0.0.1, each over a netstack, seqack's (adapter/wgnet) or
// wireguard-go's gVisor one (tun/netstack), so that seqack bench quotes
// one against the other with nothing else different.
//
// It is a package of its own so that package workload, which stack's
// tests import, links no wireguard-go or gVisor.
package tunnel

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/seqack/seqack/adapter/wgnet"
	"github.com/seqack/seqack/internal/workload"
	"golang.zx2c4.com/wireguard/conn"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/tun"
	"golang.zx2c4.com/wireguard/tun/netstack"
)

// MTU is the tunnel's MTU: wireguard-go's default, a 1500-byte path
// less WireGuard's 80 bytes of IPv6, UDP and its own header.
const MTU = 1420

// The netstacks a tunnel's ends run on.
const (
	Seqack = "seqack" // seqack's, by adapter/wgnet
	GVisor = "gvisor" // wireguard-go's tun/netstack
)

// The addresses inside the tunnel: the client's end and the server's.
var (
	clientAddr = netip.MustParseAddr("10.99.0.1")
	serverAddr = netip.MustParseAddr("10.99.0.2")
)

// ends are the two sides of a Net: what dials and what listens.
type end struct {
	dev    *device.Device
	dial   func(ctx context.Context, network, address string) (net.Conn, error)
	listen func(netip.AddrPort) (net.Listener, error)
}

// New returns a Net through a tunnel whose two ends both run the
// netstack kind (Seqack or GVisor): the client dials from 10.99.0.1,
// the server listens at 10.99.0.2. The returned function closes both
// devices.
func New(kind string) (workload.Net, func(), error) {
	var ends [2]*end
	closeAll := func() {
		for _, e := range ends {
			if e != nil {
				e.dev.Close()
			}
		}
	}
	var keys [2]*ecdh.PrivateKey
	for i, addr := range []netip.Addr{clientAddr, serverAddr} {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			closeAll()
			return workload.Net{}, nil, fmt.Errorf("tunnel: %w", err)
		}
		keys[i] = k
		e, td, err := newEnd(kind, addr)
		if err != nil {
			closeAll()
			return workload.Net{}, nil, err
		}
		e.dev = device.NewDevice(td, conn.NewDefaultBind(), device.NewLogger(device.LogLevelSilent, ""))
		ends[i] = e
		if err := e.dev.IpcSet("private_key=" + hex.EncodeToString(k.Bytes()) + "\nlisten_port=0\n"); err != nil {
			closeAll()
			return workload.Net{}, nil, fmt.Errorf("tunnel: %w", err)
		}
		if err := e.dev.Up(); err != nil {
			closeAll()
			return workload.Net{}, nil, fmt.Errorf("tunnel: %w", err)
		}
	}
	for i, e := range ends {
		peer := 1 - i
		port, err := listenPort(ends[peer].dev)
		if err != nil {
			closeAll()
			return workload.Net{}, nil, err
		}
		cfg := fmt.Sprintf("public_key=%s\nendpoint=127.0.0.1:%s\nallowed_ip=%s/32\n",
			hex.EncodeToString(keys[peer].PublicKey().Bytes()), port, []netip.Addr{clientAddr, serverAddr}[peer])
		if err := e.dev.IpcSet(cfg); err != nil {
			closeAll()
			return workload.Net{}, nil, fmt.Errorf("tunnel: %w", err)
		}
	}
	client, server := ends[0], ends[1]
	n := workload.Net{
		Listen: func(network, addr string) (net.Listener, error) {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return nil, fmt.Errorf("tunnel: listen: %w", err)
			}
			return server.listen(ap)
		},
		Dial: func(network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), workload.Timeout)
			defer cancel()
			return client.dial(ctx, network, addr)
		},
		Addr: netip.AddrPortFrom(serverAddr, 0).String(), // a port of its own for each workload
	}
	return n, closeAll, nil
}

// newEnd makes the netstack of kind with addr for one end.
func newEnd(kind string, addr netip.Addr) (*end, tun.Device, error) {
	addrs := []netip.Addr{addr}
	switch kind {
	case Seqack:
		td, n, err := wgnet.CreateNetTUN(addrs, nil, MTU)
		if err != nil {
			return nil, nil, fmt.Errorf("tunnel: %w", err)
		}
		listen := func(ap netip.AddrPort) (net.Listener, error) {
			ln, err := n.ListenTCPAddrPort(ap)
			if err != nil {
				return nil, err // not a nil *Listener in a non-nil interface
			}
			return ln, nil
		}
		return &end{dial: n.DialContext, listen: listen}, td, nil
	case GVisor:
		td, n, err := netstack.CreateNetTUN(addrs, nil, MTU)
		if err != nil {
			return nil, nil, fmt.Errorf("tunnel: %w", err)
		}
		listen := func(ap netip.AddrPort) (net.Listener, error) {
			ln, err := n.ListenTCPAddrPort(ap)
			if err != nil {
				return nil, err
			}
			return ln, nil
		}
		return &end{dial: n.DialContext, listen: listen}, td, nil
	}
	return nil, nil, fmt.Errorf("tunnel: unknown netstack %q (want %s or %s)", kind, Seqack, GVisor)
}

// listenPort returns the UDP port a device listens on.
func listenPort(d *device.Device) (string, error) {
	cfg, err := d.IpcGet()
	if err != nil {
		return "", fmt.Errorf("tunnel: %w", err)
	}
	for line := range strings.SplitSeq(cfg, "\n") {
		if p, ok := strings.CutPrefix(line, "listen_port="); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("tunnel: no listen_port in the device's configuration")
}
