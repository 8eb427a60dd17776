package tcp

import (
	"fmt"
	"reflect"
	"strings"
)

// CounterValues are the values of Counters at one moment: plain numbers,
// to copy, compare and print (Counters holds atomics, which go vet
// rightly forbids copying).
type CounterValues struct {
	ActiveOpens         uint64
	PassiveOpens        uint64
	SegmentsReceived    uint64
	SegmentsSent        uint64
	Retransmissions     uint64
	ResetsReceived      uint64
	ResetsSent          uint64
	OutOfWindow         uint64
	ChallengeACKs       uint64
	ChallengeLimited    uint64
	UnacceptableLimited uint64
	TimeOuts            uint64
	SpuriousTimeouts    uint64
	BlackHoles          uint64
	PMTUProbes          uint64
	PMTUProbesSucceeded uint64
	RACKLosses          uint64
	TLPProbes           uint64
	TLPRecoveries       uint64
}

// Snapshot returns the counters' values. Each is read atomically; the
// set is not one instant's, as the counters move while it is read.
func (k *Counters) Snapshot() CounterValues {
	return CounterValues{
		ActiveOpens:         k.ActiveOpens.Load(),
		PassiveOpens:        k.PassiveOpens.Load(),
		SegmentsReceived:    k.SegmentsReceived.Load(),
		SegmentsSent:        k.SegmentsSent.Load(),
		Retransmissions:     k.Retransmissions.Load(),
		ResetsReceived:      k.ResetsReceived.Load(),
		ResetsSent:          k.ResetsSent.Load(),
		OutOfWindow:         k.OutOfWindow.Load(),
		ChallengeACKs:       k.ChallengeACKs.Load(),
		ChallengeLimited:    k.ChallengeLimited.Load(),
		UnacceptableLimited: k.UnacceptableLimited.Load(),
		TimeOuts:            k.TimeOuts.Load(),
		SpuriousTimeouts:    k.SpuriousTimeouts.Load(),
		BlackHoles:          k.BlackHoles.Load(),
		PMTUProbes:          k.PMTUProbes.Load(),
		PMTUProbesSucceeded: k.PMTUProbesSucceeded.Load(),
		RACKLosses:          k.RACKLosses.Load(),
		TLPProbes:           k.TLPProbes.Load(),
		TLPRecoveries:       k.TLPRecoveries.Load(),
	}
}

// String prints the counters that are not zero, one "Name value" a line,
// as nstat does.
func (v CounterValues) String() string {
	var b strings.Builder
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Uint64 && f.Uint() != 0 {
			fmt.Fprintf(&b, "%s %d\n", rv.Type().Field(i).Name, f.Uint())
		}
	}
	return b.String()
}
