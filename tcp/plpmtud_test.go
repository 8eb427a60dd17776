package tcp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seqack/seqack/tcp"
)

// Path MTU probing upwards (RFC 4821 §7, RFC 8899). The tables use a
// congestion control whose window stays at 8000 bytes, so that what is
// tested is the probing and nothing else, and which counts the
// congestion signals it is given.
type steadyCC struct{ window, congestions, timeouts int }

func (f *steadyCC) Window() int                               { return f.window }
func (f *steadyCC) SlowStartThreshold() int                   { return f.window }
func (f *steadyCC) Acked(int, time.Duration, time.Time)       {}
func (f *steadyCC) Congestion(int, time.Time)                 { f.congestions++ }
func (f *steadyCC) Timeout(int, time.Time)                    { f.timeouts++ }
func (f *steadyCC) Restart(time.Time)                         {}
func probingConfig(cc *steadyCC, k *tcp.Counters) *tcp.Config { return probingConfigOf(true, cc, k) }

func probingConfigOf(on bool, cc *steadyCC, k *tcp.Counters) *tcp.Config {
	cfg := plain(tcp.Config{DelayedAck: -1, Counters: k,
		CongestionControl: func(int) tcp.CongestionControl { return cc }}, withoutNagle)
	cfg.NoBlackHoleDetection = !on
	return cfg
}

// fallBack takes c through the black-hole fallback of
// TestBlackHoleDetection: three timeouts of a full segment, the MSS down
// to 1024, the data acknowledged.
func fallBack(c *testConn) {
	c.t.Helper()
	c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.do(step{call: "timer", out: []string{". 1001:2025(1024) ack 5001", "P. 2025:2461(436) ack 5001"}})
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535"})
}

func wantCounts(t *testing.T, k *tcp.Counters, probes, succeeded uint64) {
	t.Helper()
	if p, s := k.PMTUProbes.Load(), k.PMTUProbesSucceeded.Load(); p != probes || s != succeeded {
		t.Errorf("PMTUProbes %d, PMTUProbesSucceeded %d; want %d, %d", p, s, probes, succeeded)
	}
}

func wantMSS(t *testing.T, c *testConn, mss int) {
	t.Helper()
	if got := c.Stats().MSS; got != mss {
		t.Errorf("MSS %d, want %d", got, mss)
	}
}

// After the fallback, the first probe tests the full MSS: one segment of
// 1460 bytes with enough data behind it for three more at 1024 (so that
// its loss would show as duplicate ACKs). Its ACK brings the MSS back
// (RFC 4821 §7.6.1).
func TestPMTUProbeClimbsBack(t *testing.T) {
	cc, k := &steadyCC{window: 8000}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	fallBack(c)
	wantMSS(t, c, 1024)
	c.do(step{call: "write 6000", out: []string{
		". 2461:3921(1460) ack 5001", // the probe
		". 3921:4945(1024) ack 5001",
		". 4945:5969(1024) ack 5001",
		". 5969:6993(1024) ack 5001",
		". 6993:8017(1024) ack 5001",
		"P. 8017:8461(444) ack 5001",
	}})
	wantCounts(t, k, 1, 0)
	c.do(step{in: ". 5001:5001(0) ack 3921 win 65535"})
	wantMSS(t, c, 1460)
	wantCounts(t, k, 1, 1)
	c.do(step{in: ". 5001:5001(0) ack 8461 win 65535"})
	c.do(step{call: "write 2920", out: []string{". 8461:9921(1460) ack 5001", "P. 9921:11381(1460) ack 5001"}})
	// The search is over: no more probes.
	c.do(step{in: ". 5001:5001(0) ack 11381 win 65535"})
	c.do(step{call: "write 6000", out: []string{
		". 11381:12841(1460) ack 5001", ". 12841:14301(1460) ack 5001", ". 14301:15761(1460) ack 5001",
		". 15761:17221(1460) ack 5001", "P. 17221:17381(160) ack 5001",
	}})
	wantCounts(t, k, 1, 1)
	if cc.congestions != 0 || cc.timeouts != 3 {
		t.Errorf("%d congestion signals and %d timeouts, want 0 and the fallback's 3", cc.congestions, cc.timeouts)
	}
}

// A probe lost while the segments behind it arrive: the third duplicate
// ACK finds the loss, its size fails, and its data goes again at the
// current MSS, without a congestion signal (RFC 4821 §7.6.2). The next
// probe halves the range left: (1024+1459+1)/2 = 1242.
func TestPMTUProbeLost(t *testing.T) {
	cc, k := &steadyCC{window: 8000}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	fallBack(c)
	for _, s := range []step{
		{call: "write 6000", out: []string{
			". 2461:3921(1460) ack 5001",
			". 3921:4945(1024) ack 5001", ". 4945:5969(1024) ack 5001", ". 5969:6993(1024) ack 5001",
			". 6993:8017(1024) ack 5001", "P. 8017:8461(444) ack 5001",
		}},
		{in: ". 5001:5001(0) ack 2461 win 65535"},
		{in: ". 5001:5001(0) ack 2461 win 65535"},
		{in: ". 5001:5001(0) ack 2461 win 65535", out: []string{". 2461:3485(1024) ack 5001"}},
		// A partial ACK (RFC 6582): without SACK the sender cannot know
		// the rest of what it sent arrived, and resends a segment.
		{in: ". 5001:5001(0) ack 3485 win 65535", out: []string{". 3485:4509(1024) ack 5001"}},
		{in: ". 5001:5001(0) ack 8461 win 65535"},
		{call: "write 6000", out: []string{
			". 8461:9703(1242) ack 5001",
			". 9703:10727(1024) ack 5001", ". 10727:11751(1024) ack 5001", ". 11751:12775(1024) ack 5001",
			". 12775:13799(1024) ack 5001", "P. 13799:14461(662) ack 5001",
		}},
	} {
		c.do(s)
	}
	wantMSS(t, c, 1024)
	wantCounts(t, k, 2, 0)
	if cc.congestions != 0 || cc.timeouts != 3 {
		t.Errorf("%d congestion signals and %d timeouts, want 0 and the fallback's 3", cc.congestions, cc.timeouts)
	}
}

// A probe that a retransmission timeout covers has failed too, but the
// timeout stays one (RFC 4821 §7.6.3): the window's response is the
// congestion control's. The data goes again at the current MSS.
func TestPMTUProbeTimeout(t *testing.T) {
	cc, k := &steadyCC{window: 8000}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	fallBack(c)
	c.do(step{call: "write 6000", out: []string{
		". 2461:3921(1460) ack 5001",
		". 3921:4945(1024) ack 5001", ". 4945:5969(1024) ack 5001", ". 5969:6993(1024) ack 5001",
		". 6993:8017(1024) ack 5001", "P. 8017:8461(444) ack 5001",
	}})
	c.do(step{call: "timer", out: []string{ // from SND.UNA, as far as the (unchanging) window goes
		". 2461:3485(1024) ack 5001", ". 3485:4509(1024) ack 5001", ". 4509:5533(1024) ack 5001",
		". 5533:6557(1024) ack 5001", ". 6557:7581(1024) ack 5001", "P. 7581:8461(880) ack 5001",
	}})
	c.do(step{in: ". 5001:5001(0) ack 8461 win 65535"}) // everything but the probe had arrived
	wantMSS(t, c, 1024)
	wantCounts(t, k, 1, 0)
	if cc.timeouts != 4 {
		t.Errorf("%d timeouts, want 4", cc.timeouts)
	}
	// The next probe is smaller.
	c.do(step{call: "write 6000", out: []string{
		". 8461:9703(1242) ack 5001",
		". 9703:10727(1024) ack 5001", ". 10727:11751(1024) ack 5001", ". 11751:12775(1024) ack 5001",
		". 12775:13799(1024) ack 5001", "P. 13799:14461(662) ack 5001",
	}})
}

// An ICMP packet-too-big quoting the probe, with a size between the MSS
// and the probe's, caps the search (RFC 8899 §4.6.2): after the probe
// is found lost, the next halves 1024..1300, not 1024..1459.
func TestPMTUProbePacketTooBig(t *testing.T) {
	cc, k := &steadyCC{window: 8000}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	fallBack(c)
	c.do(step{call: "write 6000", out: []string{
		". 2461:3921(1460) ack 5001",
		". 3921:4945(1024) ack 5001", ". 4945:5969(1024) ack 5001", ". 5969:6993(1024) ack 5001",
		". 6993:8017(1024) ack 5001", "P. 8017:8461(444) ack 5001",
	}})
	if !c.PacketTooBig(1300, 2461, c.now) {
		t.Fatal("packet-too-big for the probe not believed")
	}
	c.out() // nothing is sent for it
	wantMSS(t, c, 1024)
	for range 3 {
		c.in(". 5001:5001(0) ack 2461 win 65535")
	}
	c.out(". 2461:3485(1024) ack 5001")
	c.in(". 5001:5001(0) ack 3485 win 65535")
	c.out(". 3485:4509(1024) ack 5001")
	c.in(". 5001:5001(0) ack 8461 win 65535")
	c.do(step{call: "write 6000", out: []string{
		". 8461:9623(1162) ack 5001",
		". 9623:10647(1024) ack 5001", ". 10647:11671(1024) ack 5001", ". 11671:12695(1024) ack 5001",
		". 12695:13719(1024) ack 5001", "P. 13719:14461(742) ack 5001",
	}})
}

// When no probe goes: the feature off, nothing lowered, too little data
// queued to follow the probe with three segments (1460 + 3×1024 = 4532
// bytes), a peer's window or a congestion window that cannot hold them.
func TestPMTUNoProbe(t *testing.T) {
	tests := []struct {
		name     string
		off      bool // NoBlackHoleDetection: the MSS is lowered by a packet-too-big instead
		lowered  bool
		window   int // the congestion window
		peerWin  int
		write    int
		firstLen int // the payload of the first segment the write sends
		sent     int // ... and of them all: probing holds nothing back
	}{
		{name: "probe", lowered: true, window: 8000, peerWin: 65535, write: 4532, firstLen: 1460, sent: 4532},
		{name: "feature off", off: true, lowered: true, window: 8000, peerWin: 65535, write: 6000, firstLen: 1024, sent: 6000},
		{name: "nothing lowered", window: 8000, peerWin: 65535, write: 6000, firstLen: 1460, sent: 6000},
		{name: "too little data", lowered: true, window: 8000, peerWin: 65535, write: 4531, firstLen: 1024, sent: 4531},
		{name: "peer's window", lowered: true, window: 8000, peerWin: 4531, write: 6000, firstLen: 1024, sent: 4 * 1024},
		{name: "congestion window", lowered: true, window: 4531, peerWin: 65535, write: 6000, firstLen: 1024, sent: 4 * 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, k := &steadyCC{window: tt.window}, &tcp.Counters{}
			c := openWith(t, probingConfigOf(!tt.off, cc, k))
			switch {
			case tt.lowered && tt.off:
				c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
				c.PacketTooBig(1024, 1001, c.now)
				c.out(". 1001:2025(1024) ack 5001", "P. 2025:2461(436) ack 5001")
				c.now = c.now.Add(time.Hour)
			case tt.lowered:
				fallBack(c)
			default:
				c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
			}
			c.in(fmt.Sprintf(". 5001:5001(0) ack 2461 win %d", tt.peerWin))
			c.Write(make([]byte, tt.write), c.now)
			out := c.Outgoing()
			if len(out) == 0 || len(out[0].Payload) != tt.firstLen {
				t.Fatalf("sent %v, want a first segment of %d bytes", out, tt.firstLen)
			}
			var sent int
			for _, s := range out {
				sent += len(s.Payload)
			}
			if sent != tt.sent {
				t.Errorf("sent %d bytes, want %d", sent, tt.sent)
			}
			if tt.firstLen == 1460 && tt.lowered {
				wantCounts(t, k, 1, 0)
			} else {
				wantCounts(t, k, 0, 0)
			}
		})
	}
}

// While the congestion window has no room for the probe yet, new data
// waits for the ACKs that make it, rather than fill it with segments of
// the old size; the probe then goes first.
func TestPMTUProbeWaitsForRoom(t *testing.T) {
	cc, k := &steadyCC{window: 5800}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	fallBack(c)
	for _, s := range []step{
		{call: "write 4531", out: []string{ // too little for a probe and three segments behind it
			". 2461:3485(1024) ack 5001", ". 3485:4509(1024) ack 5001", ". 4509:5533(1024) ack 5001",
			". 5533:6557(1024) ack 5001", "P. 6557:6992(435) ack 5001",
		}},
		{call: "write 8000"}, // room for 1024 bytes more, not for 1460
		{in: ". 5001:5001(0) ack 3485 win 65535", out: []string{". 6992:8452(1460) ack 5001"}},
		{in: ". 5001:5001(0) ack 4509 win 65535", out: []string{". 8452:9476(1024) ack 5001"}},
		{in: ". 5001:5001(0) ack 8452 win 65535", out: []string{
			". 9476:10936(1460) ack 5001", ". 10936:12396(1460) ack 5001", ". 12396:13856(1460) ack 5001",
		}},
	} {
		c.do(s)
	}
	wantMSS(t, c, 1460)
	wantCounts(t, k, 1, 1)
}

// mtuPath joins a sender and a receiver through a path that silently
// drops every segment carrying more than max bytes of payload: an ICMP
// black hole for anything larger. Segments cross it at once; time moves
// only to the next timer.
type mtuPath struct {
	t         *testing.T
	a, b      *tcp.Conn
	now       time.Time
	max       int // the most payload the path carries; 0: any
	largest   int // the largest payload the path carried
	maxMSS    int // the largest MSS the sender had after a segment crossed the path
	wrote     []byte
	read      []byte
	ssthreshs []int // every slow start threshold the sender had
}

func newMTUPath(t *testing.T, cfg *tcp.Config, max int) *mtuPath {
	peer := plain(tcp.Config{DelayedAck: -1})
	peer.NoSACK = cfg.NoSACK
	p := &mtuPath{t: t, now: epoch, max: max, a: tcp.NewConn(cfg, ourISS), b: tcp.NewConn(peer, peerISN)}
	p.b.Listen()
	p.a.Connect(p.now)
	p.shuttle()
	if p.a.State() != tcp.Established {
		t.Fatalf("sender in %v after the handshake", p.a.State())
	}
	return p
}

// shuttle carries segments both ways until none is left.
func (p *mtuPath) shuttle() {
	for moved := true; moved; {
		moved = false
		for _, s := range p.a.Outgoing() {
			moved = true
			if p.max != 0 && len(s.Payload) > p.max {
				continue // lost in the black hole
			}
			p.largest = max(p.largest, len(s.Payload))
			p.b.Input(&s, p.now)
		}
		for _, s := range p.b.Outgoing() {
			moved = true
			p.a.Input(&s, p.now)
		}
		p.maxMSS = max(p.maxMSS, p.a.Stats().MSS)
		if st := p.a.Stats(); len(p.ssthreshs) == 0 || p.ssthreshs[len(p.ssthreshs)-1] != st.SlowStartThreshold {
			p.ssthreshs = append(p.ssthreshs, st.SlowStartThreshold)
		}
	}
}

// transfer sends n bytes from a to b and waits until all are
// acknowledged and read back intact.
func (p *mtuPath) transfer(n int) {
	p.t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(len(p.wrote) + i)
	}
	buf := make([]byte, 1<<16)
	for range 100000 {
		k, _ := p.a.Write(data, p.now)
		p.wrote, data = append(p.wrote, data[:k]...), data[k:]
		p.shuttle()
		for {
			k, _ := p.b.Read(buf, p.now)
			if k == 0 {
				break
			}
			p.read = append(p.read, buf[:k]...)
		}
		p.shuttle()
		if len(data) == 0 && p.a.Stats().SendQueue == 0 {
			if string(p.read) != string(p.wrote) {
				p.t.Fatalf("read %d bytes that differ from the %d written", len(p.read), len(p.wrote))
			}
			return
		}
		if len(data) > 0 && p.a.Available() > 0 {
			continue // the ACKs made room for more
		}
		d := earliestDeadline(p.a, p.b)
		if d.IsZero() {
			p.t.Fatalf("stuck with %d bytes unsent and %d queued, in %v (%v)", len(data), p.a.Stats().SendQueue, p.a.State(), p.a.Err())
		}
		p.now = d
		p.a.HandleTimer(p.now)
		p.b.HandleTimer(p.now)
	}
	p.t.Fatal("the transfer did not finish")
}

func earliestDeadline(a, b *tcp.Conn) time.Time {
	da, db := a.Deadline(), b.Deadline()
	if da.IsZero() || (!db.IsZero() && db.Before(da)) {
		return db
	}
	return da
}

// A path that carries 1460-byte segments again after the fallback: the
// first probe, at the full MSS, gets it back.
func TestPMTUPathHeals(t *testing.T) {
	for _, sack := range []bool{false, true} {
		t.Run(fmt.Sprintf("sack=%v", sack), func(t *testing.T) {
			k := &tcp.Counters{}
			cfg := plain(tcp.Config{Counters: k, CongestionControl: tcp.NewNewReno}, withBlackHoleDetection)
			cfg.NoSACK = !sack
			p := newMTUPath(t, cfg, 1300)
			p.transfer(2000) // the fallback, and too little data for a probe
			if mss := p.a.Stats().MSS; mss > 1300 || k.BlackHoles.Load() != 1 {
				t.Fatalf("MSS %d after %d black holes, want the fallback", mss, k.BlackHoles.Load())
			}
			p.max = 0
			p.transfer(200000)
			if mss := p.a.Stats().MSS; mss != 1460 || p.largest != 1460 || k.PMTUProbes.Load() != 1 {
				t.Errorf("MSS %d, largest segment %d after %d probes: want 1460 after 1", mss, p.largest, k.PMTUProbes.Load())
			}
		})
	}
}

// A path that carries at most 1300 bytes of payload: the probes above
// fail, the MSS settles within probeThreshold (8 bytes) of 1300 and never
// goes over it, and the lost probes are no congestion: after the
// fallback's timeouts the slow start threshold never moves. The probes
// are 1460 (lost), then halves of what is left: 1242 (acknowledged),
// 1351 (lost), 1296 (acknowledged), 1323, 1309 and 1302 (lost), and
// 1301-1296 is under 8.
func TestPMTUConverges(t *testing.T) {
	for _, sack := range []bool{false, true} {
		t.Run(fmt.Sprintf("sack=%v", sack), func(t *testing.T) {
			k := &tcp.Counters{}
			cfg := plain(tcp.Config{Counters: k, CongestionControl: tcp.NewNewReno}, withBlackHoleDetection)
			cfg.NoSACK = !sack
			p := newMTUPath(t, cfg, 1300)
			p.transfer(2000)
			fallback := p.a.Stats().SlowStartThreshold
			p.ssthreshs, p.maxMSS = nil, 0
			p.transfer(1 << 20)
			mss := p.a.Stats().MSS
			if mss != 1296 || p.maxMSS > 1300 {
				t.Errorf("MSS %d (at most %d), want 1296", mss, p.maxMSS)
			}
			if len(p.ssthreshs) != 1 || p.ssthreshs[0] != fallback {
				t.Errorf("slow start thresholds %v after the fallback's %d: a lost probe cut the window", p.ssthreshs, fallback)
			}
			probes, won := k.PMTUProbes.Load(), k.PMTUProbesSucceeded.Load()
			if probes != 7 || won != 2 {
				t.Errorf("%d probes, %d acknowledged; want 7 and 2", probes, won)
			}
			// Converged: the search stops.
			p.transfer(1 << 20)
			if n := k.PMTUProbes.Load(); n != probes {
				t.Errorf("%d more probes after the search converged", n-probes)
			}
		})
	}
}

// The search starts over probeInterval (10 minutes) after it ended, when
// there is data to send: not before.
func TestPMTUReprobe(t *testing.T) {
	k := &tcp.Counters{}
	p := newMTUPath(t, plain(tcp.Config{Counters: k, CongestionControl: tcp.NewNewReno}, withBlackHoleDetection, withSACK), 1300)
	p.transfer(1 << 20)
	settled, probes := p.a.Stats().MSS, k.PMTUProbes.Load()
	start := p.now
	p.max = 0 // the path now carries full segments
	p.now = start.Add(9 * time.Minute)
	p.transfer(1 << 18)
	if mss := p.a.Stats().MSS; mss != settled || k.PMTUProbes.Load() != probes {
		t.Errorf("after 9 minutes: MSS %d, %d new probes; want %d and none", mss, k.PMTUProbes.Load()-probes, settled)
	}
	p.now = start.Add(10*time.Minute + time.Second)
	p.transfer(1 << 18)
	if mss := p.a.Stats().MSS; mss != 1460 || k.PMTUProbes.Load() != probes+1 {
		t.Errorf("after 10 minutes: MSS %d, %d new probes; want 1460 after 1", mss, k.PMTUProbes.Load()-probes)
	}
}

// An MSS set by an ICMP packet-too-big holds for probeInterval (RFC 8201
// §4), then the search tries the full size again.
func TestPMTUReprobeAfterPacketTooBig(t *testing.T) {
	cc, k := &steadyCC{window: 8000}, &tcp.Counters{}
	c := openWith(t, probingConfig(cc, k))
	c.do(step{call: "write 1460", out: []string{"P. 1001:2461(1460) ack 5001"}})
	c.PacketTooBig(1200, 1001, c.now)
	c.out(". 1001:2201(1200) ack 5001", "P. 2201:2461(260) ack 5001")
	c.do(step{in: ". 5001:5001(0) ack 2461 win 65535"})
	c.now = c.now.Add(probeIntervalForTest - time.Second)
	c.do(step{call: "write 6000", out: []string{
		". 2461:3661(1200) ack 5001", ". 3661:4861(1200) ack 5001", ". 4861:6061(1200) ack 5001",
		". 6061:7261(1200) ack 5001", "P. 7261:8461(1200) ack 5001",
	}})
	c.do(step{in: ". 5001:5001(0) ack 8461 win 65535"})
	c.now = c.now.Add(time.Second)
	c.do(step{call: "write 6000", out: []string{
		". 8461:9921(1460) ack 5001",
		". 9921:11121(1200) ack 5001", ". 11121:12321(1200) ack 5001", ". 12321:13521(1200) ack 5001",
		"P. 13521:14461(940) ack 5001",
	}})
	wantCounts(t, k, 1, 0)
	if d := c.Deadline(); d.Sub(c.now) > time.Minute {
		t.Errorf("a deadline %v away: the re-probe must not be a timer of its own", d.Sub(c.now))
	}
}

// probeIntervalForTest is tcp's probeInterval.
const probeIntervalForTest = 10 * time.Minute
