package stack

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrNoDNSServers is the cause of a failed name lookup or dial by name
// on a stack given no DNS servers (Options.DNSServers, or
// Stack.Resolver's arguments). errors.Is finds it in the *net.OpError
// and *net.DNSError that report it.
var ErrNoDNSServers = errors.New("no DNS servers configured (stack.Options.DNSServers)")

// Resolver returns a *net.Resolver whose DNS queries travel over the
// stack: Go's own resolver (PreferGo) with a Dial that opens a UDP
// socket on the stack to a DNS server, and a TCP connection when an
// answer comes truncated (RFC 7766 §5; Go's resolver retries over TCP
// itself). The servers are servers, or the stack's Options.DNSServers
// if none are given (then the resolver is the one Dial uses, shared);
// a zero port means 53. Queries go to the first server until one gets
// no answer in time or is refused, then to the next, in turn.
//
// Go's resolver reads the host's /etc/resolv.conf for its options
// (timeout, attempts, ndots, search domains) and /etc/hosts for names
// it holds, as it does for every Go program; the server addresses it
// names are not used.
func (s *Stack) Resolver(servers ...netip.AddrPort) *net.Resolver {
	if len(servers) == 0 {
		return s.resolver
	}
	return s.newResolver(servers)
}

// newResolver returns a Resolver asking servers.
func (s *Stack) newResolver(servers []netip.AddrPort) *net.Resolver {
	d := &dnsDialer{s: s}
	for _, a := range servers {
		d.servers = append(d.servers, netip.AddrPortFrom(a.Addr().Unmap(), cmp.Or(a.Port(), 53)))
	}
	return &net.Resolver{PreferGo: true, Dial: d.dial}
}

// dnsDialer opens the connections of a Resolver to its DNS servers.
type dnsDialer struct {
	s       *Stack
	servers []netip.AddrPort
	current atomic.Uint32 // the index of the server queries go to
}

// dial is the Resolver's Dial: address, from the host's resolv.conf,
// is ignored for d's servers.
func (d *dnsDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if len(d.servers) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: ErrNoDNSServers}
	}
	i := d.current.Load()
	switch network {
	case "udp", "udp4", "udp6":
		c, err := d.s.DialUDP("udp", netip.AddrPort{}, d.servers[i%uint32(len(d.servers))])
		if err != nil {
			d.failed(i)
			return nil, err
		}
		return dnsPacketConn{c, d, i}, nil
	case "tcp", "tcp4", "tcp6":
		var first error
		for range d.servers {
			c, err := d.s.DialContext(ctx, "tcp", d.servers[i%uint32(len(d.servers))].String())
			if err == nil {
				return c, nil
			}
			if ctx.Err() != nil {
				return nil, err
			}
			first = cmp.Or(first, err)
			d.failed(i)
			i++
		}
		return nil, first
	}
	return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
}

// failed moves queries on from server i to the next, unless another
// query has already.
func (d *dnsDialer) failed(i uint32) { d.current.CompareAndSwap(i, i+1) }

// dnsPacketConn is a UDP socket to a DNS server that reports a
// server which does not answer in time, or refuses, to its dnsDialer.
// It is a net.PacketConn, as Go's resolver requires of UDP.
type dnsPacketConn struct {
	*UDPConn
	d *dnsDialer
	i uint32
}

// Read implements net.Conn.
func (c dnsPacketConn) Read(p []byte) (int, error) {
	n, err := c.UDPConn.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) {
		c.d.failed(c.i)
	}
	return n, err
}

// isPingNetwork reports whether network names ICMP echo sockets, for
// Dial, as wireguard-go's netstack.Net.DialContext takes them.
func isPingNetwork(network string) bool {
	return network == "ping" || network == "ping4" || network == "ping6"
}

// lookupNetIP returns the addresses of host for network's family: host
// itself if it is an IP address, else what the stack's resolver finds
// (Options.DNSServers), those the stack has a route to first, IPv6
// before IPv4 (RFC 6724 §2.1's default policy).
func (s *Stack) lookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	family := "ip"
	if n := network[len(network)-1]; n == '4' || n == '6' {
		family += string(n)
	}
	fits := func(a netip.Addr) bool { return family == "ip" || (family == "ip4") == a.Is4() }
	if a, err := netip.ParseAddr(host); err == nil {
		if a = a.Unmap(); !fits(a) {
			return nil, &net.AddrError{Err: "address of the wrong family", Addr: host}
		}
		return []netip.Addr{a}, nil
	}
	if len(s.opts.DNSServers) == 0 {
		return nil, &net.DNSError{Err: ErrNoDNSServers.Error(), Name: host, UnwrapErr: ErrNoDNSServers}
	}
	found, err := s.resolver.LookupNetIP(ctx, family, host)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.Addr, 0, len(found))
	for _, a := range found {
		if a = a.Unmap(); fits(a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	rank := func(a netip.Addr) int {
		r := 0
		if _, _, err := s.route(a); err != nil {
			r += 2
		}
		if a.Is4() {
			r++
		}
		return r
	}
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int { return rank(a) - rank(b) })
	return addrs, nil
}

// dialName dials host, a name, at port: the addresses lookupNetIP
// finds, one after the other (no Happy Eyeballs, RFC 8305), each given
// an equal share of what is left of ctx's deadline but at least two
// seconds, as net.Dialer does. The first error is returned if none
// answers.
func (s *Stack) dialName(ctx context.Context, network, host, port string) (net.Conn, error) {
	addrs, err := s.lookupNetIP(ctx, network, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	var first error
	for i, a := range addrs {
		if err := ctx.Err(); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: contextError(err)}
		}
		address := net.JoinHostPort(a.String(), port)
		if isPingNetwork(network) {
			address = a.String()
		}
		c, err := s.dialShare(ctx, len(addrs)-i, network, address)
		if err == nil {
			return c, nil
		}
		first = cmp.Or(first, err)
	}
	return nil, first
}

// dialShare dials address with a share of ctx's time: what is left
// divided among the addresses remaining (net.Dialer's partialDeadline).
func (s *Stack) dialShare(ctx context.Context, remaining int, network, address string) (net.Conn, error) {
	if deadline, ok := ctx.Deadline(); ok {
		share := time.Until(deadline) / time.Duration(remaining)
		if share < minDialShare {
			share = min(time.Until(deadline), minDialShare)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, share)
		defer cancel()
	}
	return s.DialContext(ctx, network, address)
}

// minDialShare is the least time one address of several is given
// (net.Dialer's saneMinimum).
const minDialShare = 2 * time.Second

// hostName splits address into a host name and a port, if its host is
// a name rather than an IP address (for the ping networks, address is
// the host alone).
func hostName(network, address string) (host, port string, ok bool) {
	host = address
	if !isPingNetwork(network) {
		var err error
		if host, port, err = net.SplitHostPort(address); err != nil {
			return "", "", false
		}
	}
	if host == "" {
		return "", "", false
	}
	_, err := netip.ParseAddr(host)
	return host, port, err != nil
}
