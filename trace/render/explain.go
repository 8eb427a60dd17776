package render

import (
	"fmt"
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
		lang:  lang,
		hosts: make(map[string]*hostView),
		segs:  make(map[int]*sentView),
		seen:  make(map[string]bool),
	}
	for _, e := range events {
		if e.Host != "" && (e.Kind == trace.SegmentSent || e.Kind == trace.StateChanged || e.Kind == trace.AppCall || e.Kind == trace.TimerFired) && !contains(x.order, e.Host) {
			x.order = append(x.order, e.Host)
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
	lang  string
	order []string
	hosts map[string]*hostView
	segs  map[int]*sentView
	seen  map[string]bool
	steps []Step
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
		"{H}", hostName(x.lang, a.h),
		"{P}", hostName(x.lang, a.p),
		"{n}", strconv.Itoa(a.n),
		"{what}", segmentWhat(x.lang, a.what, a.n),
		"{from}", a.from,
		"{to}", a.to,
		"{text}", a.text,
	)
	s = r.Replace(s)
	if x.lang == "en" {
		s = sentenceCase(s)
	}
	x.steps = append(x.steps, Step{At: e.At, Host: host, Event: i, ID: id, Text: s})
}

// triggerOf returns what host last received or experienced at this very
// instant, or nil.
func (v *hostView) triggerOf(at time.Duration) *trace.Event {
	if v.trigger != nil && v.trigAt == at {
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
		x.state(i, e)
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

// sent explains why a segment was sent.
func (x *explainer) sent(i int, e *trace.Event) {
	h := e.Host
	v := x.host(h)
	p := x.peer(e, h)
	seg := e.Segment
	key := fmt.Sprintf("%s|%d|%d|%v", h, seg.Seq, len(seg.Payload), seg.Flags&^wire.FlagPSH)
	rexmit := seg.SeqLen() > 0 && x.seen[key]
	x.seen[key] = true
	x.segs[e.ID] = &sentView{from: h, seg: seg, retransmit: rexmit, senderAt: v.state}
	if rexmit {
		v.rexmits++
	} else if seg.SeqLen() > 0 {
		v.rexmits = 0
	}
	trig := v.triggerOf(e.At)
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
		case trigKind == "syn" && v.trigFrom == tcp.Closed:
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
		if rexmit {
			say("send.data.rexmit")
		} else {
			say("send.data")
		}
	case "ack":
		switch {
		case trigKind == "syn-ack" && v.trigFrom == tcp.SynSent:
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
		say("st.fw1")
	case tcp.FinWait2:
		say("st.fw2")
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
