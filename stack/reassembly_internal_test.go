package stack

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

var (
	fragSrc4, fragDst4 = netip.MustParseAddrPort("192.0.2.1:7"), netip.MustParseAddrPort("192.0.2.2:9")
	fragSrc6, fragDst6 = netip.MustParseAddrPort("[2001:db8::1]:7"), netip.MustParseAddrPort("[2001:db8::2]:9")
)

// fragDatagram is a UDP packet to cut into fragments: the packet, and
// its payload's bytes, different for every n.
func fragDatagram(t testing.TB, v6 bool, n int) []byte {
	t.Helper()
	src, dst := fragSrc4, fragDst4
	if v6 {
		src, dst = fragSrc6, fragDst6
	}
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i*7 + n)
	}
	p := make([]byte, wire.UDPPacketLen(v6, n))
	if _, err := wire.BuildUDPPacket(p, src, dst, 0, payload); err != nil {
		t.Fatal(err)
	}
	return p
}

// fragOf returns the fragment of p holding bytes [off, end) of its
// payload (what follows the fixed IP header), with identification id.
func fragOf(t testing.TB, p []byte, id uint32, off, end int) wire.Fragment {
	t.Helper()
	b := make([]byte, 100+end-off)
	n, err := wire.BuildFragment(b, p, id, off, end-off)
	if err != nil {
		t.Fatalf("fragment [%d, %d): %v", off, end, err)
	}
	f, err := wire.ParseFragment(b[:n])
	if err != nil {
		t.Fatalf("fragment [%d, %d): %v", off, end, err)
	}
	return f
}

// fragsOf cuts p into fragments of size bytes (a multiple of 8).
func fragsOf(t testing.TB, p []byte, id uint32, size int) []wire.Fragment {
	hdr := wire.IPv4MinHeaderLen
	if p[0]>>4 == 6 {
		hdr = wire.IPv6HeaderLen
	}
	var out []wire.Fragment
	for off := 0; off < len(p)-hdr; off += size {
		out = append(out, fragOf(t, p, id, off, min(off+size, len(p)-hdr)))
	}
	return out
}

// sameDatagram reports whether whole is p put together again: equal but
// for IPv4's identification, flags and header checksum, which
// fragmenting changed.
func sameDatagram(whole, p []byte) bool {
	if p[0]>>4 == 6 {
		return bytes.Equal(whole, p)
	}
	return len(whole) == len(p) && bytes.Equal(whole[:4], p[:4]) && bytes.Equal(whole[8:10], p[8:10]) && bytes.Equal(whole[12:], p[12:])
}

var fragT0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// checkEmpty checks that r holds nothing.
func checkEmpty(t *testing.T, r *reassembler) {
	t.Helper()
	if r.mem != 0 || len(r.queues) != 0 || r.order[0].head != nil || r.order[1].head != nil {
		t.Errorf("reassembler holds %d bytes in %d datagrams", r.mem, len(r.queues))
	}
}

// Fragments in order, in reverse, shuffled, duplicated and tiny all
// make the datagram they were cut from, for IPv4 and IPv6.
func TestReassemblyOrders(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		p := fragDatagram(t, v6, 8000)
		for _, c := range []struct {
			name       string
			size       int
			order      func([]wire.Fragment) []wire.Fragment
			duplicates uint64
		}{
			{"in order", 1480, func(f []wire.Fragment) []wire.Fragment { return f }, 0},
			{"reversed", 1480, func(f []wire.Fragment) []wire.Fragment {
				for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
					f[i], f[j] = f[j], f[i]
				}
				return f
			}, 0},
			{"shuffled", 1232, func(f []wire.Fragment) []wire.Fragment {
				rand.New(rand.NewPCG(1, 2)).Shuffle(len(f), func(i, j int) { f[i], f[j] = f[j], f[i] })
				return f
			}, 0},
			{"duplicated", 1480, func(f []wire.Fragment) []wire.Fragment {
				return append([]wire.Fragment{f[1], f[1], f[2]}, f...)
			}, 3},
			{"tiny", 8, func(f []wire.Fragment) []wire.Fragment { return f }, 0},
		} {
			var st FragStats
			r := newReassembler(ReassemblyOptions{}, &st)
			frags := c.order(fragsOf(t, p, 42, c.size))
			var whole []byte
			for i := range frags {
				w := r.add(&frags[i], fragT0)
				if w != nil && (whole != nil || i != len(frags)-1) {
					t.Fatalf("v6 %v, %s: a datagram after fragment %d of %d", v6, c.name, i, len(frags))
				}
				if w != nil {
					whole = w
				}
			}
			if !sameDatagram(whole, p) {
				t.Errorf("v6 %v, %s: reassembled %d bytes, not the %d sent", v6, c.name, len(whole), len(p))
			}
			if st.Reassembled.Load() != 1 || st.Duplicates.Load() != c.duplicates || st.FragmentsDropped.Load() != c.duplicates {
				t.Errorf("v6 %v, %s: %+v", v6, c.name, snapFrag(&st))
			}
			checkEmpty(t, r)
		}
	}
}

func snapFrag(st *FragStats) FragStatsSnapshot {
	return FragStatsSnapshot{
		FragmentsReceived: st.FragmentsReceived.Load(), Reassembled: st.Reassembled.Load(),
		FragmentsDropped: st.FragmentsDropped.Load(), Timeouts: st.Timeouts.Load(), Overlaps: st.Overlaps.Load(),
		Duplicates: st.Duplicates.Load(), Malformed: st.Malformed.Load(), Evictions: st.Evictions.Load(),
		TooManyFragments: st.TooManyFragments.Load(),
	}
}

// What abandons a datagram: overlapping fragments (RFC 5722), a
// duplicate whose bytes differ, fragments that disagree on the end,
// too many fragments. Each is counted, with every fragment it drops,
// and nothing is left held.
func TestReassemblyAbandons(t *testing.T) {
	p := fragDatagram(t, false, 200) // 208 bytes of UDP
	longer := fragDatagram(t, false, 400)
	corrupt := fragOf(t, p, 1, 0, 64)
	corrupt.Data = bytes.Clone(corrupt.Data)
	corrupt.Data[3] ^= 1
	for _, c := range []struct {
		name  string
		frags []wire.Fragment
		cause func(*FragStats) uint64
		drops uint64
	}{
		{"overlap at the start", []wire.Fragment{fragOf(t, p, 1, 0, 64), fragOf(t, p, 1, 56, 120)},
			func(s *FragStats) uint64 { return s.Overlaps.Load() }, 2},
		{"overlap inside", []wire.Fragment{fragOf(t, p, 1, 0, 64), fragOf(t, p, 1, 128, 208), fragOf(t, p, 1, 64, 136)},
			func(s *FragStats) uint64 { return s.Overlaps.Load() }, 3},
		{"one within another", []wire.Fragment{fragOf(t, p, 1, 0, 64), fragOf(t, p, 1, 8, 16)},
			func(s *FragStats) uint64 { return s.Overlaps.Load() }, 2},
		{"same range, other bytes", []wire.Fragment{fragOf(t, p, 1, 0, 64), corrupt},
			func(s *FragStats) uint64 { return s.Overlaps.Load() }, 2},
		{"two ends", []wire.Fragment{fragOf(t, p, 1, 128, 208), fragOf(t, longer, 1, 400, 408)},
			func(s *FragStats) uint64 { return s.Malformed.Load() }, 2},
		{"past the end", []wire.Fragment{fragOf(t, p, 1, 128, 208), fragOf(t, longer, 1, 208, 216)},
			func(s *FragStats) uint64 { return s.Malformed.Load() }, 2},
		{"end before data held", []wire.Fragment{fragOf(t, longer, 1, 200, 216), fragOf(t, p, 1, 128, 208)},
			func(s *FragStats) uint64 { return s.Malformed.Load() }, 2},
	} {
		var st FragStats
		r := newReassembler(ReassemblyOptions{}, &st)
		for i := range c.frags {
			if w := r.add(&c.frags[i], fragT0); w != nil {
				t.Fatalf("%s: a datagram", c.name)
			}
		}
		if c.cause(&st) != 1 || st.FragmentsDropped.Load() != c.drops || st.Reassembled.Load() != 0 {
			t.Errorf("%s: %+v, want the cause counted once and %d fragments dropped", c.name, snapFrag(&st), c.drops)
		}
		checkEmpty(t, r)
	}

	// The rest of a datagram abandoned for an overlap starts a new one,
	// which never completes (RFC 5722: all of it is discarded).
	var st FragStats
	r := newReassembler(ReassemblyOptions{}, &st)
	for _, f := range []wire.Fragment{fragOf(t, p, 1, 0, 64), fragOf(t, p, 1, 56, 120), fragOf(t, p, 1, 120, 208)} {
		if r.add(&f, fragT0) != nil {
			t.Fatal("a datagram from overlapping fragments")
		}
	}

	// Past MaxFragments.
	st = FragStats{}
	r = newReassembler(ReassemblyOptions{MaxFragments: 4}, &st)
	frags := fragsOf(t, p, 1, 40)[:5]
	for i := range frags {
		r.add(&frags[i], fragT0)
	}
	if st.TooManyFragments.Load() != 1 || st.Reassembled.Load() != 0 || st.FragmentsDropped.Load() != 5 {
		t.Errorf("past MaxFragments: %+v", snapFrag(&st))
	}
	checkEmpty(t, r)
}

// A datagram never completed is abandoned at its timeout, 30 s for
// IPv4 and 60 s for IPv6, which frees what it held; an ICMP time
// exceeded is called for only if its first fragment came (RFC 792,
// RFC 4443 §3.3).
func TestReassemblyTimeout(t *testing.T) {
	var st FragStats
	r := newReassembler(ReassemblyOptions{}, &st)
	p4, p6 := fragDatagram(t, false, 3000), fragDatagram(t, true, 3000)
	for _, f := range []wire.Fragment{
		fragOf(t, p4, 1, 0, 1480),    // the first: time exceeded
		fragOf(t, p4, 2, 1480, 2960), // not the first: silence
		fragOf(t, p6, 3, 0, 1232),
	} {
		r.add(&f, fragT0)
	}
	if got := r.next(); !got.Equal(fragT0.Add(30 * time.Second)) {
		t.Errorf("next timeout at %v", got)
	}
	if out := r.expire(fragT0.Add(30*time.Second - 1)); len(out) != 0 || len(r.queues) != 3 {
		t.Fatalf("expired early: %v", out)
	}
	out := r.expire(fragT0.Add(30 * time.Second))
	if len(out) != 1 || out[0].version != 4 || out[0].src != fragSrc4.Addr() || len(r.queues) != 1 {
		t.Fatalf("at 30 s: %+v, %d left", out, len(r.queues))
	}
	if q, err := wire.ParseQuoted(out[0].quote); err != nil || q.Protocol != wire.ProtocolUDP || len(out[0].quote) != 576-28 {
		t.Errorf("quote of %d bytes: %+v, %v", len(out[0].quote), q, err)
	}
	out = r.expire(fragT0.Add(60 * time.Second))
	if len(out) != 1 || out[0].version != 6 || len(out[0].quote) != 1280-48 {
		t.Fatalf("at 60 s: %+v", out)
	}
	if st.Timeouts.Load() != 3 || st.FragmentsDropped.Load() != 3 || !r.next().IsZero() {
		t.Errorf("%+v", snapFrag(&st))
	}
	checkEmpty(t, r)
}

// A flood of fragments that never complete a datagram holds no more
// than HighThresh: the oldest datagrams make room, each counted, and
// so do those past MaxDatagrams. A datagram completed in the flood
// still comes out.
func TestReassemblyFlood(t *testing.T) {
	var st FragStats
	opts := ReassemblyOptions{}.withDefaults()
	r := newReassembler(ReassemblyOptions{}, &st)
	p := fragDatagram(t, false, 8000)
	frag := fragOf(t, p, 0, 1480, 7400) // each held in a 16 KiB buffer: the memory bound binds
	var maxMem, maxQueues int
	const flood = 20000
	for i := range flood {
		frag.ID = uint32(i)
		r.add(&frag, fragT0.Add(time.Duration(i)*time.Microsecond))
		maxMem, maxQueues = max(maxMem, r.mem), max(maxQueues, len(r.queues))
	}
	if maxMem > opts.HighThresh || maxMem < opts.LowThresh || maxQueues > opts.MaxDatagrams {
		t.Errorf("the flood held %d bytes in %d datagrams", maxMem, maxQueues)
	}
	if ev := st.Evictions.Load(); ev == 0 || ev+uint64(len(r.queues)) != flood || st.FragmentsDropped.Load() != ev {
		t.Errorf("%d in progress, %+v", len(r.queues), snapFrag(&st))
	}
	frags := fragsOf(t, p, 1<<20, 1480)
	var whole []byte
	for i := range frags {
		whole = r.add(&frags[i], fragT0.Add(time.Second))
	}
	if !sameDatagram(whole, p) {
		t.Errorf("no datagram amid the flood")
	}
	r.expire(fragT0.Add(time.Minute))
	checkEmpty(t, r)

	// Tiny fragments, each its own datagram: the bound is on datagrams.
	st = FragStats{}
	r = newReassembler(ReassemblyOptions{HighThresh: 1 << 16, LowThresh: 1 << 15}, &st)
	small := fragOf(t, p, 0, 8, 16)
	for i := range 5000 {
		small.ID = uint32(i)
		r.add(&small, fragT0)
		if r.mem > 1<<16 {
			t.Fatalf("%d bytes held, bound 65536", r.mem)
		}
	}
	if st.Evictions.Load() == 0 {
		t.Errorf("no evictions: %+v", snapFrag(&st))
	}
}

// The thresholds' defaults, alone or with one of them set.
func TestReassemblyOptionsDefaults(t *testing.T) {
	for _, c := range []struct{ in, want ReassemblyOptions }{
		{ReassemblyOptions{}, ReassemblyOptions{HighThresh: 4 << 20, LowThresh: 3 << 20}},
		{ReassemblyOptions{HighThresh: 1 << 20}, ReassemblyOptions{HighThresh: 1 << 20, LowThresh: 768 << 10}},
		{ReassemblyOptions{LowThresh: 1 << 20}, ReassemblyOptions{HighThresh: 4 << 20, LowThresh: 1 << 20}},
		{ReassemblyOptions{HighThresh: 1 << 20, LowThresh: 2 << 20}, ReassemblyOptions{HighThresh: 1 << 20, LowThresh: 1 << 20}},
	} {
		got := c.in.withDefaults()
		if got.HighThresh != c.want.HighThresh || got.LowThresh != c.want.LowThresh ||
			got.Timeout != 30*time.Second || got.TimeoutIPv6 != time.Minute || got.MaxDatagrams != 1024 || got.MaxFragments != 2048 {
			t.Errorf("%+v: %+v", c.in, got)
		}
	}
}

// BenchmarkReassembly puts a 64 KiB datagram together from 1480-byte
// fragments.
func BenchmarkReassembly(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		name := "IPv4"
		if v6 {
			name = "IPv6"
		}
		b.Run(name, func(b *testing.B) {
			p := fragDatagram(b, v6, wire.UDPMaxPayload(v6)-40)
			frags := fragsOf(b, p, 1, 1480)
			r := newReassembler(ReassemblyOptions{}, &FragStats{})
			b.SetBytes(int64(len(p)))
			b.ReportAllocs()
			for b.Loop() {
				var whole []byte
				for i := range frags {
					whole = r.add(&frags[i], fragT0)
				}
				if whole == nil {
					b.Fatal("not reassembled")
				}
				recycle(whole)
			}
		})
	}
}

func recycle(b []byte) { link.Recycle(b) }

// fragModel is the reference FuzzReassembly checks the reassembler
// against: the same rules written the plain way, a list of fragments
// per datagram compared pairwise and a byte map for completeness.
type fragModel struct {
	maxFragments int
	timeout      [2]time.Duration
	queues       map[fragKey]*modelQueue
}

type modelQueue struct {
	created time.Time
	v6      bool
	frags   []wire.Fragment
	total   int
	first   *wire.Fragment
}

// add files f and returns the packet it completes, as the reassembler
// should.
func (m *fragModel) add(f wire.Fragment, now time.Time) []byte {
	k := keyOf(&f)
	q := m.queues[k]
	if q == nil {
		q = &modelQueue{created: now, v6: f.Version == 6, total: -1}
		m.queues[k] = q
	}
	maxEnd := 0
	for _, g := range q.frags {
		maxEnd = max(maxEnd, g.End())
	}
	if !f.More && (q.total >= 0 && q.total != f.End() || f.End() < maxEnd) || f.More && q.total >= 0 && f.End() > q.total {
		delete(m.queues, k)
		return nil
	}
	if len(f.Data) > 0 {
		if len(q.frags) >= m.maxFragments {
			delete(m.queues, k)
			return nil
		}
		for _, g := range q.frags {
			if g.Offset == f.Offset && g.End() == f.End() && bytes.Equal(g.Data, f.Data) {
				return nil // an exact duplicate
			}
			if g.Offset < f.End() && f.Offset < g.End() {
				delete(m.queues, k) // an overlap (RFC 5722)
				return nil
			}
		}
		q.frags = append(q.frags, f)
	}
	if !f.More {
		q.total = f.End()
	}
	if f.Offset == 0 && q.first == nil {
		q.first = &f
	}
	if q.first == nil || q.total < 0 {
		return nil
	}
	data := make([]byte, q.total)
	have := make([]bool, q.total)
	for _, g := range q.frags {
		copy(data[g.Offset:], g.Data)
		for i := g.Offset; i < g.End(); i++ {
			have[i] = true
		}
	}
	for _, h := range have {
		if !h {
			return nil
		}
	}
	delete(m.queues, k)
	whole := make([]byte, q.first.ReassembledHeaderLen()+q.total)
	n, err := q.first.PutReassembledHeader(whole, q.total)
	if err != nil {
		return nil
	}
	copy(whole[n:], data)
	return whole
}

// expire drops the datagrams whose time is up.
func (m *fragModel) expire(now time.Time) {
	for k, q := range m.queues {
		if !now.Before(q.created.Add(m.timeout[family(q.v6)])) {
			delete(m.queues, k)
		}
	}
}

// FuzzReassembly feeds streams of fragments (four datagrams, IPv4 and
// IPv6, any offsets, lengths, flags and order, some corrupted, time
// passing) to a reassembler with the default bounds and to the
// reference model, which must agree on every datagram that comes out;
// and to one with tiny bounds, which must never hold more than them.
// Neither may panic, and once every timeout has passed both hold
// nothing.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 7, 1, 0, 7, 7, 1, 0, 14, 2, 0})                            // three fragments, in order: a datagram
	f.Add([]byte{1, 14, 2, 0, 1, 7, 7, 1, 1, 0, 7, 1})                            // IPv6, reversed
	f.Add([]byte{0, 0, 7, 1, 0, 6, 7, 1, 0, 14, 2, 0, 0, 7, 7, 1})                // an overlap
	f.Add([]byte{0, 0, 7, 1, 0, 0, 7, 1 | 4, 0, 7, 7, 1, 0, 14, 2, 0})            // a corrupted duplicate
	f.Add([]byte{0, 0, 7, 1, 0, 0, 7, 1, 0, 7, 7, 1, 0, 14, 2, 0})                // a duplicate
	f.Add([]byte{2, 0, 7, 1, 2, 7, 7, 1 | 8 | 0x70, 2, 14, 2, 0, 3, 14, 2, 0x18}) // time passes
	type source struct {
		packet []byte // the datagram's bytes: a fragment's data is cut from them
		id     uint32
	}
	var sources [4]source
	for i := range sources {
		sources[i] = source{fragDatagram(f, i%2 == 1, 128-8), uint32(i / 2)}
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		var st, tinySt FragStats
		r := newReassembler(ReassemblyOptions{}, &st)
		tiny := newReassembler(ReassemblyOptions{HighThresh: 8 << 10, LowThresh: 4 << 10, MaxDatagrams: 3, MaxFragments: 8}, &tinySt)
		model := &fragModel{maxFragments: r.opts.MaxFragments, timeout: [2]time.Duration{r.opts.Timeout, r.opts.TimeoutIPv6},
			queues: make(map[fragKey]*modelQueue)}
		now := fragT0
		for len(ops) >= 4 {
			op := ops[:4]
			ops = ops[4:]
			src := sources[op[0]%4]
			hdr := wire.IPv4MinHeaderLen
			if src.packet[0]>>4 == 6 {
				hdr = wire.IPv6HeaderLen
			}
			size := len(src.packet) - hdr // 128
			off := int(op[1]%16) * 8
			end := min(off+int(op[2]%8)*8+int(op[2]>>4&7), size)
			frag := fragOf(t, src.packet, src.id, 0, 8) // the headers
			frag.Offset, frag.Data = off, bytes.Clone(src.packet[hdr+off:hdr+end])
			frag.More = op[3]&1 != 0
			if frag.More && (len(frag.Data) == 0 || len(frag.Data)%8 != 0) || !frag.More && off == 0 {
				continue // refused by wire.ParseFragment, or no fragment
			}
			if op[3]&4 != 0 && len(frag.Data) > 0 {
				frag.Data[0] ^= 0xff
			}
			if op[3]&8 != 0 {
				now = now.Add(time.Duration(op[3]>>4) * 5 * time.Second)
			}
			r.expire(now)
			tiny.expire(now)
			model.expire(now)
			got := r.add(&frag, now)
			want := model.add(frag, now)
			if !bytes.Equal(got, want) {
				t.Fatalf("fragment [%d, %d) more %v of %d: reassembled %d bytes, the model %d", off, end, frag.More, op[0]%4, len(got), len(want))
			}
			if w := tiny.add(&frag, now); w != nil {
				if _, err := wire.ParseIP(w); err != nil {
					t.Fatalf("tiny: reassembled a bad packet: %v", err)
				}
			}
			if tiny.mem > tiny.opts.HighThresh || len(tiny.queues) > tiny.opts.MaxDatagrams || r.mem > r.opts.HighThresh {
				t.Fatalf("tiny holds %d bytes in %d datagrams", tiny.mem, len(tiny.queues))
			}
			if len(r.queues) != len(model.queues) {
				t.Fatalf("%d datagrams in progress, the model %d", len(r.queues), len(model.queues))
			}
		}
		later := now.Add(time.Hour)
		r.expire(later)
		tiny.expire(later)
		for _, x := range []*reassembler{r, tiny} {
			if x.mem != 0 || len(x.queues) != 0 {
				t.Fatalf("after every timeout: %d bytes in %d datagrams", x.mem, len(x.queues))
			}
		}
	})
}
