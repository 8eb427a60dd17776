package tcp

import (
	"fmt"
	"math/bits"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02,
// "DRE" below), as Linux's tcp_rate.c does it: the rate at which the
// network delivered the most recent flight, measured on each ACK, for a
// model-based congestion control (BBR) and for Stats.
//
// Linux samples every connection; here only those whose congestion
// control asks for samples (RateSampleConsumer) do. When the sampler
// was written, its records and the work on each ACK cost about 10% of
// the engine's CPU time per segment in bulk transfer (BenchmarkBulk,
// CUBIC, no network around it: 0.35 s against 0.32 s of user and system
// time for 20000 ops); pooled records and bisection have lowered that
// since (in December 2026 about 350 instructions an ACK and 85 a
// segment under callgrind, BenchmarkBulkModern; bench/results/
// 2026-12-07-bbrperf-2.txt), still more than a window-based controller,
// which does not use them, should pay.
//
// At each transmission (§3.2) the connection's count of bytes delivered
// so far (C.delivered), when it last grew (C.delivered_time), and when
// the flight being measured began (C.first_sent_time) are copied into a
// record of the transmission, with whether the application was the
// limit (C.app_limited). On an ACK (§3.3), of the transmissions it
// delivers — cumulatively ACKed or SACKed — the one sent last gives the
// sample: the bytes delivered since its copy, over the longer of the
// time its flight took to send and the time its ACKs took to come back.
// The longer interval guards against ACK compression and stretch ACKs.
//
// The records are kept as RACK keeps its own (rack.go): one per
// transmission outstanding, in sequence order, each covering the
// sequence numbers from the previous record's end; a retransmission
// splits the records it covers part of and takes fresh copies for the
// ones it covers whole (a retransmission is a transmission, §3.2). The
// records' array is reused while the connection sends and given back by
// Compact once the flight drains, so the data path allocates nothing.
//
// A record counts as delivered once all of it is cumulatively ACKed or
// SACKed; a cumulative ACK inside a record (a segment offload's record
// ACKed in parts) counts the part below it at once.
//
// Retransmissions: as DRE §3.3 says, a sample whose interval is shorter
// than min_rtt is discarded. That is what happens when the ACK of an
// original transmission is taken for the ACK of its retransmission (the
// retransmission's fresh copy makes the interval short, the rate too
// high); a retransmission that was needed gives a sample as any
// transmission does, which keeps the estimate alive through heavy loss.
// A retransmission's round trip is not taken for min_rtt (Karn).
//
// min_rtt is the RTT estimator's (rtt.go): the least round trip
// measured, the handshake's included.
//
// Losses (draft-ietf-ccwg-bbr §4.1.2, C.lost and P.lost): the loss
// detection tells the sampler what it deems lost (rateLost) — RACK as it
// marks a record (rack.go), RFC 6675's IsLost below lostLimit and
// NewReno's segment at SND.UNA in recovery as each ACK is taken
// (rateMarkLost), and everything outstanding at a retransmission
// timeout — and the sampler counts the bytes not SACKed, once per
// transmission: a retransmission deemed lost again counts again, as
// Linux counts it. Each transmission keeps C.lost as it was sent, so a
// sample says how much was lost while its packet was in flight
// (RS.lost), and a controller that observes flights (FlightObserver)
// hears of each lost transmission with what it was sent with.
//
// Left out: min_rtt is the RTT estimator's all-time minimum, as DRE's
// C.min_rtt is; a controller that wants a windowed one (BBR) keeps its
// own from the samples' RTT.

// RateSample is one delivery-rate sample (DRE §3.3), taken from an ACK
// that delivered data: what a RateSampleConsumer is given. Its rate is
// Delivered/Interval; an ACK that gives no valid rate (no transmission
// to measure from, or an interval shorter than min_rtt) has Interval 0.
type RateSample struct {
	// Delivered is the bytes delivered over Interval (RS.delivered).
	Delivered int64
	// Interval is max(SendElapsed, AckElapsed) (RS.interval), or 0 if
	// the sample is not valid.
	Interval time.Duration
	// SendElapsed is the time the measured flight took to send, from its
	// first transmission to the one delivered last (RS.send_elapsed);
	// AckElapsed the time between the ACKs that delivered them
	// (RS.ack_elapsed).
	SendElapsed, AckElapsed time.Duration
	// PriorDelivered is the bytes delivered before the measured
	// transmission was sent (RS.prior_delivered); TotalDelivered the
	// bytes delivered now (C.delivered). A round trip has passed since
	// a transmission once the count reaches what it was when that
	// transmission was sent: BBR's round counting.
	PriorDelivered, TotalDelivered int64
	// NewlyDelivered is the bytes this ACK newly ACKed or SACKed.
	NewlyDelivered int64
	// TxInFlight is the bytes that were in flight when the measured
	// transmission was sent, itself included (draft-ietf-ccwg-bbr's
	// P.tx_in_flight).
	TxInFlight int
	// RTT is the round trip of the measured transmission, or 0 if it was
	// a retransmission.
	RTT time.Duration
	// AppLimited says the measured transmission was sent while the
	// application, not the congestion control, limited the sending
	// (RS.is_app_limited, DRE §3.4): its rate says less than the path
	// could carry, and a bandwidth filter should take it only if it is
	// higher than what it has.
	AppLimited bool
	// Lost is the bytes deemed lost while the measured transmission was
	// in flight (draft-ietf-ccwg-bbr's RS.lost, C.lost - P.lost);
	// NewlyLost the bytes deemed lost since the previous sample
	// (RS.newly_lost); TotalLost all deemed lost so far (C.lost).
	Lost, NewlyLost, TotalLost int64
	// InFlight is the bytes in flight once the ACK is taken
	// (C.inflight: RFC 6675's pipe in fast recovery).
	InFlight int
	// CwndLimited says the congestion window, not the application or
	// the peer, limited a transmission within the last round trip
	// (C.is_cwnd_limited): the flight reached the window less a segment.
	CwndLimited bool
	// InRecovery says a fast recovery or a timeout's recovery is under
	// way once the ACK is taken; SACK that the peer SACKs
	// (C.has_selective_acks).
	InRecovery, SACK bool
}

// LostSample is what the sampler recorded of a transmission the loss
// detection has just deemed lost (draft-ietf-ccwg-bbr §5.2.4, the P
// given to HandleLostPacket): what a FlightObserver is given.
type LostSample struct {
	// Bytes is how much of it is deemed lost (not SACKed).
	Bytes int
	// TxInFlight is the bytes in flight when it was sent, itself
	// included (P.tx_in_flight).
	TxInFlight int
	// Lost is the bytes deemed lost since it was sent, its own included
	// (C.lost - P.lost); Delivered the bytes delivered so far
	// (C.delivered).
	Lost, Delivered int64
	// AppLimited is P.is_app_limited; SACK that the peer SACKs.
	AppLimited, SACK bool
}

// FlightObserver is a RateSampleConsumer that also hears of each
// transmission the loss detection deems lost (draft-ietf-ccwg-bbr
// §5.2.4) and of each transmission that starts a flight from nothing in
// flight (§5.2.2, OnTransmit): BBR. It is optional; the engine looks for
// it when either happens, which is seldom next to ACKs.
type FlightObserver interface {
	RateSampleConsumer
	// OnLost takes a transmission deemed lost at now.
	OnLost(l LostSample, now time.Time)
	// OnIdleRestart is told, before a transmission with nothing in
	// flight, whether the connection is application-limited.
	OnIdleRestart(appLimited bool, now time.Time)
}

// Rate returns the sample's delivery rate in bytes per second, or 0 if
// the sample is not valid.
func (s RateSample) Rate() float64 {
	if s.Interval <= 0 {
		return 0
	}
	return float64(s.Delivered) / s.Interval.Seconds()
}

// RateSampleConsumer is a CongestionControl that takes delivery-rate
// samples: a model-based controller such as BBR. It is optional; the
// engine looks for it once, when it makes the connection's congestion
// control, and then gives it a sample after every acceptable ACK that
// delivered data, once the ACK has been processed (SACK blocks,
// cumulative ACK, RACK's verdicts), after Acked.
type RateSampleConsumer interface {
	CongestionControl
	// OnRateSample takes the sample of an ACK that arrived at now.
	OnRateSample(rs RateSample, now time.Time)
}

// congestion is a connection's congestion control and what feeds it:
// the controller (with its Undo), the delivery-rate sampler if the
// controller takes samples, and the pacing state. It is made with the
// first data (newCongestionControl), so an idle or receive-only
// connection pays one nil pointer for it, and a window-based controller
// 40 bytes more than it did before there was pacing and sampling.
type congestion struct {
	UndoableCongestionControl
	rate *rateSampler // nil: the controller is no RateSampleConsumer
	pace pacer        // pacing.go
	use  cwndUse      // cwnduse.go
	// ownRecovery: the controller keeps its window through fast
	// recovery, without PRR (RecoveryOptOut).
	ownRecovery bool
}

// newCongestion returns the congestion state for controller cc under
// cfg, with the sampler's records starting at una.
func newCongestion(cc CongestionControl, cfg *Config, una Seq) *congestion {
	g := congestion{UndoableCongestionControl: undoable(cc)}
	g.pace.mode = pacingMode(cc, cfg)
	if o, ok := cc.(RecoveryOptOut); ok {
		g.ownRecovery = o.OwnsRecovery()
	}
	if _, ok := cc.(RateSampleConsumer); ok {
		// Nothing was written before the first write: the connection
		// starts application-limited, as Linux's does (its first sendmsg
		// finds nothing unsent, DRE §3.4), until a byte is delivered.
		// The sampler comes in the same allocation.
		s := &sampledCongestion{congestion: g, rateSampler: rateSampler{head: una, appLimited: 1}}
		s.rate = &s.rateSampler
		return &s.congestion
	}
	p := new(congestion)
	*p = g
	return p
}

// sampledCongestion is the congestion state of a connection that
// samples, with its sampler beside it in one allocation.
type sampledCongestion struct {
	congestion
	rateSampler
}

// rateSampler is a connection's delivery-rate estimator (DRE §2.2's
// per-connection state) and its records of the transmissions
// outstanding.
type rateSampler struct {
	records fifo[rateSeg]
	head    Seq // where the first record begins: SND.UNA, or inside a record ACKed in part
	// lastAppLimited says the latest valid sample was app-limited.
	lastAppLimited bool
	delivered      int64   // C.delivered: bytes ACKed or SACKed so far
	deliveredAt    instant // C.delivered_time: when delivered last grew
	firstSentAt    instant // C.first_sent_time: when the flight being measured was first sent
	appLimited     int64   // C.app_limited: 0, or the count delivered must pass for samples to stop being app-limited
	lost           int64   // C.lost: bytes deemed lost so far
	lostSampled    int64   // lost as of the last sample, for RS.newly_lost
	cwndLimited    int64   // the count delivered must pass for the window to have limited no transmission in a round trip
	// the latest valid sample's Delivered and Interval, for Stats
	lastDelivered int64
	lastInterval  time.Duration
	// sizeHint is the size of the records' array when Compact gave it
	// back: the next flight takes one that size from the pool at once
	// rather than growing one from a record again. A bulk sender over a
	// fast path that drains between writes (the in-memory pipe) went
	// through a dozen growths per write (seqack bench).
	sizeHint int32
	// first holds the first records of a flight that needs no pooled
	// array (sizeHint under the pool's smallest): a short connection's
	// request and reply, or its FIN, take no allocation of their own
	// (two per connection in seqack bench's handshake workload).
	first [2]rateSeg
	// now and nowAt remember the last time converted to an instant
	// (clock), for the sampler, pacing and BBR, which all ask for the
	// time of one ACK or of one burst of segments.
	now   time.Time
	nowAt instant
}

// clock returns c.at(now), converting now only if it is not the time
// last asked for: an ACK, and the segments its Input call sends, share
// one conversion rather than paying a time.Time subtraction each.
func (r *rateSampler) clock(c *Conn, now time.Time) instant {
	if now != r.now || r.nowAt == 0 {
		r.clockMiss(c, now)
	}
	return r.nowAt
}

// clockMiss is clock for a time not seen last. RACK-TLP (rack.go) keeps
// a conversion of its own, made on each ACK before the sampler takes it
// (ackProcessed) and on each burst: the sampler takes RACK's when it is
// for now rather than converting again. Kept out of line so that clock
// is inlined.
//
//go:noinline
func (r *rateSampler) clockMiss(c *Conn, now time.Time) {
	if k := c.rack(); k != nil && k.clockAt != 0 && now == k.clock {
		r.now, r.nowAt = now, k.clockAt
		return
	}
	r.now, r.nowAt = now, c.at(now)
}

// rateSeg is one transmission outstanding, from the previous record's
// end (or head) to end, with the copies its transmission took (DRE
// §3.2: P.delivered, P.delivered_time, P.first_sent_time,
// P.is_app_limited, P.lost) and its send time (P.sent_time). 48 bytes.
type rateSeg struct {
	end         Seq
	txInFlight  int32   // bytes in flight after it was sent
	sentAt      instant // P.sent_time
	delivered   int64   // P.delivered
	deliveredAt instant // P.delivered_time
	firstSentAt instant // P.first_sent_time
	lost        uint32  // P.lost, modulo 2^32: no round trip loses 4 GiB
	flags       rateFlags
}

type rateFlags uint8

const (
	rateAppLimited rateFlags = 1 << iota // P.is_app_limited
	rateAgain                            // a retransmission: its round trip is ambiguous
	rateDelivered                        // SACKed, and counted in delivered (DRE's P.delivered_time = 0)
	rateLost                             // deemed lost, and counted in lost, since it was last sent
)

// sampler returns the connection's delivery-rate sampler, or nil if it
// does not sample.
func (c *Conn) sampler() *rateSampler {
	if c.cc == nil {
		return nil
	}
	return c.cc.rate
}

// rateInFlight is the bytes in flight before a transmission, for the
// sampler's copies (DRE §3.2 needs to know whether any are); 0 if the
// connection does not sample.
func (c *Conn) rateInFlight() int {
	if c.sampler() == nil {
		return 0
	}
	return c.flightNow()
}

// flightNow is inFlight with its common case, no recovery and nothing
// SACKed, where it is SND.NXT - SND.UNA, inline: the sampler asks on
// every segment and every ACK.
func (c *Conn) flightNow() int {
	if !c.inRecovery && len(c.sb.ranges) == 0 {
		return int(c.sndNxt.Sub(c.sndUna))
	}
	return c.inFlight()
}

// rateSent records a transmission of [start, end) at the instant at,
// with flight bytes in flight before it (DRE §3.2, OnPacketSent), if the
// connection samples. SYNs are not recorded: they carry no data to
// measure.
func (c *Conn) rateSent(start, end Seq, syn bool, flight int, at instant, now time.Time) {
	r := c.sampler()
	if r == nil || syn {
		return
	}
	if flight == 0 {
		// Nothing in flight: the flight to measure starts here, and a
		// delivered_time from before the idle spell must not stretch
		// its ack_elapsed.
		r.firstSentAt, r.deliveredAt = at, at
		if b, ok := c.cc.UndoableCongestionControl.(*BBR); ok {
			b.onIdleRestart(r.appLimited != 0, now, r.clock(c, now)) // no interface assertion, no time.Time subtraction
		} else if o, ok := c.cc.controller().(FlightObserver); ok {
			o.OnIdleRestart(r.appLimited != 0, now)
		}
	}
	txInFlight := int32(min(flight+int(end.Sub(start)), 1<<30))
	// The window less the flight under a segment: an MSS is at most
	// 64 KiB, so only a window within 64 KiB of the flight asks for it.
	if w := c.cc.window() - int(txInFlight); w < 1<<16 && w < c.effectiveMSS() {
		r.cwndLimited = r.delivered + int64(txInFlight) // C.is_cwnd_limited for the round trip
	}
	last := r.head
	if b := r.records.back(); b != nil {
		last = b.end
	}
	if !start.LessThan(last) { // new data, the common case: a record of its own
		if cap(r.records.items) == 0 {
			if r.sizeHint >= 1<<minRateShift {
				r.records.items = getRateArray(int(r.sizeHint))
			} else {
				r.records.items = r.first[:0]
			}
		}
		f := &r.records
		if len(f.items) < cap(f.items) {
			f.items = f.items[:len(f.items)+1] // fill writes every field: no zeroing, no append
		} else {
			f.push(rateSeg{})
		}
		r.fill(&f.items[len(f.items)-1], end, txInFlight, at)
		return
	}
	var rec rateSeg
	r.fill(&rec, end, txInFlight, at)
	r.record(start, last, rec)
}

// fill writes into rec the copies a transmission ending at end, sent at
// the instant at with txInFlight bytes in flight, takes (DRE §3.2). It
// writes the record in place, field by field: building it aside and
// copying it in cost a fifth of the sampler's time per segment (the
// copy's loads stall on the stores just made).
func (r *rateSampler) fill(rec *rateSeg, end Seq, txInFlight int32, at instant) {
	rec.end, rec.txInFlight, rec.sentAt = end, txInFlight, at
	rec.delivered, rec.deliveredAt, rec.firstSentAt = r.delivered, r.deliveredAt, r.firstSentAt
	rec.lost = uint32(r.lost)
	rec.flags = 0
	if r.appLimited != 0 {
		rec.flags = rateAppLimited
	}
}

// rateLost counts what of [start, end) is not SACKed and was not yet
// counted since it was last sent as deemed lost (C.lost), and tells a
// FlightObserver of each transmission it covers; again says whether
// retransmissions count (RACK deems them lost by time; RFC 6675 never
// does). The loss detection calls it as it deems a range lost.
func (c *Conn) rateLost(start, end Seq, again bool, now time.Time) {
	r := c.sampler()
	if r == nil || r.records.len() == 0 {
		return
	}
	if start.LessThan(r.head) {
		start = r.head
	}
	if b := r.records.back(); end.GreaterThan(b.end) {
		end = b.end
	}
	if !start.LessThan(end) {
		return
	}
	r.split(start)
	r.split(end)
	o, _ := c.cc.controller().(FlightObserver)
	i0, from := r.find(start)
	sent := r.records.all()
	for i := i0; i < len(sent); i++ {
		rec := &sent[i]
		lo := from
		from = rec.end
		if !rec.end.GreaterThan(start) {
			continue
		}
		if !lo.LessThan(end) {
			break
		}
		if rec.flags&(rateDelivered|rateLost) != 0 || !again && rec.flags&rateAgain != 0 {
			continue
		}
		n := int(rec.end.Sub(lo)) - c.sb.bytes(lo, rec.end)
		if n <= 0 {
			continue
		}
		rec.flags |= rateLost
		r.lost += int64(n)
		if o != nil {
			o.OnLost(LostSample{Bytes: n, TxInFlight: int(rec.txInFlight), Lost: int64(uint32(r.lost) - rec.lost),
				Delivered: r.delivered, AppLimited: rec.flags&rateAppLimited != 0, SACK: c.sackOK}, now)
		}
	}
}

// rateMarkLost counts, as fast recovery starts and as each ACK is
// taken, what the loss recoveries that mark nothing themselves deem
// lost: with RFC 6675 the holes below lostLimit (IsLost), without SACK
// in fast recovery the segment at SND.UNA (RFC 6582). RACK marks its
// own (rackState.detectAt).
func (c *Conn) rateMarkLost(now time.Time) {
	switch c.loss.(type) {
	case *sackRecovery:
		if lim := c.lostLimit(); lim.GreaterThan(c.sndUna) {
			c.rateLost(c.sndUna, lim, false, now)
		}
	case *renoRecovery:
		if c.inRecovery {
			c.rateLost(c.sndUna, c.sndUna.Add(uint32(c.effectiveMSS())), false, now)
		}
	}
}

// record puts rec, a transmission from start, below last (the end of
// the records), in the records: a retransmission gets the copies of rec
// in the records it covers, split where it starts or ends inside one,
// and new data beyond last a record of its own.
func (r *rateSampler) record(start, last Seq, rec rateSeg) {
	stop := minSeq(rec.end, last)
	r.split(start)
	r.split(stop)
	i0, from := r.find(start)
	sent := r.records.all()
	for i := i0; i < len(sent) && from.LessThan(stop); i++ {
		if from.GreaterThanEq(start) && sent[i].end.LessThanEq(stop) {
			again := rec
			again.end = sent[i].end
			again.flags |= rateAgain
			sent[i] = again
		}
		from = sent[i].end
	}
	if rec.end.GreaterThan(last) {
		r.records.push(rec)
	}
}

// split makes seq a boundary between records, if a record spans it.
func (r *rateSampler) split(seq Seq) {
	i, from := r.find(seq)
	if i == r.records.len() || !from.LessThan(seq) {
		return // beyond the records, or a boundary already
	}
	r.records.push(rateSeg{})
	sent := r.records.all() // push may have moved them
	copy(sent[i+1:], sent[i:])
	sent[i].end = seq
}

// find returns the index of the first record that ends after seq (the
// number of records if none does) and where that record begins. The
// ends ascend from head, so a binary search finds it: the loss
// detection and retransmissions ask within flights of thousands of
// records, where a scan from the oldest cost more than the rest of an
// ACK's work.
func (r *rateSampler) find(seq Seq) (int, Seq) {
	sent := r.records.all()
	i := sort.Search(len(sent), func(i int) bool { return sent[i].end.GreaterThan(seq) })
	if i == 0 {
		return 0, r.head
	}
	return i, sent[i-1].end
}

// rateAcked takes an acceptable ACK that moved SND.UNA or SACKed
// something new, once both are taken: what it delivered makes a sample
// (DRE §3.3). Kept small so that it is inlined: a receiver pays a test.
func (c *Conn) rateAcked(now time.Time) {
	if c.cc != nil && c.cc.rate != nil {
		c.cc.rate.acked(c, now)
	}
}

// acked delivers the records the cumulative ACK and the scoreboard
// cover (DRE §3.3, UpdateRateSample for each), makes the ACK's sample
// (GenerateRateSample) and gives it to the controller.
func (r *rateSampler) acked(c *Conn, now time.Time) {
	if r.records.len() == 0 {
		return
	}
	if c.inRecovery || len(c.sb.ranges) > 0 {
		c.rateMarkLost(now) // neither loss recovery deems anything lost otherwise
	}
	nowAt := r.clock(c, now)
	at := max(nowAt, c.lastSend) // never before a send (see rackState.clockNow)
	ack := c.sndUna
	sacked := c.sb.highest(ack) // nothing beyond it is delivered
	var newly int64
	newest := -1
	from, acked := r.head, 0
	sent := r.records.all()
	for i := range sent {
		rec := &sent[i]
		start := from
		from = rec.end
		before := newly
		if rec.end.LessThanEq(ack) {
			acked = i + 1
			if rec.flags&rateDelivered != 0 {
				continue // counted when it was SACKed
			}
			newly += int64(rec.end.Sub(start))
		} else {
			if !start.LessThan(sacked) {
				break // beyond the cumulative ACK and every SACK block
			}
			if rec.flags&rateDelivered != 0 {
				continue
			}
			lo := start
			if lo.LessThan(ack) {
				lo = ack
			}
			if end, ok := c.sb.sackedEnd(lo); ok && end.GreaterThanEq(rec.end) {
				newly += int64(rec.end.Sub(start))
				rec.flags |= rateDelivered
			} else if start.LessThan(ack) {
				newly += int64(ack.Sub(start)) // the part below the ACK; the rest counts when delivered
			}
		}
		if newly > before && (newest < 0 || sentAfter(rec.sentAt, rec.end, sent[newest].sentAt, sent[newest].end)) {
			newest = i
		}
	}
	if newest < 0 {
		r.drop(acked, ack)
		return
	}
	p := &sent[newest] // read before drop clears it
	interval, rtt := r.take(p, newly, at, &c.rtt)
	// The sample (GenerateRateSample), every field set here where it
	// lives rather than zeroed first or copied from a callee's result.
	rs := RateSample{
		Delivered: r.delivered - p.delivered, Interval: interval,
		SendElapsed: time.Duration(p.sentAt - p.firstSentAt), AckElapsed: time.Duration(at - p.deliveredAt),
		PriorDelivered: p.delivered, TotalDelivered: r.delivered, NewlyDelivered: newly,
		TxInFlight: int(p.txInFlight), RTT: rtt, AppLimited: p.flags&rateAppLimited != 0,
		Lost: int64(uint32(r.lost) - p.lost), NewlyLost: r.lost - r.lostSampled, TotalLost: r.lost,
		InFlight: c.flightNow(), CwndLimited: r.delivered <= r.cwndLimited,
		InRecovery: c.inRecovery || c.recovering(), SACK: c.sackOK,
	}
	r.drop(acked, ack)
	r.lostSampled = r.lost
	if b, ok := c.cc.UndoableCongestionControl.(*BBR); ok {
		// The consumer in this package: no interface assertion, no copy
		// of the sample, and its clock on the ACK's instant.
		b.clockAt(now, nowAt)
		b.takeSample(&rs)
		return
	}
	c.cc.consumer().OnRateSample(rs, now)
}

// window is the congestion window, asked of BBR, the sampler's usual
// consumer, without a call through the interface.
func (g *congestion) window() int {
	if b, ok := g.UndoableCongestionControl.(*BBR); ok {
		return b.cwnd
	}
	return g.Window()
}

// bbr reports whether the controller is BBR, which takes everything
// from the sampler: its Acked does nothing, and it keeps no record of
// the window's use (cwnduse.go), which only gates Acked. The engine
// skips both for it; a switch to another controller makes the
// congestion state, and that record, afresh (reinitCongestionControl).
func (g *congestion) bbr() bool {
	_, ok := g.UndoableCongestionControl.(*BBR)
	return ok
}

// consumer returns the controller as a RateSampleConsumer; it must be
// one. Asked on each sample rather than kept, to keep the congestion
// state, which every sending connection holds, 16 bytes smaller.
func (g *congestion) consumer() RateSampleConsumer { return g.controller().(RateSampleConsumer) }

// drop lets go of the n records the cumulative ACK of ack covers, and
// moves head to ack. The records hold no pointers, so their slots are
// left as they are (fifo.drop would clear them), to be overwritten.
func (r *rateSampler) drop(n int, ack Seq) {
	f := &r.records
	if f.head += n; f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	}
	if ack.GreaterThan(r.head) {
		r.head = ack
	}
}

// take counts newly delivered bytes and takes the ACK's sample from
// p, the transmission it delivered that was sent last (DRE §3.3,
// UpdateRateSample and GenerateRateSample), at the time at; e keeps
// min_rtt. It returns the sample's interval, 0 if it gives no rate, and
// p's round trip, 0 if p was a retransmission.
func (r *rateSampler) take(p *rateSeg, newly int64, at instant, e *rttEstimator) (interval, rtt time.Duration) {
	r.delivered += newly
	r.deliveredAt = at
	if r.appLimited != 0 && r.delivered > r.appLimited {
		r.appLimited = 0 // the bubble the application left is delivered
	}
	r.firstSentAt = p.sentAt // the next flight is measured from here
	if p.flags&rateAgain == 0 {
		rtt = time.Duration(at - p.sentAt)
		e.noteMin(rtt)
	}
	interval = time.Duration(max(p.sentAt-p.firstSentAt, at-p.deliveredAt))
	if interval < e.min || interval <= 0 {
		// Shorter than a round trip: the ACK of an original taken for its
		// retransmission's, or of a flight too short to measure (§3.3).
		return 0, rtt
	}
	r.lastDelivered, r.lastInterval = r.delivered-p.delivered, interval
	r.lastAppLimited = p.flags&rateAppLimited != 0
	return interval, rtt
}

// checkAppLimited marks the connection application-limited (DRE §3.4,
// CheckIfApplicationLimited) when the application writes after leaving
// the connection with less than a segment unsent, nothing waiting to be
// collected, room in the congestion window, and every segment deemed
// lost sent again: the flight now in the network is smaller than the
// congestion control allows, and samples of it must say so until it
// has been delivered.
func (c *Conn) checkAppLimited() {
	r := c.sampler()
	if r == nil {
		return // no sampling; or the congestion state, when made, starts app-limited
	}
	unsent := int(c.sendSeq.Add(uint32(c.queued())).Sub(c.sndNxt))
	if unsent >= c.payloadMSS() || len(c.out) > 0 {
		return
	}
	flight := c.inFlight()
	if flight >= c.cc.window() {
		return
	}
	if c.inRecovery {
		if _, ok := c.loss.nextRetransmission(c); ok {
			return
		}
	}
	r.appLimited = max(r.delivered+int64(flight), 1)
}

// rateCompact gives back the records' array once nothing is in flight,
// to a pool, remembering its size for the next flight (rateSent).
func (c *Conn) rateCompact() {
	if r := c.sampler(); r != nil && r.records.len() == 0 {
		if n := cap(r.records.items); n > 0 {
			r.sizeHint = int32(min(n, 1<<maxRateShift))
			putRateArray(r.records.items)
		}
		r.records = fifo[rateSeg]{}
	}
}

// rateArrays recycles the sampler's record arrays between flights and
// connections, as bufferPools does the queues' buffers (ring.go): a
// cache only, which changes no behaviour. Index i holds arrays of
// 1<<(i+minRateShift) records, each as a pointer to its first record
// (a slice header would be boxed on every Put).
var rateArrays [maxRateShift - minRateShift + 1]sync.Pool

// The pooled arrays hold 16 to 4096 records (768 B to 192 KiB).
const minRateShift, maxRateShift = 4, 12

// getRateArray returns an empty array for at least n records, or for
// 4096 if n is more, from the pool if it has one.
func getRateArray(n int) []rateSeg {
	shift := min(max(bits.Len(uint(n-1)), minRateShift), maxRateShift)
	if p, ok := rateArrays[shift-minRateShift].Get().(*rateSeg); ok {
		return unsafe.Slice(p, 1<<shift)[:0]
	}
	return make([]rateSeg, 0, 1<<shift)
}

// putRateArray gives a, whose records are no longer needed, to the
// pool of the largest size it holds; one too small for it is dropped.
func putRateArray(a []rateSeg) {
	shift := min(bits.Len(uint(cap(a)))-1, maxRateShift)
	if shift < minRateShift {
		return
	}
	rateArrays[shift-minRateShift].Put(&a[:1][0])
}

// rateStats fills in the delivery rate and min_rtt of s.
func (c *Conn) rateStats(s *Stats) {
	s.MinRTT = c.rtt.min
	if c.cc == nil {
		return
	}
	if r := c.cc.rate; r != nil && r.lastInterval > 0 {
		s.DeliveryRate = uint64(float64(r.lastDelivered) / r.lastInterval.Seconds())
		s.DeliveryRateAppLimited = r.lastAppLimited
	}
	s.PacingRate = uint64(c.pacingRate())
}

// checkRate reports the first broken invariant of the sampler's
// records, for tests and fuzzing: their ends ascend above head, and the
// last is SND.MAX.
func (c *Conn) checkRate() error {
	r := c.sampler()
	if r == nil {
		return nil
	}
	prev := r.head
	for i, rec := range r.records.all() {
		if !rec.end.GreaterThan(prev) {
			return fmt.Errorf("rate record %d ends at %d, not after %d (head %d, snd.una %d)", i, rec.end, prev, r.head, c.sndUna)
		}
		prev = rec.end
	}
	if r.records.len() > 0 && prev != c.sndMax {
		return fmt.Errorf("rate records end at %d, snd.max is %d", prev, c.sndMax)
	}
	return nil
}
