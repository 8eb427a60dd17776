package stack

import (
	"bytes"
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seqack/seqack/link"
	"github.com/seqack/seqack/wire"
)

// ReassemblyOptions bound the memory and time that IP reassembly may
// take (Options.Reassembly); a zero field takes its default. The
// defaults are Linux's ipfrag sysctls where it has one.
type ReassemblyOptions struct {
	// HighThresh bounds the bytes that fragments awaiting reassembly
	// hold, each charged its buffer and bookkeeping; 0 means 4 MiB
	// (ipfrag_high_thresh). A fragment that would pass it makes room
	// first: the oldest datagrams in progress are abandoned until
	// LowThresh is reached (0 means 3 MiB, ipfrag_low_thresh, or ¾ of
	// a HighThresh set; at most HighThresh). Under a flood, newer
	// datagrams win over older ones.
	HighThresh, LowThresh int
	// MaxDatagrams bounds the datagrams in progress at once; 0 means
	// 1024. A new one past it abandons the oldest.
	MaxDatagrams int
	// MaxFragments bounds the fragments of one datagram; 0 means 2048,
	// enough for 64 KiB over IPv4's smallest link (MTU 68). A datagram
	// that passes it is abandoned.
	MaxFragments int
	// Timeout is how long an IPv4 datagram may take to complete, from
	// its first fragment to arrive; 0 means 30 s (ipfrag_time).
	// TimeoutIPv6 is IPv6's; 0 means 60 s (RFC 8200 §4.5).
	Timeout, TimeoutIPv6 time.Duration
}

// Defaults of ReassemblyOptions.
const (
	DefaultReassemblyHighThresh   = 4 << 20
	DefaultReassemblyLowThresh    = 3 << 20
	DefaultReassemblyMaxDatagrams = 1024
	DefaultReassemblyMaxFragments = 2048
	DefaultReassemblyTimeout      = 30 * time.Second
	DefaultReassemblyTimeoutIPv6  = 60 * time.Second
)

// withDefaults returns o with every zero field at its default.
func (o ReassemblyOptions) withDefaults() ReassemblyOptions {
	o.HighThresh = cmp.Or(o.HighThresh, DefaultReassemblyHighThresh)
	switch {
	case o.LowThresh == 0 && o.HighThresh == DefaultReassemblyHighThresh:
		o.LowThresh = DefaultReassemblyLowThresh
	case o.LowThresh == 0:
		o.LowThresh = o.HighThresh / 4 * 3 // as the defaults are
	}
	o.LowThresh = min(o.LowThresh, o.HighThresh)
	o.MaxDatagrams = cmp.Or(o.MaxDatagrams, DefaultReassemblyMaxDatagrams)
	o.MaxFragments = cmp.Or(o.MaxFragments, DefaultReassemblyMaxFragments)
	o.Timeout = cmp.Or(o.Timeout, DefaultReassemblyTimeout)
	o.TimeoutIPv6 = cmp.Or(o.TimeoutIPv6, DefaultReassemblyTimeoutIPv6)
	return o
}

// FragStats count IP fragments in and out, as Linux's `netstat -s`
// shows them under Ip (its names in brackets). Every fragment that does
// not end in a datagram is in FragmentsDropped, and every datagram
// abandoned in one of the counters of its cause.
type FragStats struct {
	FragmentsReceived atomic.Uint64 // fragments for us that arrived [ReasmReqds]
	Reassembled       atomic.Uint64 // datagrams put together and delivered [ReasmOKs]
	// FragmentsDropped counts fragments discarded: refused on arrival,
	// or held by a datagram when it was abandoned.
	FragmentsDropped atomic.Uint64
	Timeouts         atomic.Uint64 // datagrams abandoned incomplete at their timeout [ReasmTimeout]
	Overlaps         atomic.Uint64 // datagrams abandoned for overlapping fragments (RFC 5722) [ReasmOverlaps]
	Duplicates       atomic.Uint64 // exact duplicates of a fragment held, dropped alone (RFC 8200 §4.5)
	// Malformed counts fragments refused on their own (a length not a
	// multiple of 8 with more to follow, past 65,535 bytes) and
	// datagrams abandoned because their fragments disagree on where
	// the datagram ends.
	Malformed atomic.Uint64
	// Evictions counts datagrams abandoned, and fragments refused, to
	// stay within ReassemblyOptions' HighThresh and MaxDatagrams.
	Evictions        atomic.Uint64
	TooManyFragments atomic.Uint64 // datagrams abandoned past ReassemblyOptions.MaxFragments
	// DatagramsFragmented counts packets the stack cut into fragments to
	// fit a link's MTU [FragOKs]; FragmentsCreated the fragments made
	// [FragCreates].
	DatagramsFragmented, FragmentsCreated atomic.Uint64
}

// Bookkeeping charged beyond the data's buffers, so that a flood of
// tiny fragments is bounded too: per fragment held (its fragPiece, a
// slot of a slice), and per datagram in progress (its fragQueue and its
// entry in the map).
const (
	fragPieceOverhead = 64
	fragQueueOverhead = 256
)

// fragKey identifies the datagram a fragment belongs to: source,
// destination, identification, and for IPv4 the protocol (RFC 791 §3.2;
// RFC 8200 §4.5 keys IPv6 on the first three).
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

func keyOf(f *wire.Fragment) fragKey {
	k := fragKey{src: f.Src.As16(), dst: f.Dst.As16(), id: f.ID, v6: f.Version == 6}
	if f.Version == 4 {
		k.proto = f.Protocol
	}
	return k
}

// fragPiece is the data of one fragment held, in a link buffer.
type fragPiece struct {
	off, end int
	buf      []byte
}

// fragQueue is one datagram in progress.
type fragQueue struct {
	key              fragKey
	created, expires time.Time
	prev, next       *fragQueue  // in the reassembler's list of its family, oldest first
	pieces           []fragPiece // by offset, none overlapping
	// first is the offset-0 fragment with its Header copied and no Data;
	// its Version is 0 until that fragment has come.
	first    wire.Fragment
	total    int // the fragmentable part's length; -1 until the last fragment has come
	received int // the bytes of data in pieces
	mem      int // bytes charged for it
}

// maxEnd returns the end of the data held furthest out.
func (q *fragQueue) maxEnd() int {
	if len(q.pieces) == 0 {
		return 0
	}
	return q.pieces[len(q.pieces)-1].end
}

// fragList is a list of datagrams in progress, oldest first.
type fragList struct{ head, tail *fragQueue }

func (l *fragList) pushBack(q *fragQueue) {
	q.prev, q.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = q
	} else {
		l.head = q
	}
	l.tail = q
}

func (l *fragList) remove(q *fragQueue) {
	if q.prev != nil {
		q.prev.next = q.next
	} else {
		l.head = q.next
	}
	if q.next != nil {
		q.next.prev = q.prev
	} else {
		l.tail = q.prev
	}
	q.prev, q.next = nil, nil
}

// reassembler puts fragmented IPv4 datagrams (RFC 791 §3.2) and IPv6
// packets (RFC 8200 §4.5) together again, within bounded memory and
// time (ReassemblyOptions). It is sans-IO: it is given fragments and the
// time, and answers with whole packets and the datagrams that timed
// out.
//
// Fragments are filed by offset, so that any order of arrival works,
// and a datagram is complete when the last fragment has fixed its
// length and the data held adds up to it: with no overlap allowed,
// that is RFC 815's "no holes left". Any overlap abandons the whole
// datagram, IPv4 as well as IPv6 (RFC 5722; Linux does the same for
// IPv4 since 4.19), since the parts that differ would be read
// differently by a firewall and the receiver. An exact duplicate, the
// same offset, length and bytes, is the network's doing rather than an
// attack: it is dropped alone, as RFC 8200 §4.5 allows.
type reassembler struct {
	opts   ReassemblyOptions // with defaults
	stats  *FragStats
	queues map[fragKey]*fragQueue
	order  [2]fragList  // IPv4's and IPv6's datagrams, each oldest first: the order they expire in
	mem    int          // bytes charged, at most opts.HighThresh
	free   []*fragQueue // datagrams done with, for reuse with their slices
}

// Bounds on what the reassembler keeps for reuse: datagrams done with,
// and the room for pieces each keeps (enough for 64 KiB in 256-byte
// fragments).
const (
	fragFreeQueues    = 16
	fragFreePieces    = 256
	fragFreeHeaderCap = 128
)

func newReassembler(opts ReassemblyOptions, stats *FragStats) *reassembler {
	return &reassembler{opts: opts.withDefaults(), stats: stats, queues: make(map[fragKey]*fragQueue)}
}

// add files fragment f, which arrived at now. When it completes its
// datagram, add returns the whole packet, in a link buffer that is the
// caller's.
func (r *reassembler) add(f *wire.Fragment, now time.Time) []byte {
	r.stats.FragmentsReceived.Add(1)
	var buf []byte
	need := fragQueueOverhead // as if the datagram were new
	if len(f.Data) > 0 {
		buf = link.Buffer(len(f.Data))
		copy(buf, f.Data)
		need += cap(buf) + fragPieceOverhead
	}
	if f.Offset == 0 {
		need += len(f.Header)
	}
	if r.mem+need > r.opts.HighThresh {
		for r.mem+need > r.opts.LowThresh && r.evictOldest() {
		}
		if r.mem+need > r.opts.HighThresh {
			r.refuse(buf, &r.stats.Evictions) // larger than the bound itself
			return nil
		}
	}
	key := keyOf(f)
	q := r.queues[key]
	if q == nil {
		if len(r.queues) >= r.opts.MaxDatagrams {
			r.evictOldest()
		}
		q = r.newQueue()
		q.key, q.created, q.expires, q.total, q.mem = key, now, now.Add(r.timeout(key.v6)), -1, fragQueueOverhead
		r.queues[key] = q
		r.order[family(key.v6)].pushBack(q)
		r.mem += q.mem
	}
	return r.insert(q, f, buf)
}

// insert adds f, whose data is copied in buf, to q, checking it against
// the fragments held.
func (r *reassembler) insert(q *fragQueue, f *wire.Fragment, buf []byte) []byte {
	off, end := f.Offset, f.End()
	switch {
	case !f.More && (q.total >= 0 && q.total != end || end < q.maxEnd()),
		f.More && q.total >= 0 && end > q.total:
		// Two ends, or data past the end (RFC 791 §3.2, Linux's
		// ip_frag_queue: "corrupted").
		r.refuse(buf, nil)
		return r.abandon(q, &r.stats.Malformed)
	case len(buf) > 0 && len(q.pieces) >= r.opts.MaxFragments:
		r.refuse(buf, nil)
		return r.abandon(q, &r.stats.TooManyFragments)
	}
	i, _ := slices.BinarySearchFunc(q.pieces, off, func(p fragPiece, off int) int { return cmp.Compare(p.off, off) })
	if len(buf) > 0 {
		if i < len(q.pieces) && q.pieces[i].off == off && q.pieces[i].end == end && bytes.Equal(q.pieces[i].buf, buf) {
			r.refuse(buf, &r.stats.Duplicates)
			return nil
		}
		if i > 0 && q.pieces[i-1].end > off || i < len(q.pieces) && q.pieces[i].off < end {
			r.refuse(buf, nil)
			return r.abandon(q, &r.stats.Overlaps) // RFC 5722 §4
		}
		q.pieces = slices.Insert(q.pieces, i, fragPiece{off: off, end: end, buf: buf})
		q.received += end - off
		r.charge(q, cap(buf)+fragPieceOverhead)
	}
	if !f.More {
		q.total = end
	}
	if off == 0 && q.first.Version == 0 {
		hdr := append(q.first.Header[:0], f.Header...) // reusing a header's room
		q.first = *f
		q.first.Header, q.first.Data = hdr, nil
		r.charge(q, len(f.Header))
	}
	if q.first.Version == 0 || q.total < 0 || q.received != q.total {
		return nil
	}
	return r.assemble(q)
}

// assemble builds the packet of q, whose fragments are all there.
func (r *reassembler) assemble(q *fragQueue) []byte {
	hl := q.first.ReassembledHeaderLen()
	whole := link.Buffer(hl + q.total)
	if _, err := q.first.PutReassembledHeader(whole, q.total); err != nil {
		link.Recycle(whole)
		return r.abandon(q, &r.stats.Malformed) // past 65,535 bytes with its header
	}
	for _, p := range q.pieces {
		copy(whole[hl+p.off:], p.buf)
	}
	r.remove(q)
	r.stats.Reassembled.Add(1)
	return whole
}

// charge adds n bytes to q's and the reassembler's account.
func (r *reassembler) charge(q *fragQueue, n int) {
	q.mem += n
	r.mem += n
}

// refuse drops a fragment that arrived, whose data is in buf (nil if it
// had none), counting it in cause too if cause is not nil.
func (r *reassembler) refuse(buf []byte, cause *atomic.Uint64) {
	if buf != nil {
		link.Recycle(buf)
	}
	r.stats.FragmentsDropped.Add(1)
	if cause != nil {
		cause.Add(1)
	}
}

// abandon drops datagram q and the fragments it holds, counting it in
// cause. It returns nil, for add's callers.
func (r *reassembler) abandon(q *fragQueue, cause *atomic.Uint64) []byte {
	r.stats.FragmentsDropped.Add(uint64(len(q.pieces)))
	cause.Add(1)
	r.remove(q)
	return nil
}

// remove takes q out of the reassembler and gives its buffers back.
func (r *reassembler) remove(q *fragQueue) {
	r.order[family(q.key.v6)].remove(q)
	delete(r.queues, q.key)
	r.mem -= q.mem
	for _, p := range q.pieces {
		link.Recycle(p.buf)
	}
	if len(r.free) < fragFreeQueues && cap(q.pieces) <= fragFreePieces && cap(q.first.Header) <= fragFreeHeaderCap {
		clear(q.pieces)
		*q = fragQueue{pieces: q.pieces[:0], first: wire.Fragment{Header: q.first.Header[:0]}}
		r.free = append(r.free, q)
	}
}

// newQueue returns an empty datagram, one done with if there is one.
func (r *reassembler) newQueue() *fragQueue {
	if n := len(r.free); n > 0 {
		q := r.free[n-1]
		r.free[n-1] = nil
		r.free = r.free[:n-1]
		return q
	}
	return &fragQueue{pieces: make([]fragPiece, 0, 8)}
}

// evictOldest abandons the datagram in progress that began first; it
// reports false if there is none.
func (r *reassembler) evictOldest() bool {
	q := r.order[0].head
	if v6 := r.order[1].head; q == nil || v6 != nil && v6.created.Before(q.created) {
		q = v6
	}
	if q == nil {
		return false
	}
	r.abandon(q, &r.stats.Evictions)
	return true
}

// timedOut is a datagram abandoned at its timeout whose first fragment
// had come: it calls for an ICMP time exceeded (RFC 792; RFC 4443 §3.3).
type timedOut struct {
	version  int
	src, dst netip.Addr
	quote    []byte // the first fragment, as much as an ICMP error quotes
}

// expire abandons the datagrams whose time is up at now, and returns
// those among them whose first fragment had come.
func (r *reassembler) expire(now time.Time) []timedOut {
	var out []timedOut
	for i := range r.order {
		for q := r.order[i].head; q != nil && !q.expires.After(now); q = r.order[i].head {
			if f := &q.first; f.Version != 0 {
				quote := append(bytes.Clone(f.Header), q.pieces[0].buf...)
				out = append(out, timedOut{f.Version, f.Src, f.Dst, wire.ErrorQuote(f.Version, quote)})
			}
			r.abandon(q, &r.stats.Timeouts)
		}
	}
	return out
}

// next returns when the next datagram times out; zero if none is in
// progress.
func (r *reassembler) next() time.Time {
	var at time.Time
	for i := range r.order {
		if q := r.order[i].head; q != nil && (at.IsZero() || q.expires.Before(at)) {
			at = q.expires
		}
	}
	return at
}

func (r *reassembler) timeout(v6 bool) time.Duration {
	if v6 {
		return r.opts.TimeoutIPv6
	}
	return r.opts.Timeout
}

func family(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

// fragments is a stack's handling of IP fragments: the reassembler
// with its lock and its timer, and the identifications of the
// datagrams the stack fragments.
type fragments struct {
	mu    sync.Mutex
	s     *Stack
	r     *reassembler // made with the first fragment
	timer *timerEntry  // the next timeout, in s.timers
	armed time.Time    // when timer is set for
	once  sync.Once
	id4   atomic.Uint32
}

// add files f, which arrived at now, and returns the whole packet if f
// completed one.
func (fr *fragments) add(s *Stack, f *wire.Fragment, now time.Time) []byte {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.r == nil {
		fr.s, fr.r = s, newReassembler(s.opts.Reassembly, &s.stats.Frag)
	}
	whole := fr.r.add(f, now)
	fr.rearm()
	return whole
}

// rearm sets the timer for the next timeout. fr.mu is held.
func (fr *fragments) rearm() {
	if next := fr.r.next(); !next.Equal(fr.armed) {
		fr.armed = next
		fr.s.timers.set(&fr.timer, fr, next)
	}
}

// handleTimer abandons the datagrams whose time is up, answering those
// whose first fragment came with an ICMP time exceeded.
func (fr *fragments) handleTimer(now time.Time) {
	fr.mu.Lock()
	out := fr.r.expire(now)
	fr.armed = time.Time{} // the timer has fired
	fr.rearm()
	fr.mu.Unlock()
	for _, t := range out {
		fr.s.reassemblyTimeExceeded(t, now)
	}
}

// held returns the bytes the reassembler holds and the datagrams in
// progress.
func (fr *fragments) held() (bytes, datagrams int) {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.r == nil {
		return 0, 0
	}
	return fr.r.mem, len(fr.r.queues)
}

// nextID returns the identification of a datagram to fragment: for
// IPv4 a counter from a random start, unique among the last 65,536
// (RFC 6864 §4.1); for IPv6 a random number, which no one off path can
// guess (RFC 7739 §5).
func (fr *fragments) nextID(v6 bool) uint32 {
	if v6 {
		return rand.Uint32()
	}
	fr.once.Do(func() { fr.id4.Store(rand.Uint32()) })
	return fr.id4.Add(1) & 0xffff
}

// Codes of ICMP time exceeded: fragment reassembly time exceeded
// (RFC 792, RFC 4443 §3.3).
const (
	icmpv4CodeReassemblyTimeExceeded = 1
	icmpv6CodeReassemblyTimeExceeded = 1
)

// deliverFragment takes the fragment p, which arrived on n for the
// stack or a flow it forwards, to reassembly, and delivers the packet
// it completes, if it does. It reports false: a fragment's data is
// copied, never kept.
func (s *Stack) deliverFragment(n *nic, p []byte, b *inputBatch) bool {
	f, err := wire.ParseFragment(p)
	if err != nil {
		s.stats.Frag.FragmentsReceived.Add(1)
		s.stats.Frag.FragmentsDropped.Add(1)
		s.stats.Frag.Malformed.Add(1)
		s.logDrop("malformed fragment", err)
		return false
	}
	// Fragments of a flow the stack forwards are put together too: its
	// handler takes whole datagrams. Whether a fragmented ICMP message
	// is an error only its first fragment tells: later ones of ICMP are
	// taken for the stack's own addresses only.
	probe := wire.IPPacket{Version: f.Version, Src: f.Src, Dst: f.Dst, Protocol: f.Protocol}
	if f.Offset == 0 {
		probe.Payload = f.Data
	}
	if !s.accepts(n, f.Src, f.Dst) && !s.forwards(n, &probe) {
		s.stats.NotForUs.Add(1)
		s.logDrop("not for us", nil)
		return false
	}
	whole := s.frag.add(s, &f, time.Now())
	if whole != nil && !s.deliverIP(n, whole, b) {
		link.Recycle(whole)
	}
	return false
}

// reassemblyTimeExceeded answers a datagram abandoned incomplete, whose
// first fragment had come, with an ICMP time exceeded (RFC 792; RFC 4443
// §3.3), rate-limited with the stack's other ICMP errors.
func (s *Stack) reassemblyTimeExceeded(t timedOut, now time.Time) {
	if !t.src.IsGlobalUnicast() && !t.src.IsLinkLocalUnicast() || !s.icmpLimit.allow(now) {
		return
	}
	n, _, err := s.route(t.src)
	if err != nil {
		return
	}
	h := wire.ICMPHeader{Type: wire.ICMPv4TimeExceeded, Code: icmpv4CodeReassemblyTimeExceeded}
	if t.version == 6 {
		h = wire.ICMPHeader{Type: wire.ICMPv6TimeExceeded, Code: icmpv6CodeReassemblyTimeExceeded}
	}
	s.sendICMP(n, t.dst, t.src, &h, t.quote)
}
