package render

import (
	"sort"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// This file holds the layout-free content of a two-column diagram, shared
// by the SVG, Mermaid and HTML renderers and by Explain: which host is on
// which side, the ordered items each side shows, and what became of every
// segment. The text renderer predates it and keeps its own walk over the
// events, but the labels come from the same code (renderer.label), so a
// segment reads the same in every format.

// itemKind says what one item of a diagram is.
type itemKind uint8

const (
	itemState  itemKind = iota + 1 // a state entered
	itemTimer                      // a timer fired
	itemApp                        // an application call
	itemSend                       // a segment (or a duplicate) leaves its sender
	itemArrive                     // a segment reaches its receiver (delivered, corrupted or dropped there)
	itemNote                       // free text about the run
)

// item is one thing a diagram shows, in event order.
type item struct {
	at    time.Duration
	kind  itemKind
	host  string // "" for notes
	text  string // the state, timer, call or note
	from  tcp.State
	to    tcp.State
	seg   *segment // itemSend and itemArrive
	event int      // index of the event in the trace
}

// segment is what a diagram knows of one segment (or one duplicate copy).
type segment struct {
	id         int
	from, to   string
	sent       time.Duration
	arrived    time.Duration // when fate is set and the segment reached to (or died on arrival)
	fate       trace.Kind    // SegmentDelivered, SegmentDropped or SegmentCorrupted; 0 if never settled
	fateText   string        // why it was dropped on arrival ("host down")
	dropInNet  bool          // dropped on its way (the arrow stops midway)
	dup        bool          // a copy the network made
	original   int           // the ID a duplicate copies
	label      string        // packetdrill notation, with "(retransmit)" / "(dup)"
	retransmit bool          // the sender had sent the same sequence space before
	seg        tcp.Segment
	sendItem   int // index into diagram.items
	arriveItem int // index into diagram.items of its arrival; -1 if it has none
	sendEvent  int // index of the SegmentSent (or SegmentDuplicated) event
}

// lost reports whether the segment never reached its receiver intact.
func (s *segment) lost() bool {
	return s.fate == trace.SegmentDropped || s.fate == trace.SegmentCorrupted
}

// diagram is a trace reduced to what a two-column drawing shows.
type diagram struct {
	left, right string
	items       []item
	segs        map[int]*segment
	order       []*segment // in the order they were sent
	initial     map[string]string
}

// labelOptions are the parts of TextOptions that change what a diagram
// says (not how it is laid out).
type labelOptions struct {
	Left, Right      string
	Absolute, Window bool
	Lang             string // of the "(retransmit)" mark
}

// buildDiagram walks events once, as Text does, and keeps the
// events of the two hosts it draws.
func buildDiagram(events []trace.Event, opts labelOptions) (*diagram, error) {
	r, err := newRenderer(events, TextOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Window: opts.Window, Lang: opts.Lang})
	if err != nil {
		return nil, err
	}
	d := &diagram{
		left:    r.left,
		right:   r.right,
		segs:    make(map[int]*segment),
		initial: map[string]string{r.left: initialState(events, r.left), r.right: initialState(events, r.right)},
	}
	mine := func(h string) bool { return h != "" && (h == d.left || h == d.right) }
	add := func(it item) int {
		d.items = append(d.items, it)
		return len(d.items) - 1
	}
	for i, e := range events {
		switch e.Kind {
		case trace.StateChanged:
			if mine(e.Host) && !startsOnly(e) {
				add(item{at: e.At, kind: itemState, host: e.Host, text: stateName(e, e.To), from: e.From, to: e.To, event: i})
			}
		case trace.TimerFired:
			if mine(e.Host) {
				add(item{at: e.At, kind: itemTimer, host: e.Host, text: e.Timer.String(), event: i})
			}
		case trace.AppCall:
			if mine(e.Host) {
				add(item{at: e.At, kind: itemApp, host: e.Host, text: e.Text, event: i})
			}
		case trace.Note:
			if !strings.HasPrefix(e.Text, "fault ") {
				add(item{at: e.At, kind: itemNote, text: e.Text, event: i})
			}
		case trace.SegmentSent:
			if !mine(e.Host) {
				continue
			}
			s := &segment{id: e.ID, from: e.Host, to: d.other(e.Host), sent: e.At, seg: e.Segment, sendEvent: i, arriveItem: -1}
			s.label = r.label(e.Host, e.Segment)
			s.retransmit = strings.HasSuffix(s.label, r.words.retransmit)
			s.sendItem = add(item{at: e.At, kind: itemSend, host: e.Host, seg: s, event: i})
			d.segs[e.ID] = s
			d.order = append(d.order, s)
		case trace.SegmentDuplicated:
			orig := d.segs[e.ID]
			if orig == nil || !mine(e.Host) {
				continue
			}
			s := &segment{id: e.Dup, from: orig.from, to: orig.to, sent: e.At, seg: orig.seg, dup: true,
				original: orig.id, label: "(dup) " + orig.label, retransmit: orig.retransmit, sendEvent: i, arriveItem: -1}
			s.sendItem = add(item{at: e.At, kind: itemSend, host: e.Host, seg: s, event: i})
			d.segs[e.Dup] = s
			d.order = append(d.order, s)
		case trace.SegmentDelivered, trace.SegmentCorrupted, trace.SegmentDropped:
			s := d.segs[e.ID]
			if s == nil || s.fate != 0 {
				continue
			}
			s.fate = e.Kind
			s.arrived = e.At
			if e.Kind == trace.SegmentDropped && (e.Text == "" || !mine(e.Host)) {
				// Lost on the way (a fault, the link's loss, no route):
				// there is no arrival to draw.
				s.dropInNet = true
				continue
			}
			s.fateText = e.Text
			s.arriveItem = add(item{at: e.At, kind: itemArrive, host: s.to, seg: s, event: i})
		}
	}
	return d, nil
}

// other returns the host on the other side from h.
func (d *diagram) other(h string) string {
	if h == d.left {
		return d.right
	}
	return d.left
}

// oneWayDelay returns the typical time a delivered segment took, to draw
// lost segments with the slope they would have had.
func (d *diagram) oneWayDelay() time.Duration {
	var delays []time.Duration
	for _, s := range d.order {
		if s.fate == trace.SegmentDelivered {
			delays = append(delays, s.arrived-s.sent)
		}
	}
	if len(delays) == 0 {
		return 10 * time.Millisecond
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	return delays[len(delays)/2]
}

// span is a stretch of time one host spent in one state.
type span struct {
	state    string
	from, to int // item indices: the item that entered it, and the one that left it (-1: the start / the end)
	at       time.Duration
}

// spans returns the states host went through, each with the items that
// began and ended it.
func (d *diagram) spans(host string) []span {
	out := []span{{state: d.initial[host], from: -1, to: -1}}
	for i, it := range d.items {
		if it.kind == itemState && it.host == host {
			out[len(out)-1].to = i
			out = append(out, span{state: it.text, from: i, to: -1, at: it.at})
		}
	}
	return out
}

// fateWord names what became of a segment, in English, for tables and
// titles.
func (s *segment) fateWord() string {
	switch {
	case s.fate == trace.SegmentDelivered:
		return "delivered"
	case s.fate == trace.SegmentCorrupted:
		return "corrupted"
	case s.fate == trace.SegmentDropped && s.fateText != "":
		return "lost (" + s.fateText + ")"
	case s.fate == trace.SegmentDropped:
		return "lost"
	}
	return "in flight"
}

// kindName names the kind of a segment as the selector syntax and the
// explanations do: syn, syn-ack, fin, rst, data or ack.
func segmentKind(seg *tcp.Segment) string {
	f := seg.Flags
	switch {
	case f.Has(wire.FlagRST):
		return "rst"
	case f.Has(wire.FlagSYN | wire.FlagACK):
		return "syn-ack"
	case f.Has(wire.FlagSYN):
		return "syn"
	case f.Has(wire.FlagFIN):
		return "fin"
	case len(seg.Payload) > 0:
		return "data"
	case f.Has(wire.FlagACK):
		return "ack"
	}
	return "any"
}

// SegmentInfo is one segment of a trace as the diagrams show it.
type SegmentInfo struct {
	// ID is the segment's ID in the trace; a duplicate has its own.
	ID int
	// From and To are the sender and the receiver.
	From, To string
	// Sent is when it was sent; Arrived when it reached To (delivered,
	// or discarded there), if it did.
	Sent, Arrived time.Duration
	// Fate is SegmentDelivered, SegmentDropped or SegmentCorrupted, or 0
	// if the trace does not say.
	Fate trace.Kind
	// FateText says why a segment was dropped on arrival ("host down").
	FateText string
	// LostInNetwork is set for a segment dropped on its way, which never
	// arrived anywhere.
	LostInNetwork bool
	// Label is the segment in packetdrill notation, as Text writes
	// it, with "(retransmit)" and "(dup)" marks.
	Label string
	// Kind is syn, syn-ack, fin, rst, data or ack, as selectors name them.
	Kind string
	// Retransmit is set when the sender had sent the same sequence space
	// before; Dup for a copy the network made of the segment Original.
	Retransmit, Dup bool
	Original        int
	// Segment is the segment as sent.
	Segment tcp.Segment
}

// FateWord says in a word or two what became of the segment:
// "delivered", "lost", "lost (host down)", "corrupted" or "in flight".
func (s SegmentInfo) FateWord() string {
	return (&segment{fate: s.Fate, fateText: s.FateText}).fateWord()
}

// Segments lists the segments of a trace between its two hosts, in the
// order they were sent, labelled as Text labels them (only Left,
// Right, Absolute and Window of opts matter).
func Segments(events []trace.Event, opts TextOptions) ([]SegmentInfo, error) {
	d, err := buildDiagram(events, labelOptions{Left: opts.Left, Right: opts.Right, Absolute: opts.Absolute, Window: opts.Window})
	if err != nil {
		return nil, err
	}
	out := make([]SegmentInfo, 0, len(d.order))
	for _, s := range d.order {
		out = append(out, SegmentInfo{
			ID: s.id, From: s.from, To: s.to, Sent: s.sent, Arrived: s.arrived, Fate: s.fate,
			FateText: s.fateText, LostInNetwork: s.dropInNet, Label: s.label, Kind: segmentKind(&s.seg),
			Retransmit: s.retransmit, Dup: s.dup, Original: s.original, Segment: s.seg,
		})
	}
	return out, nil
}
