package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// Host is a simulated host with one address: a minimal TCP host that
// owns its connections and demultiplexes arriving segments to them.
type Host struct {
	net       *Network
	name      string
	addr      netip.Addr
	cfg       *tcp.Config
	conns     map[tuple]*Conn
	order     []*Conn // live connections in creation order
	listeners map[uint16]bool
	onEvent   func(*Conn, tcp.Events)
	down      bool
	nextPort  uint16
	stats     HostStats
}

// HostStats counts what a host saw.
type HostStats struct {
	PacketsSent, PacketsReceived uint64
	ChecksumErrors               uint64 // arrived corrupted and discarded
	ResetsForNoConnection        uint64 // RSTs sent for segments to no connection
	DroppedWhileDown             uint64 // arrived while the host had crashed
	PayloadBytesLost             uint64 // TCP payload bytes this host sent that the links' random loss dropped
	QueueDrops                   uint64 // packets this host sent that a full link queue dropped (LinkConfig.QueueBytes)
	PayloadBytesQueueDropped     uint64 // their TCP payload bytes
}

type tuple struct{ local, remote netip.AddrPort }

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.addr }

// Stats returns the host's counters.
func (h *Host) Stats() HostStats { return h.stats }

// OnEvent sets the function called with a connection's application
// events after each engine call that produced some (at the same virtual
// instant, but after that call has returned). A passive connection
// reporting tcp.EventEstablished is how the application accepts it.
func (h *Host) OnEvent(fn func(c *Conn, ev tcp.Events)) { h.onEvent = fn }

// Conns returns the live connections (not yet CLOSED), oldest first.
func (h *Host) Conns() []*Conn { return append([]*Conn(nil), h.order...) }

// Listen accepts connections on port: each SYN to it spawns a connection,
// as a real stack's listening socket does.
func (h *Host) Listen(port uint16) error {
	if h.listeners[port] {
		return fmt.Errorf("sim: %s: port %d is already listening", h.name, port)
	}
	h.listeners[port] = true
	h.net.record(trace.Event{Kind: trace.AppCall, Host: h.name, Text: fmt.Sprintf("listen(%d)", port)})
	h.net.record(trace.Event{Kind: trace.StateChanged, Host: h.name, From: tcp.Closed, To: tcp.Listen})
	return nil
}

// Dial opens a connection to remote now. localPort 0 picks a free port
// from 40000 up.
func (h *Host) Dial(localPort uint16, remote netip.AddrPort) (*Conn, error) {
	if localPort == 0 {
		for h.listeners[h.nextPort] || h.portInUse(h.nextPort) {
			h.nextPort++
		}
		localPort = h.nextPort
		h.nextPort++
	}
	t := tuple{netip.AddrPortFrom(h.addr, localPort), remote}
	if _, busy := h.conns[t]; busy {
		return nil, fmt.Errorf("sim: %s: %v to %v is in use", h.name, t.local, remote)
	}
	c := h.newConn(t)
	h.net.record(trace.Event{Kind: trace.AppCall, Host: h.name, Text: fmt.Sprintf("connect(%v)", remote)})
	err := c.tcp.Connect(h.net.now)
	h.flush(c)
	return c, err
}

func (h *Host) portInUse(port uint16) bool {
	for t := range h.conns {
		if t.local.Port() == port {
			return true
		}
	}
	return false
}

func (h *Host) newConn(t tuple) *Conn {
	c := &Conn{host: h, local: t.local, remote: t.remote}
	c.tcp = tcp.NewConn(h.cfg, h.net.isn.ISN(t.local, t.remote, h.net.now))
	c.tcp.SetObserver(h)
	h.conns[t] = c
	h.order = append(h.order, c)
	return c
}

func (h *Host) remove(c *Conn) {
	t := tuple{c.local, c.remote}
	if h.conns[t] == c {
		delete(h.conns, t)
	}
	for i, o := range h.order {
		if o == c {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
}

// Crash makes the host vanish: its connections are forgotten without a
// word and packets to it are lost, until Reboot.
func (h *Host) Crash() {
	h.down = true
	h.conns = make(map[tuple]*Conn)
	h.order = nil
	h.net.note(h.name + " crashed")
}

// Reboot brings a crashed host back with no connections and no
// listeners: segments to it are answered with RSTs.
func (h *Host) Reboot() {
	h.down = false
	h.listeners = make(map[uint16]bool)
	h.net.note(h.name + " rebooted")
}

// StateChanged implements tcp.Observer.
func (h *Host) StateChanged(c *tcp.Conn, from, to tcp.State) {
	h.net.record(trace.Event{Kind: trace.StateChanged, Host: h.name, From: from, To: to})
}

// TimerFired implements tcp.Observer.
func (h *Host) TimerFired(c *tcp.Conn, t tcp.Timer) {
	h.net.record(trace.Event{Kind: trace.TimerFired, Host: h.name, Timer: t})
}

// flush hands what an engine call produced to the network: outgoing
// segments to the link, events to the application, the next deadline to
// the queue.
func (h *Host) flush(c *Conn) {
	state := c.tcp.State()
	for _, seg := range c.tcp.Outgoing() {
		h.transmit(c.local, c.remote, seg, state)
	}
	ev := c.tcp.Events()
	if ev&(tcp.EventReset|tcp.EventTimedOut) != 0 {
		h.net.note(fmt.Sprintf("%s: %v", h.name, c.tcp.Err()))
	}
	if ev&tcp.EventClosed != 0 {
		h.remove(c)
	}
	h.scheduleTimer(c)
	if ev != 0 && h.onEvent != nil {
		// Delivered from the queue, not from inside the call that caused
		// them, so an application never re-enters itself.
		h.net.schedule(h.net.now, func() { h.onEvent(c, ev) })
	}
}

func (h *Host) scheduleTimer(c *Conn) {
	d := c.tcp.Deadline()
	if d.Equal(c.deadline) {
		return
	}
	c.deadline = d
	if d.IsZero() {
		return
	}
	h.net.schedule(d, func() {
		if !c.deadline.Equal(d) || h.conns[tuple{c.local, c.remote}] != c {
			return // superseded, or the connection is gone
		}
		c.deadline = time.Time{}
		c.tcp.HandleTimer(h.net.now)
		h.flush(c)
	})
}

// transmit builds seg into a packet from src to dst and puts it on the
// link toward dst, applying faults.
func (h *Host) transmit(src, dst netip.AddrPort, seg tcp.Segment, state tcp.State) {
	n := h.net
	hdr := seg.Header(src.Port(), dst.Port())
	pkt := make([]byte, wire.IPv6HeaderLen+wire.TCPMinHeaderLen+wire.TCPMaxOptionsLen+len(seg.Payload))
	size, err := wire.BuildTCPPacket(pkt, src.Addr(), dst.Addr(), 64, &hdr, seg.Payload)
	if err != nil {
		n.note(fmt.Sprintf("%s could not build a packet: %v", h.name, err))
		return
	}
	pkt = pkt[:size]
	if !n.cfg.DiscardEvents {
		seg.Payload = append([]byte(nil), seg.Payload...) // the trace keeps it
	}
	n.nextID++
	id := n.nextID
	h.stats.PacketsSent++
	sent := trace.Event{Kind: trace.SegmentSent, Host: h.name, ID: id, Segment: seg}
	if n.cfg.KeepPackets {
		sent.Packet = pkt
	}
	n.record(sent)

	to := n.hostWithAddr(dst.Addr())
	l := n.links[linkKey{h, to}]
	if to == nil || l == nil {
		n.record(trace.Event{Kind: trace.SegmentDropped, Host: dst.Addr().String(), ID: id, Segment: seg})
		return
	}
	var extra time.Duration
	dup, corrupt := false, false
	for _, f := range n.faults {
		if !f.Selector.matchesSegment(h.name, state, &seg) {
			continue
		}
		f.seen++
		if !f.Selector.inCount(f.seen) {
			continue
		}
		n.note(fmt.Sprintf("fault %v applied", f.Fault))
		switch f.Action {
		case Drop:
			n.record(trace.Event{Kind: trace.SegmentDropped, Host: to.name, ID: id, Segment: seg})
			return
		case Delay:
			extra += f.Delay
		case Duplicate:
			dup = true
		case Corrupt:
			corrupt = true
		}
	}
	if l.chance(l.Loss) {
		h.stats.PayloadBytesLost += uint64(len(seg.Payload))
		n.record(trace.Event{Kind: trace.SegmentDropped, Host: to.name, ID: id, Segment: seg})
		return
	}
	dup = dup || l.chance(l.Duplicate)
	corrupt = corrupt || l.chance(l.Corrupt)
	if l.chance(l.Reorder) {
		extra += time.Duration(l.rng.Int64N(int64(2*l.Delay + time.Millisecond)))
	}
	if corrupt {
		pkt = append([]byte(nil), pkt...)
		bit := l.rng.IntN(len(pkt) * 8)
		pkt[bit/8] ^= 1 << (bit % 8)
	}
	h.send(to, l, id, seg, pkt, extra)
	if dup {
		n.nextID++
		dupID := n.nextID
		n.record(trace.Event{Kind: trace.SegmentDuplicated, Host: h.name, ID: id, Dup: dupID, Segment: seg})
		h.send(to, l, dupID, seg, pkt, extra)
	}
}

func (h *Host) send(to *Host, l *link, id int, seg tcp.Segment, pkt []byte, extra time.Duration) {
	if !l.admit(h.net.now, len(pkt)) {
		h.stats.QueueDrops++
		h.stats.PayloadBytesQueueDropped += uint64(len(seg.Payload))
		h.net.record(trace.Event{Kind: trace.SegmentDropped, Host: to.name, ID: id, Segment: seg, Text: "queue full"})
		return
	}
	at := l.arrival(h.net.now, len(pkt)).Add(extra)
	h.net.schedule(at, func() {
		l.stats.Delivered++
		l.stats.DeliveredBytes += uint64(len(pkt))
		to.receive(id, seg, pkt)
	})
}

// receive handles a packet arriving at h.
func (h *Host) receive(id int, sent tcp.Segment, pkt []byte) {
	n := h.net
	if h.down {
		h.stats.DroppedWhileDown++
		n.record(trace.Event{Kind: trace.SegmentDropped, Host: h.name, ID: id, Segment: sent, Text: "host down"})
		return
	}
	h.stats.PacketsReceived++
	ip, hdr, payload, err := wire.ParseTCPPacket(pkt)
	if err != nil {
		h.stats.ChecksumErrors++
		n.record(trace.Event{Kind: trace.SegmentCorrupted, Host: h.name, ID: id, Segment: sent, Text: err.Error()})
		return
	}
	delivered := trace.Event{Kind: trace.SegmentDelivered, Host: h.name, ID: id, Segment: sent}
	if n.cfg.KeepPackets {
		delivered.Packet = pkt
	}
	n.record(delivered)
	seg := tcp.SegmentFromHeader(&hdr, payload)
	local := netip.AddrPortFrom(ip.Dst, hdr.DstPort)
	remote := netip.AddrPortFrom(ip.Src, hdr.SrcPort)
	t := tuple{local, remote}
	c := h.conns[t]
	if c == nil && h.listeners[local.Port()] && seg.Flags.Has(wire.FlagSYN) && !seg.Flags.Has(wire.FlagACK) {
		c = h.newConn(t)
		c.tcp.SetObserver(nil) // the spawned child's CLOSED→LISTEN is not news
		c.tcp.Listen()
		c.tcp.SetObserver(h)
	}
	if c == nil {
		if rst, ok := tcp.ResetFor(&seg); ok {
			h.stats.ResetsForNoConnection++
			h.transmit(local, remote, rst, tcp.Closed)
		}
		return
	}
	c.tcp.Input(&seg, n.now)
	if c.tcp.State() == tcp.Listen {
		// A spawned connection reset back to LISTEN is discarded: the
		// listening port itself goes on listening.
		h.flush(c)
		h.remove(c)
		return
	}
	h.flush(c)
}
