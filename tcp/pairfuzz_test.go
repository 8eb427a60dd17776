package tcp

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seqack/seqack/wire"
)

// FuzzPair runs two connections against each other through a link the
// fuzzer controls: each input byte delivers, drops, duplicates or
// reorders a segment in flight, mutates its ACK, window or options,
// advances the clock to the next timer, or has an application write,
// read or close. Whatever happens, neither control block breaks an
// invariant, nothing panics, and what each side reads is exactly a
// prefix of what the other wrote: segments may be lost, repeated or
// reordered, but their bytes are never mixed up. At the end the two are
// cut off from each other: each closes, or comes to rest owing nothing,
// within its Config's LivenessBound.
func FuzzPair(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 9, 0, 1, 10, 0, 1, 11, 0, 1})
	f.Add([]byte{9, 9, 0, 2, 1, 3, 0, 4, 1, 5, 6, 7, 8, 0, 1, 12, 0, 1, 12})
	f.Add([]byte{8 | 3, 1, 0, 1, 0, 99, 0, 1, 99, 99, 0, 1, 7, 0, 1, 2, 7, 0, 1, 9, 11, 0, 1, 12, 0, 1})  // framed send queues
	f.Add([]byte{16 | 3, 1, 0, 1, 0, 99, 99, 99, 0, 1, 0, 1, 0, 2, 0, 1, 7, 0, 1, 9, 11, 0, 1, 12, 0, 1}) // segmentation offload
	f.Add([]byte{32 | 1, 9, 9, 0, 2, 1, 3, 0, 4, 1, 5, 6, 7, 8, 0, 1, 12, 0, 1, 12})                      // rate samples and pacing
	f.Add([]byte{32 | 16 | 7, 1, 0, 1, 0, 99, 99, 99, 0, 1, 0, 1, 0, 2, 0, 1, 7, 0, 1, 9, 11, 0, 1, 12, 0, 1})
	f.Add([]byte{64 | 16 | 7, 1, 0, 1, 0, 99, 99, 99, 0, 1, 0, 1, 0, 2, 0, 1, 7, 0, 1, 9, 11, 0, 1, 12, 0, 1}) // BBR
	f.Add([]byte{128 | 3, 1, 0, 1, 0, 99, 0, 1, 99, 99, 0, 1, 7, 0, 1, 9, 11, 0, 1, 12, 0, 1})                 // orphans
	f.Fuzz(func(t *testing.T, data []byte) {
		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		cfg := PlainConfig()
		cfg.ReceiveBufferSize, cfg.SendBufferSize, cfg.MSS, cfg.MSL = 8192, 8192, 536, time.Second
		cfg.NoSACK, cfg.NoTimestamps = len(data) == 0 || data[0]&1 == 0, len(data) == 0 || data[0]&2 == 0
		cfg.NoRACK = len(data) == 0 || data[0]&4 == 0
		// Framed send queues (Config.SendBuffer): each block's frame is
		// offered once, on a live block, and written to as a driver
		// would; each block is released once.
		blocks := map[*byte]int{} // block → 0 live, 1 framed, 2 released
		if len(data) > 0 && data[0]&8 != 0 {
			cfg.MSS, cfg.ReceiveBufferSize, cfg.SendBufferSize = 40000, 1<<17, 1<<17
			cfg.SendBuffer = func() []byte {
				b := make([]byte, FrameHeadroom+40000)
				blocks[&b[0]] = 0
				return b
			}
			cfg.ReleaseBuffer = func(b []byte) {
				if st, ok := blocks[&b[0]]; !ok || st == 2 {
					t.Fatalf("a block released that is not live (%v, %d)", ok, st)
				}
				blocks[&b[0]] = 2
			}
		}
		if len(data) > 0 && data[0]&16 != 0 {
			cfg.SegmentOffload = 5 * int(cfg.MSS) // segments of several MSS, as a receiver behind GRO sees them
		}
		if len(data) > 0 && data[0]&32 != 0 {
			cfg.CongestionControl, cfg.Pacing = newSampleSink, true // rate samples and pacing (rate.go, pacing.go)
		}
		if len(data) > 0 && data[0]&64 != 0 {
			cfg.CongestionControl = NewBBR // samples, losses, pacing and its own recovery window (bbr.go)
		}
		// Closing lets go of the connection (Orphan): its FIN_WAIT_2,
		// retransmissions and zero-window probes are bounded by
		// FinWait2Timeout and OrphanRetries.
		orphans := len(data) > 0 && data[0]&128 != 0
		a, b := NewConn(cfg, 0xfffff000), NewConn(cfg, 7)
		b.Listen()
		a.Connect(now)
		var toB, toA []Segment
		var wroteA, wroteB, readA, readB []byte
		frame := func(s *Segment) {
			if s.Frame == nil {
				return
			}
			f, room := s.Frame, len(s.Frame)-len(s.Payload)
			if st, ok := blocks[&f[0]]; !ok || st != 0 || room < FrameHeadroom || &f[len(f)-1] != &s.Payload[len(s.Payload)-1] {
				t.Fatalf("segment %v framed in a block that is not live and unframed (%v, %d), or with %d bytes of room", s, ok, st, room)
			}
			blocks[&f[0]] = 1
			clear(f[:room]) // the driver's headers go here
			s.Frame = nil
		}
		collect := func() {
			for _, s := range a.Outgoing() {
				frame(&s)
				s.Payload = append([]byte(nil), s.Payload...)
				toB = append(toB, s)
			}
			for _, s := range b.Outgoing() {
				frame(&s)
				s.Payload = append([]byte(nil), s.Payload...)
				toA = append(toA, s)
			}
		}
		collect()
		buf := make([]byte, 3000)
		counter := byte(0)
		for i, op := range data {
			pick := func(q *[]Segment) *Segment {
				if len(*q) == 0 {
					return nil
				}
				return &(*q)[int(op>>4)%len(*q)]
			}
			switch op % 13 {
			case 0, 1: // deliver the oldest segment one way or the other
				q, to := &toB, b
				if op%13 == 1 {
					q, to = &toA, a
				}
				if len(*q) > 0 {
					s := (*q)[0]
					*q = (*q)[1:]
					to.Input(&s, now)
				}
			case 2: // drop
				if len(toB) > 0 {
					toB = toB[1:]
				}
			case 3: // duplicate
				if s := pick(&toA); s != nil {
					toA = append(toA, *s)
				}
			case 4: // reorder
				if len(toB) > 1 {
					toB[0], toB[len(toB)-1] = toB[len(toB)-1], toB[0]
				}
			case 5: // mutate an ACK, a window or the options: never the data
				if s := pick(&toB); s != nil {
					s.Ack += Seq(int8(op))
					s.Window ^= uint16(op) << 3
					if op&0x80 != 0 {
						s.Options.NumSACK = 1
						s.Options.SACK[0] = wire.SACKBlock{Left: uint32(s.Ack) + 100, Right: uint32(s.Ack) + 100 + uint32(op)}
					}
				}
			case 6: // a flag flipped: RST, SYN or FIN on a segment without data
				if s := pick(&toA); s != nil && len(s.Payload) == 0 {
					s.Flags ^= []wire.TCPFlags{wire.FlagRST, wire.FlagSYN, wire.FlagFIN}[int(op>>4)%3]
				}
			case 7: // time passes to the next deadline
				d := earliestDeadline(a, b)
				if d.IsZero() {
					d = now.Add(time.Duration(op) * time.Millisecond)
				}
				now = d
				a.HandleTimer(now)
				b.HandleTimer(now)
			case 8: // write
				w := bytes.Repeat([]byte{counter}, int(op)%700+1)
				counter++
				if n, _ := a.Write(w, now); n > 0 {
					wroteA = append(wroteA, w[:n]...)
				}
				if n, _ := b.Write(w, now); n > 0 {
					wroteB = append(wroteB, w[:n]...)
				}
			case 9, 10: // read
				n, _ := b.Read(buf, now)
				readB = append(readB, buf[:n]...)
				n, _ = a.Read(buf, now)
				readA = append(readA, buf[:n]...)
			case 11:
				a.Close(now)
				if orphans {
					a.Orphan(now)
				}
			case 12:
				b.Close(now)
				if orphans {
					b.Orphan(now)
				}
			}
			collect()
			for _, c := range []*Conn{a, b} {
				if err := c.checkInvariants(); err != nil {
					t.Fatalf("after op %d (%d) in %v: %v", i, op%13, c.state, err)
				}
				if err := c.checkRACK(); err != nil {
					t.Fatalf("after op %d (%d) in %v: %v", i, op%13, c.state, err)
				}
				if err := c.checkRate(); err != nil {
					t.Fatalf("after op %d (%d) in %v: %v", i, op%13, c.state, err)
				}
			}
			if !bytes.HasPrefix(wroteA, readB) || !bytes.HasPrefix(wroteB, readA) {
				t.Fatalf("after op %d: data read is not what was written", i)
			}
		}
		// Liveness: cut off from each other, each side closes or comes
		// to rest within its bound.
		silence(t, now, a, b)
	})
}

func earliestDeadline(a, b *Conn) time.Time {
	da, db := a.Deadline(), b.Deadline()
	if da.IsZero() || (!db.IsZero() && db.Before(da)) {
		return db
	}
	return da
}

// A transfer between two connections with RACK-TLP, over a path with a
// 10 ms delay each way that drops segments at random (3%), both ways:
// the sender writes 10000 bytes every 50 ms, so that flights have tails
// to lose. Every byte arrives, once and in order, every invariant holds
// throughout, RACK and TLP both had work to do, RACK resent nothing
// that was not lost, and over the seeds they took fewer retransmission
// timeouts than RFC 6675 alone.
func TestPairRandomLossRACKTLP(t *testing.T) {
	var rtos [2]int
	var probes uint64
	for seed := uint64(1); seed <= 4; seed++ {
		for i, rack := range []bool{true, false} {
			n, p := lossyPair(t, seed, rack)
			rtos[i] += n
			probes += p
		}
	}
	if probes == 0 {
		t.Error("no tail loss probe in four lossy transfers: TLP did not run")
	}
	t.Logf("retransmission timeouts: %d with RACK-TLP, %d without", rtos[0], rtos[1])
	if rtos[0] >= rtos[1] {
		t.Errorf("%d retransmission timeouts with RACK-TLP, %d without", rtos[0], rtos[1])
	}
}

// lossyPair runs the transfer and returns how many times the sender's
// retransmission timer fired.
func lossyPair(t *testing.T, seed uint64, rack bool) (timeouts int, probes uint64) {
	t.Helper()
	{
		var k Counters
		cfg := PlainConfig()
		cfg.NoSACK, cfg.NoTimestamps, cfg.NoRACK, cfg.Counters = false, false, !rack, &k
		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		start := now
		rng := rand.New(rand.NewPCG(seed, 0))
		a, b := NewConn(cfg, 0xfffff000), NewConn(cfg, 7) // a's sequence numbers wrap
		b.Listen()
		a.Connect(now)
		type flying struct {
			at  time.Time
			seg Segment
			to  *Conn
		}
		var wire []flying
		dropped := 0 // segments of a's data the path lost
		send := func(from, to *Conn) {
			for _, s := range from.Outgoing() {
				if rng.Float64() < 0.03 {
					if from == a && len(s.Payload) > 0 {
						dropped++
					}
					continue
				}
				s.Payload = append([]byte(nil), s.Payload...)
				wire = append(wire, flying{now.Add(10 * time.Millisecond), s, to})
			}
		}
		data := make([]byte, 1<<20)
		for i := range data {
			data[i] = byte(i * 7 / 5)
		}
		var sent int
		var got []byte
		var timers timerCount
		a.SetObserver(&timers)
		nextWrite := now
		buf := make([]byte, 64<<10)
		for steps := 0; len(got) < len(data); steps++ {
			if steps > 200000 || now.Sub(start) > 10*time.Minute {
				t.Fatalf("seed %d: %d of %d bytes after %v", seed, len(got), len(data), now.Sub(start))
			}
			if a.State() == Established && sent < len(data) && !now.Before(nextWrite) {
				n, _ := a.Write(data[sent:min(sent+10000, len(data))], now)
				sent += n
				nextWrite = now.Add(50 * time.Millisecond)
			}
			for {
				n, _ := b.Read(buf, now)
				if n == 0 {
					break
				}
				got = append(got, buf[:n]...)
			}
			send(a, b)
			send(b, a)
			// The next event: a segment's arrival or a timer.
			next := earliestDeadline(a, b)
			if sent < len(data) && nextWrite.After(now) && (next.IsZero() || nextWrite.Before(next)) {
				next = nextWrite
			}
			if len(wire) > 0 && (next.IsZero() || wire[0].at.Before(next)) {
				f := wire[0]
				wire = wire[1:]
				now = f.at
				f.to.Input(&f.seg, now)
			} else if !next.IsZero() {
				now = next
				a.HandleTimer(now)
				b.HandleTimer(now)
			}
			for _, c := range []*Conn{a, b} {
				if err := c.checkInvariants(); err != nil {
					t.Fatalf("seed %d, step %d: %v", seed, steps, err)
				}
				if err := c.checkRACK(); err != nil {
					t.Fatalf("seed %d, step %d: %v", seed, steps, err)
				}
				if err := c.checkRate(); err != nil {
					t.Fatalf("seed %d, step %d: %v", seed, steps, err)
				}
			}
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("seed %d: the bytes read are not those written", seed)
		}
		t.Logf("seed %d, RACK-TLP %v: %v, %d retransmissions, %d RACK losses, %d probes (%d repaired a loss), %d timeouts",
			seed, rack, now.Sub(start), k.Retransmissions.Load(), k.RACKLosses.Load(), k.TLPProbes.Load(), k.TLPRecoveries.Load(), timers[TimerRetransmit])
		if rack && k.RACKLosses.Load() == 0 {
			t.Errorf("seed %d: no RACK losses: RACK did not run", seed)
		}

		// The path does not reorder: RACK resends only what was lost,
		// and a probe may resend one segment more. After a
		// retransmission timeout the engine still goes back over all
		// that is outstanding (RFC 8985 §6.3 would resend only what
		// RACK deems lost by then; not done yet), so it may resend what
		// was still on its way, at most a write's worth here.
		perTimeout := uint64((10000 + DefaultMSS - 1) / DefaultMSS)
		if rack && k.Retransmissions.Load() > uint64(dropped)+k.TLPProbes.Load()+uint64(timers[TimerRetransmit])*perTimeout {
			t.Errorf("seed %d: %d retransmissions for %d segments lost, %d probes and %d timeouts", seed, k.Retransmissions.Load(), dropped, k.TLPProbes.Load(), timers[TimerRetransmit])
		}
		return timers[TimerRetransmit], k.TLPProbes.Load()
	}
}

// timerCount counts the timers that fire, by kind.
type timerCount [TimerLossProbe + 1]int

func (n *timerCount) StateChanged(*Conn, State, State) {}
func (n *timerCount) TimerFired(_ *Conn, t Timer)      { n[t]++ }
