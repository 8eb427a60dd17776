package render

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/seqack/seqack/tcp"
	"github.com/seqack/seqack/trace"
	"github.com/seqack/seqack/wire"
)

// TextOptions configures Text.
type TextOptions struct {
	// Left and Right name the hosts of the two columns. By default the
	// host that sends the first SYN is on the left and the other on the
	// right.
	Left, Right string
	// Absolute prints sequence and acknowledgment numbers as on the wire;
	// by default they are relative to each side's ISN, learned from its
	// latest SYN, as Wireshark shows them.
	Absolute bool
	// Window adds each segment's advertised window ("win 65535"),
	// scaled when the trace holds both SYNs with the window scale option.
	Window bool
	// Microseconds writes times to the microsecond (a capture's
	// resolution) instead of the millisecond.
	Microseconds bool
	// Width is the width of the diagram in columns; 0 means 100.
	Width int
	// Title, if set, is printed above the diagram.
	Title string
	// ASCII draws with plain ASCII (-->, <--, X) for terminals without
	// Unicode.
	ASCII bool
	// Color adds ANSI colours for a terminal: states bold, lost and
	// corrupted segments red, retransmissions magenta, timers yellow,
	// application calls cyan, notes faint. The layout is the same as
	// without. The command line sets it when writing to a terminal and
	// NO_COLOR is not set.
	Color bool
	// Lang is the language of the diagram's words: the time header, the
	// hosts "client" and "server", "(retransmit)", "lost": "en" (the
	// default) or "zh". Segments, states and calls are the same in both.
	Lang string
}

// textWords are the words a text diagram uses, per language.
type textWords struct {
	time, retransmit, lost, badChecksum, sentAt, client, server string
}

func textWordsFor(lang string) textWords {
	if lang == "zh" {
		return textWords{time: "时间 (秒)", retransmit: " （重传）", lost: "丢失", badChecksum: "校验和错误",
			sentAt: " （%.3f 发出，延迟到达）", client: "客户端", server: "服务器"}
	}
	return textWords{time: "time (s)", retransmit: " (retransmit)", lost: "lost", badChecksum: "bad checksum",
		sentAt: " (sent at %.3f, arrives late)", client: "client", server: "server"}
}

// column returns how a host's column is headed: the simulator's
// "client" and "server" in the diagram's language, any other name as
// it is.
func (w textWords) column(host string) string {
	switch host {
	case "client":
		return w.client
	case "server":
		return w.server
	}
	return host
}

// ANSI styles of a coloured diagram.
const (
	styleNone    = ""
	styleBold    = "1"
	styleLost    = "31"
	styleRexmit  = "35"
	styleTimer   = "33"
	styleApp     = "36"
	styleNote    = "2"
	styleCorrupt = "1;31"
)

// glyphs are the characters a diagram is drawn with.
type glyphs struct {
	line, flight, right, left, lost, timer, note string
}

var (
	unicodeGlyphs = glyphs{line: "─", flight: "┄", right: "▶", left: "◀", lost: "✕", timer: "⏱", note: "·"}
	asciiGlyphs   = glyphs{line: "-", flight: ".", right: ">", left: "<", lost: "X", timer: "@", note: "*"}
)

// timeWidth and sideWidth are the widths of the time margin and of each
// host's column; the arrows run between the two host columns.
const (
	timeWidth = 10
	sideWidth = 13
)

// Text draws events as the two-column sequence diagram textbooks draw
// of TCP: time runs down the page, each side's states are
// written in its column on the row where they change, each segment is an
// arrow from its sender toward its receiver labelled in packetdrill
// notation, a lost segment's arrow stops in the middle with a cross, and
// timers and application calls are marked in their owner's column.
func Text(w io.Writer, events []trace.Event, opts TextOptions) error {
	r, err := newRenderer(events, opts)
	if err != nil {
		return err
	}
	r.render(events)
	_, err = io.WriteString(w, r.out.String())
	return err
}

type renderer struct {
	opts        TextOptions
	g           glyphs
	width       int
	left, right string
	fate        map[int]trace.Kind // what became of each segment ID
	isn         map[string]tcp.Seq
	seen        map[string]bool // host|seq|len|flags of segments sent, to spot retransmissions
	scales      windowScales
	lastTime    time.Duration
	timeShown   bool
	out         strings.Builder
	words       textWords
	// late are the segments that took much longer than the others to
	// arrive (a delay fault): each is drawn leaving on the row it was
	// sent and landing on the row it arrived. sentAt is when each
	// segment was sent, lateText the label its landing repeats.
	late     map[int]bool
	sentAt   map[int]time.Duration
	lateText map[int]string
}

// ErrTooManyHosts is returned when the events involve more than two
// hosts: a two-column diagram cannot show them.
var ErrTooManyHosts = errors.New("render: events involve more than two hosts")

func newRenderer(events []trace.Event, opts TextOptions) (*renderer, error) {
	if err := oneConnection(events); err != nil {
		return nil, err
	}
	r := &renderer{
		opts:     opts,
		g:        unicodeGlyphs,
		width:    opts.Width,
		fate:     make(map[int]trace.Kind),
		isn:      make(map[string]tcp.Seq),
		seen:     make(map[string]bool),
		words:    textWordsFor(opts.Lang),
		late:     make(map[int]bool),
		sentAt:   make(map[int]time.Duration),
		lateText: make(map[int]string),
	}
	if opts.ASCII {
		r.g = asciiGlyphs
	}
	if r.width <= 0 {
		r.width = 100
	}
	r.width = max(r.width, timeWidth+2*sideWidth+30)
	var hosts []string
	var firstSYN string
	for _, e := range events {
		if e.Host != "" && (e.Kind == trace.SegmentSent || e.Kind == trace.StateChanged || e.Kind == trace.AppCall || e.Kind == trace.TimerFired) {
			if !contains(hosts, e.Host) {
				hosts = append(hosts, e.Host)
			}
		}
		if e.Kind == trace.SegmentSent && firstSYN == "" && e.Segment.Flags&(wire.FlagSYN|wire.FlagACK) == wire.FlagSYN {
			firstSYN = e.Host
		}
		switch e.Kind {
		case trace.SegmentDropped, trace.SegmentCorrupted:
			r.fate[e.ID] = e.Kind
		}
	}
	r.findLate(events)
	if len(hosts) > 2 {
		return nil, fmt.Errorf("%w: %s", ErrTooManyHosts, strings.Join(hosts, ", "))
	}
	r.left, r.right = opts.Left, opts.Right
	if r.left == "" {
		r.left = firstSYN
		if r.left == "" && len(hosts) > 0 {
			r.left = hosts[0]
		}
	}
	if r.right == "" {
		for _, h := range hosts {
			if h != r.left {
				r.right = h
			}
		}
	}
	return r, nil
}

// findLate marks the segments delivered much later than the typical
// one-way delay of the trace (the median): more than half as long again,
// and at least a millisecond more.
func (r *renderer) findLate(events []trace.Event) {
	took := make(map[int]time.Duration)
	for _, e := range events {
		switch e.Kind {
		case trace.SegmentSent:
			r.sentAt[e.ID] = e.At
		case trace.SegmentDuplicated:
			r.sentAt[e.Dup] = e.At
		case trace.SegmentDelivered:
			if at, ok := r.sentAt[e.ID]; ok {
				if _, twice := took[e.ID]; !twice {
					took[e.ID] = e.At - at
				}
			}
		}
	}
	if len(took) == 0 {
		return
	}
	var all []time.Duration
	for _, d := range took {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	typical := all[len(all)/2]
	for id, d := range took {
		if d > typical+max(typical/2, time.Millisecond) {
			r.late[id] = true
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *renderer) render(events []trace.Event) {
	if r.opts.Title != "" {
		r.out.WriteString(r.opts.Title + "\n\n")
	}
	r.row(-1, r.words.time, r.words.column(r.left), "", r.words.column(r.right), styleBold)
	leftInit, rightInit := initialState(events, r.left), initialState(events, r.right)
	r.row(-1, "", leftInit, "", rightInit, styleBold)
	for _, e := range events {
		if e.Host == r.left || e.Host == r.right || e.Kind == trace.Note {
			r.event(e)
		}
	}
}

// initialState is the state a host starts in: the From of its first state
// change, or CLOSED.
func initialState(events []trace.Event, host string) string {
	for _, e := range events {
		if e.Kind == trace.StateChanged && e.Host == host {
			return stateName(e, e.From)
		}
	}
	if host == "" {
		return ""
	}
	return tcp.Closed.String()
}

func (r *renderer) event(e trace.Event) {
	switch e.Kind {
	case trace.StateChanged:
		if !startsOnly(e) {
			r.side(e.At, e.Host, stateName(e, e.To), styleBold)
		}
	case trace.TimerFired:
		r.side(e.At, e.Host, r.g.timer+" "+e.Timer.String(), styleTimer)
	case trace.AppCall:
		r.side(e.At, e.Host, e.Text, styleApp)
	case trace.SegmentSent:
		r.arrow(e, r.fate[e.ID], "")
	case trace.SegmentDuplicated:
		r.arrow(trace.Event{At: e.At, Host: e.Host, ID: e.Dup, Segment: e.Segment}, r.fate[e.Dup], "(dup) ")
	case trace.SegmentDelivered:
		if r.late[e.ID] {
			r.landing(e)
		}
	case trace.SegmentCorrupted:
		r.side(e.At, e.Host, r.g.lost+" "+r.words.badChecksum, styleCorrupt)
	case trace.SegmentDropped:
		if e.Text != "" { // dropped on arrival, e.g. the host was down
			r.side(e.At, e.Host, r.g.lost+" "+e.Text, styleLost)
		}
	case trace.Note:
		if !strings.HasPrefix(e.Text, "fault ") {
			r.row(e.At, "", "", r.g.note+" "+e.Text, "", styleNote)
		}
	}
}

// side writes text in host's column.
func (r *renderer) side(at time.Duration, host, text, style string) {
	if host == r.left {
		r.row(at, "", text, "", "", style)
	} else {
		r.row(at, "", "", "", text, style)
	}
}

// label returns the arrow label of a segment sent by host.
func (r *renderer) label(host string, seg tcp.Segment) string {
	peer := r.right
	if host == r.right {
		peer = r.left
	}
	if seg.Flags.Has(wire.FlagSYN) {
		r.isn[host] = seg.Seq
	}
	r.scales.see(host, peer, &seg)
	var text string
	if r.opts.Absolute {
		text = seg.String()
	} else {
		text = seg.Format(r.isn[host], r.isn[peer])
	}
	if r.opts.Window {
		text = r.scales.scale(text, host, &seg)
	} else {
		if i := strings.Index(text, " win "); i >= 0 {
			end := strings.IndexAny(text[i+5:], " ")
			if end < 0 {
				text = text[:i]
			} else {
				text = text[:i] + text[i+5+end:]
			}
		}
	}
	key := fmt.Sprintf("%s|%d|%d|%v", host, seg.Seq, len(seg.Payload), seg.Flags&^wire.FlagPSH)
	if seg.SeqLen() > 0 && r.seen[key] {
		text += r.words.retransmit
	}
	r.seen[key] = true
	return text
}

// arrow draws a segment from its sender's column toward the receiver's.
func (r *renderer) arrow(e trace.Event, fate trace.Kind, prefix string) {
	text := " " + prefix + r.label(e.Host, e.Segment) + " "
	style := styleNone
	switch {
	case fate == trace.SegmentDropped:
		style = styleLost
	case fate == trace.SegmentCorrupted:
		style = styleCorrupt
	case strings.HasSuffix(text, r.words.retransmit+" "):
		style = styleRexmit
	}
	if r.late[e.ID] && fate == 0 {
		r.departure(e, text, style)
		return
	}
	span := r.width - timeWidth - sideWidth // arrows run from mid-column to mid-column
	toRight := e.Host == r.left
	lost := fate == trace.SegmentDropped
	var b strings.Builder
	body := span
	if lost {
		body = span * 2 / 3
	}
	dashes := body - columns(text) - 1
	lead := min(4, max(dashes, 0))
	if toRight {
		b.WriteString(strings.Repeat(r.g.line, lead) + text + strings.Repeat(r.g.line, max(dashes-lead, 1)))
		if lost {
			b.WriteString(r.g.lost + " " + r.words.lost)
		} else if fate == trace.SegmentCorrupted {
			b.WriteString(r.g.lost)
		} else {
			b.WriteString(r.g.right)
		}
		r.arrowRow(e.At, b.String(), true, style)
		return
	}
	switch {
	case lost:
		b.WriteString(r.words.lost + " " + r.g.lost)
	case fate == trace.SegmentCorrupted:
		b.WriteString(r.g.lost)
	default:
		b.WriteString(r.g.left)
	}
	b.WriteString(strings.Repeat(r.g.line, max(dashes-lead, 1)) + text + strings.Repeat(r.g.line, lead))
	r.arrowRow(e.At, b.String(), false, style)
}

// departure draws a late segment on the row it was sent: from the
// sender, its label, then a dotted line in flight with no head.
func (r *renderer) departure(e trace.Event, text, style string) {
	r.lateText[e.ID] = strings.TrimSpace(text)
	span := r.width - timeWidth - sideWidth
	dashes := span - columns(text) - 1
	lead := min(4, max(dashes, 0))
	flight := strings.Repeat(r.g.flight, max(dashes-lead, 1)+1)
	if e.Host == r.left {
		r.arrowRow(e.At, strings.Repeat(r.g.line, lead)+text+flight, true, style)
	} else {
		r.arrowRow(e.At, flight+text+strings.Repeat(r.g.line, lead), false, style)
	}
}

// landing draws a late segment on the row it arrived: the dotted line
// in flight, the label with when it was sent, and the head at the
// receiver.
func (r *renderer) landing(e trace.Event) {
	text := " " + r.lateText[e.ID] + fmt.Sprintf(r.words.sentAt, r.sentAt[e.ID].Seconds()) + " "
	span := r.width - timeWidth - sideWidth
	dashes := span - columns(text) - 1
	lead := min(4, max(dashes, 0))
	if e.Host == r.right { // it flew left to right
		r.arrowRow(e.At, strings.Repeat(r.g.flight, max(dashes-lead, 1))+text+strings.Repeat(r.g.line, lead)+r.g.right, true, styleNone)
	} else {
		r.arrowRow(e.At, r.g.left+strings.Repeat(r.g.line, lead)+text+strings.Repeat(r.g.flight, max(dashes-lead, 1)), false, styleNone)
	}
}

// arrowRow writes an arrow: a left-to-right arrow starts at the left
// host's column, a right-to-left one ends at the right host's.
func (r *renderer) arrowRow(at time.Duration, arrow string, fromLeft bool, style string) {
	r.writeTime(at)
	start := timeWidth + sideWidth/2
	n := columns(arrow)
	if !fromLeft {
		start = r.width - sideWidth/2 - n
	}
	r.out.WriteString(strings.Repeat(" ", max(start-timeWidth, 0)) + r.paint(style, arrow))
	r.out.WriteString("\n")
}

// row writes one line: the time (when it changed), then text in the left
// column, the middle and the right column (right-aligned).
func (r *renderer) row(at time.Duration, timeText, left, middle, right, style string) {
	if timeText != "" {
		r.out.WriteString(pad(timeText, timeWidth))
	} else {
		r.writeTime(at)
	}
	line := left
	if middle != "" {
		line = pad(line, sideWidth) + middle
	}
	if right != "" {
		line = pad(line, r.width-timeWidth-max(columns(right), sideWidth))
		line += right
	}
	line = strings.TrimRight(line, " ")
	// Colour from the first character written, after the time margin's
	// padding: escape codes take no columns, so the layout is unchanged.
	if k := len(line) - len(strings.TrimLeft(line, " ")); k < len(line) {
		line = line[:k] + r.paint(style, line[k:])
	}
	r.out.WriteString(line + "\n")
}

// paint wraps s in the ANSI style when the diagram is coloured.
func (r *renderer) paint(style, s string) string {
	if !r.opts.Color || style == styleNone || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// writeTime writes the time margin: the time when it differs from the
// previous row's, else blanks.
func (r *renderer) writeTime(at time.Duration) {
	if at < 0 || (r.timeShown && at == r.lastTime) {
		r.out.WriteString(strings.Repeat(" ", timeWidth))
		return
	}
	r.lastTime, r.timeShown = at, true
	if r.opts.Microseconds { // from 100 s on, one column wider than the margin
		r.out.WriteString(pad(fmt.Sprintf("%9.6f ", at.Seconds()), timeWidth))
		return
	}
	r.out.WriteString(pad(fmt.Sprintf("%8.3f", at.Seconds()), timeWidth))
}

// columns returns how many terminal columns s takes: Chinese characters
// and full-width punctuation take two (Unicode's East Asian Wide and
// Fullwidth), everything else one.
func columns(s string) int {
	n := 0
	for _, c := range s {
		n++
		if wide(c) {
			n++
		}
	}
	return n
}

// wide reports whether a terminal gives c two columns: the CJK blocks
// and the full-width forms (UAX #11's W and F, the ranges a diagram's
// words use).
func wide(c rune) bool {
	return c >= 0x1100 && c <= 0x115F || c >= 0x2E80 && c <= 0x303E || c >= 0x3041 && c <= 0x33FF ||
		c >= 0x3400 && c <= 0x4DBF || c >= 0x4E00 && c <= 0x9FFF || c >= 0xAC00 && c <= 0xD7A3 ||
		c >= 0xF900 && c <= 0xFAFF || c >= 0xFE30 && c <= 0xFE4F || c >= 0xFF00 && c <= 0xFF60 || c >= 0xFFE0 && c <= 0xFFE6
}

func pad(s string, n int) string {
	if k := columns(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}
