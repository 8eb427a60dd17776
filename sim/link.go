package sim

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"time"
)

// LinkConfig describes one direction of a link.
type LinkConfig struct {
	// Delay is the one-way propagation delay; Jitter adds a uniform
	// random 0..Jitter to each packet.
	Delay, Jitter time.Duration
	// Bandwidth in bits per second; 0 means infinite (no serialization
	// delay and no queue).
	Bandwidth int64
	// QueueBytes bounds the bottleneck queue of a link with a Bandwidth:
	// a packet that would bring the bytes waiting for or in transmission
	// above it is dropped (drop-tail), counted in the sender's
	// HostStats.QueueDrops and the link's LinkStats, and traced as a
	// SegmentDropped with the text "queue full". 0 means no limit.
	QueueBytes int
	// Loss, Duplicate, Reorder and Corrupt are per-packet probabilities
	// from 0 to 1. A reordered packet is held back by up to 2×Delay+1ms.
	Loss, Duplicate, Reorder, Corrupt float64
}

// LinkStats counts what one direction of a link carried. Differences of
// two snapshots (Sub) measure a window of time.
type LinkStats struct {
	// Packets and Bytes count the packets the link took on (not the
	// ones its queue or random loss dropped), IP headers included.
	Packets, Bytes uint64
	// Delivered and DeliveredBytes count the packets that reached the
	// far end, at the instant they did: over a window, DeliveredBytes
	// is what the link carried (its utilisation).
	Delivered, DeliveredBytes uint64
	// QueueDrops and QueueDropBytes count what a full queue dropped.
	QueueDrops, QueueDropBytes uint64
	// QueueDelay is the sum over Packets of each packet's wait for the
	// transmitter (not its own serialization nor the propagation delay):
	// QueueDelay/Packets is the mean queueing delay.
	QueueDelay time.Duration
	// MaxQueueBytes is the most bytes ever waiting for or in
	// transmission as a packet arrived, that packet included.
	MaxQueueBytes int
}

// Sub returns the counts of s since the earlier snapshot o; MaxQueueBytes
// stays s's.
func (s LinkStats) Sub(o LinkStats) LinkStats {
	s.Packets -= o.Packets
	s.Bytes -= o.Bytes
	s.Delivered -= o.Delivered
	s.DeliveredBytes -= o.DeliveredBytes
	s.QueueDrops -= o.QueueDrops
	s.QueueDropBytes -= o.QueueDropBytes
	s.QueueDelay -= o.QueueDelay
	return s
}

// MeanQueueDelay is QueueDelay/Packets, 0 with no packets.
func (s LinkStats) MeanQueueDelay() time.Duration {
	if s.Packets == 0 {
		return 0
	}
	return s.QueueDelay / time.Duration(s.Packets)
}

type linkKey struct{ from, to *Host }

// link is one direction of a link: its characteristics, its random
// source, when its transmitter is next free, and its counters.
type link struct {
	LinkConfig
	rng       *rand.Rand
	busyUntil time.Time
	stats     LinkStats
}

func newLink(l LinkConfig, seed int64, index int) *link {
	return &link{LinkConfig: l, rng: rand.New(rand.NewPCG(uint64(seed), uint64(index)+1))}
}

// backlog returns the bytes waiting for or in transmission at now, as
// the transmitter's busy time left at the link's bandwidth.
func (l *link) backlog(now time.Time) int {
	if l.Bandwidth <= 0 || !l.busyUntil.After(now) {
		return 0
	}
	// busy·bandwidth/8 s in 128 bits, rounded up: a packet partly sent
	// still holds its place.
	hi, lo := bits.Mul64(uint64(l.busyUntil.Sub(now)), uint64(l.Bandwidth))
	const unit = 8 * uint64(time.Second)
	if hi >= unit {
		return math.MaxInt / 2
	}
	q, r := bits.Div64(hi, lo, unit)
	if r != 0 {
		q++
	}
	return int(min(q, math.MaxInt/2))
}

// admit says whether a packet of size bytes handed to the link at now
// fits its queue, counting it either way.
func (l *link) admit(now time.Time, size int) bool {
	q := l.backlog(now) + size
	if l.QueueBytes > 0 && l.Bandwidth > 0 && q > l.QueueBytes {
		l.stats.QueueDrops++
		l.stats.QueueDropBytes += uint64(size)
		return false
	}
	l.stats.Packets++
	l.stats.Bytes += uint64(size)
	l.stats.MaxQueueBytes = max(l.stats.MaxQueueBytes, q)
	return true
}

// arrival returns when a packet of size bytes handed to the link at now
// arrives, before random effects: it waits for the transmitter, takes its
// serialization time, then the propagation delay.
func (l *link) arrival(now time.Time, size int) time.Time {
	start := now
	if l.busyUntil.After(start) {
		start = l.busyUntil
	}
	l.stats.QueueDelay += start.Sub(now)
	if l.Bandwidth > 0 {
		start = start.Add(time.Duration(int64(size) * 8 * int64(time.Second) / l.Bandwidth))
		l.busyUntil = start
	}
	at := start.Add(l.Delay)
	if l.Jitter > 0 {
		at = at.Add(time.Duration(l.rng.Int64N(int64(l.Jitter) + 1)))
	}
	return at
}

func (l *link) chance(p float64) bool { return p > 0 && l.rng.Float64() < p }
