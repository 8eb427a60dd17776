package stack

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Info describes one socket of a stack — a connection, a TIME_WAIT
// record or a listener — the way `ss -tni` does. For TIME_WAIT records
// and listeners only State, Local, Remote and the queues are filled in;
// a listener's SendQueue is its backlog and ReceiveQueue the connections
// waiting to be accepted, as ss shows them.
type Info struct {
	State         tcp.State
	Local, Remote netip.AddrPort
	// DualStack marks a listener on IPv4 and IPv6 both ("tcp" on an
	// unspecified address); its Local is [::]:port, and ss shows it as
	// *:port.
	DualStack bool
	tcp.Stats
}

// Info returns the connection's state and counters.
func (c *Conn) Info() Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Info{State: c.tcb.State(), Local: c.local, Remote: c.remote, Stats: c.tcb.Stats()}
}

// Connections returns every socket of the stack: listeners, connections
// and TIME_WAIT records, sorted by state, then local and remote address.
func (s *Stack) Connections() []Info {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	infos := make([]Info, 0, len(s.conns)+len(s.timeWaits)+len(s.listeners))
	for _, e := range s.timeWaits {
		infos = append(infos, Info{State: tcp.TimeWait, Local: e.t.local, Remote: e.t.remote})
	}
	for _, l := range s.listeners {
		info := Info{State: tcp.Listen, Local: l.AddrPort(), DualStack: l.dual}
		info.SendQueue, info.ReceiveQueue = cap(l.queue), len(l.queue)
		infos = append(infos, info)
	}
	s.mu.Unlock()
	for _, c := range conns { // outside s.mu: c.mu comes first in the lock order
		infos = append(infos, c.Info())
	}
	slices.SortFunc(infos, func(a, b Info) int {
		if a.State != b.State {
			return int(a.State) - int(b.State)
		}
		if c := a.Local.Compare(b.Local); c != 0 {
			return c
		}
		return a.Remote.Compare(b.Remote)
	})
	return infos
}

// String formats the socket as one line of `ss -tni`: state, queues,
// addresses, then the TCP details of a live connection (the congestion
// control's name first, as ss prints "cubic"), times in
// milliseconds as ss prints them (%g of whole microseconds; rtt left
// out before the first sample), rates in bits per second as ss prints
// them without -n (pacing_rate 2.4Gbps delivery_rate 1.2Gbps; none
// when there is none).
func (i Info) String() string {
	local, remote := i.Local.String(), "*:*"
	switch {
	case i.Remote.IsValid():
		remote = i.Remote.String()
	case i.DualStack:
		local = "*:" + strconv.Itoa(int(i.Local.Port()))
	case i.Local.Addr().Is4():
		remote = "0.0.0.0:*"
	case i.Local.Addr().Is6():
		remote = "[::]:*"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %6d %6d %s %s", i.State, i.ReceiveQueue, i.SendQueue, local, remote)
	if i.State == tcp.Listen || i.State == tcp.TimeWait || i.State == tcp.Closed {
		return b.String()
	}
	if i.CongestionControl != "" {
		b.WriteString(" " + i.CongestionControl)
	}
	if i.SendScale >= 0 {
		fmt.Fprintf(&b, " wscale:%d,%d", i.SendScale, i.ReceiveScale)
	}
	fmt.Fprintf(&b, " rto:%s", ssMillis(i.RTO))
	if i.SRTT > 0 {
		fmt.Fprintf(&b, " rtt:%s/%s", ssMillis(i.SRTT), ssMillis(i.RTTVar))
	}
	fmt.Fprintf(&b, " mss:%d bytes_sent:%d bytes_received:%d segs_out:%d segs_in:%d retrans:%d snd_wnd:%d rcv_wnd:%d",
		i.MSS, i.BytesSent, i.BytesReceived,
		i.SegmentsSent, i.SegmentsReceived, i.Retransmissions, i.SendWindow, i.ReceiveWindow)
	if i.PacingRate > 0 {
		fmt.Fprintf(&b, " pacing_rate %sbps", ssBandwidth(8*float64(i.PacingRate)))
	}
	if i.DeliveryRate > 0 {
		fmt.Fprintf(&b, " delivery_rate %sbps", ssBandwidth(8*float64(i.DeliveryRate)))
		if i.DeliveryRateAppLimited {
			b.WriteString(" app_limited")
		}
	}
	if i.MinRTT > 0 {
		fmt.Fprintf(&b, " minrtt:%s", ssMillis(i.MinRTT))
	}
	return b.String()
}

// ssBandwidth prints bits per second as ss prints rates without -n:
// three significant digits and a unit, 1.2G, 946M, 12.5k.
func ssBandwidth(bps float64) string {
	for _, u := range []struct {
		unit string
		size float64
	}{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}} {
		if bps >= u.size {
			return strconv.FormatFloat(bps/u.size, 'g', 3, 64) + u.unit
		}
	}
	return strconv.FormatFloat(bps, 'g', -1, 64)
}

// ssMillis prints d as ss prints tcp_info's times: microseconds divided
// by 1000, with C's %g (six significant digits, no exponent below 10^6
// ms): 1000, 204.5, 0.023.
func ssMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'g', 6, 64)
}
