//go:build linux

package linux

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// linuxAddrs is the addressing of one run: packetdrill's defaults for
// the script's IP version (--ip_version=ipv4 or ipv6). The kernel's
// socket has local (and linuxLocalPort once bound); the script's side is
// remote:linuxRemotePort, routed through the TUN device.
type linuxAddrs struct {
	local, remote netip.Addr
	localPrefix   string // local address and its prefix length, for ip addr
	remoteNet     string // the script's network, for ip route
	// headerExtra is how much larger the IP header is than IPv4's: the
	// route's MTU grows by as much, so that one --mtu gives the same
	// MSS on both versions, as packetdrill's IPv6 link (MTU 1520) does.
	headerExtra int
}

// addrsV4 and addrsV6 are packetdrill's default addresses.
var (
	addrsV4 = linuxAddrs{
		local: netip.AddrFrom4([4]byte{192, 168, 0, 1}), remote: netip.AddrFrom4([4]byte{192, 0, 2, 1}),
		localPrefix: "192.168.0.1/24", remoteNet: "192.0.2.0/24",
	}
	addrsV6 = linuxAddrs{
		local: netip.MustParseAddr("fd3d:fa7b:d17d::1"), remote: netip.MustParseAddr("2001:db8::1"),
		localPrefix: "fd3d:fa7b:d17d::1/48", remoteNet: "2001:db8::/32", headerExtra: 20,
	}
)

// addrsFor returns the addressing for an --ip_version value ("" is
// ipv4); ok is false for a version the target does not run
// (ipv4-mapped-ipv6).
func addrsFor(version string) (a linuxAddrs, ok bool) {
	switch version {
	case "", "ipv4":
		return addrsV4, true
	case "ipv6":
		return addrsV6, true
	}
	return linuxAddrs{}, false
}

// family is the socket address family.
func (a linuxAddrs) family() int {
	if a.local.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// sockaddr is addr:port as the socket calls take it.
func (a linuxAddrs) sockaddr(addr netip.Addr, port int) unix.Sockaddr {
	if addr.Is4() {
		return &unix.SockaddrInet4{Port: port, Addr: addr.As4()}
	}
	return &unix.SockaddrInet6{Port: port, Addr: addr.As16()}
}

// setup is the ip commands that give the device its address and route
// the script's side through it with the script's MTU; IPv6 addresses
// skip duplicate address detection, which would delay them.
func (a linuxAddrs) setup(dev string, mtu int) [][]string {
	mtuArg := strconv.Itoa(mtu + a.headerExtra)
	if a.local.Is4() {
		return [][]string{
			{"ip", "addr", "add", a.localPrefix, "dev", dev},
			{"ip", "link", "set", dev, "up"},
			{"ip", "route", "add", a.remoteNet, "dev", dev, "mtu", mtuArg},
		}
	}
	return [][]string{
		{"ip", "-6", "addr", "add", a.localPrefix, "dev", dev, "nodad"},
		{"ip", "link", "set", dev, "up"},
		{"ip", "-6", "route", "add", a.remoteNet, "dev", dev, "mtu", mtuArg},
	}
}
