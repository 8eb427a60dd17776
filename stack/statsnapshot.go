package stack

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/seqack/seqack/tcp"
)

// StatsSnapshot holds the values of a stack's Stats at one moment, as
// plain numbers: fields of the same names, and TCP's as
// tcp.CounterValues.
type StatsSnapshot struct {
	PacketsReceived, PacketsSent uint64
	PacketsFramed                uint64
	MalformedPackets             uint64
	BadChecksums                 uint64
	NotForUs                     uint64
	ResetsSent                   uint64
	ListenOverflows              uint64
	EchoRequests                 uint64
	SendErrors                   uint64
	ICMPErrorsReceived           uint64
	ICMPErrorsIgnored            uint64
	UnknownProtocol              uint64
	TimeWaitOverflows            uint64
	SynCookiesSent               uint64
	SynCookiesAccepted           uint64
	SynCookiesIgnored            uint64
	ConnectionLimitDrops         uint64
	OrphanOverflows              uint64
	OrphanMemoryOverflows        uint64
	EchoRequestsSent             uint64
	EchoRepliesReceived          uint64
	EchoRepliesUnclaimed         uint64
	PingReceiveQueueDrops        uint64
	TCP                          tcp.CounterValues
	UDP                          UDPStatsSnapshot
	Frag                         FragStatsSnapshot
}

// FragStatsSnapshot is FragStats as plain numbers (see Stats.Snapshot).
type FragStatsSnapshot struct {
	FragmentsReceived, Reassembled        uint64
	FragmentsDropped                      uint64
	Timeouts, Overlaps, Duplicates        uint64
	Malformed, Evictions                  uint64
	TooManyFragments                      uint64
	DatagramsFragmented, FragmentsCreated uint64
}

// UDPStatsSnapshot is UDPStats as plain numbers (see Stats.Snapshot).
type UDPStatsSnapshot struct {
	DatagramsReceived, DatagramsSent uint64
	NoPort, Malformed, BadChecksums  uint64
	ReceiveBufferDrops               uint64
}

// Snapshot returns the counters' values. Each is read atomically; the
// set is not one instant's, as the stack works while it is read.
func (st *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		PacketsReceived:       st.PacketsReceived.Load(),
		PacketsSent:           st.PacketsSent.Load(),
		PacketsFramed:         st.PacketsFramed.Load(),
		MalformedPackets:      st.MalformedPackets.Load(),
		BadChecksums:          st.BadChecksums.Load(),
		NotForUs:              st.NotForUs.Load(),
		ResetsSent:            st.ResetsSent.Load(),
		ListenOverflows:       st.ListenOverflows.Load(),
		EchoRequests:          st.EchoRequests.Load(),
		SendErrors:            st.SendErrors.Load(),
		ICMPErrorsReceived:    st.ICMPErrorsReceived.Load(),
		ICMPErrorsIgnored:     st.ICMPErrorsIgnored.Load(),
		UnknownProtocol:       st.UnknownProtocol.Load(),
		TimeWaitOverflows:     st.TimeWaitOverflows.Load(),
		SynCookiesSent:        st.SynCookiesSent.Load(),
		SynCookiesAccepted:    st.SynCookiesAccepted.Load(),
		SynCookiesIgnored:     st.SynCookiesIgnored.Load(),
		ConnectionLimitDrops:  st.ConnectionLimitDrops.Load(),
		OrphanOverflows:       st.OrphanOverflows.Load(),
		OrphanMemoryOverflows: st.OrphanMemoryOverflows.Load(),
		EchoRequestsSent:      st.EchoRequestsSent.Load(),
		EchoRepliesReceived:   st.EchoRepliesReceived.Load(),
		EchoRepliesUnclaimed:  st.EchoRepliesUnclaimed.Load(),
		PingReceiveQueueDrops: st.PingReceiveQueueDrops.Load(),
		TCP:                   st.TCP.Snapshot(),
		UDP: UDPStatsSnapshot{
			DatagramsReceived:  st.UDP.DatagramsReceived.Load(),
			DatagramsSent:      st.UDP.DatagramsSent.Load(),
			NoPort:             st.UDP.NoPort.Load(),
			Malformed:          st.UDP.Malformed.Load(),
			BadChecksums:       st.UDP.BadChecksums.Load(),
			ReceiveBufferDrops: st.UDP.ReceiveBufferDrops.Load(),
		},
		Frag: FragStatsSnapshot{
			FragmentsReceived:   st.Frag.FragmentsReceived.Load(),
			Reassembled:         st.Frag.Reassembled.Load(),
			FragmentsDropped:    st.Frag.FragmentsDropped.Load(),
			Timeouts:            st.Frag.Timeouts.Load(),
			Overlaps:            st.Frag.Overlaps.Load(),
			Duplicates:          st.Frag.Duplicates.Load(),
			Malformed:           st.Frag.Malformed.Load(),
			Evictions:           st.Frag.Evictions.Load(),
			TooManyFragments:    st.Frag.TooManyFragments.Load(),
			DatagramsFragmented: st.Frag.DatagramsFragmented.Load(),
			FragmentsCreated:    st.Frag.FragmentsCreated.Load(),
		},
	}
}

// String prints the counters that are not zero, one "Name value" a
// line as nstat does, TCP's named "TCP.Name", UDP's "UDP.Name" and
// the fragments' "Frag.Name".
func (v StatsSnapshot) String() string {
	var b strings.Builder
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Uint64 && f.Uint() != 0 {
			fmt.Fprintf(&b, "%s %d\n", rv.Type().Field(i).Name, f.Uint())
		}
	}
	for _, g := range []struct {
		name  string
		group any
	}{{"UDP", v.UDP}, {"Frag", v.Frag}} {
		rg := reflect.ValueOf(g.group)
		for i := 0; i < rg.NumField(); i++ {
			if f := rg.Field(i); f.Uint() != 0 {
				fmt.Fprintf(&b, "%s.%s %d\n", g.name, rg.Type().Field(i).Name, f.Uint())
			}
		}
	}
	for _, line := range strings.SplitAfter(v.TCP.String(), "\n") {
		if line != "" {
			b.WriteString("TCP." + line)
		}
	}
	return b.String()
}
