package wgnet

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/seqack/seqack/stack"
)

// Net dials, listens, looks up names and pings inside the tunnel, with
// the methods of wireguard-go's netstack.Net.
type Net struct {
	s            *stack.Stack
	hasV4, hasV6 bool
	hasDNS       bool // DNS servers were given
}

// PingAddr is the address of a ping socket, as netstack.PingAddr.
type PingAddr = stack.PingAddr

// PingConn is an ICMP echo socket, as netstack.PingConn.
type PingConn = stack.PingConn

// PingAddrFromAddr returns a *PingAddr for addr.
func PingAddrFromAddr(addr netip.Addr) *PingAddr { return stack.PingAddrFromAddr(addr) }

// Stack returns the seqack stack behind n.
func (n *Net) Stack() *stack.Stack { return n.s }

// DialContext connects to address on network "tcp", "udp" or "ping"
// (with "4" or "6" for one family), looking a host name up with the
// tunnel's DNS servers, as netstack.Net.DialContext.
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return n.s.DialContext(ctx, network, address)
}

// Dial is DialContext without a context.
func (n *Net) Dial(network, address string) (net.Conn, error) {
	return n.s.DialContext(context.Background(), network, address)
}

// DialContextTCPAddrPort connects to addr over TCP.
func (n *Net) DialContextTCPAddrPort(ctx context.Context, addr netip.AddrPort) (*stack.Conn, error) {
	c, err := n.s.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	return c.(*stack.Conn), nil
}

// DialContextTCP connects to addr over TCP.
func (n *Net) DialContextTCP(ctx context.Context, addr *net.TCPAddr) (*stack.Conn, error) {
	return n.DialContextTCPAddrPort(ctx, tcpAddrPort(addr))
}

// DialTCPAddrPort connects to addr over TCP.
func (n *Net) DialTCPAddrPort(addr netip.AddrPort) (*stack.Conn, error) {
	return n.DialContextTCPAddrPort(context.Background(), addr)
}

// DialTCP connects to addr over TCP.
func (n *Net) DialTCP(addr *net.TCPAddr) (*stack.Conn, error) {
	return n.DialContextTCPAddrPort(context.Background(), tcpAddrPort(addr))
}

// ListenTCPAddrPort listens for TCP connections at addr; an invalid or
// unspecified address listens on every address of the stack, a zero port
// on an ephemeral one.
func (n *Net) ListenTCPAddrPort(addr netip.AddrPort) (*stack.Listener, error) {
	return n.s.ListenBacklog("tcp", hostPort(addr), stack.DefaultBacklog)
}

// ListenTCP listens for TCP connections at addr (nil: every address, an
// ephemeral port).
func (n *Net) ListenTCP(addr *net.TCPAddr) (*stack.Listener, error) {
	return n.ListenTCPAddrPort(tcpAddrPort(addr))
}

// DialUDPAddrPort opens a UDP socket bound to laddr and, if raddr is
// valid, connected to it; without raddr it is ListenUDPAddrPort.
func (n *Net) DialUDPAddrPort(laddr, raddr netip.AddrPort) (*stack.UDPConn, error) {
	if !raddr.IsValid() {
		return n.s.ListenPacket("udp", hostPort(laddr))
	}
	return n.s.DialUDP("udp", laddr, raddr)
}

// ListenUDPAddrPort opens an unconnected UDP socket at laddr (an invalid
// or unspecified address: every address of the stack).
func (n *Net) ListenUDPAddrPort(laddr netip.AddrPort) (*stack.UDPConn, error) {
	return n.s.ListenPacket("udp", hostPort(laddr))
}

// DialUDP is DialUDPAddrPort with *net.UDPAddr (nil for none).
func (n *Net) DialUDP(laddr, raddr *net.UDPAddr) (*stack.UDPConn, error) {
	return n.DialUDPAddrPort(udpAddrPort(laddr), udpAddrPort(raddr))
}

// ListenUDP is ListenUDPAddrPort with a *net.UDPAddr (nil for any).
func (n *Net) ListenUDP(laddr *net.UDPAddr) (*stack.UDPConn, error) {
	return n.ListenUDPAddrPort(udpAddrPort(laddr))
}

// DialPingAddr opens a ping socket bound to laddr and connected to raddr
// (either may be the zero netip.Addr, not both).
func (n *Net) DialPingAddr(laddr, raddr netip.Addr) (*PingConn, error) {
	return n.s.DialPing(laddr, raddr)
}

// ListenPingAddr opens an unconnected ping socket bound to laddr.
func (n *Net) ListenPingAddr(laddr netip.Addr) (*PingConn, error) {
	return n.s.ListenPing(laddr)
}

// DialPing is DialPingAddr with *PingAddr (nil for none).
func (n *Net) DialPing(laddr, raddr *PingAddr) (*PingConn, error) {
	var la, ra netip.Addr
	if laddr != nil {
		la = laddr.Addr()
	}
	if raddr != nil {
		ra = raddr.Addr()
	}
	return n.s.DialPing(la, ra)
}

// ListenPing is ListenPingAddr with a *PingAddr; nil is refused, as
// netstack's refuses it.
func (n *Net) ListenPing(laddr *PingAddr) (*PingConn, error) {
	var la netip.Addr
	if laddr != nil {
		la = laddr.Addr()
	}
	return n.s.ListenPing(la)
}

// LookupHost looks host up with the tunnel's DNS servers.
func (n *Net) LookupHost(host string) ([]string, error) {
	return n.LookupContextHost(context.Background(), host)
}

// LookupContextHost looks host up with the tunnel's DNS servers, asking
// only for the families the stack has an address of, IPv6 addresses
// first, as netstack.Net.LookupContextHost. An IP address is returned as
// it is. Without DNS servers a name fails with a *net.DNSError that
// errors.Is finds to be stack.ErrNoDNSServers.
func (n *Net) LookupContextHost(ctx context.Context, host string) ([]string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{a.String()}, nil
	}
	family := "ip"
	switch {
	case !n.hasV4 && !n.hasV6:
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	case !n.hasDNS:
		return nil, &net.DNSError{Err: stack.ErrNoDNSServers.Error(), Name: host, UnwrapErr: stack.ErrNoDNSServers}
	case !n.hasV6:
		family = "ip4"
	case !n.hasV4:
		family = "ip6"
	}
	addrs, err := n.s.Resolver().LookupNetIP(ctx, family, host)
	if err != nil {
		return nil, err
	}
	var v4, v6 []string
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a.String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	if n.hasV6 {
		return append(v6, v4...), nil
	}
	return append(v4, v6...), nil
}

// hostPort is addr as the host:port stack's Listen takes; an invalid or
// unspecified address becomes ":port", every address.
func hostPort(addr netip.AddrPort) string {
	if !addr.Addr().IsValid() || addr.Addr().IsUnspecified() {
		return ":" + strconv.Itoa(int(addr.Port()))
	}
	return addr.String()
}

func tcpAddrPort(a *net.TCPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func udpAddrPort(a *net.UDPAddr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
