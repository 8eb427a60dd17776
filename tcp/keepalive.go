package tcp

import (
	"time"

	"github.com/seqack/seqack/wire"
)

// Keepalive configures keepalive probes (RFC 1122 §4.2.3.6): after Idle
// with nothing heard from the peer, a probe is sent every Interval; after
// Count probes go unanswered the connection fails with ErrTimedOut. Zero
// fields take Linux's defaults (2 h, 75 s, 9).
type Keepalive struct {
	Idle, Interval time.Duration
	Count          int
}

// keepalive is a connection's keepalive state, allocated only when
// keepalive is on.
type keepalive struct {
	Keepalive
	probes int // sent since the peer was last heard from
}

// SetKeepalive turns keepalive probes on with the given settings, or off
// with nil.
func (c *Conn) SetKeepalive(k *Keepalive, now time.Time) {
	if k == nil {
		c.ka = nil
		c.kaTimer.stop()
		return
	}
	c.ka = &keepalive{Keepalive: Keepalive{
		Idle:     orDefault(k.Idle, DefaultKeepaliveIdle),
		Interval: orDefault(k.Interval, DefaultKeepaliveInterval),
		Count:    orDefault(k.Count, DefaultKeepaliveCount),
	}}
	c.restartIdle(now)
}

// keepaliveState reports whether keepalive probes apply in the current
// state: once synchronized, until TIME_WAIT.
func (c *Conn) keepaliveState() bool {
	return c.ka != nil && c.state.Synchronized() && c.state != SynReceived && c.state != TimeWait
}

// heardFromPeer notes that a segment arrived: it answers the zero-window
// probes sent so far, unless the connection is orphaned (see
// probeWindow), and restarts the keepalive idle period.
func (c *Conn) heardFromPeer(now time.Time) {
	if !c.orphan {
		c.probes = 0
	}
	c.restartIdle(now)
}

// restartIdle starts the keepalive idle period again: a segment arrived,
// or keepalive was just turned on.
func (c *Conn) restartIdle(now time.Time) {
	if !c.keepaliveState() {
		c.kaTimer.stop()
		return
	}
	c.ka.probes = 0
	c.kaTimer.set(c.at(now.Add(c.ka.Idle)))
}

// keepaliveTimeout sends a probe, or gives up after Count unanswered
// ones. While data is outstanding the retransmission timer watches the
// peer instead, as in Linux.
func (c *Conn) keepaliveTimeout(now time.Time) {
	if !c.keepaliveState() {
		return
	}
	if c.sndUna != c.sndMax || c.persist.running() {
		c.kaTimer.set(c.at(now.Add(c.ka.Idle)))
		return
	}
	if c.ka.probes >= c.ka.Count {
		// A RST tells a peer that comes back that the connection is
		// gone (RFC 1122 §4.2.3.6 leaves it open; Linux and gVisor send
		// one), as Abort sends it.
		c.emit(Segment{Seq: c.sndMax, Flags: wire.FlagRST | wire.FlagACK})
		c.count(timeOuts)
		c.enterClosed(ErrTimedOut, EventTimedOut)
		return
	}
	// The probe carries SEG.SEQ = SND.NXT-1, an old sequence number that
	// obliges the peer to answer with an ACK (RFC 1122 §4.2.3.6).
	c.emit(Segment{Seq: c.sndMax - 1, Flags: wire.FlagACK})
	c.ka.probes++
	c.kaTimer.set(c.at(now.Add(c.ka.Interval)))
}
