package sim

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
)

// ErrTimeLimit is returned (wrapped) by Run when the virtual time limit
// passes before the network falls quiet.
var ErrTimeLimit = errors.New("sim: time limit reached before the network was quiet")

// Epoch is the virtual time at which every run starts.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Config configures a Network.
type Config struct {
	// Seed drives every random choice: link loss, jitter, duplication,
	// reordering, corruption, and the key of the ISN generator.
	Seed int64
	// KeepPackets records each IP packet's bytes in the trace events
	// (for pcap output).
	KeepPackets bool
	// DiscardEvents records no trace at all, for long runs (a transfer
	// of many megabytes) where only the outcome and the counters matter.
	DiscardEvents bool
}

// Network is a simulated network: hosts, links, a virtual clock and the
// queue of everything scheduled to happen.
type Network struct {
	cfg    Config
	now    time.Time
	queue  eventQueue
	order  uint64 // insertion counter: ties in time run in causal order
	hosts  []*Host
	links  map[linkKey]*link
	faults []*faultState
	events []trace.Event
	nextID int
	isn    *tcp.ISNGenerator
}

// New returns an empty network whose clock reads Epoch.
func New(cfg Config) *Network {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(cfg.Seed))
	return &Network{
		cfg:   cfg,
		now:   Epoch,
		links: make(map[linkKey]*link),
		isn:   tcp.NewISNGenerator(key[:], Epoch),
	}
}

// Now returns the virtual time.
func (n *Network) Now() time.Time { return n.now }

// Elapsed returns the virtual time since the start of the run.
func (n *Network) Elapsed() time.Duration { return n.now.Sub(Epoch) }

// AddHost adds a host with one address. cfg configures its connections;
// nil means the zero tcp.Config, the modern defaults (SACK, timestamps,
// window scaling); tcp.PlainConfig() is RFC 9293's plain connection, as
// the scenarios draw it.
func (n *Network) AddHost(name string, addr netip.Addr, cfg *tcp.Config) *Host {
	h := &Host{
		net:       n,
		name:      name,
		addr:      addr,
		cfg:       cfg,
		conns:     make(map[tuple]*Conn),
		listeners: make(map[uint16]bool),
		nextPort:  40000,
	}
	n.hosts = append(n.hosts, h)
	return h
}

// Link joins a and b with a link of the same characteristics each way.
func (n *Network) Link(a, b *Host, l LinkConfig) {
	n.links[linkKey{a, b}] = newLink(l, n.cfg.Seed, len(n.links))
	n.links[linkKey{b, a}] = newLink(l, n.cfg.Seed, len(n.links))
}

// SetLink changes the link between a and b, both ways, from now on:
// delay, bandwidth, queue limit and the random effects. Each direction
// keeps its random source, its counters and the packets already on it,
// which arrive when they were due; so a shorter delay can let new
// packets overtake old ones, as a route change can. The scenarios use it
// for a mid-flow RTT change and, with Loss 1, for a loss burst. It
// returns an error if a and b are not linked.
func (n *Network) SetLink(a, b *Host, l LinkConfig) error {
	ab, ba := n.links[linkKey{a, b}], n.links[linkKey{b, a}]
	if ab == nil || ba == nil {
		return fmt.Errorf("sim: no link between %s and %s", a.name, b.name)
	}
	ab.LinkConfig, ba.LinkConfig = l, l
	n.note(fmt.Sprintf("link %s-%s changed", a.name, b.name))
	return nil
}

// LinkStats returns the counters of the direction from a to b of their
// link; the zero LinkStats if there is none.
func (n *Network) LinkStats(from, to *Host) LinkStats {
	if l := n.links[linkKey{from, to}]; l != nil {
		return l.stats
	}
	return LinkStats{}
}

// AddFault adds a scripted fault; faults apply in the order added, before
// the links' random ones.
func (n *Network) AddFault(f Fault) { n.faults = append(n.faults, &faultState{Fault: f}) }

// At runs fn when the elapsed time reaches t (at once if it has).
func (n *Network) At(t time.Duration, fn func()) { n.schedule(Epoch.Add(t), fn) }

// After runs fn d after now.
func (n *Network) After(d time.Duration, fn func()) { n.schedule(n.now.Add(d), fn) }

// Events returns everything recorded so far, in time order.
func (n *Network) Events() []trace.Event { return n.events }

// Run processes scheduled work until nothing is pending (no packet in
// flight, no connection timer, no scheduled function) or the elapsed time
// would pass limit, in which case it returns an error wrapping
// ErrTimeLimit.
func (n *Network) Run(limit time.Duration) error {
	end := Epoch.Add(limit)
	for n.queue.Len() > 0 {
		next := n.queue[0]
		if next.at.After(end) {
			n.now = end
			return fmt.Errorf("%w (%v)", ErrTimeLimit, limit)
		}
		heap.Pop(&n.queue)
		if next.at.After(n.now) {
			n.now = next.at
		}
		next.fn()
	}
	return nil
}

func (n *Network) schedule(at time.Time, fn func()) {
	if at.Before(n.now) {
		at = n.now
	}
	n.order++
	heap.Push(&n.queue, &item{at: at, order: n.order, fn: fn})
}

func (n *Network) record(e trace.Event) {
	if n.cfg.DiscardEvents {
		return
	}
	e.At = n.Elapsed()
	n.events = append(n.events, e)
}

// note records free text about the run.
func (n *Network) note(text string) { n.record(trace.Event{Kind: trace.Note, Text: text}) }

func (n *Network) hostWithAddr(a netip.Addr) *Host {
	for _, h := range n.hosts {
		if h.addr == a {
			return h
		}
	}
	return nil
}

// item is one scheduled piece of work.
type item struct {
	at    time.Time
	order uint64
	fn    func()
}

// eventQueue is a min-heap of items by time, then insertion order.
type eventQueue []*item

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].order < q[j].order
	}
	return q[i].at.Before(q[j].at)
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*item)) }
func (q *eventQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return it
}

// Inject puts a crafted segment on the wire from one host to another, as
// if from's port srcPort had sent it: it crosses the link (and its
// faults) like any other. The scenarios use it for an old duplicate SYN.
func (n *Network) Inject(from, to *Host, srcPort, dstPort uint16, seg tcp.Segment) {
	from.transmit(netip.AddrPortFrom(from.addr, srcPort), netip.AddrPortFrom(to.addr, dstPort), seg, tcp.Closed)
}
