// Package interop holds no code, only tests: seqack against the Linux
// kernel's own TCP/IP, over a TUN device, each test in a network
// namespace of its own. The kernel's side is driven with the tools a
// person would use — curl, socat, ping, ss — and with Go's net package,
// whose sockets, created inside the namespace, are the kernel's.
//
// The tests need root (or CAP_NET_ADMIN and CAP_SYS_ADMIN), ip(8) and
// the tools listed in .ci/packages. Without them they skip, unless
// SEQACK_REQUIRE_NETNS=1, as CI sets it, where they fail instead.
//
// Each test's namespace holds a TUN device sq0 whose kernel side is
// 192.0.2.1/24 and 2001:db8::1/64, and a seqack stack on the device as
// 192.0.2.2/24 and 2001:db8::2/64.
package interop
