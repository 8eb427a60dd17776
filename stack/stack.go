package stack

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// Options configure a Stack. Zero values take the defaults documented
// on each field.
type Options struct {
	// TCP holds the TCP settings of every connection, as the tcp package
	// documents them; nil means the zero tcp.Config, whose defaults are
	// Linux's modern ones (SACK, timestamps, window scaling with
	// auto-tuning, CUBIC, black-hole detection) with Nagle's algorithm
	// off, as package net sets it. The stack copies it and runs what it
	// says: it only fills in what a driver provides — MSS from each
	// route's MTU (an MSS set here caps it; on an IPv4 link of an MTU
	// under 144 bytes timestamps and SACK are left off, as their options
	// would not fit beside the data), SegmentOffload from the
	// interface, Counters (Stats().TCP), ReleaseBuffer and SendBuffer
	// (the link's buffer pools), and one ChallengeACKs limiter for the
	// host if none is set.
	TCP *tcp.Config
	// EphemeralPorts is the range Dial picks local ports from;
	// the zero value means 32768–60999, as Linux's default.
	EphemeralPorts [2]uint16
	// Logger, if set, receives debug records of what the stack does:
	// state changes, timer expiries, packets dropped and why, ICMP
	// errors. nil means no logging, at no cost.
	Logger *slog.Logger
	// MaxConnections bounds the connections the stack holds at once, in
	// any state but TIME_WAIT; 0 means no bound. Past it, Dial fails
	// with EAGAIN and SYNs to listeners are dropped (counted in
	// Stats.ConnectionLimitDrops).
	MaxConnections int
	// MaxTimeWait bounds the TIME_WAIT records the stack keeps; 0 means
	// 262144, as Linux's tcp_max_tw_buckets. A connection that would
	// exceed it closes without one (counted in Stats.TimeWaitOverflows).
	MaxTimeWait int
	// MaxOrphans bounds the orphans the stack holds: connections their
	// applications have closed while a FIN, queued data or the peer's
	// FIN is still to come (tcp.Conn.Orphan); 0 means 65536. Linux's
	// tcp_max_orphans is the same bound, sized from memory at boot
	// (65536 is a common value). A Close that would exceed it resets
	// the connection at once (RST, as Linux's "too many orphaned
	// sockets"), counted in Stats.OrphanOverflows.
	MaxOrphans int
	// MaxOrphanMemory bounds the bytes of send queue the orphans hold
	// together, each counted as what it had queued when closed (its queue
	// only shrinks after); 0 means 64 MiB. A Close that would exceed it
	// resets the connection at once, counted in
	// Stats.OrphanMemoryOverflows. Linux has no such bound of its own: it
	// resets orphans when TCP as a whole is over tcp_mem. An orphan's
	// time is bounded too: tcp.Config.OrphanRetries zero-window probes
	// (tcp_orphan_retries), Retries retransmissions (tcp_retries2) and
	// FinWait2Timeout (tcp_fin_timeout).
	MaxOrphanMemory int
	// Reassembly bounds the memory and time IP reassembly takes; the
	// zero value has Linux's defaults (4 MiB, 30 s; 60 s for IPv6).
	Reassembly ReassemblyOptions
	// Trace, if set, is given an event for every segment the stack sends
	// or receives and every state change and timer expiry of its
	// connections, so that the simulator's diagrams can be drawn of real
	// connections: pass a trace.Recorder's Record. It is called on the
	// goroutine doing the work, with the connection locked; it must be
	// quick and must not call into the stack.
	Trace func(trace.Event)
	// DNSServers are the DNS servers the stack's Resolver asks, over the
	// stack, and through it Dial when given a host name (a zero port
	// means 53). With none, dialing a name fails with ErrNoDNSServers.
	DNSServers []netip.AddrPort
}

// Stack is one host: interfaces, addresses, routes, connections and
// listeners.
type Stack struct {
	opts    Options
	tcpCfg  *tcp.Config
	isn     *tcp.ISNGenerator
	cookies *tcp.CookieJar // SYN cookies for listeners whose SYN queue is full
	timers  *timers

	mu        sync.Mutex
	nics      []*nic
	lo        *nic // the loopback interface, once used (loopback.go)
	routes    []Route
	conns     map[connKey]*Conn
	timeWaits map[connKey]*timeWaitEntry
	configs   map[configKey]*tcp.Config // the TCP config for each MSS and offload in use
	listeners map[netip.AddrPort]*Listener
	closed    bool
	// The orphans in conns, each with the send queue bytes it was
	// closed with, and their sum (see Options.MaxOrphans). A map on the
	// stack rather than fields on Conn: orphans are few, and every idle
	// connection would pay for the fields.
	orphans     map[*Conn]int
	orphanBytes int

	stats     Stats
	icmpLimit rateLimit
	udp       udpTable      // UDP sockets, under a lock of their own
	ping      pingTable     // ICMP echo sockets (ping.go), under a lock of their own
	resolver  *net.Resolver // for Options.DNSServers (resolver.go)
	frag      fragments     // IP reassembly and fragment IDs, under a lock of their own

	fwd forwarder // any-destination forwarding (forward.go)
}

// Stats are a stack's live counters, in the spirit of `netstat -s`:
// packets in and out, what was dropped and why, and TCP's own counters.
// They are atomics the stack adds to as it works: read one with Load, or
// take a Snapshot of all of them to copy, compare or print (copying Stats
// itself would copy the atomics, which go vet reports).
type Stats struct {
	PacketsReceived, PacketsSent atomic.Uint64
	// PacketsFramed counts packets sent without a copy of their payload:
	// made around it in the send queue's buffer (tcp.Segment.Frame).
	PacketsFramed        atomic.Uint64
	MalformedPackets     atomic.Uint64 // failed to parse
	BadChecksums         atomic.Uint64 // TCP checksum wrong
	NotForUs             atomic.Uint64 // destination not one of our addresses, or a loopback address arriving from a link
	ResetsSent           atomic.Uint64 // RSTs for segments to no connection
	ListenOverflows      atomic.Uint64 // SYNs dropped: SYN or accept queue full
	EchoRequests         atomic.Uint64
	SendErrors           atomic.Uint64
	ICMPErrorsReceived   atomic.Uint64 // destination unreachable, packet too big, time exceeded, ...
	ICMPErrorsIgnored    atomic.Uint64 // ... quoting no segment of ours that is outstanding (RFC 5927)
	UnknownProtocol      atomic.Uint64 // neither TCP nor ICMP: answered with an ICMP error
	TimeWaitOverflows    atomic.Uint64 // connections closed without a TIME_WAIT record: MaxTimeWait reached
	SynCookiesSent       atomic.Uint64 // SYN+ACKs with a cookie: a listener's SYN queue was full (RFC 4987)
	SynCookiesAccepted   atomic.Uint64 // connections established from a valid cookie
	SynCookiesIgnored    atomic.Uint64 // ACKs to a listener not checked as cookies: none sent in the last 2 minutes
	ConnectionLimitDrops atomic.Uint64 // SYNs dropped and dials refused: MaxConnections reached
	// OrphanOverflows and OrphanMemoryOverflows count connections reset
	// when closed because MaxOrphans or MaxOrphanMemory was reached.
	OrphanOverflows, OrphanMemoryOverflows atomic.Uint64
	// The ping sockets' counters (PingConn): echo requests they sent
	// [OutEchos], echo replies queued on one [InEchoReps], replies that
	// no socket's identifier matched, and replies dropped because their
	// socket's receive queue was full.
	EchoRequestsSent, EchoRepliesReceived       atomic.Uint64
	EchoRepliesUnclaimed, PingReceiveQueueDrops atomic.Uint64
	// TCP counts what every connection did: opens, segments,
	// retransmissions, resets, out-of-window drops, challenge ACKs.
	TCP tcp.Counters
	// UDP counts datagrams in and out and those dropped, by cause.
	UDP UDPStats
	// Frag counts IP fragments reassembled and made, and those dropped,
	// by cause.
	Frag FragStats
}

// tuple identifies a connection.
type tuple struct{ local, remote netip.AddrPort }

// connKey is a tuple as the connection table's key: 36 bytes where a
// tuple takes 64 (netip.AddrPort carries a zone pointer), which matters
// with many connections.
type connKey struct {
	local, remote         [16]byte
	localPort, remotePort uint16
}

func (t tuple) key() connKey {
	return connKey{t.local.Addr().As16(), t.remote.Addr().As16(), t.local.Port(), t.remote.Port()}
}

// nic is an attached interface.
type nic struct {
	id      int
	ep      link.Endpoint
	addrs   []netip.Prefix
	offload bool // TCP checksums neither computed nor checked (link.ChecksumOffloader)
	// segmentOffload is the longest TCP packet the link cuts into
	// MTU-sized ones (link.SegmentOffloader); 0 if none.
	segmentOffload int
	loopback       bool // the stack's loopback interface (loopback.go)
}

// Route sends packets for Dst out of interface NIC (an index returned by
// AddInterface), via Gateway if it is valid. A zero-length prefix is a
// default route.
type Route struct {
	Dst     netip.Prefix
	NIC     int
	Gateway netip.Addr
}

// ErrNoRoute is returned, wrapped, when no route reaches a destination.
// It is syscall.ENETUNREACH to errors.Is, as connect(2) fails on Linux
// ("network is unreachable").
var ErrNoRoute error = noRouteError{}

type noRouteError struct{}

func (noRouteError) Error() string        { return "network is unreachable" }
func (noRouteError) Is(target error) bool { return target == syscall.ENETUNREACH }

// New returns a stack with no interfaces.
func New(opts Options) *Stack {
	// The user's settings as they are; only the driver's plumbing is
	// added (and, in configFor, each route's MSS and offload).
	cfg := &tcp.Config{}
	if opts.TCP != nil {
		*cfg = *opts.TCP
	}
	cfg.ReleaseBuffer = link.Recycle   // packets kept in receive queues go back to the pools
	cfg.SendBuffer = link.SharedBuffer // large segments leave from the send queue's buffers, framed in place
	if cfg.ChallengeACKs == nil {
		cfg.ChallengeACKs = &tcp.ChallengeACKLimiter{} // one budget for the host (RFC 5961 §7)
	}
	if opts.EphemeralPorts == [2]uint16{} {
		opts.EphemeralPorts = [2]uint16{32768, 60999}
	}
	var key [32]byte
	crand.Read(key[:])
	s := &Stack{
		opts:      opts,
		tcpCfg:    cfg,
		isn:       tcp.NewISNGenerator(key[:], time.Now()),
		cookies:   tcp.NewCookieJar(key[:]),
		timers:    newTimers(),
		conns:     make(map[connKey]*Conn),
		timeWaits: make(map[connKey]*timeWaitEntry),
		configs:   make(map[configKey]*tcp.Config),
		listeners: make(map[netip.AddrPort]*Listener),
	}
	cfg.Counters = &s.stats.TCP
	s.resolver = s.newResolver(opts.DNSServers)
	return s
}

// Minimum MTUs of a link carrying each IP version: every IPv4 host
// takes 68-byte datagrams unfragmented (RFC 791), and IPv6 needs links of
// 1280 (RFC 8200 §5).
const (
	MinMTUIPv4 = 68
	MinMTUIPv6 = 1280
)

// AddInterface attaches ep with the given addresses (address and prefix
// length, e.g. 192.0.2.1/24), adds a route for each prefix, and starts
// receiving. It returns the interface's index, for AddRoute. It fails,
// changing nothing, for a nil endpoint, an invalid or unspecified
// address, or an MTU too small for an address's IP version (MinMTUIPv4,
// MinMTUIPv6).
func (s *Stack) AddInterface(ep link.Endpoint, addrs ...netip.Prefix) (int, error) {
	if ep == nil {
		return 0, errors.New("stack: AddInterface: nil endpoint")
	}
	for _, a := range addrs {
		switch {
		case !a.IsValid():
			return 0, fmt.Errorf("stack: AddInterface: invalid address %v", a)
		case a.Addr().IsUnspecified():
			return 0, fmt.Errorf("stack: AddInterface: unspecified address %v", a)
		case a.Addr().Is4() && ep.MTU() < MinMTUIPv4:
			return 0, fmt.Errorf("stack: AddInterface: MTU %d is under IPv4's minimum of %d (RFC 791)", ep.MTU(), MinMTUIPv4)
		case a.Addr().Is6() && ep.MTU() < MinMTUIPv6:
			return 0, fmt.Errorf("stack: AddInterface: MTU %d is under IPv6's minimum of %d (RFC 8200 §5), for %v", ep.MTU(), MinMTUIPv6, a)
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, fmt.Errorf("stack: AddInterface: %w", net.ErrClosed)
	}
	n := &nic{id: len(s.nics), ep: ep, addrs: addrs}
	if o, ok := ep.(link.ChecksumOffloader); ok {
		n.offload = o.ChecksumOffload()
	}
	if o, ok := ep.(link.SegmentOffloader); ok {
		n.segmentOffload = min(o.SegmentOffload(), 65535)
	}
	s.nics = append(s.nics, n)
	for _, a := range addrs {
		s.routes = append(s.routes, Route{Dst: a.Masked(), NIC: n.id})
	}
	s.mu.Unlock()
	if b, ok := ep.(link.BatchAttacher); ok {
		b.AttachBatch(func(packets [][]byte) { s.deliverBatch(n, packets) })
	} else {
		ep.Attach(func(p []byte) { s.deliverBatch(n, [][]byte{p}) })
	}
	return n.id, nil
}

// AddRoute adds a route; a zero-length Dst makes it a default route.
func (s *Stack) AddRoute(r Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.NIC < 0 || r.NIC >= len(s.nics) {
		return fmt.Errorf("stack: no interface %d", r.NIC)
	}
	s.routes = append(s.routes, r)
	return nil
}

// route finds the interface and source address for dst: the longest
// matching prefix, and an address of that interface of dst's family.
func (s *Stack) route(dst netip.Addr) (*nic, netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routeLocked(dst)
}

// routeLocked is route with s.mu held. A destination on this host,
// a loopback address or one of the stack's own, is reached over the
// loopback interface.
func (s *Stack) routeLocked(dst netip.Addr) (*nic, netip.Addr, error) {
	if src, ok := s.localSource(dst); ok {
		if lo := s.loopbackLocked(); lo != nil {
			return lo, src, nil
		}
		return nil, netip.Addr{}, net.ErrClosed
	}
	best := -1
	for i, r := range s.routes {
		if r.Dst.Addr().Is4() != dst.Is4() || !r.Dst.Contains(dst) {
			continue
		}
		if best < 0 || r.Dst.Bits() > s.routes[best].Dst.Bits() {
			best = i
		}
	}
	if best < 0 {
		return nil, netip.Addr{}, fmt.Errorf("no route to %v: %w", dst, ErrNoRoute)
	}
	n := s.nics[s.routes[best].NIC]
	for _, a := range n.addrs {
		if a.Addr().Is4() == dst.Is4() {
			return n, a.Addr(), nil
		}
	}
	return nil, netip.Addr{}, fmt.Errorf("no route to %v (interface %d has no address of its family): %w", dst, n.id, ErrNoRoute)
}

// isLocal reports whether a is one of the stack's addresses, those of
// its loopback interface (all of 127.0.0.0/8, and ::1) included.
func (s *Stack) isLocal(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isLocalLocked(a)
}

// isLocalLocked is isLocal with s.mu held.
func (s *Stack) isLocalLocked(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, n := range s.nics {
		for _, p := range n.addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

// ephemeralPort picks a free local port for a connection to remote:
// RFC 6056 algorithm 1, a random start and a linear search. A port a
// listener has on local is not free: a connection from it to this host
// could meet the listener's own segments. s.mu is held.
func (s *Stack) ephemeralPort(local netip.Addr, remote netip.AddrPort) (uint16, error) {
	lo, hi := int(s.opts.EphemeralPorts[0]), int(s.opts.EphemeralPorts[1])
	n := hi - lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := uint16(lo + (start+i)%n)
		t := tuple{netip.AddrPortFrom(local, port), remote}
		if s.conns[t.key()] == nil && s.timeWaits[t.key()] == nil && s.listenerFor(t.local) == nil {
			return port, nil
		}
	}
	return 0, errAddrInUse
}

// Shutdown closes the stack gracefully: listeners close at once, then it
// waits for every connection to finish closing (the applications close
// them; FINs are exchanged and acknowledged) or for ctx to end, and then
// closes the stack as Close does. Connections still open then are
// aborted, and ctx's error is returned. TIME_WAIT records do not hold it
// up.
func (s *Stack) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	lns := make([]*Listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		lns = append(lns, l)
	}
	s.mu.Unlock()
	for _, l := range lns {
		l.Close()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var err error
	for s.NumConns() > 0 && err == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	return errors.Join(err, s.Close())
}

// Close shuts the stack: every connection is aborted, every listener
// closed, every request waiting for a forwarding decision ended (a
// later decision fails with net.ErrClosed), every interface closed.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	lns := make([]*Listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		lns = append(lns, l)
	}
	nics := s.nics
	if s.lo != nil {
		nics = append(nics[:len(nics):len(nics)], s.lo)
	}
	fwdPending := s.fwd.tcpPending
	s.fwd.tcpPending = nil
	s.mu.Unlock()
	s.fwd.close(fwdPending) // before the conns: none is waited for any more
	for _, l := range lns {
		l.Close()
	}
	for _, c := range conns {
		c.abort()
	}
	s.udp.closeAll()
	s.ping.closeAll()
	s.timers.close()
	for _, n := range nics {
		n.ep.Close()
	}
	return nil
}

// configFor returns the TCP config for a connection to dst over a link of
// the given MTU: the stack's config with the MSS the MTU allows (RFC 9293
// §3.7.1: MTU less the IP and TCP headers), or the configured MSS if it is
// smaller; under smallMSS, without timestamps and SACK. Configs are
// shared by every connection with the same MSS.
// s.mu is held.
func (s *Stack) configFor(dst netip.Addr, n *nic) *tcp.Config {
	hdr := 40
	if dst.Is6() {
		hdr = 60
	}
	mss := uint16(min(max(n.ep.MTU()-hdr, 1), 65495))
	if s.tcpCfg.MSS != 0 && s.tcpCfg.MSS < mss {
		mss = s.tcpCfg.MSS
	}
	// On a link too small for the options beside a useful payload,
	// connections go without them: a packet may not exceed the MTU,
	// and the stack does not fragment TCP.
	small := mss < smallMSS
	// Segments of several MSS for a link that cuts them up, leaving room
	// for the headers at their longest (IP options aside).
	offload := 0
	if n.segmentOffload > n.ep.MTU() {
		offload = n.segmentOffload - hdr - 40
	}
	key := configKey{mss, offload}
	cfg := s.configs[key]
	if cfg == nil {
		copied := *s.tcpCfg
		copied.MSS = mss
		copied.SegmentOffload = offload
		if small {
			copied.NoTimestamps, copied.NoSACK = true, true
		}
		cfg = &copied
		s.configs[key] = cfg
	}
	return cfg
}

// smallMSS is the MSS under which connections run without timestamps and
// SACK: their options take up to 40 bytes of every segment, and the
// engine keeps at least 64 bytes of payload in one (tcp.Conn's floor).
// It is an IPv4 MTU under 144 bytes.
const smallMSS = 64 + 40

// configKey tells apart the TCP settings a stack's connections use: by
// MSS and segmentation offload, which follow from their route.
type configKey struct {
	mss     uint16
	offload int
}

// Stats returns the stack's live counters; Stats().Snapshot() gives
// their values.
func (s *Stack) Stats() *Stats { return &s.stats }

// atConnectionLimit reports whether the stack holds MaxConnections
// connections already. s.mu is held.
func (s *Stack) atConnectionLimit() bool {
	return s.opts.MaxConnections > 0 && len(s.conns) >= s.opts.MaxConnections
}

// Defaults of Options.MaxOrphans and Options.MaxOrphanMemory.
const (
	DefaultMaxOrphans      = 65536
	DefaultMaxOrphanMemory = 64 << 20
)

// adoptOrphan counts c, closed by its application with queued bytes
// still to send, as an orphan; it reports false, counting why, if that
// would exceed MaxOrphans or MaxOrphanMemory: c must then be reset. A
// connection no longer in the table (closed, or replaced by a TIME_WAIT
// record) is no orphan. c.mu is held.
func (s *Stack) adoptOrphan(c *Conn, queued int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orphans[c]; ok || s.conns[tuple{c.local, c.remote}.key()] != c {
		return true
	}
	switch {
	case len(s.orphans) >= cmp.Or(s.opts.MaxOrphans, DefaultMaxOrphans):
		s.stats.OrphanOverflows.Add(1)
		return false
	case s.orphanBytes+queued > cmp.Or(s.opts.MaxOrphanMemory, DefaultMaxOrphanMemory):
		s.stats.OrphanMemoryOverflows.Add(1)
		return false
	}
	if s.orphans == nil {
		s.orphans = make(map[*Conn]int)
	}
	s.orphans[c] = queued
	s.orphanBytes += queued
	return true
}

// NumOrphans returns how many orphans the stack holds (connections
// closed by their applications and not yet gone; see
// Options.MaxOrphans) and the send queue bytes they were closed with.
func (s *Stack) NumOrphans() (conns, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orphans), s.orphanBytes
}

// NumConns returns how many connections the stack holds, in any state
// but LISTEN.
func (s *Stack) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
