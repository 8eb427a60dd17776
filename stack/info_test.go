package stack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seqack/seqack/stack"
	"github.com/seqack/seqack/tcp"
)

// Info.String prints the delivery rate and min RTT as ss -ti does: rates
// in bits per second with three significant digits and a unit, the
// app_limited flag after the rate it qualifies, minrtt in milliseconds.
func TestInfoStringRates(t *testing.T) {
	conn := func(rate uint64, appLimited bool, minRTT time.Duration) stack.Info {
		i := stack.Info{State: tcp.Established}
		i.RTO, i.MSS, i.SendScale = 200*time.Millisecond, 1448, -1
		i.DeliveryRate, i.DeliveryRateAppLimited, i.MinRTT = rate, appLimited, minRTT
		return i
	}
	for _, c := range []struct {
		name string
		info stack.Info
		want string // a part of the line
		not  string // not a part of it
	}{
		{"gigabits", conn(150_000_000, false, 0), " delivery_rate 1.2Gbps", "app_limited"},
		{"megabits", conn(1_234_567, false, 0), " delivery_rate 9.88Mbps", ""},
		{"kilobits", conn(1250, false, 0), " delivery_rate 10kbps", ""},
		{"bits", conn(100, false, 0), " delivery_rate 800bps", ""},
		{"app-limited", conn(12_500_000, true, 0), " delivery_rate 100Mbps app_limited", ""},
		{"no sample yet", conn(0, false, 0), "", "delivery_rate"},
		{"min RTT", conn(0, false, 50*time.Microsecond), " minrtt:0.05", ""},
		{"pacing", func() stack.Info { i := conn(150_000_000, false, 0); i.PacingRate = 300_000_000; return i }(), " pacing_rate 2.4Gbps delivery_rate 1.2Gbps", ""},
		{"unpaced", conn(150_000_000, false, 0), "", "pacing_rate"},
		{"no min RTT yet", conn(0, false, 0), "", "minrtt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.info.String()
			if !strings.Contains(s, c.want) || c.not != "" && strings.Contains(s, c.not) {
				t.Errorf("%q: want %q in it and not %q", s, c.want, c.not)
			}
		})
	}
}
