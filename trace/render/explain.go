package render

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// Step is one notable moment of a trace with a sentence saying why it
// happened.
type Step struct {
	// At is when it happened.
	At time.Duration
	// Host is the host it happened at ("" for the network as a whole).
	// For a segment lost or corrupted on its way, it is the sender.
	Host string
	// Event is the index in the trace of the event explained.
	Event int
	// ID is the segment the step is about, or 0.
	ID int
	// Who names Host in the step's language ("client", "客户端"); a
	// host known by its address is named by its role (see Roles), as
	// the sentences name it, so that the address is not repeated.
	Who string
	// Text is the explanation: one or two sentences.
	Text string
}

// ExplainLanguages returns the languages Explain speaks.
func ExplainLanguages() []string { return []string{"en", "zh"} }

// Explain walks a trace and says, for each notable event, why it
// happened: why a segment was sent (the first SYN, an answer, a
// retransmission after a timeout, the re-ACK from TIME_WAIT), why a state
// was entered, what the network did (a loss, a duplicate, a corrupted
// copy), which timer fired, and what the applications did that matters
// (writes, end-of-file). Deliveries themselves are not steps: the
// receiver's reaction is, with its cause. lang is "en" or "zh"; any other
// value gives English.
//
// The explanations are worked out from the events alone, as a reader of
// the diagram would: what each side last received or which timer fired
// just before it acted, and in which state it was.
func Explain(events []trace.Event, lang string) []Step {
	if lang != "zh" {
		lang = "en"
	}
	x := &explainer{
		lang:   lang,
		hosts:  make(map[string]*hostView),
		segs:   make(map[int]*sentView),
		seen:   make(map[string]bool),
		sentAt: make(map[string]time.Duration),
		wire:   true,
		roles:  Roles(events),
	}
	for _, e := range events {
		if e.Host != "" && (e.Kind == trace.SegmentSent || e.Kind == trace.StateChanged || e.Kind == trace.AppCall || e.Kind == trace.TimerFired) && !contains(x.order, e.Host) {
			x.order = append(x.order, e.Host)
		}
		if e.Kind == trace.AppCall || e.Kind == trace.TimerFired {
			x.wire = false
		}
	}
	for i := range events {
		x.event(i, &events[i])
	}
	return x.steps
}

// hostView is what the explainer knows of one host.
type hostView struct {
	state    tcp.State
	trigger  *trace.Event // the last delivery, timer or application call here
	trigAt   time.Duration
	trigFrom tcp.State // the state when the trigger happened
	// synSeq is the sequence number of the host's own SYN for its
	// current connection; synTries counts those SYNs.
	synSeq    tcp.Seq
	hasSYN    bool
	connected bool // connect() was called since the last SYN
	synTries  int
	rexmits   int // retransmissions since something new was sent
	rebooted  bool
	// halfClosed is set when the application called shutdown(SHUT_WR):
	// it sends no more but still reads.
	halfClosed bool
	// peerFIN is set once the peer's FIN has been delivered here;
	// saidHalf once a step has named the half-close.
	peerFIN, saidHalf bool
	// dataAt is when data last arrived here.
	dataAt time.Duration
	// sentAny is set once the host has sent a segment; thirdSent once
	// it has acknowledged a SYN+ACK.
	sentAny, thirdSent bool
	// zeroWin is set while the host advertises a zero window.
	zeroWin bool
	// win is the window the host last advertised, if hasWin.
	win    uint32
	hasWin bool
	// saidFINWin is set once a step has said why the window dropped by
	// one after the peer's FIN.
	saidFINWin bool
	// sentFIN is set once the host has sent its FIN; peerFINEnd is the
	// sequence number just after the peer's FIN; ackSent the last
	// acknowledgment number the host sent.
	sentFIN    bool
	peerFINEnd tcp.Seq
	ackSent    tcp.Seq
	hasAckSent bool
	// On the wire alone: replyGap is how long the host took to answer
	// in the handshake (with the path delay between it and where the
	// capture was taken), the yardstick for a delayed ACK; minGap the
	// shortest answer to data seen so far, where the handshake is not in
	// the capture.
	replyGap, minGap time.Duration
	hasReply, hasMin bool
	lastAck          tcp.Seq // the acknowledgment number last received
	dupAcks          int     // duplicate ACKs received since then
	hasAck           bool
}

// sentView is what the explainer knows of one segment.
type sentView struct {
	from       string
	seg        tcp.Segment
	retransmit bool
	settled    bool // delivered, dropped or corrupted
	senderAt   tcp.State
}

type explainer struct {
	lang string
	// wire is set for a trace of the wire alone (a capture): no timers
	// and no application calls, so causes are read from the segments
	// and their timing.
	wire  bool
	roles map[string]string // a host's role, for hosts known by address
	order []string
	hosts map[string]*hostView
	segs  map[int]*sentView
	seen  map[string]bool
	// sentAt is when each segment (as seen keys it) was last sent.
	sentAt map[string]time.Duration
	steps  []Step
}

func (x *explainer) host(h string) *hostView {
	v := x.hosts[h]
	if v == nil {
		v = &hostView{}
		x.hosts[h] = v
	}
	return v
}

// peer returns the other end of host h: the event's Peer when a real
// stack recorded it, else the other of the two hosts.
func (x *explainer) peer(e *trace.Event, h string) string {
	if e.Peer != "" {
		return e.Peer
	}
	for _, o := range x.order {
		if o != h {
			return o
		}
	}
	return ""
}

// args fill a sentence's placeholders.
type args struct {
	h, p     string
	n        int
	what     string // a segment kind, as segmentKind names it
	from, to string
	text     string
	ms       time.Duration // a delay, said in milliseconds
}

// role returns the name the sentences give host h.
func (x *explainer) role(h string) string {
	if r, ok := x.roles[h]; ok {
		return r
	}
	return h
}

// Roles names the two ends of a trace whose hosts are known by their
// addresses ("10.0.0.1:40000"), as a capture's are: the end that sent
// the first SYN is the "client" and the other the "server"; without a
// SYN, the end with the lower port is the server. It returns nil when
// the hosts have names of their own or are not two.
func Roles(events []trace.Event) map[string]string {
	var hosts []string
	client := ""
	for _, e := range events {
		if e.Kind != trace.SegmentSent || e.Host == "" {
			continue
		}
		if !contains(hosts, e.Host) {
			hosts = append(hosts, e.Host)
		}
		if client == "" && e.Segment.Flags&(wire.FlagSYN|wire.FlagACK) == wire.FlagSYN {
			client = e.Host
		}
	}
	if len(hosts) != 2 {
		return nil
	}
	var ports [2]uint16
	for i, h := range hosts {
		ap, err := netip.ParseAddrPort(h)
		if err != nil {
			return nil
		}
		ports[i] = ap.Port()
	}
	if client == "" {
		client = hosts[0]
		if ports[0] < ports[1] {
			client = hosts[1]
		}
	}
	server := hosts[0]
	if server == client {
		server = hosts[1]
	}
	return map[string]string{client: "client", server: "server"}
}

// say adds a step with the sentence key.
func (x *explainer) say(i int, e *trace.Event, host string, id int, key string, a args) {
	en, zh, ok := message(key)
	if !ok {
		en, zh = key, key // a bug, which the tests catch as an untranslated step
	}
	s := en
	if x.lang == "zh" {
		s = zh
	}
	r := strings.NewReplacer(
		"{H}", hostName(x.lang, x.role(a.h)),
		"{P}", hostName(x.lang, x.role(a.p)),
		"{n}", strconv.Itoa(a.n),
		"{ms}", strconv.FormatInt(a.ms.Milliseconds(), 10),
		"{what}", segmentWhat(x.lang, a.what, a.n),
		"{from}", a.from,
		"{to}", a.to,
		"{text}", a.text,
	)
	s = r.Replace(s)
	if x.lang == "en" {
		s = sentenceCase(s)
	}
	who := x.role(host)
	if x.lang == "zh" && host != "" {
		who = hostName("zh", who)
	}
	x.steps = append(x.steps, Step{At: e.At, Host: host, Who: who, Event: i, ID: id, Text: s})
}

// triggerOf returns what host last received or experienced at this very
// instant, or nil.
func (v *hostView) triggerOf(at time.Duration) *trace.Event {
	if v.trigger != nil && v.trigAt == at {
		return v.trigger
	}
	return nil
}

// lastReceived returns what the host last received, at any time: on
// the wire alone, a host's answer comes some time after what it
// answers (the capture may be taken far from it).
func (v *hostView) lastReceived() *trace.Event {
	if v.trigger != nil && v.trigger.Kind == trace.SegmentDelivered {
		return v.trigger
	}
	return nil
}

func (x *explainer) event(i int, e *trace.Event) {
	switch e.Kind {
	case trace.SegmentSent:
		x.sent(i, e)
	case trace.SegmentDuplicated:
		if s := x.segs[e.ID]; s != nil {
			twin := *s
			x.segs[e.Dup] = &twin
			x.say(i, e, s.from, e.Dup, "net.dup", args{h: s.from, p: x.peer(e, s.from)})
		}
	case trace.SegmentDelivered:
		v := x.host(e.Host)
		v.trigger, v.trigAt, v.trigFrom = e, e.At, v.state
		x.received(v, e)
		if s := x.segs[e.ID]; s != nil {
			s.settled = true
			if e.Segment.Flags == 0 && e.Segment.Payload == nil {
				// The segment is copied into deliveries for convenience;
				// where it was not, the send has it.
				filled := *e
				filled.Segment = s.seg
				v.trigger = &filled
			}
		}
	case trace.SegmentDropped, trace.SegmentCorrupted:
		x.lost(i, e)
	case trace.StateChanged:
		if !startsOnly(*e) {
			x.state(i, e)
		}
		x.host(e.Host).state = e.To
	case trace.TimerFired:
		v := x.host(e.Host)
		v.trigger, v.trigAt, v.trigFrom = e, e.At, v.state
		switch e.Timer {
		case tcp.TimerRetransmit:
			x.say(i, e, e.Host, 0, "timer.rto", args{h: e.Host})
		case tcp.TimerTimeWait:
			x.say(i, e, e.Host, 0, "timer.2msl", args{h: e.Host})
		case tcp.TimerDelayedAck:
			x.say(i, e, e.Host, 0, "timer.delack", args{h: e.Host, p: x.peer(e, e.Host)})
		case tcp.TimerPersist:
			x.say(i, e, e.Host, 0, "timer.persist", args{h: e.Host, p: x.peer(e, e.Host)})
		case tcp.TimerKeepalive:
			x.say(i, e, e.Host, 0, "timer.keepalive", args{h: e.Host, p: x.peer(e, e.Host)})
		default:
			x.say(i, e, e.Host, 0, "timer", args{h: e.Host, text: e.Timer.String()})
		}
	case trace.AppCall:
		v := x.host(e.Host)
		v.trigger, v.trigAt, v.trigFrom = e, e.At, v.state
		switch {
		case strings.HasPrefix(e.Text, "connect("):
			v.connected = true
		case e.Text == "shutdown(SHUT_WR)":
			v.halfClosed = true
		case strings.HasPrefix(e.Text, "write("):
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Text, "write("), ")"))
			x.say(i, e, e.Host, 0, "app.write", args{h: e.Host, n: n})
		case e.Text == "read() = EOF":
			x.say(i, e, e.Host, 0, "app.eof", args{h: e.Host, p: x.peer(e, e.Host)})
		}
	case trace.Note:
		x.note(i, e)
	}
}

// received notes what a delivery tells the explainer about its
// receiver: the peer's FIN, the time of data, duplicate ACKs (RFC 5681
// §2: same acknowledgment number, no data, no SYN or FIN).
func (x *explainer) received(v *hostView, e *trace.Event) {
	seg := e.Segment
	if s := x.segs[e.ID]; s != nil && seg.Flags == 0 && seg.Payload == nil {
		seg = s.seg
	}
	if seg.Flags.Has(wire.FlagFIN) {
		v.peerFIN = true
		v.peerFINEnd = seg.Seq + tcp.Seq(seg.SeqLen())
	}
	if len(seg.Payload) > 0 {
		v.dataAt = e.At
	}
	if !seg.Flags.Has(wire.FlagACK) {
		return
	}
	pure := len(seg.Payload) == 0 && seg.Flags&(wire.FlagSYN|wire.FlagFIN|wire.FlagRST) == 0
	switch {
	case v.hasAck && pure && seg.Ack == v.lastAck:
		v.dupAcks++
	default:
		v.lastAck, v.hasAck, v.dupAcks = seg.Ack, true, 0
	}
}

// sent explains why a segment was sent.
func (x *explainer) sent(i int, e *trace.Event) {
	h := e.Host
	v := x.host(h)
	p := x.peer(e, h)
	seg := e.Segment
	key := fmt.Sprintf("%s|%d|%d|%v", h, seg.Seq, len(seg.Payload), seg.Flags&^wire.FlagPSH)
	rexmit := seg.SeqLen() > 0 && x.seen[key]
	x.seen[key] = true
	defer func() { x.sentAt[key] = e.At }()
	x.segs[e.ID] = &sentView{from: h, seg: seg, retransmit: rexmit, senderAt: v.state}
	if rexmit {
		v.rexmits++
	} else if seg.SeqLen() > 0 {
		v.rexmits = 0
	}
	trig := v.triggerOf(e.At)
	if trig == nil && x.wire {
		trig = v.lastReceived()
	}
	trigKind := ""
	if trig != nil && trig.Kind == trace.SegmentDelivered {
		trigKind = segmentKind(&trig.Segment)
	}
	byTimer := trig != nil && trig.Kind == trace.TimerFired
	a := args{h: h, p: p, n: len(seg.Payload)}
	say := func(k string) { x.say(i, e, h, e.ID, k, a) }
	pv := x.hosts[p]
	peerState := tcp.Closed
	if pv != nil {
		peerState = pv.state
	}
	firstSend := !v.sentAny
	v.sentAny = true
	prevWin, hadWin := v.win, v.hasWin
	if seg.Flags&wire.FlagRST == 0 {
		v.win, v.hasWin = uint32(seg.Window), true
	}
	// The ACK of a FIN advertises one less when the window's right edge
	// stays put: say why once, where it shows.
	if seg.Flags.Has(wire.FlagACK) && hadWin && uint32(seg.Window)+1 == prevWin && v.peerFIN && seg.Ack == v.peerFINEnd && !v.saidFINWin {
		v.saidFINWin = true
		n := len(x.steps)
		defer func() {
			if len(x.steps) > n {
				en, zh, _ := message("win.fin")
				if x.lang == "zh" {
					x.steps[len(x.steps)-1].Text += zh
				} else {
					x.steps[len(x.steps)-1].Text += " " + en
				}
			}
		}()
	}
	prevAck, hadAck := v.ackSent, v.hasAckSent
	if seg.Flags.Has(wire.FlagACK) {
		v.ackSent, v.hasAckSent = seg.Ack, true
	}
	if seg.Flags.Has(wire.FlagFIN) {
		defer func() { v.sentFIN = true }()
	}

	if x.wire && trig != nil && !v.hasReply && (trigKind == "syn" && segmentKind(&seg) == "syn-ack" || trigKind == "syn-ack" && segmentKind(&seg) == "ack") {
		v.replyGap, v.hasReply = e.At-v.trigAt, true
	}
	// RFC 9293 §3.8.6.1: a zero window stops the peer's data; the
	// peer probes it until it opens.
	if seg.Flags&(wire.FlagSYN|wire.FlagRST) == 0 {
		switch {
		case seg.Window == 0 && !v.zeroWin:
			v.zeroWin = true
			say("send.zerowin")
			return
		case seg.Window > 0 && v.zeroWin:
			v.zeroWin = false
			say("send.winopen")
			return
		case seg.Window == 0 && v.zeroWin && len(seg.Payload) == 0 && seg.Flags&wire.FlagFIN == 0:
			say("send.zerowin.still")
			return
		case x.wire && pv != nil && pv.zeroWin && len(seg.Payload) <= 1 && seg.Flags&wire.FlagFIN == 0:
			say("send.zerowin.probe")
			return
		}
	}
	switch segmentKind(&seg) {
	case "syn":
		switch {
		case rexmit:
			v.synTries++
			a.n = v.synTries
			say("send.syn.rexmit")
		case v.hasSYN && seg.Seq != v.synSeq && !v.connected && v.state == tcp.SynSent:
			say("send.syn.old") // not this connection's SYN: leave synSeq alone
		default:
			v.synSeq, v.hasSYN, v.connected, v.synTries = seg.Seq, true, false, 1
			switch {
			case x.inFlight(p, wire.FlagSYN, wire.FlagACK):
				say("send.syn.simopen")
			case peerState == tcp.TimeWait:
				say("send.syn.reuse")
			default:
				say("send.syn")
			}
		}
	case "syn-ack":
		switch {
		case rexmit && byTimer:
			say("send.synack.rexmit")
		case rexmit && trigKind == "syn":
			say("send.synack.again")
		case v.trigFrom == tcp.SynSent && trig != nil:
			say("send.synack.simopen")
		default:
			say("send.synack")
		}
	case "rst":
		switch {
		case trig != nil && trig.Kind == trace.AppCall && trig.Text == "abort()":
			say("send.rst.abort")
		case trigKind == "syn" && (v.trigFrom == tcp.Closed && !x.wire || x.wire && firstSend):
			say("send.rst.refused")
		case trigKind == "syn-ack" && v.trigFrom == tcp.SynSent:
			say("send.rst.olddup")
		case trig != nil && trig.Kind == trace.SegmentDelivered && v.rebooted:
			say("send.rst.rebooted")
		case trig != nil && trig.Kind == trace.SegmentDelivered:
			say("send.rst.noconn")
		default:
			say("send.rst")
		}
	case "fin":
		switch {
		case rexmit && byTimer && peerState == tcp.TimeWait:
			say("send.fin.rexmit.tw")
		case rexmit:
			say("send.fin.rexmit")
		case x.inFlight(p, wire.FlagFIN, 0):
			say("send.fin.simclose")
		case v.state == tcp.LastAck:
			say("send.fin.passive")
		default:
			say("send.fin")
		}
	case "data":
		switch {
		case rexmit && x.wire && v.dupAcks >= 3:
			a.n = v.dupAcks
			say("send.data.rexmit.fast")
		case rexmit && x.wire:
			a.ms = e.At - x.sentAt[key]
			say("send.data.rexmit.rto")
		case rexmit:
			say("send.data.rexmit")
		case v.peerFIN && !v.saidHalf && (pv != nil && pv.halfClosed || x.wire):
			// RFC 9293 §3.6: a FIN closes one direction only; the
			// other goes on until its own FIN.
			v.saidHalf = true
			say("send.data.halfclose")
		default:
			say("send.data")
		}
	case "ack":
		if x.wire && seg.Flags.Has(wire.FlagACK) && (trigKind == "data" || trigKind == "fin" || trigKind == "ack") {
			x.wireAck(i, e, v, prevAck, hadAck, a)
			return
		}
		switch {
		case trigKind == "syn-ack" && (v.trigFrom == tcp.SynSent || x.wire && !v.thirdSent):
			v.thirdSent = true
			say("send.ack.third")
		case trigKind == "syn-ack":
			say("send.ack.dupsynack")
		case trigKind == "fin" && v.trigFrom == tcp.TimeWait:
			say("send.ack.reack")
		case trigKind == "fin" && v.state == tcp.TimeWait:
			say("send.ack.finalack")
		case trigKind == "fin" && v.state == tcp.Closing:
			say("send.ack.closing")
		case trigKind == "fin":
			say("send.ack.fin")
		case trigKind == "data":
			a.n = len(trig.Segment.Payload)
			say("send.ack.data")
		case byTimer && trig.Timer == tcp.TimerDelayedAck:
			a.ms = e.At - v.dataAt
			say("send.ack.delayed")
		case byTimer && trig.Timer == tcp.TimerKeepalive:
			say("send.ack.keepalive")
		default:
			say("send.ack")
		}
	default:
		say("send")
	}
}

// wireAck explains a bare ACK of a capture by what its acknowledgment
// number covers, since a capture cannot say what the host had received
// when it answered: the peer's FIN, new data, or nothing new.
// prev is the acknowledgment number the host sent before, if had.
func (x *explainer) wireAck(i int, e *trace.Event, v *hostView, prev tcp.Seq, had bool, a args) {
	seg := e.Segment
	say := func(k string) { x.say(i, e, e.Host, e.ID, k, a) }
	switch {
	case v.peerFIN && seg.Ack == v.peerFINEnd && (!had || prev != seg.Ack) && v.sentFIN:
		say("send.ack.finalack")
	case v.peerFIN && seg.Ack == v.peerFINEnd && (!had || prev != seg.Ack):
		say("send.ack.fin")
	case had && tcp.Seq(seg.Ack-prev) > 0 && tcp.Seq(seg.Ack-prev) < 1<<30:
		a.n = int(seg.Ack - prev)
		if d := x.delayedOnWire(v, e.At-v.dataAt); d >= minDelayedAck {
			a.ms = d
			say("send.ack.delayed.wire")
			return
		}
		say("send.ack.data")
	case had && seg.Ack == prev && v.sentFIN && v.peerFIN && seg.Ack == v.peerFINEnd:
		say("send.ack.reack") // the peer's FIN again: this host's last ACK was lost
	case had && seg.Ack == prev && v.trigger != nil && len(v.trigger.Segment.Payload) > 0 && tcp.Seq(v.trigger.Segment.Seq-seg.Ack) > 0 && tcp.Seq(v.trigger.Segment.Seq-seg.Ack) < 1<<30:
		say("send.ack.dup") // data beyond a gap (RFC 5681 §4.2)
	default:
		say("send.ack")
	}
}

// minDelayedAck is the least extra wait that a capture's ACK is called a
// delayed ACK for: Linux holds an ACK at least 40 ms (TCP_DELACK_MIN),
// other stacks up to 200 ms (RFC 1122 §4.2.3.2 allows 500 ms); network
// jitter stays well below.
const minDelayedAck = 10 * time.Millisecond

// delayedOnWire returns how much longer than its usual answer a host
// took to acknowledge data gap after it was captured: the yardstick is
// its answer in the handshake, which no stack delays, else its quickest
// answer to data so far.
func (x *explainer) delayedOnWire(v *hostView, gap time.Duration) time.Duration {
	if !v.hasMin || gap < v.minGap {
		v.minGap, v.hasMin = gap, true
	}
	base := v.minGap
	if v.hasReply {
		base = v.replyGap
	}
	return max(gap-base, 0)
}

// inFlight reports whether host has a segment on its way with the flags
// in want and none of those in not.
func (x *explainer) inFlight(host string, want, not wire.TCPFlags) bool {
	for _, s := range x.segs {
		if s.from == host && !s.settled && s.seg.Flags.Has(want) && s.seg.Flags&not == 0 {
			return true
		}
	}
	return false
}

// lost explains a segment dropped or corrupted.
func (x *explainer) lost(i int, e *trace.Event) {
	s := x.segs[e.ID]
	if s == nil || s.settled {
		return
	}
	s.settled = true
	h, p := s.from, e.Host
	if x.hosts[p] == nil && !contains(x.order, p) {
		p = x.peer(e, h) // dropped toward an address no host has
	}
	kind := segmentKind(&s.seg)
	a := args{h: h, p: p, what: kind, n: len(s.seg.Payload)}
	key := "net.lost"
	switch {
	case e.Kind == trace.SegmentCorrupted:
		key = "net.corrupt"
	case e.Text != "":
		key = "net.lost.down"
	case kind == "ack" && s.senderAt == tcp.TimeWait:
		key = "net.lost.finalack"
	case kind == "ack" && s.senderAt == tcp.Established && x.hosts[p] != nil && x.hosts[p].state == tcp.SynReceived:
		key = "net.lost.thirdack"
	}
	x.say(i, e, h, e.ID, key, a)
}

// state explains a state entered.
func (x *explainer) state(i int, e *trace.Event) {
	h := e.Host
	v := x.host(h)
	p := x.peer(e, h)
	trig := v.triggerOf(e.At)
	trigKind := ""
	if trig != nil && trig.Kind == trace.SegmentDelivered {
		trigKind = segmentKind(&trig.Segment)
	}
	a := args{h: h, p: p, from: e.From.String(), to: e.To.String()}
	say := func(k string) { x.say(i, e, h, 0, k, a) }
	from, to := e.From, e.To
	switch to {
	case tcp.Listen:
		if from == tcp.SynReceived {
			say("st.listen.rst")
		} else {
			say("st.listen")
		}
	case tcp.SynSent:
		say("st.synsent")
	case tcp.SynReceived:
		switch from {
		case tcp.SynSent:
			say("st.synrcvd.simopen")
		case tcp.TimeWait:
			say("st.synrcvd.reuse")
		default:
			say("st.synrcvd")
		}
	case tcp.Established:
		switch {
		case from == tcp.SynSent:
			say("st.est.synsent")
		case trigKind == "syn-ack":
			say("st.est.simopen")
		case trigKind == "data" || (trig != nil && trig.Kind == trace.SegmentDelivered && len(trig.Segment.Payload) > 0):
			say("st.est.data")
		case trigKind == "ack":
			say("st.est.ack")
		default:
			say("st.est")
		}
	case tcp.FinWait1:
		if trig != nil && trig.Kind == trace.AppCall && trig.Text == "shutdown(SHUT_WR)" {
			say("st.fw1.shutdown")
		} else {
			say("st.fw1")
		}
	case tcp.FinWait2:
		if v.halfClosed {
			say("st.fw2.half")
		} else {
			say("st.fw2")
		}
	case tcp.CloseWait:
		say("st.closewait")
	case tcp.Closing:
		say("st.closing")
	case tcp.LastAck:
		say("st.lastack")
	case tcp.TimeWait:
		switch from {
		case tcp.FinWait1:
			say("st.tw.fw1")
		case tcp.Closing:
			say("st.tw.closing")
		default:
			say("st.tw.fw2")
		}
	case tcp.Closed:
		switch {
		case trigKind == "rst" && from == tcp.SynSent:
			say("st.closed.refused")
		case trigKind == "rst":
			say("st.closed.reset")
		case trig != nil && trig.Kind == trace.AppCall && trig.Text == "abort()":
			say("st.closed.abort")
		case from == tcp.TimeWait:
			say("st.closed.timewait")
		case from == tcp.LastAck && trig != nil && trig.Kind == trace.SegmentDelivered:
			say("st.closed.lastack")
		case trig != nil && trig.Kind == trace.TimerFired && from == tcp.SynSent:
			a.n = v.synTries
			say("st.closed.syntimeout")
		case trig != nil && trig.Kind == trace.TimerFired:
			a.n = v.rexmits
			say("st.closed.timeout")
		default:
			say("st.closed")
		}
	default:
		say("st.other")
	}
}

// note explains the simulator's notes: crashes, reboots, and the errors
// applications were given.
func (x *explainer) note(i int, e *trace.Event) {
	t := e.Text
	if strings.HasPrefix(t, "fault ") {
		return // the loss or delay it caused is explained where it shows
	}
	if h, ok := strings.CutSuffix(t, " crashed"); ok && contains(x.order, h) {
		x.host(h).state = tcp.Closed // its connections are gone, without a state change
		x.say(i, e, h, 0, "note.crash", args{h: h})
		return
	}
	if h, ok := strings.CutSuffix(t, " rebooted"); ok && contains(x.order, h) {
		x.host(h).rebooted = true
		x.say(i, e, h, 0, "note.reboot", args{h: h})
		return
	}
	if h, why, ok := strings.Cut(t, ": "); ok && contains(x.order, h) {
		a := args{h: h, p: x.peer(e, h)}
		switch {
		case strings.Contains(why, "refused"):
			x.say(i, e, h, 0, "note.refused", a)
			return
		case strings.Contains(why, "reset"):
			x.say(i, e, h, 0, "note.reset", a)
			return
		case strings.Contains(why, "timed out"):
			x.say(i, e, h, 0, "note.timeout", a)
			return
		}
	}
	x.say(i, e, "", 0, "note", args{text: t})
}

func itoa(n int) string { return strconv.Itoa(n) }

// sentenceCase capitalises the first letter of each sentence: a host's
// name ("the client") may begin one.
func sentenceCase(s string) string {
	var b strings.Builder
	start := true
	for i, r := range s {
		if start && unicode.IsLetter(r) {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
		switch {
		case r == '.' && strings.HasPrefix(s[i+1:], " "):
			start = true
		case r != ' ':
			start = false
		}
	}
	return b.String()
}
