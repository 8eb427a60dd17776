package sim

import (
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
	// Loss, Duplicate, Reorder and Corrupt are per-packet probabilities
	// from 0 to 1. A reordered packet is held back by up to 2×Delay+1ms.
	Loss, Duplicate, Reorder, Corrupt float64
}

type linkKey struct{ from, to *Host }

// link is one direction of a link: its characteristics, its random
// source, and when its transmitter is next free.
type link struct {
	LinkConfig
	rng       *rand.Rand
	busyUntil time.Time
}

func newLink(l LinkConfig, seed int64, index int) *link {
	return &link{LinkConfig: l, rng: rand.New(rand.NewPCG(uint64(seed), uint64(index)+1))}
}

// departure returns when a packet of size bytes handed to the link at now
// arrives, before random effects: it waits for the transmitter, takes its
// serialization time, then the propagation delay.
func (l *link) arrival(now time.Time, size int) time.Time {
	start := now
	if l.busyUntil.After(start) {
		start = l.busyUntil
	}
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
